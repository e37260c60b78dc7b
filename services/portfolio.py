"""Portfolio answers: each section with its analysis, the summary and the whole portfolio.

Every read starts from the same preamble (``open_view``): the customer, the base
currency and the as-of date of the market data.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlmodel import Session

from analytics import (
    PortfolioInputs,
    cash_by_currency,
    period_starts,
    shares_of_100,
    spending_totals,
    summarize,
    value_holdings,
)
from errors import InvalidInput
from market_model import INSTRUMENTS
from schemas import (
    AccountsSection,
    AssetOut,
    AssetsSection,
    BankAccountOut,
    DerivativeOut,
    DerivativesSection,
    Portfolio,
    PortfolioSummary,
    SpendingGroup,
    SpendingOut,
    SpendingSection,
    TransactionsPage,
    UserOut,
)
from services.customers import get_customer
from services.market import (
    converter,
    fx_histories,
    market_as_of,
    price_histories,
    resolve_currency,
)
from services.records import (
    TransactionFilter,
    TransactionSlice,
    cash_events,
    count_transactions,
    list_accounts,
    list_assets,
    list_derivatives,
    list_spending,
    query_transactions,
    trades_by_symbol,
)

PORTFOLIO_SECTIONS = (
    "assets",
    "bank_accounts",
    "transactions",
    "spending",
    "derivative_transactions",
    "portfolio_summary",
)


@dataclass(frozen=True)
class View:
    """Whose figures, in which currency, as of which day."""

    oid: str
    name: str
    base: str
    as_of: date


def open_view(session: Session, raw_oid: str, currency: str | None) -> View:
    """The read preamble: the customer (or ``NotFound``), the base currency, the as-of date."""
    customer = get_customer(session, raw_oid)
    base = resolve_currency(currency)
    return View(customer.customer_oid, customer.name, base, market_as_of(session))


def read_assets(session: Session, raw_oid: str, currency: str | None = None) -> AssetsSection:
    view = open_view(session, raw_oid, currency)
    assets = list_assets(session, view.oid)
    holdings = value_holdings(
        assets,
        trades_by_symbol(session, view.oid),
        converter(session, view.base, view.as_of),
        view.as_of,
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
    balances = cash_by_currency(accounts, converter(session, view.base, view.as_of), view.as_of)
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
    payments = cash_events(session, view.oid, ("card_payment",), other_than=view.base)
    totals, counts = spending_totals(
        rows,
        converter(session, view.base, view.as_of),
        view.as_of,
        by=group_by,
        payments=payments,
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


def summarize_customer(
    session: Session,
    view: View,
    *,
    assets: list[AssetOut],
    accounts: list[BankAccountOut],
    spending: list[SpendingOut],
    derivatives: list[DerivativeOut],
    transaction_count: int,
) -> PortfolioSummary:
    since = min(period_starts(view.as_of).values()) - timedelta(days=10)
    trades = trades_by_symbol(session, view.oid)
    symbols = {a.symbol for a in assets} | {d.underlying_symbol for d in derivatives} | set(trades)
    return summarize(
        PortfolioInputs(
            customer_oid=view.oid,
            base_currency=view.base,
            as_of=view.as_of,
            assets=assets,
            accounts=accounts,
            trades=trades,
            prices=price_histories(session, symbols, since),
            # From the first trade on: a cost basis converts each buy at its own day's rate.
            usd_per_unit=fx_histories(session, date.min),
            spending=spending,
            derivatives=derivatives,
            transaction_count=transaction_count,
            card_payments=cash_events(session, view.oid, ("card_payment",), other_than=view.base),
            income=cash_events(session, view.oid, ("dividend", "interest")),
            instrument_currency={spec.symbol: spec.currency for spec in INSTRUMENTS},
            volatility={spec.symbol: spec.annual_volatility for spec in INSTRUMENTS},
        )
    )


def read_summary(session: Session, raw_oid: str, currency: str | None = None) -> PortfolioSummary:
    view = open_view(session, raw_oid, currency)
    count = count_transactions(session, view.oid)
    return summarize_customer(
        session,
        view,
        assets=list_assets(session, view.oid),
        accounts=list_accounts(session, view.oid),
        spending=list_spending(session, view.oid),
        derivatives=list_derivatives(session, view.oid),
        transaction_count=count,
    )


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
    assets = list_assets(session, oid) if summary_needed or "assets" in wanted else []
    accounts = list_accounts(session, oid) if summary_needed or "bank_accounts" in wanted else []
    spending = list_spending(session, oid) if summary_needed or "spending" in wanted else []
    derivatives = (
        list_derivatives(session, oid)
        if summary_needed or "derivative_transactions" in wanted
        else []
    )
    if "transactions" in wanted:
        transactions = query_transactions(session, oid, limit=transactions_limit)
        transaction_count = transactions.total
    else:
        transactions = TransactionSlice([], 0, 0, None)
        transaction_count = count_transactions(session, oid) if summary_needed else 0
    summary = (
        summarize_customer(
            session,
            view,
            assets=assets,
            accounts=accounts,
            spending=spending,
            derivatives=derivatives,
            transaction_count=transaction_count,
        )
        if summary_needed
        else None
    )
    return Portfolio(
        customer_oid=oid,
        user=UserOut(name=view.name, customer_oid=oid),
        assets=assets,
        bank_accounts=accounts,
        transactions=transactions.transactions,
        spending=spending,
        derivative_transactions=derivatives,
        portfolio_summary=summary,
    )
