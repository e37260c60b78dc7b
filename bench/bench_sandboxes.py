"""How long creating and resetting a sandbox takes, through the API, at two sizes.

Each size is warmed up once (that builds its template), then created and reset
``--rounds`` times; the medians are printed in milliseconds. On SQLite the bank lives
in a temporary folder; with ``--database-url`` it runs on that (PostgreSQL) database.

    .venv/bin/python bench/bench_sandboxes.py
    .venv/bin/python bench/bench_sandboxes.py --database-url postgresql+psycopg://postgres@127.0.0.1/bench
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fastapi.testclient import TestClient

from core.settings import Settings
from main import create_app

SIZES = (0, 1000)
"""Synthetic customers beside the five samples: the five alone, and a thousand more."""


def timed(
    client: TestClient, method: str, path: str, body: object = None
) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    response = client.request(method, path, json=body)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code not in (200, 201):
        raise SystemExit(f"{method} {path}: {response.status_code} {response.text[:200]}")
    return elapsed, response.json()


def measure(database_url: str, rounds: int) -> None:
    settings = Settings(database_url=database_url, sandbox_max=rounds + 2, cache_mb=0)
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
        for customers in SIZES:
            body = {"customers": customers, "seed": 1}
            _, warm = timed(client, "POST", "/sandboxes", body)
            client.delete(f"/sandboxes/{warm['sandbox_id']}")
            creations, resets = [], []
            for _ in range(rounds):
                took, sandbox = timed(client, "POST", "/sandboxes", body)
                creations.append(took)
                resets.append(timed(client, "POST", f"/sandboxes/{sandbox['sandbox_id']}/reset")[0])
                client.delete(f"/sandboxes/{sandbox['sandbox_id']}")
            print(
                f"{5 + customers:>5} customers: create {statistics.median(creations):7.1f} ms, "
                f"reset {statistics.median(resets):7.1f} ms (medians of {rounds})",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", help="a PostgreSQL URL; SQLite in a temporary folder otherwise"
    )
    parser.add_argument("--rounds", type=int, default=15, help="creations and resets per size")
    args = parser.parse_args()
    if args.database_url:
        print(f"PostgreSQL ({args.database_url.rsplit('@', 1)[-1]})")
        measure(args.database_url, args.rounds)
        return
    with tempfile.TemporaryDirectory() as folder:
        print("SQLite")
        measure(f"sqlite:///{folder}/bank.db", args.rounds)


if __name__ == "__main__":
    main()
