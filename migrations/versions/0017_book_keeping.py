"""A writer that keeps the books itself marks none stale row by row

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 02:30:00

Every change to a customer's source rows marks their kept book stale (revision 0010), row
by row: one ``UPDATE kept_books`` per row written. A sandbox clock's advance writes tens of
thousands of rows and keeps every book it touched itself, in the same transaction; it sets
``book_keeping.by_writer`` for the length of its transaction, and the triggers then let its
rows be. Any other writer (psql, a script, a restored table) sees the flag off, as the
advance's own transaction alone sees it on.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SOURCE_TABLES = ("transactions", "bank_accounts", "assets", "spending", "derivative_transactions")
"""As in revision 0010: what a customer's book and summary are derived from."""
EVENTS = (("INSERT", ("NEW",)), ("UPDATE", ("OLD", "NEW")), ("DELETE", ("OLD",)))


def _postgres_function(skip_when_kept: bool) -> str:
    skip = (
        "    IF (SELECT by_writer FROM book_keeping WHERE id = 1) THEN\n"
        "        RETURN NULL;\n"
        "    END IF;\n"
        if skip_when_kept
        else ""
    )
    return (
        "CREATE OR REPLACE FUNCTION bank_stale_book() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        "BEGIN\n"
        f"{skip}"
        "    IF TG_OP <> 'INSERT' THEN\n"
        "        UPDATE kept_books SET book_stale = true, summary_key = NULL\n"
        "        WHERE customer_oid = OLD.customer_oid;\n"
        "    END IF;\n"
        "    IF TG_OP <> 'DELETE' THEN\n"
        "        UPDATE kept_books SET book_stale = true, summary_key = NULL\n"
        "        WHERE customer_oid = NEW.customer_oid;\n"
        "    END IF;\n"
        "    RETURN NULL;\n"
        "END $$"
    )


def _sqlite_triggers(skip_when_kept: bool) -> None:
    when = " WHEN NOT (SELECT by_writer FROM book_keeping WHERE id = 1)" if skip_when_kept else ""
    for table in SOURCE_TABLES:
        for event, rows in EVENTS:
            name = f"{table}_stale_book_{event.lower()}"
            marks = " ".join(
                f"UPDATE kept_books SET book_stale = 1, summary_key = NULL "
                f"WHERE customer_oid = {row}.customer_oid;"
                for row in rows
            )
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
            op.execute(
                f"CREATE TRIGGER {name} AFTER {event} ON {table} "
                f"FOR EACH ROW{when} BEGIN {marks} END"
            )


def upgrade() -> None:
    op.create_table(
        "book_keeping",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("by_writer", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.execute("INSERT INTO book_keeping (id, by_writer) VALUES (1, false)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_postgres_function(skip_when_kept=True))
    else:
        _sqlite_triggers(skip_when_kept=True)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_postgres_function(skip_when_kept=False))
    else:
        _sqlite_triggers(skip_when_kept=False)
    op.drop_table("book_keeping")
