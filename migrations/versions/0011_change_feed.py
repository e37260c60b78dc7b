"""The public change feed (bank_events) and the counter that numbers it in commit order

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-09 10:00:00

The feed starts empty: it reports the writes made after it exists, never the history that
was loaded or generated. The counter's one row is made here with a feed id of its own, so a
database made again gives cursors of its own.
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bank_events",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("customer_oid", sa.String(length=36), nullable=True),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=True),
        sa.Column("data", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )
    op.create_index(
        "ix_bank_events_customer_seq", "bank_events", ["customer_oid", "seq"], unique=False
    )
    counter = op.create_table(
        "bank_event_counter",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last", sa.BigInteger(), nullable=False),
        sa.Column("feed_id", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.bulk_insert(counter, [{"id": 1, "last": 0, "feed_id": secrets.token_hex(16)}])


def downgrade() -> None:
    op.drop_table("bank_event_counter")
    op.drop_index("ix_bank_events_customer_seq", table_name="bank_events")
    op.drop_table("bank_events")
