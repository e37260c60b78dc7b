"""A sandbox's clock (sandbox_clock), and refused scheduled payments

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 22:00:00

One row in a sandbox's copy once its clock was advanced (``sandboxes/clock.py``); the bank's
own database never has one. A scheduled payment the clock could not make is ``refused``
(``instructions.status`` is a string column: no change to it).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sandbox_clock",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("today", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("sandbox_clock")
