"""Writing many rows at once, in the form the database stores them, past the ORM and
SQLAlchemy's per-value processing: what the synthetic loader and a sandbox's clock write
by the tens of thousands.

The rows must already be in storage form: amounts as integers of their column's scale
(``core.money.ScaledDecimal``), days as ISO strings, ids given.
"""

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection


def on_driver(connection: Connection, write: Callable[..., None], *args: Any) -> None:
    """``write`` (``write_rows`` or ``update_rows``) on a driver's cursor of ``connection``,
    inside its transaction."""
    cursor = connection.connection.cursor()
    try:
        write(cursor, *args, sqlite=connection.dialect.name == "sqlite")
    finally:
        cursor.close()


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


VALUES_PER_UPDATE = 5000
"""Rows one PostgreSQL ``UPDATE … FROM (VALUES …)`` carries (three parameters each, well
inside the protocol's 65,535)."""


def update_rows(
    cursor: Any,
    table: str,
    key: str,
    columns: Sequence[str],
    rows: Sequence[tuple[object, ...]],
    *,
    sqlite: bool,
) -> None:
    """Set ``columns`` of many rows of ``table`` found by ``key``; each row is (key value,
    then the columns' values), in storage form. One executemany on SQLite (in process, a
    statement costs little); on PostgreSQL, a statement per few thousand rows, where
    executemany would wait on the server once a row."""
    if not rows:
        return
    if sqlite:
        setting = ", ".join(f"{column} = ?" for column in columns)
        cursor.executemany(f"UPDATE {table} SET {setting} WHERE {key} = ?", [
            (*row[1:], row[0]) for row in rows
        ])  # fmt: skip
        return
    setting = ", ".join(f"{column} = v.{column}" for column in columns)
    names = ", ".join((key, *columns))
    for start in range(0, len(rows), VALUES_PER_UPDATE):
        part = rows[start : start + VALUES_PER_UPDATE]
        marks = ", ".join(["(" + ", ".join(["%s"] * (len(columns) + 1)) + ")"] * len(part))
        cursor.execute(
            f"UPDATE {table} AS t SET {setting} FROM (VALUES {marks}) AS v({names})"
            f" WHERE t.{key} = v.{key}",
            [value for row in part for value in row],
        )
