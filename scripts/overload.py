"""Overload: many concurrent clients against one server, and what each of them got.

    .venv/bin/python -m scripts.overload                       # SQLite, 32, 150 and 1,000 clients
    .venv/bin/python -m scripts.overload --database-url postgresql+psycopg://postgres@127.0.0.1/test

For each number of clients and each route (a cheap one, /customer/{id}/exists with
a unique query string so no cache helps, and a whole portfolio), wrk keeps that
many keep-alive connections busy for a fixed time (a Python client would be the
bottleneck long before the server). It prints the successes, the fast refusals
(503 with Retry-After), the time-outs and other errors, p50 and p99 of every
answer, and the server's memory before and after. The bank promises no time-out
and no error but a 503 with Retry-After, whatever the load. Exit status 0 means
every run kept that promise and memory came back within 10%. Needs wrk
(apt-get install wrk).
"""

import argparse
import os
import re
import resource
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx2

from scripts.stress import free_port, start, stop

JOHN = "550e8400-e29b-41d4-a716-446655440001"
TIMEOUT_S = 30.0
"""A request unanswered after this long counts as a time-out (the promise is far shorter)."""
LONGEST_WAIT_S = 10.0
"""The promise: no request waits longer than this for its answer or its refusal."""


COUNT = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) ok, refused, retry_after, other, n = 0, 0, 0, 0, 0 end
request = function()
  n = n + 1
  if os.getenv("OVERLOAD_ROUTE") == "cheap" then
    return wrk.format("GET", "/customer/" .. os.getenv("OVERLOAD_OID") .. "/exists?u=" ..
                      tostring(n) .. "-" .. tostring(math.random(1e9)))
  end
  return wrk.format("GET", "/user-portfolio/" .. os.getenv("OVERLOAD_OID"))
end
function response(status, headers, body)
  if status == 200 then ok = ok + 1
  elseif status == 503 then
    refused = refused + 1
    if headers["retry-after"] or headers["Retry-After"] then retry_after = retry_after + 1 end
  else other = other + 1 end
end
function done(summary, latency, requests)
  local o, r, a, x = 0, 0, 0, 0
  for _, t in ipairs(threads) do
    o = o + t:get("ok"); r = r + t:get("refused")
    a = a + t:get("retry_after"); x = x + t:get("other")
  end
  io.write(string.format("COUNTS %d %d %d %d\\n", o, r, a, x))
  io.write(string.format("LATENCY %f %f %f\\n", latency:percentile(50) / 1000,
                         latency:percentile(99) / 1000, latency.max / 1000))
end
"""


@dataclass
class Run:
    clients: int
    route: str
    successes: int = 0
    refusals: int = 0
    refusals_without_retry_after: int = 0
    timeouts: int = 0
    errors: int = 0
    p50_ms: float = float("nan")
    p99_ms: float = float("nan")
    slowest_ms: float = float("nan")
    seconds: float = 0.0
    rss_before_mib: float = 0.0
    rss_after_mib: float = 0.0

    @property
    def kept_the_promise(self) -> bool:
        rss_ok = self.rss_after_mib <= self.rss_before_mib * 1.10 + 5
        return (
            not self.timeouts
            and self.slowest_ms <= LONGEST_WAIT_S * 1000
            and not self.errors
            and not self.refusals_without_retry_after
            and rss_ok
        )


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def drive(base: str, run: Run, seconds: float, workdir: Path) -> None:
    script = workdir / "count.lua"
    script.write_text(COUNT)
    output = subprocess.run(
        ["wrk", "-t2", f"-c{run.clients}", f"-d{seconds:.0f}s", "--timeout", f"{TIMEOUT_S:.0f}s",
         "-s", str(script), base],
        env={**os.environ, "OVERLOAD_ROUTE": run.route, "OVERLOAD_OID": JOHN},
        capture_output=True,
        text=True,
        check=True,
    ).stdout  # fmt: skip
    counts = re.search(r"COUNTS (\d+) (\d+) (\d+) (\d+)", output)
    latency = re.search(r"LATENCY ([\d.]+) ([\d.]+) ([\d.]+)", output)
    assert counts is not None and latency is not None, output
    ok, refused, retry_after, other = (int(n) for n in counts.groups())
    socket = re.search(r"connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    broken = [int(n) for n in socket.groups()] if socket else [0, 0, 0, 0]
    run.successes, run.refusals = ok, refused
    run.refusals_without_retry_after = refused - retry_after
    run.timeouts = broken[3]
    run.errors = other + sum(broken[:3])
    run.p50_ms, run.p99_ms, run.slowest_ms = (float(n) for n in latency.groups())
    run.seconds = seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="default: a new SQLite file")
    parser.add_argument("--clients", default="32,150,500,1000", help="comma-separated")
    parser.add_argument("--routes", default="cheap,portfolio", help="cheap and/or portfolio")
    parser.add_argument("--seconds", type=float, default=10.0, help="per run")
    parser.add_argument("--cache-mb", default="0", help="BANK_CACHE_MB of the server")
    args = parser.parse_args()
    # A thousand connections need a thousand descriptors here and as many in the server.
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    database_url = args.database_url or f"sqlite:////tmp/dummy-bank-overload-{free_port()}.db"
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    workdir = Path(tempfile.mkdtemp())
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
                drive(f"http://127.0.0.1:{port}", run, args.seconds, workdir)
                time.sleep(2)
                run.rss_after_mib = rss_mib(server.pid)
            finally:
                stop(server)
            runs.append(run)
            print(
                f"{route:<9} {clients:>5} clients: {run.successes:>7} ok, "
                f"{run.refusals:>6} refused, {run.timeouts} time-outs, {run.errors} errors",
                flush=True,
            )
    backend = "PostgreSQL" if database_url.startswith("postgresql") else "SQLite"
    print(f"\n{backend}, one worker, {args.seconds:.0f} s per run, cache {args.cache_mb} MiB")
    print(
        f"(p50, p99 and slowest of every answer, refusals included; the promise: none slower "
        f"than {LONGEST_WAIT_S:.0f} s)"
    )
    print(
        f"{'route':<9} {'clients':>7} {'ok':>7} {'ok/s':>7} {'503+RA':>7} {'t-outs':>6} "
        f"{'errors':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'RSS MiB before':>14} "
        f"{'after':>6}"
    )
    for run in runs:
        print(
            f"{run.route:<9} {run.clients:>7} {run.successes:>7} "
            f"{run.successes / run.seconds:>7.0f} {run.refusals:>7} {run.timeouts:>6} "
            f"{run.errors:>6} {run.p50_ms:>8.1f} "
            f"{run.p99_ms:>8.1f} {run.slowest_ms:>8.1f} {run.rss_before_mib:>14.0f} "
            f"{run.rss_after_mib:>6.0f}"
        )
    raise SystemExit(0 if all(run.kept_the_promise for run in runs) else 1)


if __name__ == "__main__":
    main()
