"""Kept summaries: a customer's portfolio summary, computed when its rows change, not per read.

The summary (valuation, performance, risk, spending) depends on the customer's rows, the
market data, the analysis code and the base currency. The rows change only by the bank's
writes, and each write that books rows recomputes the summary in its own transaction
(``keep_summary``; ``books.keep_book`` drops the old one first). The other three are
written into ``summary_key``: a read uses the kept summary only when the key is the one it
would compute with now, and computes it afresh otherwise (another base currency, market
data loaded again, a newer version of the bank). So a kept summary is never wrong, only
sometimes absent; ``python -m scripts.books`` fills in what is absent and checks the rest.
A change to the customer's rows from outside the bank (psql, a script) drops the kept
summary by a trigger (migration 0010).
"""

import multiprocessing
import time
import zlib
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

import orjson
from sqlalchemy import Connection, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.money import BASE_CURRENCY
from db import begin_write, create_db_engine
from models import Customer, KeptBook
from services.books import summary_key
from services.market import MarketSnapshot, load_snapshot, market_snapshot
from services.portfolio import compute_summary
from services.records import newest_transaction_values

_B = KeptBook.__table__  # type: ignore[attr-defined]
_USERS = Customer.__table__.c  # type: ignore[attr-defined]


def keep_summary(session: Session, oid: str, market: MarketSnapshot | None = None) -> None:
    """Compute the customer's summary in the default base currency and keep it, in the
    caller's transaction (after the write's rows and ``keep_book``). ``market`` is the
    worker's snapshot unless given."""
    market = market_snapshot(session) if market is None else market
    session.flush()
    summary = compute_summary(session, oid, market, BASE_CURRENCY)
    session.connection().execute(
        update(_B)
        .where(_B.c.customer_oid == oid)
        .values(
            summary=summary.model_dump_json(),
            statement=zlib.compress(statement_json(session, oid)),
            summary_key=summary_key(market),
        )
    )


def statement_json(session: Session, oid: str) -> bytes:
    """Every transaction of the customer, newest first, as /user-portfolio sends them."""
    return orjson.dumps(newest_transaction_values(session, oid))


def keep_summaries(session: Session, oids: Sequence[str]) -> None:
    """``keep_summary`` for each customer, with the market read once from this session (no
    worker's snapshot: seeding and scripts run without one)."""
    if not oids:
        return
    market = load_snapshot(session)
    for oid in oids:
        keep_summary(session, oid, market)


def missing_summaries(connection: Connection, key: str) -> list[str]:
    """Customers whose summary is not kept for ``key`` (absent, or computed with another)."""
    query = (
        select(_USERS.customer_oid)
        .join(_B, _B.c.customer_oid == _USERS.customer_oid)
        .where((_B.c.summary_key.is_(None)) | (_B.c.summary_key != key))
        .order_by(_USERS.id)
    )
    return list(connection.execute(query).scalars())


def fill_summaries(
    engine: Engine, *, batch: int = 100, workers: int = 1, progress: bool = False
) -> int:
    """Keep the summary and statement of every customer that has none kept for today's
    market and code; returns how many were kept.

    Each batch is computed in a read transaction and written in a short write transaction
    that keeps a customer's only if nothing kept it in between and its rows did not change
    behind the bank's back (``book_stale``): the bank's own writes never wait for the
    computing, and what is written is never older than what is kept. ``workers`` processes
    share the customers (the computing is CPU work)."""
    with Session(engine) as session:
        key = summary_key(load_snapshot(session))
        oids = missing_summaries(session.connection(), key)
    if not oids:
        return 0
    if workers <= 1:
        return _fill(engine, oids, batch, progress)
    url = engine.url.render_as_string(hide_password=False)
    shares = [oids[i::workers] for i in range(workers)]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        done = pool.map(_fill_in_process, [url] * workers, shares, [batch] * workers)
        return sum(done)


def _fill_in_process(url: str, oids: list[str], batch: int) -> int:

    engine = create_db_engine(url)
    try:
        return _fill(engine, oids, batch, progress=False)
    finally:
        engine.dispose()


def _fill(engine: Engine, oids: Sequence[str], batch: int, progress: bool) -> int:
    started, done, kept = time.perf_counter(), 0, 0
    for start in range(0, len(oids), batch):
        chosen = oids[start : start + batch]
        with Session(engine) as session:
            market = load_snapshot(session)
            key = summary_key(market)
            computed = [
                (
                    oid,
                    compute_summary(session, oid, market, BASE_CURRENCY).model_dump_json(),
                    zlib.compress(statement_json(session, oid)),
                )
                for oid in chosen
            ]
        with Session(engine) as session:
            begin_write(session)
            connection = session.connection()
            for oid, summary, statement in computed:
                kept += connection.execute(
                    update(_B)
                    .where(
                        _B.c.customer_oid == oid,
                        _B.c.book_stale.is_(False),
                        (_B.c.summary_key.is_(None)) | (_B.c.summary_key != key),
                    )
                    .values(summary=summary, statement=statement, summary_key=key)
                ).rowcount
            session.commit()
        done += len(chosen)
        if progress:
            rate = done / max(time.perf_counter() - started, 1e-9)
            print(f"\r{done:,} of {len(oids):,} summaries, {rate:,.0f}/s", end="", flush=True)
    if progress:
        print()
    return kept


def stale_summaries(engine: Engine, oids: Sequence[str] | None = None) -> list[str]:
    """Kept summaries (for today's market and code) that differ from one computed afresh
    from the rows, one line per customer: none when every kept summary holds."""
    found = []
    with Session(engine) as session:
        market = load_snapshot(session)
        key = summary_key(market)
        query = select(_B.c.customer_oid, _B.c.summary, _B.c.statement)
        query = query.where(_B.c.summary_key == key)
        if oids is not None:
            query = query.where(_B.c.customer_oid.in_(oids))
        for oid, kept, statement in session.connection().execute(query).all():
            fresh = compute_summary(session, oid, market, BASE_CURRENCY).model_dump_json()
            if fresh != kept:
                found.append(f"{oid}: the kept summary differs from the rows'")
            if statement is None or zlib.decompress(statement) != statement_json(session, oid):
                found.append(f"{oid}: the kept statement differs from the rows'")
    return found
