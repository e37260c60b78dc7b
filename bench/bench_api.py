"""Throughput, latency and server CPU of the hot endpoints, each against its own ceiling.

One uvicorn worker, wrk with keep-alive connections. Every figure is printed as
a ratio to a ceiling route on the same server that returns prebuilt bytes of the
same size (``bench/ceiling_app.py``), measured in the same run, and with the
server's CPU time per request read from ``/proc``. Workloads:

- cache off: a sample customer's portfolio and summary, /health, /exists, and the two
  workloads below, so that no figure owes anything to the response cache;
- cache on, N customers: portfolios spread evenly over every customer (each a
  miss at first), and the five samples with 5% registrations mixed in.

With ``--original DIR`` (a checkout of the original implementation: a ``main.py`` whose
``app`` is the API, and the ``reset_database.py`` or ``reset_db.py`` that fills its
database) the sample portfolio and /health are measured on it too, in a copy of DIR,
alternated with ours (``--rounds`` each), and printed as ratios of our medians to its;
``--only-original`` runs that comparison alone.

    .venv/bin/python bench/bench_api.py                      # SQLite, 10,000 customers
    .venv/bin/python bench/bench_api.py --database-url postgresql+psycopg://postgres@127.0.0.1/bench
    .venv/bin/python bench/bench_api.py --original ../original-bank
    .venv/bin/python bench/bench_api.py --original ../original-bank --only-original --rounds 5

Needs wrk (apt-get install wrk). Targets are ratios, not absolute figures: the
machine is shared, and the ceiling moves with it.
"""

import argparse
import os
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
from sqlalchemy import create_engine, text

PROJECT = Path(__file__).resolve().parent.parent
SAMPLES = [f"550e8400-e29b-41d4-a716-44665544000{n}" for n in range(1, 6)]
ROTATE = """
local paths = {}
for line in io.lines(os.getenv("BENCH_PATHS")) do paths[#paths + 1] = line end
local i = math.random(#paths)
local writes = tonumber(os.getenv("BENCH_WRITE_SHARE") or "0")
local n = 0
request = function()
  n = n + 1
  if writes > 0 and math.random() < writes then
    return wrk.format("POST", "/register-customer", {["Content-Type"] = "application/json"},
                      '{"name": "Bench Customer ' .. n .. '"}')
  end
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
    cpu_ms: float
    ceiling_rps: float = float("nan")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def ensure_database(args: argparse.Namespace) -> str:
    """The database URL for a bank of ``args.customers`` customers, built on first use."""
    if args.database_url:
        url: str = args.database_url
    else:
        path = args.db_dir / f"bank-{args.customers}.db"
        url = f"sqlite:///{path}"
        if path.exists():
            return url
    print(f"building (or topping up) a bank of {args.customers:,} customers ...", flush=True)
    subprocess.run(
        [sys.executable, "seed.py", "--database-url", url,
         "--customers", str(max(args.customers - 5, 0)), "--seed", "1", "--quiet"],
        cwd=PROJECT,
        check=True,
    )  # fmt: skip
    return url


def every_customer(database_url: str) -> list[str]:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        oids = list(
            connection.execute(text("SELECT customer_oid FROM users ORDER BY id")).scalars()
        )
    engine.dispose()
    return oids


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(
    base: str, paths: list[str], args: argparse.Namespace, workdir: Path, pid: int, **env: str
) -> Result:
    (workdir / "paths.txt").write_text("\n".join(paths) + "\n")
    (workdir / "rotate.lua").write_text(ROTATE)
    before = cpu_seconds(pid)
    output = subprocess.run(
        ["wrk", "-t2", f"-c{args.connections}", f"-d{args.seconds}s", "--latency",
         "--timeout", "10s", "-s", str(workdir / "rotate.lua"), base],
        env={**os.environ, "BENCH_PATHS": str(workdir / "paths.txt"), **env},
        capture_output=True,
        text=True,
        check=True,
    ).stdout  # fmt: skip
    spent = cpu_seconds(pid) - before

    def latency(label: str) -> float:
        match = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
        if not match:
            return float("nan")
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    total = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    errors = sum(
        int(n)
        for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", output)
        + re.findall(r"(?:connect|read|write|timeout) (\d+)", output)
    )
    return Result("", rps, latency("50%"), latency("99%"), errors, spent * 1000 / max(total, 1))


def start_server(
    env: dict[str, str], port: int, app: str = "bench.ceiling_app:app", cwd: Path = PROJECT
) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1",
         "--port", str(port), "--workers", "1", "--log-level", "warning", "--no-access-log",
         # As the bank runs itself (BANK_EVENT_LOOP): uvicorn alone would pick uvloop.
         "--loop", os.environ.get("BANK_EVENT_LOOP", "asyncio")],
        cwd=cwd,
        env=env,
        # What a server logs is written (that costs), not kept: the access log, and the
        # original implementation's SQL echo on stdout.
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
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


def measure(
    name: str,
    paths: list[str],
    args: argparse.Namespace,
    workdir: Path,
    server: subprocess.Popen[bytes],
    base: str,
    **env: str,
) -> Result:
    """One workload and, right before it, the ceiling for answers of its size."""
    sizes = [len(httpx2.get(base + path, timeout=60).content) for path in paths[:20]]
    size = sum(sizes) // len(sizes)
    ceiling = wrk(base, [f"/__ceiling/{size}"], args, workdir, server.pid)
    result = wrk(base, paths, args, workdir, server.pid, **env)
    result.name, result.ceiling_rps = name, ceiling.rps
    print(
        f"  {name:<44} {result.rps:>8,.0f} req/s  {result.rps / ceiling.rps:>6.3f} x ceiling"
        f"  {result.cpu_ms:>6.2f} ms CPU",
        flush=True,
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000, help="bank size")
    parser.add_argument("--seconds", type=int, default=10, help="duration of each wrk run")
    parser.add_argument("--connections", type=int, default=32, help="keep-alive connections")
    parser.add_argument("--cache-mb", type=int, default=64, help="BANK_CACHE_MB when on")
    parser.add_argument("--database-url", help="a PostgreSQL database to build and use")
    parser.add_argument(
        "--db-dir", type=Path, default=Path(tempfile.gettempdir()) / "dummy-bank-bench",
        help="where the SQLite benchmark databases are built and kept for the next run",
    )  # fmt: skip
    parser.add_argument(
        "--original", type=Path, help="a checkout of the original implementation to compare with"
    )
    parser.add_argument(
        "--rounds", type=int, default=3,
        help="with --original: runs of each route on each side, alternated (medians compared)",
    )  # fmt: skip
    parser.add_argument(
        "--only-original", action="store_true",
        help="with --original: run the comparison alone, not the workloads against ceilings",
    )  # fmt: skip
    args = parser.parse_args()
    if args.only_original and not args.original:
        parser.error("--only-original needs --original DIR")
    if args.original and not (args.original / "main.py").exists():
        parser.error(f"--original: {args.original} holds no main.py")
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    args.db_dir.mkdir(parents=True, exist_ok=True)
    database_url = ensure_database(args)
    everyone = every_customer(database_url)
    john = SAMPLES[0]
    portfolios = [f"/user-portfolio/{c}" for c in everyone]
    samples = [f"/user-portfolio/{c}" for c in SAMPLES]
    results: list[Result] = []
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        env = {**os.environ, "BANK_DATABASE_URL": database_url}
        port = free_port()
        base = f"http://127.0.0.1:{port}"

        if not args.only_original:
            print("cache off", flush=True)
            server = start_server(env | {"BANK_CACHE_MB": "0"}, port)
            try:
                for name, paths, writes in (
                    ("cache off: /user-portfolio/{sample}", [f"/user-portfolio/{john}"], "0"),
                    ("cache off: /customer/{sample}/summary", [f"/customer/{john}/summary"], "0"),
                    ("cache off: /health", ["/health"], "0"),
                    (
                        "cache off: /customer/{id}/exists",
                        [f"/customer/{c}/exists" for c in everyone],
                        "0",
                    ),
                    (f"cache off: portfolios of all {len(everyone):,}", portfolios, "0"),
                    ("cache off: 5 samples + 5% registrations", samples, "0.05"),
                ):
                    results.append(
                        measure(name, paths, args, workdir, server, base, BENCH_WRITE_SHARE=writes)
                    )
            finally:
                stop(server)

            print(f"cache on ({args.cache_mb} MiB)", flush=True)
            for name, urls, writes in (
                (f"cache on: portfolios of all {len(everyone):,}", portfolios, "0"),
                ("cache on: 5 samples + 5% registrations", samples, "0.05"),
            ):
                server = start_server(env | {"BANK_CACHE_MB": str(args.cache_mb)}, port)
                try:
                    results.append(
                        measure(name, urls, args, workdir, server, base, BENCH_WRITE_SHARE=writes)
                    )
                finally:
                    stop(server)
        originals = measure_original(args, workdir, env, port) if args.original else []

    backend = "PostgreSQL" if database_url.startswith("postgresql") else "SQLite"
    print(
        f"\n{backend}, {len(everyone):,} customers, one uvicorn worker, "
        f"{args.connections} connections, {args.seconds} s per run"
    )
    print(
        f"{'workload':<44} {'req/s':>8} {'ceiling':>8} {'ratio':>6} {'p50 ms':>7} "
        f"{'p99 ms':>7} {'CPU ms':>7} {'errors':>6}"
    )
    for r in results:
        print(
            f"{r.name:<44} {r.rps:>8,.0f} {r.ceiling_rps:>8,.0f} {r.rps / r.ceiling_rps:>6.3f} "
            f"{r.p50_ms:>7.2f} {r.p99_ms:>7.2f} {r.cpu_ms:>7.2f} {r.errors:>6}"
        )
    if originals:
        print(
            f"\nagainst the original implementation ({args.original}), cache off, "
            f"median of {args.rounds} alternated rounds"
        )
        print(f"{'route':<44} {'ours':>8} {'original':>8} {'ratio':>6} {'CPU ms':>7} {'theirs':>7}")
        for route, mine, theirs in originals:
            print(
                f"{route:<44} {mine.rps:>8,.0f} {theirs.rps:>8,.0f} {mine.rps / theirs.rps:>6.2f} "
                f"{mine.cpu_ms:>7.2f} {theirs.cpu_ms:>7.2f}"
            )


def measure_original(
    args: argparse.Namespace, workdir: Path, env: dict[str, str], port: int
) -> list[tuple[str, Result, Result]]:
    """The sample portfolio and /health, ours (cache off) and the original's, alternated.

    Both servers run side by side, one worker each, and only one is loaded at a time: each
    route is measured ``--rounds`` times on each, alternately, and the medians are compared,
    so a busy moment of the machine does not land on one side only.
    """
    copy = workdir / "original"
    shutil.copytree(args.original, copy, ignore=shutil.ignore_patterns(".git", "*.db", ".venv"))
    theirs_env = {k: v for k, v in os.environ.items() if not k.startswith("BANK_")}
    # Its reset script (reset_database.py, or reset_db.py in its first published version).
    for reset in ("reset_database.py", "reset_db.py"):
        if (copy / reset).exists():
            subprocess.run(
                [sys.executable, reset], cwd=copy, env=theirs_env, check=True,
                stdout=subprocess.DEVNULL, input=b"y\n",
            )  # fmt: skip
            break
    theirs_port = free_port()
    ours = start_server(env | {"BANK_CACHE_MB": "0"}, port)
    theirs = start_server(theirs_env, theirs_port, app="main:app", cwd=copy)
    found = []
    try:
        for route, path in (
            ("/user-portfolio/{sample}", f"/user-portfolio/{SAMPLES[0]}"),
            ("/health", "/health"),
        ):
            mine, their = [], []
            for _ in range(args.rounds):
                mine.append(wrk(f"http://127.0.0.1:{port}", [path], args, workdir, ours.pid))
                their.append(
                    wrk(f"http://127.0.0.1:{theirs_port}", [path], args, workdir, theirs.pid)
                )
            a, b = median_result(mine, route), median_result(their, route)
            print(
                f"  {route:<34} ours {a.rps:>8,.0f} req/s {a.cpu_ms:>6.2f} ms CPU, original "
                f"{b.rps:>8,.0f} req/s {b.cpu_ms:>6.2f} ms CPU ({args.rounds} rounds each)",
                flush=True,
            )
            found.append((route, a, b))
    finally:
        stop(ours)
        stop(theirs)
    return found


def median_result(results: list[Result], name: str) -> Result:
    """The run with the median requests per second, named ``name``."""
    middle = sorted(results, key=lambda r: r.rps)[len(results) // 2]
    middle.name = name
    return middle


if __name__ == "__main__":
    main()
