"""A log of committed writes, for per-customer cache invalidation in every worker

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 03:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


LOGGED_TABLES = (
    "users",
    "customer_name_tokens",
    "counters",
    "bank_accounts",
    "assets",
    "transactions",
    "spending",
    "derivative_transactions",
    "institutions",
    "instruments",
    "instrument_prices",
    "fx_rates",
)
"""On PostgreSQL a write that did not log itself (psql, another tool) logs "anything may have
changed", once per statement; SQLite's change counter tells the same without a trigger."""


def upgrade() -> None:
    op.create_table(
        "changes",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("subject_oid", sa.String(length=36), nullable=True),
        sa.PrimaryKeyConstraint("seq"),
    )
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        """
        CREATE OR REPLACE FUNCTION bank_log_unlogged_write() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF coalesce(current_setting('bank.change_logged', true), '') <> 'on' THEN
                INSERT INTO changes (subject_oid) VALUES (NULL);
            END IF;
            RETURN NULL;
        END $$
        """
    )
    for table in LOGGED_TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_unlogged_write AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION bank_log_unlogged_write()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in LOGGED_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_unlogged_write ON {table}")
        op.execute("DROP FUNCTION IF EXISTS bank_log_unlogged_write()")
    op.drop_table("changes")
