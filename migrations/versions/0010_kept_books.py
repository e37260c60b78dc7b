"""Kept figures per customer (kept_books), derived from the rows already there

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08 10:00:00

Kept by the bank's own writes in their transactions (``services/books.py``,
``services/kept.py``). Logged like the book's tables when written behind the bank's back;
someone who writes transactions that way rebuilds them with
``python -m scripts.books --rebuild``.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from services.books import rebuild_books

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


SOURCE_TABLES = ("transactions", "bank_accounts", "assets", "spending", "derivative_transactions")
"""What a customer's book and summary are derived from. Any change to their rows marks the
book stale and drops the summary: the bank's own writes keep both again in the same
transaction, and a write from anywhere else (psql, a script, a restored table) leaves
them to be derived from the rows on each read until ``scripts.books --rebuild``."""

POSTGRES_STALE_FUNCTION = """
CREATE OR REPLACE FUNCTION bank_stale_book() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        UPDATE kept_books SET book_stale = true, summary_key = NULL
        WHERE customer_oid = OLD.customer_oid;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        UPDATE kept_books SET book_stale = true, summary_key = NULL
        WHERE customer_oid = NEW.customer_oid;
    END IF;
    RETURN NULL;
END $$
"""


def upgrade() -> None:
    op.create_table(
        "kept_books",
        sa.Column("customer_oid", sa.String(length=36), nullable=False),
        sa.Column("transaction_count", sa.BigInteger(), nullable=False),
        sa.Column("trades", sa.Text(), nullable=False),
        sa.Column("income", sa.Text(), nullable=False),
        sa.Column("card_spending", sa.Text(), nullable=False),
        sa.Column("book_stale", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("statement", sa.LargeBinary(), nullable=True),
        sa.Column("summary_key", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(["customer_oid"], ["users.customer_oid"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("customer_oid"),
    )
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        op.execute(
            "CREATE TRIGGER kept_books_unlogged_write AFTER INSERT OR UPDATE OR DELETE "
            "OR TRUNCATE ON kept_books FOR EACH STATEMENT "
            "EXECUTE FUNCTION bank_log_unlogged_write()"
        )
        op.execute(POSTGRES_STALE_FUNCTION)
    for table in SOURCE_TABLES:
        if postgresql:
            op.execute(
                f"CREATE TRIGGER {table}_stale_book AFTER INSERT OR UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION bank_stale_book()"
            )
            continue
        for event, rows in (("INSERT", ("NEW",)), ("UPDATE", ("OLD", "NEW")), ("DELETE", ("OLD",))):
            marks = " ".join(
                f"UPDATE kept_books SET book_stale = 1, summary_key = NULL "
                f"WHERE customer_oid = {row}.customer_oid;"
                for row in rows
            )
            op.execute(
                f"CREATE TRIGGER {table}_stale_book_{event.lower()} AFTER {event} ON {table} "
                f"FOR EACH ROW BEGIN {marks} END"
            )
    rebuild_books(op.get_bind())


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table in SOURCE_TABLES:
        if postgresql:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_stale_book ON {table}")
        else:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_stale_book_{event}")
    if postgresql:
        op.execute("DROP FUNCTION IF EXISTS bank_stale_book()")
    op.drop_table("kept_books")
