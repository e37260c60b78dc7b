"""Portfolio answers: each section with its analysis, the summary and the whole portfolio.

Every read starts from the same preamble (``open_view``): the customer, the base
currency and the as-of date of the market data.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import cast

from sqlmodel import Session

from analysis.risk import assess_risk
from analysis.summary import (
    cash_by_currency,
    shares_of_100,
    spending_totals,
    summarize,
    value_holdings,
)
from analysis.valuation import PortfolioInputs
from core.errors import InvalidInput
from market.model import INSTRUMENTS
from schemas.customers import UserOut
from schemas.original import OriginalTransaction, Portfolio
from schemas.portfolio import (
    AccountsSection,
    AssetOut,
    AssetsSection,
    BankAccountOut,
    DerivativeOut,
    DerivativesSection,
    SpendingGroup,
    SpendingOut,
    SpendingSection,
    TransactionOut,
    TransactionsPage,
)
from schemas.risk import RiskSection
from schemas.summary import PortfolioSummary
from services.customers import get_customer
from services.market import MarketSnapshot, market_snapshot, resolve_currency
from services.original import (
    original_accounts,
    original_assets,
    original_derivatives,
)
from services.records import (
    TransactionFilter,
    TransactionSlice,
    cash_events,
    list_accounts,
    list_assets,
    list_derivatives,
    list_spending,
    newest_transactions,
    query_transactions,
    read_cash_events,
    read_trades,
    trades_by_symbol,
)

INSTRUMENT_CURRENCY = {spec.symbol: spec.currency for spec in INSTRUMENTS}
VOLATILITY = {spec.symbol: spec.annual_volatility for spec in INSTRUMENTS}
"""What options are priced with: each instrument's volatility in the market model."""

PORTFOLIO_SECTIONS = (
    "assets",
    "bank_accounts",
    "transactions",
    "spending",
    "derivative_transactions",
    "portfolio_summary",
)
_SECTION = "(" + "|".join(PORTFOLIO_SECTIONS) + ")"
SECTIONS_PATTERN = rf"^[\s,]*{_SECTION}\s*(,[\s,]*{_SECTION}\s*)*[\s,]*$"
"""What ``parse_sections`` accepts, for the schema: known names, commas, spaces."""


@dataclass(frozen=True)
class View:
    """Whose figures, in which currency, against which market data."""

    oid: str
    name: str
    base: str
    market: MarketSnapshot

    @property
    def as_of(self) -> date:
        return self.market.as_of


def open_view(session: Session, raw_oid: str, currency: str | None) -> View:
    """The read preamble: the customer (or ``NotFound``), the base currency, the market."""
    customer = get_customer(session, raw_oid)
    base = resolve_currency(currency)
    return View(customer.customer_oid, customer.name, base, market_snapshot(session))


def read_assets(session: Session, raw_oid: str, currency: str | None = None) -> AssetsSection:
    view = open_view(session, raw_oid, currency)
    assets = list_assets(session, view.oid, view.market)
    holdings = value_holdings(
        assets, read_trades(session, view.oid), view.market.converter(view.base), view.as_of
    )
    return AssetsSection(
        customer_oid=view.oid,
        base_currency=view.base,
        as_of=view.as_of,
        total_market_value=sum((h.market_value_base for h in holdings), Decimal(0)),
        assets=assets,
        holdings=holdings,
    )


def read_accounts(session: Session, raw_oid: str, currency: str | None = None) -> AccountsSection:
    view = open_view(session, raw_oid, currency)
    accounts = list_accounts(session, view.oid)
    balances = cash_by_currency(accounts, view.market.converter(view.base), view.as_of)
    return AccountsSection(
        customer_oid=view.oid,
        base_currency=view.base,
        as_of=view.as_of,
        total_cash_balance=sum((c.balance_base for c in balances), Decimal(0)),
        cash_by_currency=balances,
        bank_accounts=accounts,
    )


def read_transactions(
    session: Session,
    raw_oid: str,
    filters: TransactionFilter,
    *,
    order: str = "desc",
    limit: int = 50,
    cursor: str | None = None,
) -> TransactionsPage:
    oid = get_customer(session, raw_oid).customer_oid
    page = query_transactions(session, oid, filters, order=order, limit=limit, cursor=cursor)
    return TransactionsPage(
        customer_oid=oid,
        total=page.total,
        remaining=page.remaining,
        limit=limit,
        order="asc" if order == "asc" else "desc",
        transactions=page.transactions,
        next_cursor=page.next_cursor,
        next=None,
    )


def read_spending(
    session: Session,
    raw_oid: str,
    *,
    group_by: str = "category",
    from_month: str | None = None,
    to_month: str | None = None,
    currency: str | None = None,
) -> SpendingSection:
    view = open_view(session, raw_oid, currency)
    rows = list_spending(session, view.oid, from_month, to_month)
    totals, counts = spending_totals(
        rows,
        view.market.converter(view.base),
        view.as_of,
        by=group_by,
        payments=read_cash_events(session, view.oid, ("card_payment",), other_than=view.base),
    )
    shares = shares_of_100(totals)
    if group_by == "category":
        keys = sorted(totals, key=lambda k: (-totals[k], k))
    else:
        keys = sorted(totals)
    return SpendingSection(
        customer_oid=view.oid,
        base_currency=view.base,
        group_by="month" if group_by == "month" else "category",
        from_month=from_month,
        to_month=to_month,
        total=sum(totals.values(), Decimal(0)),
        groups=[
            SpendingGroup(key=k, total=totals[k], percent=shares[k], transaction_count=counts[k])
            for k in keys
        ],
        spending=rows,
    )


def read_derivatives(
    session: Session, raw_oid: str, status: str | None = None
) -> DerivativesSection:
    oid = get_customer(session, raw_oid).customer_oid
    rows = list_derivatives(session, oid, status)
    return DerivativesSection(
        customer_oid=oid, status=status, count=len(rows), derivative_transactions=rows
    )


def portfolio_inputs(
    view: View,
    *,
    assets: Sequence[AssetOut],
    derivatives: Sequence[DerivativeOut],
    accounts: Sequence[BankAccountOut] = (),
    transactions: Sequence[TransactionOut] = (),
    spending: Sequence[SpendingOut] = (),
) -> PortfolioInputs:
    """What the analysis works from: the rows read, and the market of ``view``."""
    return PortfolioInputs(
        customer_oid=view.oid,
        base_currency=view.base,
        as_of=view.as_of,
        assets=assets,
        accounts=accounts,
        trades=trades_by_symbol(transactions),
        prices=view.market.prices,
        usd_per_unit=view.market.usd_per_unit,
        spending=spending,
        derivatives=derivatives,
        transaction_count=len(transactions),
        converter=view.market.converter(view.base),
        card_payments=cash_events(transactions, ("card_payment",), other_than=view.base),
        income=cash_events(transactions, ("dividend", "interest")),
        instrument_currency=INSTRUMENT_CURRENCY,
        volatility=VOLATILITY,
    )


def read_risk(session: Session, raw_oid: str, currency: str | None = None) -> RiskSection:
    """The risk section: the summary's ``risk``, from the holdings and derivatives alone."""
    view = open_view(session, raw_oid, currency)
    inputs = portfolio_inputs(
        view,
        assets=list_assets(session, view.oid, view.market),
        derivatives=list_derivatives(session, view.oid),
    )
    fx = view.market.converter(view.base)
    report = assess_risk(inputs, fx, value_holdings(inputs.assets, {}, fx, view.as_of))
    return RiskSection(customer_oid=view.oid, **dict(report))


def read_summary(session: Session, raw_oid: str, currency: str | None = None) -> PortfolioSummary:
    summary = read_portfolio(
        session, raw_oid, currency=currency, sections={"portfolio_summary"}
    ).portfolio_summary
    assert summary is not None
    return summary


def parse_sections(raw: str | None) -> set[str]:
    """The portfolio sections named in a comma-separated list (all of them when None)."""
    if raw is None:
        return set(PORTFOLIO_SECTIONS)
    chosen = {part.strip() for part in raw.split(",") if part.strip()}
    unknown = sorted(chosen - set(PORTFOLIO_SECTIONS))
    if unknown or not chosen:
        shown = ", ".join(name[:30] for name in unknown[:5]) or "none"
        raise InvalidInput(
            f"sections: unknown section(s) {shown}; choose from {', '.join(PORTFOLIO_SECTIONS)}"
        )
    return chosen


def read_portfolio(
    session: Session,
    raw_oid: str,
    *,
    currency: str | None = None,
    sections: set[str] | None = None,
    transactions_limit: int | None = None,
) -> Portfolio:
    """Everything the bank knows about one customer, with a summary; empty lists, not errors.

    ``sections`` leaves out the parts not named (the summary still counts them);
    ``transactions_limit`` keeps only the newest transactions.
    """
    view = open_view(session, raw_oid, currency)
    oid = view.oid
    wanted = set(PORTFOLIO_SECTIONS) if sections is None else sections
    summary_needed = "portfolio_summary" in wanted
    assets = list_assets(session, oid, view.market) if summary_needed or "assets" in wanted else []
    accounts = list_accounts(session, oid) if summary_needed or "bank_accounts" in wanted else []
    spending = list_spending(session, oid) if summary_needed or "spending" in wanted else []
    derivatives = (
        list_derivatives(session, oid)
        if summary_needed or "derivative_transactions" in wanted
        else []
    )
    if summary_needed:
        # Every transaction, once: the summary needs the trades and the count anyway.
        every = query_transactions(session, oid, shape=OriginalTransaction).transactions
        transactions = newest_transactions(oid, every, transactions_limit)
    elif "transactions" in wanted:
        transactions = query_transactions(
            session, oid, limit=transactions_limit, shape=OriginalTransaction
        )
    else:
        transactions = TransactionSlice([], 0, 0, None)
    summary = (
        summarize(
            portfolio_inputs(
                view,
                assets=assets,
                accounts=accounts,
                transactions=every,
                spending=spending,
                derivatives=derivatives,
            )
        )
        if summary_needed
        else None
    )
    if "transactions" not in wanted:
        transactions = TransactionSlice([], 0, 0, None)
    return Portfolio(
        customer_oid=oid,
        user=UserOut(name=view.name, customer_oid=oid),
        assets=original_assets(assets),
        bank_accounts=original_accounts(accounts),
        # Read as the original's shape above: the list holds nothing else.
        transactions=cast("list[OriginalTransaction]", transactions.transactions),
        spending=spending,
        derivative_transactions=original_derivatives(derivatives),
        portfolio_summary=summary,
    )
