"""Fill a database with the sample data, and top it up with synthetic customers.

``python seed.py`` fills an empty database and leaves a full one as it is:
market data is loaded when the bank has none, and each sample customer is
added only when its CustomerOID is not taken (``synthetic/seeding.py``).
``--customers N`` tops the bank up with synthetic customers
(``synthetic/bulk_load.py``). Everything is generated from fixed seeds, so two
fresh installs agree to the cent.
"""

import argparse
import os
import time

from db import create_db_engine, create_schema
from services.kept import fill_summaries
from synthetic.bulk_load import load_synthetic, peak_memory_mib
from synthetic.seeding import seed_sample_data


def main() -> None:
    from core.settings import add_database_url_option

    parser = argparse.ArgumentParser(
        prog="python seed.py",
        description="Fill a database with the five sample customers and the market data, "
        "adding back any that is missing, and top it up with synthetic customers (--customers). "
        "Everything comes from fixed seeds: two runs with the same options agree to the cent.",
        epilog="--database-url defaults to BANK_DATABASE_URL, from the environment or a .env "
        "file in the current directory.",
    )
    add_database_url_option(parser, "the database to fill")
    parser.add_argument(
        "--customers",
        type=int,
        default=0,
        metavar="N",
        help="top the bank up to N synthetic customers beside the five samples; 0 adds none "
        "(default %(default)s)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=1,
        metavar="S",
        help="seed of the synthetic customers: the same seed, the same customers "
        "(default %(default)s)",
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=100,
        metavar="N",
        help="synthetic customers written per database transaction, at least 1 "
        "(default %(default)s)",
    )
    parser.add_argument(
        "--history-months",
        type=int,
        default=12,
        metavar="M",
        help="months of statements per synthetic customer, 1 to 36; fewer make a smaller bank "
        "(default %(default)s)",
    )
    parser.add_argument(
        "--quiet", action="store_true", help="print no progress bar while loading (default: shown)"
    )
    args = parser.parse_args()
    if args.customers < 0 or args.batch_size < 1 or not 1 <= args.history_months <= 36:
        parser.error(
            "--customers must be 0 or more, --batch-size at least 1, --history-months 1 to 36"
        )

    engine = create_db_engine(args.database_url)
    create_schema(engine)
    # Unlike a server's start, which seeds only a new database, this adds back any sample
    # customer that is missing (deleted through the API, say).
    added = seed_sample_data(engine)
    if added:
        print(f"Added {len(added)} sample customers: {', '.join(added)}")
    elif not args.customers:
        print("Every sample customer is already there; nothing changed.")
    if args.customers:
        report = load_synthetic(
            engine,
            args.customers,
            args.seed,
            batch_size=args.batch_size,
            progress=not args.quiet,
            history_months=args.history_months,
        )
        size = f"{report.database_bytes / 2**20:,.1f} MiB" if report.database_bytes else "n/a"
        per_customer = report.bytes_per_customer
        cost = f"{per_customer / 1024:,.1f} KiB" if per_customer is not None else "n/a"
        writer, generator = peak_memory_mib()
        print(
            f"Synthetic customers added: {report.customers:,} (seed {args.seed})\n"
            f"Rows written: {report.rows:,} in {report.seconds:,.1f} s "
            f"= {report.rows_per_second:,.0f} rows/s\n"
            f"Per customer: {report.rows_per_customer:,.0f} rows, {cost} on disk\n"
            f"Peak memory: {writer:,.0f} MiB writer + {generator:,.0f} MiB generator; "
            f"database size: {size}"
        )
        # Each customer's summary, computed once now rather than on its first read.
        started = time.perf_counter()
        kept = fill_summaries(engine, workers=os.cpu_count() or 1, progress=not args.quiet)
        print(f"Summaries kept: {kept:,} in {time.perf_counter() - started:,.1f} s")
    engine.dispose()


if __name__ == "__main__":
    main()
