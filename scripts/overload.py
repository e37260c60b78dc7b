"""Overload: many concurrent clients against one server, and what each of them got.

    .venv/bin/python -m scripts.overload                       # SQLite, 32, 150 and 1,000 clients
    .venv/bin/python -m scripts.overload --database-url postgresql+psycopg://postgres@127.0.0.1/test

For each number of clients and each route (a cheap one, /customer/{id}/exists with
a unique query string so no cache helps, and a whole portfolio), every client
sends requests back to back for a fixed time. It prints the successes, the fast
refusals (503 with Retry-After), the time-outs and other errors, p50 and p99 of
the successes, and the server's memory before and after. The bank promises no
time-out and no error but a 503 with Retry-After, whatever the load. Exit status
0 means every run kept that promise and memory came back within 10%.
"""

import argparse
import asyncio
import resource
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx2

from scripts.stress import free_port, start, stop

JOHN = "550e8400-e29b-41d4-a716-446655440001"
TIMEOUT_S = 30.0
"""A request unanswered after this long counts as a time-out (the promise is far shorter)."""


@dataclass
class Run:
    clients: int
    route: str
    successes: int = 0
    refusals: int = 0
    refusals_without_retry_after: int = 0
    timeouts: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)
    seconds: float = 0.0
    rss_before_mib: float = 0.0
    rss_after_mib: float = 0.0

    def percentile(self, share: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(int(share * len(ordered)), len(ordered) - 1)]

    @property
    def kept_the_promise(self) -> bool:
        rss_ok = self.rss_after_mib <= self.rss_before_mib * 1.10 + 5
        return (
            not self.timeouts
            and not self.errors
            and not self.refusals_without_retry_after
            and rss_ok
        )


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def drive(base: str, run: Run, seconds: float) -> None:
    limits = httpx2.Limits(max_connections=run.clients, max_keepalive_connections=run.clients)
    deadline = time.monotonic() + seconds
    counter = iter(range(10**12))

    async def client_loop(client: httpx2.AsyncClient) -> None:
        while time.monotonic() < deadline:
            path = (
                f"/customer/{JOHN}/exists?u={next(counter)}"
                if run.route == "cheap"
                else f"/user-portfolio/{JOHN}"
            )
            started = time.perf_counter()
            try:
                response = await client.get(path)
            except httpx2.TimeoutException:
                run.timeouts += 1
                continue
            except httpx2.TransportError as error:
                run.errors[type(error).__name__] += 1
                await asyncio.sleep(0.05)
                continue
            elapsed = (time.perf_counter() - started) * 1000
            if response.status_code == 200:
                run.successes += 1
                run.latencies_ms.append(elapsed)
            elif response.status_code == 503:
                run.refusals += 1
                if "retry-after" not in response.headers:
                    run.refusals_without_retry_after += 1
                # A well-behaved client waits as it is told; a storm would not, but a storm
                # of immediate retries only measures how fast refusals are.
                await asyncio.sleep(float(response.headers.get("retry-after", "1")))
            else:
                run.errors[str(response.status_code)] += 1

    async with httpx2.AsyncClient(base_url=base, limits=limits, timeout=TIMEOUT_S) as client:
        started = time.monotonic()
        await asyncio.gather(*(client_loop(client) for _ in range(run.clients)))
        run.seconds = time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="default: a new SQLite file")
    parser.add_argument("--clients", default="32,150,1000", help="comma-separated")
    parser.add_argument("--routes", default="cheap,portfolio", help="cheap and/or portfolio")
    parser.add_argument("--seconds", type=float, default=10.0, help="per run")
    parser.add_argument("--cache-mb", default="0", help="BANK_CACHE_MB of the server")
    args = parser.parse_args()
    # A thousand connections need a thousand descriptors here and as many in the server.
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    database_url = args.database_url or f"sqlite:////tmp/dummy-bank-overload-{free_port()}.db"
    runs: list[Run] = []
    for route in args.routes.split(","):
        for clients in (int(n) for n in args.clients.split(",")):
            port = free_port()
            server = start(database_url, port, {"BANK_CACHE_MB": args.cache_mb})
            try:
                # Warm: the market snapshot and the code paths are loaded before "before".
                for path in (f"/user-portfolio/{JOHN}", f"/customer/{JOHN}/exists"):
                    httpx2.get(f"http://127.0.0.1:{port}{path}", timeout=60)
                run = Run(clients, route, rss_before_mib=rss_mib(server.pid))
                asyncio.run(drive(f"http://127.0.0.1:{port}", run, args.seconds))
                time.sleep(2)
                run.rss_after_mib = rss_mib(server.pid)
            finally:
                stop(server)
            runs.append(run)
            print(
                f"{route:<9} {clients:>5} clients: {run.successes:>7} ok, "
                f"{run.refusals:>6} refused, {run.timeouts} time-outs, "
                f"{sum(run.errors.values())} errors",
                flush=True,
            )
    backend = "PostgreSQL" if database_url.startswith("postgresql") else "SQLite"
    print(f"\n{backend}, one worker, {args.seconds:.0f} s per run, cache {args.cache_mb} MiB")
    print(
        f"{'route':<9} {'clients':>7} {'ok':>7} {'ok/s':>7} {'503+RA':>7} {'t-outs':>6} "
        f"{'errors':>6} {'p50 ms':>8} {'p99 ms':>8} {'RSS MiB before':>14} {'after':>6}"
    )
    for run in runs:
        print(
            f"{run.route:<9} {run.clients:>7} {run.successes:>7} "
            f"{run.successes / run.seconds:>7.0f} {run.refusals:>7} {run.timeouts:>6} "
            f"{sum(run.errors.values()):>6} {run.percentile(0.5):>8.1f} "
            f"{run.percentile(0.99):>8.1f} {run.rss_before_mib:>14.0f} {run.rss_after_mib:>6.0f}"
        )
        if run.errors:
            print(f"          errors: {dict(run.errors)}")
    raise SystemExit(0 if all(run.kept_the_promise for run in runs) else 1)


if __name__ == "__main__":
    main()
