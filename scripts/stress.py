"""Load and crash tests against a real server: what the bank does on its worst day.

    .venv/bin/python -m scripts.stress load            # 1,000 registrations, 200 at a time
    .venv/bin/python -m scripts.stress load --workers 2
    .venv/bin/python -m scripts.stress crash           # 20 x: write storm, SIGKILL, restart, check

``load`` passes when no request got a 5xx or timed out and every acknowledged
registration is in the database. ``crash`` passes when, after every kill,
every acknowledged write is there, ``PRAGMA integrity_check`` is ok and
``PRAGMA foreign_key_check`` is empty. Exit status 0 means passed.
"""

import argparse
import asyncio
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx2

PROJECT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class PortTaken(RuntimeError):
    """Another process took the free port between our look and the server's bind."""


def start(database_url: str, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Start ``python main.py`` and wait until /health answers.

    Its log goes to a temporary file, not a pipe: a pipe nobody reads fills up and
    would block the server in the middle of a request.
    """
    # The server keeps its own handle on the log file after this one is closed.
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [sys.executable, "main.py"],
            cwd=PROJECT,
            env={
                **os.environ,
                "BANK_DATABASE_URL": database_url,
                "BANK_PORT": str(port),
                **env,
            },
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                log.seek(0)
                said = log.read().decode()[-2000:]
                if "address already in use" in said:
                    raise PortTaken(port)
                raise RuntimeError(f"server exited early: {said}")
            try:
                if httpx2.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    return process
            except httpx2.TransportError:
                time.sleep(0.1)
        process.kill()
        raise RuntimeError("server did not answer /health within 60 s")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def serve(database_url: str, **env: str) -> Iterator[str]:
    """A running server on a free port; yields its base URL."""
    for attempt in range(5):
        port = free_port()
        try:
            process = start(database_url, port, env)
            break
        except PortTaken:
            # Tests in parallel look for free ports at once; two may be told the same one.
            if attempt == 4:
                raise
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)


@dataclass
class Storm:
    acknowledged: list[str] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    timeouts: int = 0
    failures: int = 0
    seconds: float = 0.0


async def register_storm(
    base_url: str, count: int, concurrency: int, *, timeout: float = 10.0, tag: str = "storm"
) -> Storm:
    """Register ``count`` customers, ``concurrency`` at a time; note what was acknowledged."""
    storm = Storm()
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(count):
        queue.put_nowait(n)
    limits = httpx2.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def worker(client: httpx2.AsyncClient) -> None:
        while not queue.empty():
            n = queue.get_nowait()
            try:
                response = await client.post(
                    "/register-customer", json={"name": f"{tag} customer {n}"}
                )
            except httpx2.TimeoutException:
                storm.timeouts += 1
                continue
            except httpx2.TransportError:
                # The server is gone (or going): this client stops writing.
                storm.failures += 1
                return
            storm.statuses[response.status_code] += 1
            if response.status_code == 200:
                storm.acknowledged.append(response.json()["customer_oid"])

    started = time.perf_counter()
    async with httpx2.AsyncClient(base_url=base_url, timeout=timeout, limits=limits) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    storm.seconds = time.perf_counter() - started
    return storm


def missing_customers(database: Path, oids: list[str]) -> list[str]:
    with sqlite3.connect(database) as connection:
        present = {row[0] for row in connection.execute("SELECT customer_oid FROM users")}
    return [oid for oid in oids if oid not in present]


def database_problems(database: Path) -> list[str]:
    with sqlite3.connect(database) as connection:
        problems = []
        integrity = connection.execute("PRAGMA integrity_check").fetchone()[0]
        if integrity != "ok":
            problems.append(f"integrity_check: {integrity}")
        orphans = connection.execute("PRAGMA foreign_key_check").fetchall()
        if orphans:
            problems.append(f"foreign_key_check: {len(orphans)} rows, e.g. {orphans[0]}")
    return problems


def run_load(count: int, concurrency: int, workers: int, directory: Path) -> bool:
    database = directory / "load.db"
    with serve(f"sqlite:///{database}", BANK_WORKERS=str(workers)) as base_url:
        storm = asyncio.run(register_storm(base_url, count, concurrency))
    missing = missing_customers(database, storm.acknowledged)
    server_errors = sum(n for status, n in storm.statuses.items() if status >= 500)
    print(
        f"{count} registrations, {concurrency} concurrent clients, {workers} worker(s): "
        f"{storm.seconds:.1f} s, {count / storm.seconds:,.0f}/s; statuses {dict(storm.statuses)}; "
        f"5xx {server_errors}; timeouts {storm.timeouts}; connection failures {storm.failures}; "
        f"acknowledged {len(storm.acknowledged)}, missing afterwards {len(missing)}"
    )
    return (
        not server_errors
        and not storm.timeouts
        and not storm.failures
        and not missing
        and len(storm.acknowledged) == count
    )


async def storm_then_kill(
    base_url: str, process: subprocess.Popen[bytes], kill_after: float, tag: str
) -> Storm:
    """Write as fast as 32 clients can, and SIGKILL the server after ``kill_after`` seconds."""
    task = asyncio.create_task(register_storm(base_url, 100_000, 32, tag=tag))
    await asyncio.sleep(kill_after)
    process.send_signal(signal.SIGKILL)
    return await task


def run_crash(cycles: int, directory: Path, seed: int) -> bool:
    """Kill the server with SIGKILL in the middle of a write storm, ``cycles`` times."""
    rng = random.Random(seed)
    database = directory / "crash.db"
    acknowledged: list[str] = []
    ok = True
    for cycle in range(1, cycles + 1):
        port = free_port()
        process = start(f"sqlite:///{database}", port, {})
        kill_after = rng.uniform(0.2, 2.0)

        storm = asyncio.run(
            storm_then_kill(f"http://127.0.0.1:{port}", process, kill_after, f"cycle {cycle}")
        )
        process.wait()
        stop(process)
        acknowledged += storm.acknowledged
        # The next start recovers the WAL; then every acknowledged write must be there.
        stop(start(f"sqlite:///{database}", free_port(), {}))
        missing = missing_customers(database, acknowledged)
        problems = database_problems(database)
        print(
            f"cycle {cycle:>2}: killed after {kill_after:.2f} s, "
            f"{len(storm.acknowledged)} writes acknowledged, {len(acknowledged)} in all, "
            f"missing {len(missing)}, {'; '.join(problems) or 'integrity ok, no orphans'}"
        )
        ok = ok and not missing and not problems
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    load = commands.add_parser("load", help="many concurrent registrations")
    load.add_argument("--count", type=int, default=1000)
    load.add_argument("--concurrency", type=int, default=200)
    load.add_argument("--workers", type=int, default=1)
    crash = commands.add_parser("crash", help="SIGKILL during writes, then check")
    crash.add_argument("--cycles", type=int, default=20)
    crash.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        if args.command == "load":
            passed = run_load(args.count, args.concurrency, args.workers, Path(directory))
        else:
            passed = run_crash(args.cycles, Path(directory), args.seed)
    print("PASSED" if passed else "FAILED")
    raise SystemExit(0 if passed else 1)


if __name__ == "__main__":
    main()
