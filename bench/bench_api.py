"""Throughput and latency of the hot endpoints against the server's own ceiling.

For each bank size it builds (or reuses) a database, starts the API with one
uvicorn worker, and drives each endpoint with wrk (keep-alive connections)
for a fixed time. The ceiling is a route on the same server that returns
prebuilt bytes of the same size as a portfolio; every endpoint is printed as
a ratio to it. Requests rotate over a fixed sample of customers.

    .venv/bin/python bench/bench_api.py --sizes 5,10000,1000000

Needs wrk (apt-get install wrk). Run it on a quiet machine: wrk and the
server share the cores, as they would on a laptop.
"""

import argparse
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx2
from sqlalchemy import column, create_engine, select, table, text

PROJECT = Path(__file__).resolve().parent.parent
LUA = """
local paths = {}
for line in io.lines(os.getenv("BENCH_PATHS")) do paths[#paths + 1] = line end
local i = math.random(#paths)
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
"""


@dataclass
class Result:
    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def ensure_database(args: argparse.Namespace, size: int) -> str:
    """The database URL for a bank of ``size`` customers, built on first use."""
    if args.database_url:
        url: str = args.database_url  # the caller built it (e.g. a PostgreSQL one)
    else:
        path = args.db_dir / f"bank-{size}.db"
        url = f"sqlite:///{path}"
        if path.exists():
            return url
    print(f"building (or topping up) a bank of {size:,} customers ...", flush=True)
    subprocess.run(
        [sys.executable, "seed.py", "--database-url", url,
         "--customers", str(max(size - 5, 0)), "--seed", "1", "--quiet"],
        cwd=PROJECT,
        check=True,
    )  # fmt: skip
    return url


def sample_customers(database_url: str, count: int) -> list[str]:
    """A fixed sample of customers: the same ones on every run and every backend."""
    engine = create_engine(database_url)
    with engine.connect() as connection:
        total = connection.execute(text("SELECT max(id) FROM users")).scalar_one()
        wanted = sorted(random.Random(7).sample(range(1, total + 1), min(count, total)))
        oids: list[str] = list(
            connection.execute(
                select(column("customer_oid"))
                .select_from(table("users"))
                .where(column("id").in_(wanted))
            ).scalars()
        )
    engine.dispose()
    return oids


def wrk(base: str, paths: list[str], seconds: int, connections: int, workdir: Path) -> Result:
    (workdir / "paths.txt").write_text("\n".join(paths) + "\n")
    (workdir / "rotate.lua").write_text(LUA)
    output = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s",
         "-s", str(workdir / "rotate.lua"), base],
        env={**os.environ, "BENCH_PATHS": str(workdir / "paths.txt")},
        capture_output=True,
        text=True,
        check=True,
    ).stdout  # fmt: skip

    def latency(label: str) -> float:
        match = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
        if not match:
            return float("nan")
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    errors = sum(
        int(n)
        for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", output)
        + re.findall(r"(?:connect|read|write|timeout) (\d+)", output)
    )
    return Result("", rps, latency("50%"), latency("99%"), errors)


def run_size(size: int, args: argparse.Namespace, workdir: Path) -> list[Result]:
    database_url = ensure_database(args, size)
    customers = sample_customers(database_url, args.sample)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    first = customers[0]
    env = {
        **os.environ,
        "BANK_DATABASE_URL": database_url,
        "BANK_CACHE_MB": str(args.cache_mb),
    }
    # Size the ceiling like a real portfolio answer: measure one with a short-lived server.
    server = start_server(env | {"BENCH_CEILING_BYTES": "1"}, port)
    try:
        portfolio_bytes = len(httpx2.get(f"{base}/user-portfolio/{first}", timeout=60).content)
    finally:
        stop(server)
    server = start_server(env | {"BENCH_CEILING_BYTES": str(portfolio_bytes)}, port)
    endpoints = {
        "ceiling (prebuilt bytes)": ["/__ceiling"],
        "/health": ["/health"],
        "/customers": ["/customers"],
        "/customer/{id}/exists": [f"/customer/{c}/exists" for c in customers],
        "/user-portfolio/{id}": [f"/user-portfolio/{c}" for c in customers],
        "/user-portfolio/{id} compact": [
            f"/user-portfolio/{c}?sections=portfolio_summary&transactions_limit=5"
            for c in customers
        ],
        "transactions, filtered page": [
            f"/customer/{c}/transactions?type=card_payment&limit=20" for c in customers
        ],
    }
    results = []
    try:
        for name, paths in endpoints.items():
            for path in paths:  # one pass first, so the timed run measures the steady state
                httpx2.get(base + path, timeout=60)
            result = wrk(base, paths, args.seconds, args.connections, workdir)
            result.name = name
            results.append(result)
            print(f"  {size:>9,}  {name:<30} {result.rps:>9,.0f} req/s", flush=True)
    finally:
        stop(server)
    print(f"  (portfolio answer: {portfolio_bytes:,} bytes)")
    return results


def start_server(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "bench.ceiling_app:app", "--host", "127.0.0.1",
         "--port", str(port), "--workers", "1", "--log-level", "warning", "--no-access-log"],
        cwd=PROJECT,
        env=env,
        stderr=subprocess.DEVNULL,  # the access log is written (that costs), not kept
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx2.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return server
        except httpx2.TransportError:
            time.sleep(0.2)
    stop(server)
    raise SystemExit("the server did not start within 120 s")


def stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="5,10000,1000000", help="bank sizes, comma-separated")
    parser.add_argument("--seconds", type=int, default=10, help="duration of each wrk run")
    parser.add_argument("--connections", type=int, default=32, help="keep-alive connections")
    parser.add_argument("--sample", type=int, default=200, help="customers requests rotate over")
    parser.add_argument("--cache-mb", type=int, default=64, help="BANK_CACHE_MB (0: no cache)")
    parser.add_argument(
        "--database-url",
        help="use (and top up) this database instead of SQLite files, e.g. a PostgreSQL one; "
        "give one size only",
    )
    parser.add_argument(
        "--db-dir", type=Path, default=Path(tempfile.gettempdir()) / "dummy-bank-bench",
        help="where the benchmark databases are built and kept for the next run",
    )  # fmt: skip
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    args.db_dir.mkdir(parents=True, exist_ok=True)
    sizes = [int(s) for s in args.sizes.split(",")]
    table: dict[int, list[Result]] = {}
    with tempfile.TemporaryDirectory() as workdir:
        for size in sizes:
            table[size] = run_size(size, args, Path(workdir))

    print(f"\none uvicorn worker, {args.connections} connections, {args.seconds} s per endpoint,"
          f" cache {args.cache_mb} MiB")  # fmt: skip
    print(f"{'customers':>10}  {'endpoint':<30} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}"
          f" {'vs ceiling':>10} {'errors':>6}")  # fmt: skip
    for size, results in table.items():
        ceiling = results[0].rps
        for r in results:
            print(f"{size:>10,}  {r.name:<30} {r.rps:>9,.0f} {r.p50_ms:>8.2f} {r.p99_ms:>8.2f}"
                  f" {r.rps / ceiling:>10.3f} {r.errors:>6}")  # fmt: skip
    if len(sizes) > 1:
        smallest, largest = table[sizes[0]], table[sizes[-1]]
        print(f"\np99 at {sizes[-1]:,} / p99 at {sizes[0]:,}:")
        for small, large in zip(smallest, largest, strict=True):
            print(f"  {small.name:<30} {large.p99_ms / small.p99_ms:>6.2f}")


if __name__ == "__main__":
    main()
