"""Customer profiles: what each customer declared (birth or founding date, contact, risk
tolerance, experience, goals, horizon, preferences)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 11:30:00

A database upgraded from 0004 keeps its customers; the five sample customers, where they
are still there under their names, get the profiles a fresh install gives them (written out
here as data, as a migration must: later code may change, this revision may not). Other
customers have no declared profile until they are generated again.
"""

import json
from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SAMPLE_PROFILES = (
    ("550e8400-e29b-41d4-a716-446655440001", "John Doe", "person", "1984-06-12", None,
     "john.doe@example.com", "+12125550101", "moderate", "advanced",
     ["retirement", "children_education", "wealth_growth"], "long", "email", "balanced", False),
    ("550e8400-e29b-41d4-a716-446655440002", "Jane Smith", "person", "1991-03-08", None,
     "jane.smith@example.org", "+12125550142", "aggressive", "advanced",
     ["wealth_growth", "early_retirement"], "long", "sms", "growth", False),
    ("550e8400-e29b-41d4-a716-446655440003", "Robert Johnson", "person", "1957-11-23", None,
     "robert.johnson@example.net", "+17185550163", "conservative", "intermediate",
     ["retirement_income", "capital_preservation", "estate_planning"], "short", "mail",
     "income", True),
    ("550e8400-e29b-41d4-a716-446655440004", "ABC Corporation", "company", None, "2014-11-03",
     "treasury.abc.corporation@example.com", "+12125550187", "moderate", "advanced",
     ["cash_management", "capital_preservation", "business_expansion"], "medium", "email",
     "balanced", True),
    ("550e8400-e29b-41d4-a716-446655440005", "Michael Chen", "person", "1979-09-02", None,
     "michael.chen@example.com", "+12125550119", "moderate", "intermediate",
     ["wealth_growth", "estate_planning"], "long", "phone", "growth", True),
)  # fmt: skip
"""The samples' declared profiles as ``synthetic/samples.py`` had them at this revision."""


def upgrade() -> None:
    op.create_table(
        "customer_profiles",
        sa.Column("customer_oid", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=True),
        sa.Column("founded_on", sa.Date(), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("phone", sa.String(length=16), nullable=True),
        sa.Column("risk_tolerance", sa.String(length=12), nullable=True),
        sa.Column("investment_experience", sa.String(length=12), nullable=True),
        sa.Column("investment_goals", sa.Text(), nullable=True),
        sa.Column("time_horizon", sa.String(length=6), nullable=True),
        sa.Column("communication_method", sa.String(length=5), nullable=True),
        sa.Column("portfolio_style", sa.String(length=12), nullable=True),
        sa.Column("esg_investing", sa.Boolean(), nullable=True),
        sa.Column("persona", sa.String(length=24), nullable=True),
        sa.ForeignKeyConstraint(["customer_oid"], ["users.customer_oid"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("customer_oid"),
    )
    if op.get_bind().dialect.name == "postgresql":
        # As 0002 does for every table a customer's answers come from.
        op.execute(
            "CREATE TRIGGER customer_profiles_unlogged_write AFTER INSERT OR UPDATE OR DELETE "
            "OR TRUNCATE ON customer_profiles FOR EACH STATEMENT "
            "EXECUTE FUNCTION bank_log_unlogged_write()"
        )
    profiles = sa.table(
        "customer_profiles",
        *(
            sa.column(name, sa.Date() if name in ("date_of_birth", "founded_on") else None)
            for name in (
                "customer_oid", "kind", "date_of_birth", "founded_on", "email", "phone",
                "risk_tolerance", "investment_experience", "investment_goals", "time_horizon",
                "communication_method", "portfolio_style",
            )
        ),
        sa.column("esg_investing", sa.Boolean()),
    )  # fmt: skip
    users = sa.table("users", sa.column("customer_oid"), sa.column("name"))
    connection = op.get_bind()
    present = {
        (oid, name)
        for oid, name in connection.execute(
            sa.select(users.c.customer_oid, users.c.name).where(
                users.c.customer_oid.in_([p[0] for p in SAMPLE_PROFILES])
            )
        )
    }
    rows = [
        {
            "customer_oid": oid,
            "kind": kind,
            "date_of_birth": born and date.fromisoformat(born),
            "founded_on": founded and date.fromisoformat(founded),
            "email": email,
            "phone": phone,
            "risk_tolerance": risk,
            "investment_experience": experience,
            "investment_goals": json.dumps(goals),
            "time_horizon": horizon,
            "communication_method": contact,
            "portfolio_style": style,
            "esg_investing": esg,
        }
        for (oid, name, kind, born, founded, email, phone, risk, experience, goals, horizon,
             contact, style, esg) in SAMPLE_PROFILES
        if (oid, name) in present
    ]  # fmt: skip
    if rows:
        op.bulk_insert(profiles, rows)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS customer_profiles_unlogged_write ON customer_profiles")
    op.drop_table("customer_profiles")
