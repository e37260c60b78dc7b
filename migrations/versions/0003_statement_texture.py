"""Statement texture: merchant, category code, channel, booking and value dates

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 03:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable, so rows booked before this revision stay valid as they are.
    with op.batch_alter_table("transactions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("merchant", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("merchant_category_code", sa.String(length=4), nullable=True))
        batch_op.add_column(sa.Column("channel", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("booking_date", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("value_date", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("transactions", schema=None) as batch_op:
        for column in ("value_date", "booking_date", "channel", "merchant_category_code"):
            batch_op.drop_column(column)
        batch_op.drop_column("merchant")
