"""How long advancing a sandbox's clock by 30 days takes, through the API.

A sandbox of ``--customers`` synthetic customers (beside the five samples) is created once
(that builds its template: a while for a thousand), then advanced by ``--days`` days in one
call; the wall time and the process's CPU time of the advance are printed. On SQLite the
bank lives in a temporary folder; with ``--database-url`` it runs on that (PostgreSQL)
database.

    .venv/bin/python bench/bench_clock.py --customers 100
    .venv/bin/python bench/bench_clock.py --customers 1000
"""

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fastapi.testclient import TestClient
from sqlmodel import Session

from core.settings import Settings
from main import create_app
from sandboxes import clock


def measure(
    database_url: str, customers: int, days: int, seed: int, profile: bool, out: str = ""
) -> None:
    settings = Settings(
        database_url=database_url, cache_mb=0, sandbox_max_customers=max(customers, 1000)
    )
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
        started = time.perf_counter()
        created = client.post("/sandboxes", json={"customers": customers, "seed": seed})
        if created.status_code != 201:
            raise SystemExit(f"creating the sandbox: {created.status_code} {created.text[:200]}")
        sandbox_id = created.json()["sandbox_id"]
        print(f"{5 + customers:,} customers: sandbox made in {time.perf_counter() - started:.1f} s")
        if profile:
            profile_advance(client, sandbox_id, seed, days, out)
            client.delete(f"/sandboxes/{sandbox_id}")
            return
        wall, cpu = time.perf_counter(), time.process_time()
        done = client.post(f"/sandboxes/{sandbox_id}/clock/advance", json={"days": days})
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        if done.status_code != 200:
            raise SystemExit(f"advancing: {done.status_code} {done.text[:200]}")
        body = done.json()
        print(
            f"advanced {body['days_run']} days in {wall:.2f} s (CPU {cpu:.2f} s): "
            f"{body['closes_added']} closes, {body['payouts_paid']} payouts, "
            f"{body['expiries_settled']} expiries, {body['payments_executed']} payments, "
            f"{body['transactions_added']} transactions",
            flush=True,
        )
        client.delete(f"/sandboxes/{sandbox_id}")


def profile_advance(client: TestClient, sandbox_id: str, seed: int, days: int, out: str) -> None:
    """The advance in this thread under cProfile: where its time goes, by function."""
    client.get(f"/sandboxes/{sandbox_id}/clock")  # opens the sandbox's database
    engine = client.app.state.sandboxes.open[sandbox_id].engine  # type: ignore[attr-defined]
    profiler = cProfile.Profile()
    with Session(engine) as session:
        profiler.enable()
        clock.advance(session, sandbox_id, seed, days, None)
        profiler.disable()
    if out:
        profiler.dump_stats(out)  # for python -m pstats
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats(40)
    stats.sort_stats("tottime").print_stats(25)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", help="a PostgreSQL URL; SQLite in a temporary folder otherwise"
    )
    parser.add_argument("--customers", type=int, default=100, help="synthetic customers")
    parser.add_argument("--days", type=int, default=30, help="days to advance")
    parser.add_argument("--seed", type=int, default=1, help="the sandbox's seed")
    parser.add_argument(
        "--profile", action="store_true", help="profile the advance instead of timing it"
    )
    parser.add_argument("--profile-out", default="", help="keep the profile in this file")
    args = parser.parse_args()
    if args.database_url:
        measure(
            args.database_url, args.customers, args.days, args.seed, args.profile, args.profile_out
        )
        return
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bank.db"
        measure(url, args.customers, args.days, args.seed, args.profile, args.profile_out)


if __name__ == "__main__":
    main()
