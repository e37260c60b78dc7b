"""Latency and server CPU of an instruction: a transfer, one across currencies, an order.

One server (``python main.py``, one worker) on a new SQLite database in a temporary folder,
or on the PostgreSQL database given with ``--database-url`` (its sample customers gain the
instructions); one client sending one request at a time on a keep-alive connection, each
with an Idempotency-Key of its own (``--no-keys`` to send none). Balances never run out:
transfers go back and forth between two of John Doe's accounts, orders buy a share and sell
it again. Printed per workload: the median and 95th percentile of the time to the answer,
and the server's CPU time per request (read from ``/proc``).

    .venv/bin/python bench/bench_instructions.py
    .venv/bin/python bench/bench_instructions.py --requests 1000
    .venv/bin/python bench/bench_instructions.py --database-url postgresql+psycopg://postgres@127.0.0.1/bench

Figures depend on the machine and on what else runs on it: compare runs on one machine.
"""

import argparse
import itertools
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx2
from bench_api import cpu_seconds  # beside this file: the script's folder is on the path

from scripts.stress import PortTaken, free_port, start, stop

JOHN = "550e8400-e29b-41d4-a716-446655440001"
CHECKING, EUR_SAVINGS, BROKERAGE = 1, 2, 3


@dataclass
class Result:
    name: str
    requests: int
    median_ms: float
    p95_ms: float
    cpu_ms: float
    errors: int


def back_and_forth(first: dict[str, Any], second: dict[str, Any]) -> Iterator[dict[str, Any]]:
    return itertools.cycle([first, second])


WORKLOADS: dict[str, tuple[str, Callable[[], Iterator[dict[str, Any]]]]] = {
    "transfer, one currency": (
        "transfers",
        lambda: back_and_forth(
            {"from_account_id": CHECKING, "to_account_id": BROKERAGE, "amount": "1.00"},
            {"from_account_id": BROKERAGE, "to_account_id": CHECKING, "amount": "1.00"},
        ),
    ),
    "transfer, USD to EUR and back": (
        "transfers",
        lambda: back_and_forth(
            {"from_account_id": CHECKING, "to_account_id": EUR_SAVINGS, "amount": "1.00"},
            {"from_account_id": EUR_SAVINGS, "to_account_id": CHECKING, "amount": "1.00"},
        ),
    ),
    "order, buy then sell 1 AAPL": (
        "orders",
        lambda: back_and_forth(
            {"side": "buy", "symbol": "AAPL", "quantity": 1},
            {"side": "sell", "symbol": "AAPL", "quantity": 1},
        ),
    ),
}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def measure(client: httpx2.Client, pid: int, name: str, args: argparse.Namespace) -> Result:
    what, bodies = WORKLOADS[name]
    path = f"/customer/{JOHN}/{what}"
    body = bodies()
    errors = 0

    def send() -> float:
        nonlocal errors
        headers = {} if args.no_keys else {"Idempotency-Key": str(uuid.uuid4())}
        started = time.perf_counter()
        response = client.post(path, json=next(body), headers=headers)
        spent = time.perf_counter() - started
        if response.status_code != 201:
            errors += 1
            if errors <= 3:
                print(f"  {name}: {response.status_code} {response.text[:200]}", flush=True)
        return spent

    for _ in range(args.warmup):
        send()
    cpu_before = cpu_seconds(pid)
    times = [send() for _ in range(args.requests)]
    cpu = cpu_seconds(pid) - cpu_before
    result = Result(
        name,
        args.requests,
        statistics.median(times) * 1000,
        percentile(times, 0.95) * 1000,
        cpu * 1000 / args.requests,
        errors,
    )
    print(
        f"  {name:<32} median {result.median_ms:6.2f} ms  p95 {result.p95_ms:6.2f} ms  "
        f"CPU {result.cpu_ms:5.2f} ms/request",
        flush=True,
    )
    return result


def started_server(database_url: str) -> tuple[subprocess.Popen[bytes], str]:
    env = {"BANK_WORKERS": "1"}
    for attempt in range(5):
        port = free_port()
        try:
            return start(database_url, port, env), f"http://127.0.0.1:{port}"
        except PortTaken:
            if attempt == 4:
                raise
    raise AssertionError("unreachable")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400, help="measured requests per workload")
    parser.add_argument("--warmup", type=int, default=40, help="unmeasured requests before")
    parser.add_argument("--no-keys", action="store_true", help="send no Idempotency-Key")
    parser.add_argument("--database-url", help="a PostgreSQL database (made and seeded if new)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        database_url = args.database_url or f"sqlite:///{Path(folder) / 'bank.db'}"
        print("starting the bank (a new database loads its sample data first) ...", flush=True)
        server, base = started_server(database_url)
        try:
            with httpx2.Client(base_url=base, timeout=30) as client:
                results = [measure(client, server.pid, name, args) for name in WORKLOADS]
        finally:
            stop(server)
    backend = "PostgreSQL" if database_url.startswith("postgresql") else "SQLite"
    keys = "no Idempotency-Key" if args.no_keys else "a new Idempotency-Key each"
    print(
        f"\n{backend}, one uvicorn worker, one client, requests one at a time ({keys}), "
        f"{args.requests} measured after {args.warmup} unmeasured"
    )
    print(f"{'workload':<32} {'median ms':>9} {'p95 ms':>7} {'CPU ms':>7} {'errors':>6}")
    for r in results:
        print(f"{r.name:<32} {r.median_ms:>9.2f} {r.p95_ms:>7.2f} {r.cpu_ms:>7.2f} {r.errors:>6}")
    if any(r.errors for r in results):
        raise SystemExit("some instructions were not accepted (see above)")


if __name__ == "__main__":
    main()
