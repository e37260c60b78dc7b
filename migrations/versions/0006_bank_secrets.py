"""The bank's own secrets, made at its first start and kept with its data

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-12 09:00:00

Page cursors and question ids were signed with a key that had a fixed default in the
source. The bank now makes a random key at its first start and keeps it here, where every
worker on the same database finds the same one.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bank_secrets",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("bank_secrets")
