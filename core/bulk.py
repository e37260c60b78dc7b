"""Writing many rows at once, in the form the database stores them, past the ORM and
SQLAlchemy's per-value processing: what the synthetic loader and a sandbox's clock write
by the tens of thousands.

The rows must already be in storage form: amounts as integers of their column's scale
(``core.money.ScaledDecimal``), days as ISO strings, ids given.
"""

from collections.abc import Sequence
from typing import Any


def write_rows(
    cursor: Any,
    table: str,
    columns: Sequence[str],
    rows: Sequence[tuple[object, ...]] | bytes,
    *,
    sqlite: bool,
) -> None:
    """Bulk-write rows on a driver's cursor the way each database is fastest at: one
    executemany on SQLite, COPY on PostgreSQL (of rows, or of text already formatted)."""
    if sqlite:
        marks = ", ".join("?" * len(columns))
        cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
        return
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        if isinstance(rows, bytes):
            copy.write(rows)
        else:
            for row in rows:
                copy.write_row(row)
