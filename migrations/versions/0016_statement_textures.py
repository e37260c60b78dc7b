"""Statement textures kept with the rows they were learned from

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 02:00:00

A sandbox's template learns each customer's texture once, when it is built; a copy made
before this revision has none, and its clock learns them at its first advance.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "statement_textures",
        sa.Column("customer_oid", sa.String(length=36), nullable=False),
        sa.Column("until", sa.Date(), nullable=False),
        sa.Column("texture", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["customer_oid"], ["users.customer_oid"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("customer_oid"),
    )


def downgrade() -> None:
    op.drop_table("statement_textures")
