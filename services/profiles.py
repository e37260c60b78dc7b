"""Customer profiles: what a customer declared, beside what its books say.

The declared fields come from ``customer_profiles``; ``annual_income`` and ``net_worth`` are
never stored but read from the books each time: the income credits of the twelve months to
the market's last day, and the portfolio summary's net worth. A customer that declared no
risk tolerance or experience gets them derived from its holdings and trades by the rule of
``analysis.profiles``, and the answer says which fields were derived.
"""

import json
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlmodel import Session

from analysis.profiles import InvestingRecord, age_on, investment_experience, risk_tolerance
from core.money import to_cents
from market.calendars import months_before
from models import CustomerProfile, ProfileKind, Transaction
from schemas.profiles import CustomerProfileOut
from schemas.summary import PortfolioSummary
from services.market import market_snapshot
from services.portfolio import read_portfolio

INCOME_CATEGORY = "income"
"""The category the bank books pay, pensions and business receipts under."""
ALWAYS_DERIVED = ("annual_income", "net_worth")

_TRANSACTIONS = Transaction.__table__.c  # type: ignore[attr-defined]


def income_window(as_of: date) -> tuple[date, date]:
    """The twelve months to ``as_of``: from the day after the same date a year earlier."""
    return months_before(as_of, 12) + timedelta(days=1), as_of


def read_profile(session: Session, raw_oid: str, currency: str | None = None) -> CustomerProfileOut:
    """The declared profile (null fields where nothing was declared) and the books' income and
    net worth in the base currency asked for; ``NotFound`` for an unknown customer."""
    portfolio = read_portfolio(
        session, raw_oid, currency=currency, sections={"portfolio_summary"}
    ).model()
    summary = portfolio.portfolio_summary
    assert summary is not None
    oid, as_of, base = portfolio.customer_oid, summary.as_of, summary.base_currency
    first, last = income_window(as_of)
    converter = market_snapshot(session).converter(base)
    credits = session.execute(
        select(_TRANSACTIONS.transaction_date, _TRANSACTIONS.currency, _TRANSACTIONS.amount).where(
            _TRANSACTIONS.customer_oid == oid,
            _TRANSACTIONS.category == INCOME_CATEGORY,
            _TRANSACTIONS.amount > 0,
            _TRANSACTIONS.transaction_date.between(first, last),
        )
    )
    income = sum((amount * converter.rate(ccy, day) for day, ccy, amount in credits), Decimal(0))
    # A customer registered without a profile reads as one that declared nothing (kind "").
    declared = session.get(CustomerProfile, oid) or CustomerProfile(customer_oid=oid, kind="")
    risk, experience = declared.risk_tolerance, declared.investment_experience
    derived = list(ALWAYS_DERIVED)
    if risk is None or experience is None:
        record = _investing_record(session, oid, summary)
        if risk is None:
            found = risk_tolerance(record)
            risk = found.value if found else None
            derived.append("risk_tolerance")
        if experience is None:
            experience = investment_experience(record).value
            derived.append("investment_experience")
    born = declared.date_of_birth
    goals = declared.investment_goals
    return CustomerProfileOut(
        customer_oid=oid,
        name=portfolio.user.name,
        kind=ProfileKind(declared.kind) if declared.kind else None,
        date_of_birth=born,
        age=age_on(born, as_of) if born else None,
        founded_on=declared.founded_on,
        email=declared.email,
        phone=declared.phone,
        risk_tolerance=risk,
        investment_experience=experience,
        investment_goals=json.loads(goals) if goals else [],
        time_horizon=declared.time_horizon,
        communication_method=declared.communication_method,
        portfolio_style=declared.portfolio_style,
        esg_investing=declared.esg_investing,
        annual_income=to_cents(income),
        income_from=first,
        income_to=last,
        net_worth=summary.totals.net_worth,
        base_currency=base,
        as_of=as_of,
        persona=declared.persona,
        derived_from_books=derived,
    )


def _investing_record(session: Session, oid: str, summary: PortfolioSummary) -> InvestingRecord:
    """The holdings at market value, the buys and sells, and the derivative positions."""
    trades, symbols = session.execute(
        select(func.count(), func.count(_TRANSACTIONS.symbol.distinct())).where(
            _TRANSACTIONS.customer_oid == oid, _TRANSACTIONS.transaction_type.in_(("buy", "sell"))
        )
    ).one()
    return InvestingRecord(
        values={h.symbol: h.market_value_base for h in summary.holdings},
        asset_types={h.symbol: h.asset_type for h in summary.holdings},
        trades=trades,
        symbols_traded=symbols,
        derivatives=summary.total_derivative_positions,
    )
