"""How long continuing every customer's statement takes: learning the textures, then
drawing each day of each customer, as a sandbox clock's advance would (without writing).

Build the bank once, then time it (wall clock and this process's CPU, in seconds):

    .venv/bin/python seed.py --database-url sqlite:////tmp/bank-1000.db --customers 1000
    .venv/bin/python bench/bench_continuation.py --database-url sqlite:////tmp/bank-1000.db
"""

import argparse
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text
from sqlmodel import Session

from db import create_db_engine
from market.model import AS_OF
from synthetic.continuation import draw_day
from synthetic.texture import learn_all


class Clock:
    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def lap(self) -> tuple[float, float]:
        wall, cpu = time.perf_counter(), time.process_time()
        found = (wall - self.wall, cpu - self.cpu)
        self.wall, self.cpu = wall, cpu
        return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="a seeded bank")
    parser.add_argument("--days", type=int, default=30, help="days to draw (default 30)")
    parser.add_argument("--seed", type=int, default=1, help="the sandbox's seed (default 1)")
    args = parser.parse_args()
    if args.days < 1:
        parser.error("--days must be at least 1")
    engine = create_db_engine(args.database_url, must_exist=True)
    with engine.connect() as connection:
        balances = {
            account_id: int(balance)
            for account_id, balance in connection.execute(
                text("SELECT id, balance FROM bank_accounts")
            )
        }
    clock = Clock()
    with Session(engine) as session:
        textures = learn_all(session, AS_OF)
    learned = clock.lap()
    rows = declined = 0
    first: date = AS_OF + timedelta(1)
    for n in range(args.days):
        day = first + timedelta(n)
        for texture in textures.values():
            draw = draw_day(texture, day, args.seed, balances)
            for row in draw.bookings:
                balances[row[3]] = balances.get(row[3], 0) + row[5]
            rows += len(draw.bookings)
            declined += len(draw.declined)
    drawn = clock.lap()
    print(f"customers: {len(textures):,}; days: {args.days}; rows drawn: {rows:,}")
    print(f"purchases declined for want of funds: {declined:,}")
    print(f"learn_all: {learned[0]:.2f} s wall, {learned[1]:.2f} s CPU")
    print(f"draws:     {drawn[0]:.2f} s wall, {drawn[1]:.2f} s CPU")
    print(f"total:     {learned[0] + drawn[0]:.2f} s wall, {learned[1] + drawn[1]:.2f} s CPU")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
