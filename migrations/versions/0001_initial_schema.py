"""The schema of Dummy Bank 1.0

Revision ID: 0001
Revises:
Create Date: 2026-11-25 09:33:32.637786
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "counters",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "fx_rates",
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("rate_date", sa.Date(), nullable=False),
        sa.Column("usd_per_unit", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("currency", "rate_date"),
    )
    op.create_table(
        "institutions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("institution_type", sa.String(length=20), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("routing_number", sa.String(length=9), nullable=True),
        sa.Column("bic", sa.String(length=11), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "instruments",
        sa.Column("symbol", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("asset_type", sa.String(length=16), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.PrimaryKeyConstraint("symbol"),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_oid", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_users_customer_oid"), ["customer_oid"], unique=True)

    op.create_table(
        "bank_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_oid", sa.String(length=36), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("account_number", sa.String(length=34), nullable=False),
        sa.Column("iban", sa.String(length=34), nullable=True),
        sa.Column("account_type", sa.String(length=16), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["customer_oid"], ["users.customer_oid"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("account_number"),
    )
    with op.batch_alter_table("bank_accounts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_bank_accounts_customer_oid"), ["customer_oid"], unique=False
        )

    op.create_table(
        "customer_name_tokens",
        sa.Column(
            "token",
            sa.String(length=100).with_variant(sa.String(length=100, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("token", "customer_id"),
    )
    with op.batch_alter_table("customer_name_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_customer_name_tokens_customer_id"), ["customer_id"], unique=False
        )

    op.create_table(
        "instrument_prices",
        sa.Column("symbol", sa.String(length=16), nullable=False),
        sa.Column("price_date", sa.Date(), nullable=False),
        sa.Column("close", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["symbol"],
            ["instruments.symbol"],
        ),
        sa.PrimaryKeyConstraint("symbol", "price_date"),
    )
    op.create_table(
        "spending",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_oid", sa.String(length=36), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("transaction_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["customer_oid"], ["users.customer_oid"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("customer_oid", "month", "category", "currency"),
    )
    op.create_table(
        "assets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_oid", sa.String(length=36), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("symbol", sa.String(length=16), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["bank_accounts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["customer_oid"], ["users.customer_oid"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["symbol"],
            ["instruments.symbol"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("customer_oid", "symbol"),
    )
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assets_account_id"), ["account_id"], unique=False)

    op.create_table(
        "derivative_transactions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_oid", sa.String(length=36), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("instrument_type", sa.String(length=8), nullable=False),
        sa.Column("underlying_symbol", sa.String(length=16), nullable=False),
        sa.Column("option_type", sa.String(length=4), nullable=True),
        sa.Column("side", sa.String(length=5), nullable=False),
        sa.Column("strategy", sa.String(length=40), nullable=True),
        sa.Column("contracts", sa.Integer(), nullable=False),
        sa.Column("multiplier", sa.Integer(), nullable=False),
        sa.Column("strike", sa.BigInteger(), nullable=True),
        sa.Column("premium", sa.BigInteger(), nullable=True),
        sa.Column("trade_price", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("trade_date", sa.Date(), nullable=False),
        sa.Column("expiry_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["bank_accounts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["customer_oid"], ["users.customer_oid"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["underlying_symbol"],
            ["instruments.symbol"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("derivative_transactions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_derivative_transactions_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_derivative_transactions_customer_oid"), ["customer_oid"], unique=False
        )

    op.create_table(
        "transactions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_oid", sa.String(length=36), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("transaction_date", sa.Date(), nullable=False),
        sa.Column("transaction_type", sa.String(length=16), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("symbol", sa.String(length=16), nullable=True),
        sa.Column("quantity", sa.BigInteger(), nullable=True),
        sa.Column("price", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["bank_accounts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["customer_oid"], ["users.customer_oid"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["symbol"],
            ["instruments.symbol"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("transactions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_transactions_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            "ix_transactions_customer_date",
            ["customer_oid", "transaction_date", "id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("transactions", schema=None) as batch_op:
        batch_op.drop_index("ix_transactions_customer_date")
        batch_op.drop_index(batch_op.f("ix_transactions_account_id"))

    op.drop_table("transactions")
    with op.batch_alter_table("derivative_transactions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_derivative_transactions_customer_oid"))
        batch_op.drop_index(batch_op.f("ix_derivative_transactions_account_id"))

    op.drop_table("derivative_transactions")
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assets_account_id"))

    op.drop_table("assets")
    op.drop_table("spending")
    op.drop_table("instrument_prices")
    with op.batch_alter_table("customer_name_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customer_name_tokens_customer_id"))

    op.drop_table("customer_name_tokens")
    with op.batch_alter_table("bank_accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bank_accounts_customer_oid"))

    op.drop_table("bank_accounts")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_customer_oid"))

    op.drop_table("users")
    op.drop_table("instruments")
    op.drop_table("institutions")
    op.drop_table("fx_rates")
    op.drop_table("counters")
