"""Instructions: transfers, payments and orders, what the bank earned on them, the answers
kept for idempotent retries; accounts get a status and an overdraft limit, statement rows a
reference to the instruction that booked them, sandboxes a switch for writes

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 16:10:00

Existing accounts are open with no overdraft; existing sandboxes do not allow writes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LOGGED_TABLES = ("instructions", "bank_income")
"""Like the other tables whose rows make answers (see 0002), logged when written by others."""


def upgrade() -> None:
    op.create_table(
        "instructions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_oid", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("booked_on", sa.Date(), nullable=False),
        sa.Column("execute_on", sa.Date(), nullable=False),
        sa.Column("counted_usd", sa.BigInteger(), nullable=False),
        sa.Column("request", sa.Text(), nullable=False),
        sa.Column("effects", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["customer_oid"], ["users.customer_oid"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_instructions_customer_kind", "instructions", ["customer_oid", "kind", "id"])
    op.create_table(
        "bank_income",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instruction_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.ForeignKeyConstraint(["instruction_id"], ["instructions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_bank_income_instruction_id", "bank_income", ["instruction_id"])
    op.create_table(
        "idempotency_keys",
        sa.Column("customer_oid", sa.String(length=36), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["customer_oid"], ["users.customer_oid"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("customer_oid", "key"),
    )
    op.create_index("ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"])
    with op.batch_alter_table("bank_accounts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(length=8), server_default="open", nullable=False)
        )
        batch_op.add_column(
            sa.Column("overdraft_limit", sa.BigInteger(), server_default="0", nullable=False)
        )
    with op.batch_alter_table("transactions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("instruction_id", sa.Integer(), nullable=True))
        batch_op.create_index("ix_transactions_instruction_id", ["instruction_id"])
        batch_op.create_foreign_key(
            "fk_transactions_instruction_id",
            "instructions",
            ["instruction_id"],
            ["id"],
            ondelete="CASCADE",
        )
    with op.batch_alter_table("sandboxes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("allow_writes", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    if op.get_bind().dialect.name == "postgresql":
        for table in LOGGED_TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_unlogged_write AFTER INSERT OR UPDATE OR DELETE "
                f"OR TRUNCATE ON {table} FOR EACH STATEMENT "
                "EXECUTE FUNCTION bank_log_unlogged_write()"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in LOGGED_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_unlogged_write ON {table}")
    with op.batch_alter_table("sandboxes", schema=None) as batch_op:
        batch_op.drop_column("allow_writes")
    with op.batch_alter_table("transactions", schema=None) as batch_op:
        batch_op.drop_constraint("fk_transactions_instruction_id", type_="foreignkey")
        batch_op.drop_index("ix_transactions_instruction_id")
        batch_op.drop_column("instruction_id")
    with op.batch_alter_table("bank_accounts", schema=None) as batch_op:
        batch_op.drop_column("overdraft_limit")
        batch_op.drop_column("status")
    op.drop_index("ix_idempotency_keys_created_at", table_name="idempotency_keys")
    op.drop_table("idempotency_keys")
    op.drop_index("ix_bank_income_instruction_id", table_name="bank_income")
    op.drop_table("bank_income")
    op.drop_index("ix_instructions_customer_kind", table_name="instructions")
    op.drop_table("instructions")
