"""Check the kept figures against the raw rows, or rebuild them from the rows.

Every write through the bank keeps each customer's figures (``services/books.py``) and
summary (``services/kept.py``) in its own transaction. Rows written behind the bank's
back (SQL by hand, a restored table) are the one way they can disagree:

    .venv/bin/python -m scripts.books                 # check: one line per disagreement
    .venv/bin/python -m scripts.books --rebuild       # derive every book and summary again
    .venv/bin/python -m scripts.books --summaries     # compute the summaries not kept yet

Exit status 1 when the check found a disagreement.
"""

import argparse
import os
import sys
import time

from core.settings import add_database_url_option
from db import WRITE_OPTION, create_db_engine, create_schema
from services.books import disagreements, rebuild_books
from services.kept import fill_summaries, stale_summaries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_database_url_option(parser, "the bank's database")
    action = parser.add_mutually_exclusive_group()
    action.add_argument(
        "--rebuild", action="store_true", help="derive every customer's book and summary again"
    )
    action.add_argument(
        "--summaries", action="store_true", help="compute only the summaries not kept yet"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="processes that compute the summaries (default: one per CPU)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress")
    args = parser.parse_args()
    engine = create_db_engine(args.database_url)
    create_schema(engine)
    progress = not args.quiet
    try:
        if args.rebuild:
            started = time.perf_counter()
            writing = engine.connect().execution_options(**{WRITE_OPTION: True})
            with writing as connection, connection.begin():
                books = rebuild_books(connection, progress=progress)
            middle = time.perf_counter()
            print(f"Books rebuilt: {books:,} customers in {middle - started:,.1f} s")
        if args.rebuild or args.summaries:
            started = time.perf_counter()
            kept = fill_summaries(engine, workers=max(args.workers, 1), progress=progress)
            print(f"Summaries kept: {kept:,} in {time.perf_counter() - started:,.1f} s")
            return
        started = time.perf_counter()
        with engine.connect() as connection:
            found = disagreements(connection) + stale_summaries(engine)
        for line in found:
            print(line)
        seconds = time.perf_counter() - started
        print(f"{len(found):,} disagreements (checked in {seconds:,.1f} s)")
        if found:
            sys.exit(1)
    finally:
        engine.dispose()


if __name__ == "__main__":
    main()
