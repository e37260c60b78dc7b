"""Portfolio answers: each section with its analysis, the summary and the whole portfolio.

Every read starts from the same preamble (``open_view``): the customer, the base
currency and the as-of date of the market data.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import orjson
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
from core.money import BASE_CURRENCY
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
    TransactionsPage,
)
from schemas.risk import RiskSection
from schemas.summary import PortfolioSummary
from services.books import Book, read_book, read_kept, summary_key
from services.customers import get_customer
from services.market import MarketSnapshot, market_snapshot, resolve_currency
from services.original import (
    original_accounts,
    original_assets,
    original_derivatives,
)
from services.records import (
    TransactionFilter,
    list_accounts,
    list_assets,
    list_derivatives,
    list_spending,
    newest_transaction_values,
    query_transactions,
    spending_json,
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
        assets, read_book(session, view.oid).trades, view.market.converter(view.base), view.as_of
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
        payments=read_book(session, view.oid).card_payments(other_than=view.base),
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
    book: Book | None = None,
    spending: Sequence[SpendingOut] = (),
) -> PortfolioInputs:
    """What the analysis works from: the rows read, the kept book, and the market of ``view``."""
    kept = Book() if book is None else book
    return PortfolioInputs(
        customer_oid=view.oid,
        base_currency=view.base,
        as_of=view.as_of,
        assets=assets,
        accounts=accounts,
        trades=kept.trades,
        prices=view.market.prices,
        usd_per_unit=view.market.usd_per_unit,
        spending=spending,
        derivatives=derivatives,
        transaction_count=kept.transaction_count,
        converter=view.market.converter(view.base),
        card_payments=kept.card_payments(other_than=view.base),
        income=kept.income,
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


def compute_summary(
    session: Session, oid: str, market: MarketSnapshot, base: str
) -> PortfolioSummary:
    """The summary of a customer (``oid`` already checked) from its rows and kept book."""
    view = View(oid, "", base, market)
    return summarize(
        portfolio_inputs(
            view,
            assets=list_assets(session, oid, market),
            accounts=list_accounts(session, oid),
            book=read_book(session, oid),
            spending=list_spending(session, oid),
            derivatives=list_derivatives(session, oid),
        )
    )


def summary_json(session: Session, raw_oid: str, currency: str | None = None) -> bytes:
    """The summary's JSON: kept (``services/kept.py``) when it holds for this market, code
    and base currency, computed otherwise."""
    view = open_view(session, raw_oid, currency)
    kept = read_kept(session, view.oid, summary_key(view.market, view.base), statement=False)
    if kept is not None:
        return kept.summary
    return compute_summary(session, view.oid, view.market, view.base).model_dump_json().encode()


def read_summary(session: Session, raw_oid: str, currency: str | None = None) -> PortfolioSummary:
    return PortfolioSummary.model_validate_json(summary_json(session, raw_oid, currency))


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


@dataclass(frozen=True)
class PortfolioAnswer:
    """A whole portfolio: the model without its transactions, and the transactions as the
    JSON values the model would send (hundreds of rows: no model is made for each)."""

    portfolio: Portfolio
    transactions: list[dict[str, Any]]
    summary: bytes | None = None
    """The kept summary's JSON, when ``portfolio`` has none of its own."""
    statement: bytes | None = None
    """The kept statement's JSON (every transaction), in place of ``transactions``."""
    spending: bytes | None = None
    """The spending rows' JSON, when ``portfolio`` has none of its own."""

    def to_json(self, exclude: set[str] | None = None) -> bytes:
        """The portfolio's JSON, as ``Portfolio.model_dump_json`` would write it."""
        body = self.portfolio.model_dump_json(exclude=exclude).encode()
        left_out = exclude or set()
        if self.spending is not None and "spending" not in left_out:
            # Before the transactions and the summary are in: the first "spending" list is the
            # top-level one (the summary's spending is an object).
            head, empty, tail = body.partition(_NO_SPENDING)
            assert empty, "the model always writes its spending"
            body = b"".join((head, _SPENDING, self.spending, tail))
        if "transactions" not in left_out:
            # The empty list the model wrote is the first top-level "transactions" key, and
            # the only place these bytes can occur: in a JSON string every quote is escaped.
            head, empty, tail = body.partition(_NO_TRANSACTIONS)
            assert empty, "the model always writes its transactions"
            rows = orjson.dumps(self.transactions) if self.statement is None else self.statement
            body = b"".join((head, _TRANSACTIONS, rows, tail))
        if self.summary is not None and "portfolio_summary" not in left_out:
            # The summary is the model's last field.
            assert body.endswith(_NO_SUMMARY)
            body = body[: -len(_NO_SUMMARY)] + _SUMMARY + self.summary + b"}"
        return body

    def model(self) -> Portfolio:
        """The whole portfolio as one model, its transactions validated (for Python callers)."""
        rows = self.transactions if self.statement is None else orjson.loads(self.statement)
        update: dict[str, Any] = {
            "transactions": [OriginalTransaction.model_validate(t) for t in rows]
        }
        if self.summary is not None:
            update["portfolio_summary"] = PortfolioSummary.model_validate_json(self.summary)
        if self.spending is not None:
            update["spending"] = [
                SpendingOut.model_validate(s) for s in orjson.loads(self.spending)
            ]
        return self.portfolio.model_copy(update=update)


_TRANSACTIONS = b'"transactions":'
_NO_TRANSACTIONS = _TRANSACTIONS + b"[]"
_SUMMARY = b'"portfolio_summary":'
_SPENDING = b'"spending":'
_NO_SPENDING = _SPENDING + b"[]"
_NO_SUMMARY = _SUMMARY + b"null}"


def read_portfolio(
    session: Session,
    raw_oid: str,
    *,
    currency: str | None = None,
    sections: set[str] | None = None,
    transactions_limit: int | None = None,
) -> PortfolioAnswer:
    """Everything the bank knows about one customer, with a summary; empty lists, not errors.

    ``sections`` leaves out the parts not named (the summary still counts them);
    ``transactions_limit`` keeps only the newest transactions. The summary is the kept one
    (``services/kept.py``) when it holds, or computed from the kept book and the holdings,
    never from the statement's rows.
    """
    view = open_view(session, raw_oid, currency)
    oid = view.oid
    wanted = set(PORTFOLIO_SECTIONS) if sections is None else sections
    # Kept under the default currency's key; the statement is the same in any currency.
    kept = None
    statement_kept = "transactions" in wanted and transactions_limit is None
    if "portfolio_summary" in wanted or statement_kept:
        kept = read_kept(session, oid, summary_key(view.market), statement=statement_kept)
    kept_summary = kept.summary if kept and "portfolio_summary" in wanted else None
    if view.base != BASE_CURRENCY:
        kept_summary = None
    statement = kept.statement if kept else None
    summary_needed = "portfolio_summary" in wanted and kept_summary is None
    assets = list_assets(session, oid, view.market) if summary_needed or "assets" in wanted else []
    accounts = list_accounts(session, oid) if summary_needed or "bank_accounts" in wanted else []
    spending = list_spending(session, oid) if summary_needed else []
    raw_spending = None
    if "spending" in wanted and not summary_needed:
        raw_spending = spending_json(session, oid)
    derivatives = (
        list_derivatives(session, oid)
        if summary_needed or "derivative_transactions" in wanted
        else []
    )
    transactions = (
        newest_transaction_values(session, oid, transactions_limit)
        if "transactions" in wanted and statement is None
        else []
    )
    summary = (
        summarize(
            portfolio_inputs(
                view,
                assets=assets,
                accounts=accounts,
                book=read_book(session, oid),
                spending=spending,
                derivatives=derivatives,
            )
        )
        if summary_needed
        else None
    )
    portfolio = Portfolio(
        customer_oid=oid,
        user=UserOut(name=view.name, customer_oid=oid),
        assets=original_assets(assets),
        bank_accounts=original_accounts(accounts),
        spending=spending,
        derivative_transactions=original_derivatives(derivatives),
        portfolio_summary=summary,
    )
    return PortfolioAnswer(portfolio, transactions, kept_summary, statement, raw_spending)
