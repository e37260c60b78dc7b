"""Where the CPU time of an uncached read goes: per request, by function, and by kind of work.

Builds a fresh bank (the five samples and ``--customers`` synthetic customers) in a
temporary SQLite file, opens the app in this process with the answer cache off
(``cache_mb=0``) and sends each read through httpx's ASGI transport: no server and no
sockets, so what is measured is the app (middleware, routing, the database thread, the
answer) plus the in-process client. The ``client alone`` line measures that client on
its own, against a bare ASGI app that answers prebuilt bytes of the portfolio's size;
the ``ceiling`` line is the bank's own stack answering those bytes (what ``bench_api.py``
calls the ceiling). CPU time is ``time.process_time``: every thread of the process; GC
is the part of it spent collecting garbage.

With ``--profile`` each read runs again under cProfile: one profiler on the event loop's
thread and one on the database threads. The profilers keep time by the clock (a thread's
own CPU clock costs a system call per event, and would inflate the small functions
most); one request is in flight at a time, so the only time that is not work is the
loop's wait in ``epoll`` for the database thread, which is left out (but a busy machine
that takes the CPU away mid-function adds to that function). Garbage is collected between
the profiled requests, not during them. Each function's own time goes to a bucket by where
its code lives; a function that belongs to no bucket (a builtin, ``Decimal``, a schema's
property) is charged to its callers, and pydantic's validation to the bank code that
asked for it (rows read, or figures the bank computed). cProfile's own cost per call
weighs most on code of many small calls (the analysis): the sample portfolio's steps are
then timed one by one without it, serialisation included.

    .venv/bin/python bench/profile_reads.py                    # CPU ms per request
    .venv/bin/python bench/profile_reads.py --profile          # and where it goes
"""

import argparse
import asyncio
import cProfile
import gc
import json
import logging
import os
import platform
import shlex
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import fastapi
import httpx2
import pydantic
import sqlalchemy
from fastapi import FastAPI, Response
from pydantic import BaseModel, TypeAdapter
from sqlalchemy import bindparam, func, select, text
from sqlmodel import Session
from starlette.types import Receive, Scope, Send

from analysis.exposure import derivative_exposure
from analysis.performance import measure_performance
from analysis.risk import BENCHMARK, assess_risk, read_series, window_days
from analysis.stress import stress_tests
from analysis.summary import cash_by_currency, summarize, value_holdings
from analysis.valuation import Converter, History, weekdays
from core.money import _money_json
from core.settings import Settings
from db import Database, create_db_engine
from main import create_app
from schemas.original import OriginalTransaction, Portfolio
from services.books import read_book
from services.kept import fill_summaries
from services.market import MarketSnapshot
from services.original import original_accounts, original_assets, original_derivatives
from services.portfolio import open_view, portfolio_inputs, read_portfolio
from services.records import (
    TRANSACTION_COLUMNS,
    TRANSACTIONS,
    list_accounts,
    list_assets,
    list_derivatives,
    list_spending,
    newest_transaction_values,
)
from synthetic.bulk_load import load_synthetic
from synthetic.samples import SAMPLE_CUSTOMERS
from synthetic.seeding import prepare_database

PROJECT = Path(__file__).resolve().parent.parent
JOHN = next(s.customer_oid for s in SAMPLE_CUSTOMERS if s.name == "John Doe")

SQL_DRIVER = "SQL: sqlite3 driver (execute, fetch)"
SQL_CORE = "SQL: SQLAlchemy Core (statements, results, column types)"
SESSION = "SQLAlchemy Session / ORM"
ROWS = "rows -> models: dicts and pydantic validation of rows read"
VALIDATE = "pydantic validation of figures the bank computed"
SERIALISE = "serialisation: model_dump_json, money to JSON numbers"
ANALYSIS = "analysis arithmetic (Decimal, float)"
MARKET = "market snapshot, converter, price histories"
SERVICES = "bank services (customer lookup, assembling)"
FRAMEWORK = "FastAPI/Starlette routing, middleware, access log"
LOOP = "event loop, the hop to a database thread and back"
OTHER = "other"
CLIENT = "the in-process client (httpx), not the bank"
WAIT = "the event loop waiting for the database thread"
_PYDANTIC_VALIDATION = "pydantic validation (attributed to its caller)"

# Whose code the converter and the histories are, though they live in analysis/valuation.py.
_MARKET_CODE = {
    (code.co_filename, code.co_firstlineno)
    for cls in (Converter, History, MarketSnapshot)
    for member in vars(cls).values()
    if (code := getattr(member, "__code__", None)) is not None
} | {(weekdays.__wrapped__.__code__.co_filename, weekdays.__wrapped__.__code__.co_firstlineno)}

BANK_WORK = ("services/", "analysis/", "market/", "core/", "schemas/", "models.py")
"""Where the bank's own work below the HTTP layer lives (for the cumulative listing)."""

Label = tuple[str, int, str]
Entry = tuple[int, int, float, float, dict[Label, tuple[int, int, float, float]]]


def fixed_bucket(label: Label) -> str | None:
    """The bucket of a function's own time by where its code is; None: charge the callers."""
    filename, line, name = label
    if filename == "~":
        if "epoll" in name:
            return WAIT
        if "sqlite3." in name:
            return SQL_DRIVER
        if "SchemaSerializer" in name:
            return SERIALISE
        if "SchemaValidator" in name:
            return _PYDANTIC_VALIDATION
        return None
    path = Path(filename)
    parts = path.parts
    if "httpx2" in parts or path == Path(__file__).resolve():
        return CLIENT
    if "sqlmodel" in parts or ("sqlalchemy" in parts and "orm" in parts):
        return SESSION
    if "sqlalchemy" in parts:
        return SQL_CORE
    if "pydantic" in parts or "pydantic_core" in parts:
        return SERIALISE if "dump" in name or "serial" in name else _PYDANTIC_VALIDATION
    if "json" in parts:
        return SERIALISE
    if {"fastapi", "starlette", "logging"} & set(parts):
        return FRAMEWORK
    if {"anyio", "asyncio", "concurrent", "sniffio"} & set(parts) or path.name in (
        "threading.py",
        "selectors.py",
        "queue.py",
    ):
        return LOOP
    if not path.is_relative_to(PROJECT) or ".venv" in parts:
        return None
    if (filename, line) in _MARKET_CODE:
        return MARKET
    where = path.relative_to(PROJECT).as_posix()
    if where == "core/money.py":
        if name.endswith("_json"):
            return SERIALISE
        return SQL_CORE if name.startswith("process_") else None
    if where == "services/records.py":
        return ROWS
    if where == "db.py":
        return SESSION if name == "_work" else LOOP
    if where.startswith(("market/", "services/market.py", "services/changes.py")):
        return MARKET
    if where.startswith("analysis/"):
        return ANALYSIS
    if where.startswith(("services/", "core/")):
        return SERVICES
    if where.startswith("api/") or where == "main.py":
        return FRAMEWORK
    return None


class Buckets:
    """Each function's own time, charged to a bucket (through its callers when it has none)."""

    def __init__(self, stats: Mapping[Label, Entry]) -> None:
        self.stats = stats
        self.memo: dict[tuple[Label, bool], dict[str, float]] = {}

    def shares(self, label: Label, asked_by: bool = False) -> dict[str, float]:
        """Where the time of ``label`` belongs, as fractions per bucket. With ``asked_by``,
        which bank code pydantic validated for: rows read, or figures it computed."""
        key = (label, asked_by)
        if key not in self.memo:
            self.memo[key] = {OTHER: 1.0}  # a cycle of callers ends here
            bucket = fixed_bucket(label)
            if bucket == _PYDANTIC_VALIDATION:
                found = self._through_callers(label, asked_by=True)
            elif bucket is None:
                found = self._through_callers(label, asked_by)
            elif asked_by:
                found = {ROWS if bucket == ROWS else VALIDATE: 1.0}
            else:
                found = {bucket: 1.0}
            self.memo[key] = found
        return self.memo[key]

    def _through_callers(self, label: Label, asked_by: bool) -> dict[str, float]:
        callers = {c: v[3] for c, v in self.stats[label][4].items() if c != label and v[3] > 0}
        whole = sum(callers.values())
        if not whole:
            return {VALIDATE if asked_by else OTHER: 1.0}
        found: dict[str, float] = defaultdict(float)
        for caller, spent in callers.items():
            for bucket, part in self.shares(caller, asked_by).items():
                found[bucket] += part * spent / whole
        return dict(found)

    def totals(self) -> dict[str, float]:
        spent: dict[str, float] = defaultdict(float)
        for label, entry in self.stats.items():
            for bucket, part in self.shares(label).items():
                spent[bucket] += entry[2] * part
        return dict(spent)


class GcClock:
    """Time spent collecting garbage, whatever frame the collection interrupted (the profile
    charges it to that frame). Collections hold the interpreter: one at a time."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._started


GC = GcClock()


@dataclass
class Timing:
    name: str
    size: int
    cpu_ms: list[float]
    wall_ms: list[float]
    gc_ms: float

    def line(self) -> str:
        cpu, wall = statistics.fmean(self.cpu_ms), statistics.fmean(self.wall_ms)
        return (
            f"  {self.name:<50} {cpu:>8.2f} {statistics.median(self.cpu_ms):>8.2f} "
            f"{wall:>8.2f} {self.gc_ms:>6.2f} {self.size:>9,}"
        )


def bare_app(body: bytes) -> Callable[[Scope, Receive, Send], Any]:
    """An ASGI app that answers ``body`` and does nothing else: the client's own cost."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


def add_ceiling(app: FastAPI) -> None:
    """``bench/ceiling_app.py``'s route on this app: prebuilt bytes through every layer."""
    bodies: dict[int, bytes] = {}

    async def ceiling(size: int) -> Response:
        if size not in bodies:
            bodies[size] = json.dumps({"padding": "x" * max(size - 15, 0)}).encode()
        return Response(bodies[size], media_type="application/json")

    app.add_api_route("/__ceiling/{size}", ceiling, include_in_schema=False)


async def get(client: httpx2.AsyncClient, path: str) -> int:
    response = await client.get(path)
    if response.status_code != 200 or "x-bank-cache" in response.headers:
        raise SystemExit(f"{path}: {response.status_code} {response.headers} {response.text[:300]}")
    return len(response.content)


async def measure(
    client: httpx2.AsyncClient, name: str, path: str, repeats: int, warmup: int
) -> Timing:
    for _ in range(warmup):
        size = await get(client, path)
    cpu, wall, collecting = [], [], GC.seconds
    for _ in range(repeats):
        cpu_before, wall_before = time.process_time(), time.perf_counter()
        size = await get(client, path)
        cpu.append((time.process_time() - cpu_before) * 1000)
        wall.append((time.perf_counter() - wall_before) * 1000)
    return Timing(name, size, cpu, wall, (GC.seconds - collecting) * 1000 / repeats)


async def measure_crowd(
    client: httpx2.AsyncClient, name: str, path: str, repeats: int, crowd: int
) -> Timing:
    """``crowd`` requests at a time, as many connections would send them: the database
    threads then run side by side and share the interpreter. Per request, on average."""
    await asyncio.gather(*(get(client, path) for _ in range(crowd)))
    rounds = max(repeats // crowd, 1)
    collecting = GC.seconds
    cpu_before, wall_before = time.process_time(), time.perf_counter()
    for _ in range(rounds):
        sizes = await asyncio.gather(*(get(client, path) for _ in range(crowd)))
    count = rounds * crowd
    cpu = (time.process_time() - cpu_before) * 1000 / count
    wall = (time.perf_counter() - wall_before) * 1000 / count
    return Timing(name, sizes[0], [cpu], [wall], (GC.seconds - collecting) * 1000 / count)


@contextmanager
def profiling_database_threads(profile: cProfile.Profile) -> Iterator[None]:
    """``profile`` on while a database thread works; work done on the loop's own thread
    (``run_here``) is already under the loop's profiler."""
    original = Database._work

    def work(self: Database, *args: Any) -> Any:
        if threading.current_thread() is threading.main_thread():
            return original(self, *args)
        profile.enable()
        try:
            return original(self, *args)
        finally:
            profile.disable()

    setattr(Database, "_work", work)  # noqa: B010 (mypy refuses assigning to a method)
    try:
        yield
    finally:
        setattr(Database, "_work", original)  # noqa: B010


def merged(*profiles: cProfile.Profile) -> dict[Label, Entry]:
    """The profiles' entries summed by function, callers included."""
    out: dict[Label, Entry] = {}
    for profile in profiles:
        profile.create_stats()
        for label, (cc, nc, tt, ct, callers) in profile.stats.items():
            old = out.get(label, (0, 0, 0.0, 0.0, {}))
            joined = dict(old[4])
            for caller, values in callers.items():
                before = joined.get(caller, (0, 0, 0.0, 0.0))
                joined[caller] = (
                    before[0] + values[0],
                    before[1] + values[1],
                    before[2] + values[2],
                    before[3] + values[3],
                )
            out[label] = (old[0] + cc, old[1] + nc, old[2] + tt, old[3] + ct, joined)
    return out


async def profile_read(client: httpx2.AsyncClient, path: str, repeats: int) -> dict[Label, Entry]:
    loop_profile, thread_profile = cProfile.Profile(), cProfile.Profile()
    # A collection would be charged to whichever function allocated when it began: garbage
    # is collected between requests instead, unprofiled (the GC column says what it costs).
    gc.disable()
    try:
        with profiling_database_threads(thread_profile):
            for _ in range(repeats):
                loop_profile.enable()
                await get(client, path)
                loop_profile.disable()
                gc.collect(1)
    finally:
        gc.enable()
    return merged(loop_profile, thread_profile)


def where(label: Label) -> str:
    filename, line, name = label
    if filename == "~":
        return name
    path = Path(filename)
    if path.is_relative_to(PROJECT) and ".venv" not in path.parts:
        shown = path.relative_to(PROJECT).as_posix()
    elif "site-packages" in path.parts:
        shown = "/".join(path.parts[path.parts.index("site-packages") + 1 :])
    else:
        shown = "/".join(path.parts[-2:])
    return f"{shown}:{line}({name})"


def report_profile(name: str, stats: Mapping[Label, Entry], repeats: int, top: int) -> None:
    buckets = Buckets(stats).totals()
    client, wait = buckets.pop(CLIENT, 0.0), buckets.pop(WAIT, 0.0)
    server = sum(buckets.values())
    per = 1000 / repeats
    print(
        f"\n== {name}: {repeats} requests under cProfile: {server * per:.2f} ms of the bank's "
        f"work per request (profiled, so inflated), {client * per:.2f} ms of the client's, "
        f"{wait * per:.2f} ms of the loop waiting for the database thread (left out)"
    )
    print("  buckets (share of the bank's profiled CPU time):")
    for bucket, spent in sorted(buckets.items(), key=lambda item: -item[1]):
        print(f"    {spent / server:>6.1%} {spent * per:>7.2f} ms  {bucket}")
    bank = {k: v for k, v in stats.items() if fixed_bucket(k) not in (CLIENT, WAIT)}
    print(f"  top {top} by own time (tottime), any code:")
    print(f"    {'share':>6} {'ms/req':>7} {'calls/req':>9}  function")
    for label, entry in sorted(bank.items(), key=lambda item: -item[1][2])[:top]:
        print(
            f"    {entry[2] / server:>6.1%} {entry[2] * per:>7.2f} {entry[1] / repeats:>9.0f}  "
            f"{where(label)}"
        )
    print(f"  top {top} by cumulative time (cumtime), the bank's work below HTTP:")
    print(f"    {'share':>6} {'ms/req':>7} {'calls/req':>9}  function")
    own = {k: v for k, v in bank.items() if where(k).startswith(BANK_WORK)}
    for label, entry in sorted(own.items(), key=lambda item: -item[1][3])[:top]:
        print(
            f"    {entry[3] / server:>6.1%} {entry[3] * per:>7.2f} {entry[1] / repeats:>9.0f}  "
            f"{where(label)}"
        )


def cpu_ms(work: Callable[[], object], repeats: int) -> float:
    work()
    before = time.process_time()
    for _ in range(repeats):
        work()
    return (time.process_time() - before) * 1000 / repeats


def portfolio_steps(database_url: str, oid: str, repeats: int) -> None:
    """The sample portfolio's steps one at a time, without the profiler, in one session (as
    one request has it, with the market snapshot and its converter warm)."""
    engine = create_db_engine(database_url)
    every = (
        select(*TRANSACTION_COLUMNS)
        .where(TRANSACTIONS.c.customer_oid == oid)
        .order_by(TRANSACTIONS.c.transaction_date.desc(), TRANSACTIONS.c.id.desc())
    )
    shape = TypeAdapter(list[OriginalTransaction])
    with Session(engine) as session:
        connection = session.connection()
        driver = connection.connection.driver_connection
        assert driver is not None
        raw_sql = str(every.compile(engine, compile_kwargs={"literal_binds": True}))
        fetched = connection.execute(every)
        names, rows = list(fetched.keys()), fetched.all()
        dicts = [dict(zip(names, row, strict=True)) for row in rows]
        view = open_view(session, oid, None)
        market, fx, count = view.market, view.market.converter(view.base), len(rows)
        answer = read_portfolio(session, oid)
        book = read_book(session, oid)
        inputs = portfolio_inputs(
            view,
            assets=list_assets(session, oid, market),
            accounts=list_accounts(session, oid),
            book=book,
            spending=list_spending(session, oid),
            derivatives=list_derivatives(session, oid),
        )
        holdings = value_holdings(inputs.assets, inputs.trades, fx, view.as_of)
        worth = sum(float(h.market_value_base) for h in holdings)
        open_ones = [d for d in inputs.derivatives if d.status == "open"]
        symbols = {h.symbol for h in holdings} | {d.underlying_symbol for d in open_ones}
        days = window_days(view.as_of)
        model = answer.model()
        plain = model.model_dump(mode="json")
        instruments = sorted(symbols | {BENCHMARK})

        def open_the_view() -> object:
            return open_view(session, oid, None)

        def summary() -> object:
            return summarize(inputs)

        def whole_answer() -> object:
            return read_portfolio(session, oid)

        def original_shapes() -> object:
            return Portfolio(
                customer_oid=oid,
                user=answer.portfolio.user,
                assets=original_assets(inputs.assets),
                bank_accounts=original_accounts(inputs.accounts),
                spending=inputs.spending,
                derivative_transactions=original_derivatives(inputs.derivatives),
                portfolio_summary=answer.portfolio.portfolio_summary,
            )

        def rows_into_dicts() -> object:
            return [dict(zip(names, row, strict=True)) for row in rows]

        def one_at_a_time() -> object:
            return [dict(zip(names, row, strict=True)) for row in connection.execute(every)]

        def kept_book() -> object:
            return read_book(session, oid)

        def whole_read() -> object:
            return newest_transaction_values(session, oid)

        def other_rows() -> object:
            return (
                list_assets(session, oid, market),
                list_accounts(session, oid),
                list_spending(session, oid),
                list_derivatives(session, oid),
            )

        def gather_inputs() -> object:
            return portfolio_inputs(
                view,
                assets=inputs.assets,
                accounts=inputs.accounts,
                book=book,
                spending=inputs.spending,
                derivatives=inputs.derivatives,
            )

        def return_series() -> object:
            found = (read_series(inputs, fx, symbol, days) for symbol in instruments)
            return [series.base_returns for series in found if series]

        steps: list[tuple[str, Callable[[], object]]] = [
            ("the customer and the market snapshot (open_view)", open_the_view),
            (f"{count} transactions: sqlite3 alone", lambda: driver.execute(raw_sql).fetchall()),
            (f"{count} transactions: SQLAlchemy rows", lambda: connection.execute(every).all()),
            (f"  {count} rows into dicts", rows_into_dicts),
            (f"  {count} rows fetched one at a time, into dicts", one_at_a_time),
            (f"  {count} dicts validated into models", lambda: shape.validate_python(dicts)),
            ("  the whole read, as JSON values (newest_transaction_values)", whole_read),
            ("the kept book (read_book)", kept_book),
            ("assets, accounts, spending, derivatives as models", other_rows),
            ("what the analysis works from (portfolio_inputs)", gather_inputs),
            ("the summary (summarize), of which:", summary),
            (
                "  holdings valued, average cost from the trades",
                lambda: value_holdings(inputs.assets, inputs.trades, fx, view.as_of),
            ),
            ("  cash by currency", lambda: cash_by_currency(inputs.accounts, fx, view.as_of)),
            (
                "  performance: returns, the year's value series",
                lambda: measure_performance(inputs, fx),
            ),
            ("  derivatives exposure", lambda: derivative_exposure(inputs, fx)),
            ("  risk (assess_risk), of which:", lambda: assess_risk(inputs, fx, holdings)),
            (f"    {len(instruments)} instruments' return series (market only)", return_series),
            ("    stress scenarios", lambda: stress_tests(inputs, fx, holdings, open_ones, worth)),
            ("the original's shapes and the Portfolio model", original_shapes),
            ("the whole answer as a model (read_portfolio)", whole_answer),
            ("its JSON: the model's and the rows' (to_json)", answer.to_json),
            ("  for comparison: one model, model_dump_json (pydantic)", model.model_dump_json),
            ("  model_dump(mode='json'): plain values", lambda: model.model_dump(mode="json")),
            ("  json.dumps of those plain values (stdlib)", lambda: json.dumps(plain)),
        ]
        print(f"\n== the sample portfolio step by step ({repeats} times each, no profiler)")
        spent = {}
        for label, work in steps:
            spent[work] = cpu_ms(work, repeats)
            print(f"  {spent[work]:>8.2f} ms  {label}")
        parts = [open_the_view, whole_read, kept_book, other_rows, gather_inputs, summary]
        parts.append(original_shapes)
        print(
            f"  {sum(spent[part] for part in parts):>8.2f} ms  read_portfolio's own steps above, "
            "timed apart, added up"
        )
        callbacks = serialiser_calls(model)
        amount = Decimal("12345.678")
        one = cpu_ms(lambda: [_money_json(amount) for _ in range(1000)], 20) / 1000
        print(
            f"  {callbacks * one:>8.2f} ms  of model_dump_json: {callbacks:,} calls of the "
            f"money and decimal serialisers (Python), at {one * 1000:.2f} us each"
        )
        print(f"  answer: {len(answer.to_json()):,} bytes, {count} transactions")
    engine.dispose()


def serialiser_calls(answer: BaseModel) -> int:
    """How many times pydantic calls back into Python to write the answer's numbers."""
    profile = cProfile.Profile()
    profile.runcall(answer.model_dump_json)
    profile.create_stats()
    return sum(
        entry[1]
        for (filename, _, name), entry in profile.stats.items()
        if filename.endswith("money.py") and name.endswith("_json")
    )


def build_bank(database_url: str, customers: int) -> tuple[str, dict[str, int]]:
    """A new bank of the samples and ``customers`` synthetic ones: the first synthetic
    customer's id, and how many transactions each of the two customers read has."""
    engine = create_db_engine(database_url)
    prepare_database(engine)
    if customers:
        load_synthetic(engine, customers, seed=1, progress=False)
        fill_summaries(engine)  # as seed.py does after a load
    samples = {s.customer_oid for s in SAMPLE_CUSTOMERS}
    with engine.connect() as connection:
        oids = connection.execute(text("SELECT customer_oid FROM users ORDER BY id")).scalars()
        synthetic = next((oid for oid in oids if oid not in samples), JOHN)
        counted = select(func.count()).where(TRANSACTIONS.c.customer_oid == bindparam("oid"))
        counts = {
            name: connection.execute(counted, {"oid": oid}).scalar_one()
            for name, oid in (("John Doe", JOHN), ("synthetic", synthetic))
        }
    engine.dispose()
    return synthetic, counts


async def run(args: argparse.Namespace, database_url: str, synthetic: str, devnull: TextIO) -> None:
    app = create_app(Settings(database_url=database_url, cache_mb=0))
    add_ceiling(app)
    # The access log is formatted and written as a server's would be, to nowhere (as
    # bench_api.py's server writes it): a terminal would cost more than the requests.
    for handler in logging.getLogger("dummy_bank").handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(devnull)
    reads = {
        "GET /user-portfolio/{John Doe}": f"/user-portfolio/{JOHN}",
        "GET /customer/{John Doe}/summary": f"/customer/{JOHN}/summary",
        "GET /customer/{John Doe}/risk": f"/customer/{JOHN}/risk",
        "GET /customer/{synthetic}/summary": f"/customer/{synthetic}/summary",
        "GET /user-portfolio/{synthetic}": f"/user-portfolio/{synthetic}",
        "GET /health": "/health",
    }
    timings: list[Timing] = []
    profiles: list[tuple[str, dict[Label, Entry]]] = []
    async with app.router.lifespan_context(app):
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            for name, path in reads.items():
                timings.append(await measure(client, name, path, args.repeats, args.warmup))
            size = timings[0].size
            first, path = next(iter(reads.items()))
            crowded = f"{first}, {args.crowd} at a time"
            timings.append(await measure_crowd(client, crowded, path, args.repeats, args.crowd))
            name = f"ceiling: {size:,} prebuilt bytes, same app"
            reads[name] = f"/__ceiling/{size}"
            timings.append(await measure(client, name, reads[name], args.repeats, args.warmup))
            if args.profile:
                for name, path in reads.items():
                    profiles.append((name, await profile_read(client, path, args.repeats)))
        bare = httpx2.ASGITransport(app=bare_app(b"x" * size))
        async with httpx2.AsyncClient(transport=bare, base_url="http://127.0.0.1") as client:
            timings.append(
                await measure(client, "client alone, bare ASGI app", "/", args.repeats, args.warmup)
            )
    print(f"\nper request, {args.repeats} requests after {args.warmup} to warm up, cache off")
    print(f"  {'read':<50} {'CPU ms':>8} {'median':>8} {'wall ms':>8} {'GC ms':>6} {'bytes':>9}")
    for timing in timings:
        print(timing.line())
    for name, stats in profiles:
        report_profile(name, stats, args.repeats, args.top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=100, help="requests per read")
    parser.add_argument("--warmup", type=int, default=5, help="requests per read before timing")
    parser.add_argument("--customers", type=int, default=200, help="synthetic customers")
    parser.add_argument(
        "--crowd", type=int, default=32, help="requests at a time for the crowded line"
    )
    parser.add_argument("--profile", action="store_true", help="cProfile each read, by bucket")
    parser.add_argument("--top", type=int, default=10, help="functions listed per profile")
    args = parser.parse_args()
    if min(args.repeats, args.warmup, args.top, args.crowd) < 1 or args.customers < 0:
        parser.error("--repeats, --warmup, --top, --crowd must be 1 or more, --customers 0 or more")

    print("$", shlex.join([sys.executable, *sys.argv]))
    load = ", ".join(f"{figure:.2f}" for figure in os.getloadavg())
    print(
        f"Python {platform.python_version()} ({platform.python_implementation()}), "
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, load average "
        f"{load}; SQLAlchemy {sqlalchemy.__version__}, pydantic {pydantic.VERSION}, "
        f"FastAPI {fastapi.__version__}; backend SQLite (a temporary file), one process, "
        "in-process ASGI (no server, no sockets), response cache off"
    )
    with tempfile.TemporaryDirectory() as folder:
        database_url = f"sqlite:///{Path(folder) / 'bank.db'}"
        started = time.perf_counter()
        synthetic, counts = build_bank(database_url, args.customers)
        print(
            f"bank: 5 samples + {args.customers} synthetic customers (seed 1), built in "
            f"{time.perf_counter() - started:.1f} s; the synthetic customer read is {synthetic}; "
            f"transactions: John Doe {counts['John Doe']}, synthetic {counts['synthetic']}"
        )
        gc.callbacks.append(GC)
        with open(os.devnull, "w") as devnull:
            asyncio.run(run(args, database_url, synthetic, devnull))
        if args.profile:
            portfolio_steps(database_url, JOHN, max(args.repeats // 2, 1))


if __name__ == "__main__":
    main()
