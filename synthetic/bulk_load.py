"""Bulk load of synthetic customers: one process generates batches, this one writes them.

Kept apart from ``seeding.py`` so that serving the API never imports the
generator's name lists, the progress bar or the process machinery.
"""

import multiprocessing
import os
import resource
import time as clock
from dataclasses import dataclass

import psycopg
from sqlalchemy import func, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from tqdm import tqdm

from core.bulk import write_rows
from market.institutions import load_institutions
from market.model import ScaledMarket
from models import CUSTOMER_COUNTER, Counter
from services.changes import UNATTRIBUTED_CHANGE_POSTGRESQL
from synthetic.book import IdCounters
from synthetic.generator import COLUMNS, DEFAULT_HISTORY_MONTHS, TABLES, produce
from synthetic.seeding import seed_sample_data


@dataclass
class LoadReport:
    """What one bulk load added, and how fast."""

    customers: int
    rows: int
    seconds: float
    database_bytes: int | None
    bytes_before: int | None = None

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0

    @property
    def rows_per_customer(self) -> float:
        return self.rows / self.customers if self.customers else 0.0

    @property
    def bytes_per_customer(self) -> float | None:
        """What one more customer costs on disk (tables and indexes)."""
        if not self.customers or self.database_bytes is None or self.bytes_before is None:
            return None
        return (self.database_bytes - self.bytes_before) / self.customers


def load_synthetic(
    engine: Engine,
    customers: int,
    seed: int,
    *,
    batch_size: int = 100,
    progress: bool = True,
    history_months: int = DEFAULT_HISTORY_MONTHS,
) -> LoadReport:
    """Top the bank up to ``customers`` synthetic customers of ``seed``, in bulk.

    Rows are generated a batch at a time and written with one multi-row insert
    per table and one transaction per batch, so memory stays flat however many
    customers are asked for. Running it again with the same seed adds only the
    customers that are not there yet.
    """
    seed_sample_data(engine)
    # Another history depth is another book: it is counted (and topped up) on its own.
    counter = f"synthetic:{seed}"
    if history_months != DEFAULT_HISTORY_MONTHS:
        counter += f":{history_months}m"
    with_ids = [table for table in TABLES if "id" in table.c]
    with Session(engine) as session:
        institutions = load_institutions(session)
        # Committed now: the generator hands out these ids in batches written by other sessions.
        session.commit()
        done = session.exec(select(Counter.value).where(Counter.name == counter)).first() or 0
        ids = IdCounters(
            {
                table.name: (session.exec(select(func.max(table.c.id))).one() or 0) + 1
                for table in with_ids
            }
        )
    wanted = max(customers - done, 0)
    bytes_before = database_bytes(engine)
    market = ScaledMarket.generated()
    sqlite = engine.url.get_backend_name() == "sqlite"
    mark = "?" if sqlite else "%s"
    upsert = (
        f"INSERT INTO counters (name, value) VALUES ({mark}, {mark}) "
        "ON CONFLICT (name) DO UPDATE SET value = counters.value + excluded.value"
    )
    # Generation runs in a second process while this one writes: two cores, one pipeline.
    context = multiprocessing.get_context("spawn")
    queue = context.Queue(maxsize=1)
    producer = context.Process(
        target=produce,
        args=(
            queue,
            seed,
            market,
            institutions,
            ids,
            done,
            wanted,
            batch_size,
            history_months,
            not sqlite,
        ),
        daemon=True,
    )
    rows_written, started = 0, clock.perf_counter()
    bar = tqdm(total=wanted, unit=" customers", disable=not progress, mininterval=1.0)
    connection = engine.raw_connection()
    producer.start()
    try:
        cursor = connection.cursor()
        if sqlite:
            # Bulk load: survive a crash of this process, not a power cut, for speed.
            cursor.execute("PRAGMA synchronous = OFF")
            cursor.execute("PRAGMA cache_size = -50000")
            # The generator builds every reference itself (tests run foreign_key_check on
            # its output); checking each one again here would cost a lookup per row.
            cursor.execute("PRAGMA foreign_keys = OFF")
        else:
            # Same trade on PostgreSQL: a crash loses the last batches, never consistency.
            cursor.execute("SET synchronous_commit = off")
            # As on SQLite: each row's foreign keys would be checked by a trigger, one query per
            # key per row, the bulk of the load's time. Only a superuser may skip them; anyone
            # else loads with the checks on.
            cursor.execute("SAVEPOINT replica")
            try:
                cursor.execute("SET session_replication_role = replica")
            except psycopg.errors.InsufficientPrivilege:
                cursor.execute("ROLLBACK TO SAVEPOINT replica")
            connection.commit()
        while (batch := queue.get()) is not None:
            if isinstance(batch, str):
                raise RuntimeError(f"generating customers failed: {batch}")
            count, rows = batch
            if sqlite:
                # The engine leaves transactions to SQLAlchemy; here one batch is one.
                cursor.execute("BEGIN IMMEDIATE")
            for table, table_rows in rows.items():
                found, payload = table_rows if isinstance(table_rows, tuple) else (
                    len(table_rows), table_rows,
                )  # fmt: skip
                if found:
                    write_rows(cursor, table, COLUMNS[table], payload, sqlite=sqlite)
                    rows_written += found
            for name in (CUSTOMER_COUNTER, counter):
                cursor.execute(upsert, (name, count))
            # Anything may have changed: every running worker forgets its cached answers. On
            # PostgreSQL the triggers that log unlogged writes do not fire in replica mode.
            cursor.execute(
                "INSERT INTO changes (subject_oid) VALUES (NULL)"
                if sqlite
                else UNATTRIBUTED_CHANGE_POSTGRESQL
            )
            connection.commit()
            bar.update(count)
            bar.set_postfix_str(f"{rows_written / (clock.perf_counter() - started):,.0f} rows/s")
        if not sqlite:
            # COPY wrote explicit ids: move each id sequence past them.
            for table in with_ids:
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                    f"(SELECT max(id) FROM {table.name}))"
                )
            connection.commit()
    finally:
        bar.close()
        connection.close()
        producer.join(timeout=10)
        if producer.is_alive():
            producer.terminate()
    seconds = clock.perf_counter() - started
    return LoadReport(wanted, rows_written, seconds, database_bytes(engine), bytes_before)


def database_bytes(engine: Engine) -> int | None:
    """The database's size on disk, where the backend can tell."""
    if engine.url.get_backend_name() == "sqlite":
        if not engine.url.database:
            return None
        # Recent commits may still sit in the write-ahead log beside the main file.
        files = (engine.url.database, engine.url.database + "-wal")
        return sum(os.path.getsize(path) for path in files if os.path.exists(path))
    with engine.connect() as connection:
        size = connection.execute(text("SELECT pg_database_size(current_database())")).scalar()
    return int(size) if size is not None else None


def peak_memory_mib() -> tuple[float, float]:
    """Peak resident memory of this process and of its largest child, in MiB."""
    return (
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    )
