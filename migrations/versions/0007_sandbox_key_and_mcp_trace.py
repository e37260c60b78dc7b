"""Sandbox keys, and more in the trace: the hash of each sandbox's key; for each traced
call its target and place among that target's calls (which decide its faults), the MCP method
and whether the agent got an error back

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 12:30:00

A sandbox created before this revision has no key (only the full key, or the read key with
its header, reach it); its trace's earlier calls have none of the new fields, so its fault
sequence starts again.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sandboxes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("key_hash", sa.String(length=64), nullable=True))
    with op.batch_alter_table("sandbox_calls", schema=None) as batch_op:
        batch_op.add_column(sa.Column("target", sa.String(length=250), nullable=True))
        batch_op.add_column(sa.Column("target_number", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("mcp_method", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("result_status", sa.String(length=10), nullable=True))
        batch_op.create_index("ix_sandbox_calls_target", ["target", "target_number"])


def downgrade() -> None:
    with op.batch_alter_table("sandbox_calls", schema=None) as batch_op:
        batch_op.drop_index("ix_sandbox_calls_target")
        batch_op.drop_column("result_status")
        batch_op.drop_column("mcp_method")
        batch_op.drop_column("target_number")
        batch_op.drop_column("target")
    with op.batch_alter_table("sandboxes", schema=None) as batch_op:
        batch_op.drop_column("key_hash")
