"""The bank's operations: every query and rule that REST, MCP and the scripts share.

Functions take a session first and raise the domain errors of ``errors.py``;
they never know about HTTP.
"""

import unicodedata
from collections.abc import Iterable
from decimal import Decimal

from sqlalchemy import delete, func, text
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Session, col, select

from errors import Conflict, InvalidInput, NotFound, ServiceUnavailable
from identifiers import new_customer_oid, parse_customer_oid
from models import (
    Asset,
    BankAccount,
    Customer,
    DerivativeTransaction,
    FxRate,
    Institution,
    Instrument,
    InstrumentPrice,
    Spending,
    Transaction,
)
from money import to_cents
from schemas import (
    AssetOut,
    BankAccountOut,
    DerivativeOut,
    HasData,
    InstitutionOut,
    Portfolio,
    PortfolioSummary,
    SpendingOut,
    TransactionOut,
    UserOut,
)

BASE_CURRENCY = "USD"
NAME_MIN, NAME_MAX = 2, 100
_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


# --- Customers ----------------------------------------------------------------


def normalize_customer_name(raw: str) -> str:
    """Trim and NFC-normalise a name, or raise ``InvalidInput`` saying which rule it breaks."""
    if any("\ud800" <= ch <= "\udfff" for ch in raw):
        raise InvalidInput("name: must be valid Unicode text (it contains a lone surrogate)")
    name = unicodedata.normalize("NFC", raw.strip())
    if any(unicodedata.category(ch) == "Cc" for ch in name):
        raise InvalidInput("name: must not contain control characters such as line breaks or tabs")
    if any(ch in _BIDI_CONTROLS for ch in name):
        raise InvalidInput("name: must not contain bidirectional override or embedding characters")
    visible = [ch for ch in name if unicodedata.category(ch) not in ("Cf", "Zs")]
    if len(name) < NAME_MIN or len(visible) < 1:
        raise InvalidInput(f"name: must be at least {NAME_MIN} characters after trimming")
    if len(name) > NAME_MAX:
        raise InvalidInput(f"name: must be at most {NAME_MAX} characters")
    return name


def get_customer(session: Session, raw_oid: str) -> Customer:
    """The customer with this id in any spelling, or ``NotFound``."""
    oid = parse_customer_oid(raw_oid)
    customer = session.exec(select(Customer).where(Customer.customer_oid == oid)).first()
    if customer is None:
        raise NotFound(f"Customer with CustomerOID '{oid}' not found")
    return customer


def list_customers(session: Session) -> list[Customer]:
    return list(session.exec(select(Customer).order_by(col(Customer.id))))


def find_customer_name(session: Session, raw_oid: str) -> tuple[str, str | None]:
    """The canonical id and the customer's name, or None for an unknown (well-formed) id."""
    oid = parse_customer_oid(raw_oid)
    name = session.exec(select(Customer.name).where(Customer.customer_oid == oid)).first()
    return oid, name


def register_customer(session: Session, name: str, customer_oid: str | None = None) -> Customer:
    clean_name = normalize_customer_name(name)
    oid = new_customer_oid() if customer_oid is None else parse_customer_oid(customer_oid)
    customer = Customer(customer_oid=oid, name=clean_name)
    session.add(customer)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Conflict(f"Customer with CustomerOID '{oid}' already exists") from None
    session.refresh(customer)
    return customer


def delete_customer(session: Session, raw_oid: str) -> str:
    """Delete a customer and, by cascade, every row it owns, in one transaction."""
    oid = parse_customer_oid(raw_oid)
    deleted = session.exec(delete(Customer).where(col(Customer.customer_oid) == oid))
    if deleted.rowcount == 0:
        session.rollback()
        raise NotFound(f"Customer with CustomerOID '{oid}' not found")
    session.commit()
    return oid


# --- Market data ----------------------------------------------------------------


def latest_prices(session: Session, symbols: Iterable[str]) -> dict[str, InstrumentPrice]:
    """The most recent close of each symbol (one indexed look-up per symbol)."""
    wanted = sorted(set(symbols))
    if not wanted:
        return {}
    newest = (
        select(InstrumentPrice.symbol, func.max(InstrumentPrice.price_date).label("price_date"))
        .where(col(InstrumentPrice.symbol).in_(wanted))
        .group_by(InstrumentPrice.symbol)
        .subquery()
    )
    rows = session.exec(
        select(InstrumentPrice).join(
            newest,
            (col(InstrumentPrice.symbol) == newest.c.symbol)
            & (col(InstrumentPrice.price_date) == newest.c.price_date),
        )
    )
    return {row.symbol: row for row in rows}


def latest_fx_rates(session: Session) -> dict[str, Decimal]:
    """US dollars per unit of every currency the bank knows, at the latest date."""
    newest = (
        select(FxRate.currency, func.max(FxRate.rate_date).label("rate_date"))
        .group_by(FxRate.currency)
        .subquery()
    )
    rows = session.exec(
        select(FxRate).join(
            newest,
            (col(FxRate.currency) == newest.c.currency)
            & (col(FxRate.rate_date) == newest.c.rate_date),
        )
    )
    rates = {row.currency: row.usd_per_unit for row in rows}
    rates[BASE_CURRENCY] = Decimal(1)
    return rates


def convert(
    amount: Decimal, currency: str, target: str, usd_per_unit: dict[str, Decimal]
) -> Decimal:
    if currency == target:
        return amount
    try:
        return amount * usd_per_unit[currency] / usd_per_unit[target]
    except KeyError as missing:
        raise InvalidInput(f"currency: no exchange rate for {missing.args[0]}") from None


# --- Portfolio --------------------------------------------------------------------


def list_assets(session: Session, oid: str) -> list[AssetOut]:
    rows = session.exec(
        select(Asset, Instrument)
        .join(Instrument, col(Instrument.symbol) == col(Asset.symbol))
        .where(Asset.customer_oid == oid)
        .order_by(col(Asset.id))
    ).all()
    prices = latest_prices(session, (asset.symbol for asset, _ in rows))
    return [
        AssetOut(
            id=asset.id,
            customer_oid=asset.customer_oid,
            account_id=asset.account_id,
            asset_type=instrument.asset_type,
            symbol=asset.symbol,
            name=instrument.name,
            currency=instrument.currency,
            quantity=asset.quantity,
            current_price=prices[asset.symbol].close,
            price_date=prices[asset.symbol].price_date,
            current_value=to_cents(asset.quantity * prices[asset.symbol].close),
        )
        for asset, instrument in rows
    ]


def list_accounts(session: Session, oid: str) -> list[BankAccountOut]:
    rows = session.exec(
        select(BankAccount, Institution)
        .join(Institution, col(Institution.id) == col(BankAccount.institution_id))
        .where(BankAccount.customer_oid == oid)
        .order_by(col(BankAccount.id))
    ).all()
    return [
        BankAccountOut.model_validate(
            {
                **account.model_dump(),
                "institution": InstitutionOut.model_validate(institution, from_attributes=True),
            }
        )
        for account, institution in rows
    ]


def list_transactions(session: Session, oid: str) -> list[TransactionOut]:
    rows = session.exec(
        select(Transaction)
        .where(Transaction.customer_oid == oid)
        .order_by(col(Transaction.transaction_date).desc(), col(Transaction.id).desc())
    )
    return [TransactionOut.model_validate(row, from_attributes=True) for row in rows]


def list_spending(session: Session, oid: str) -> list[SpendingOut]:
    rows = session.exec(
        select(Spending)
        .where(Spending.customer_oid == oid)
        .order_by(col(Spending.month), col(Spending.category), col(Spending.id))
    )
    return [SpendingOut.model_validate(row, from_attributes=True) for row in rows]


def list_derivatives(session: Session, oid: str) -> list[DerivativeOut]:
    rows = session.exec(
        select(DerivativeTransaction)
        .where(DerivativeTransaction.customer_oid == oid)
        .order_by(
            col(DerivativeTransaction.trade_date).desc(), col(DerivativeTransaction.id).desc()
        )
    )
    return [DerivativeOut.model_validate(row, from_attributes=True) for row in rows]


def read_portfolio(session: Session, raw_oid: str) -> Portfolio:
    """Everything the bank knows about one customer, with a summary; empty lists, not errors."""
    customer = get_customer(session, raw_oid)
    oid = customer.customer_oid
    assets = list_assets(session, oid)
    accounts = list_accounts(session, oid)
    transactions = list_transactions(session, oid)
    spending = list_spending(session, oid)
    derivatives = list_derivatives(session, oid)
    rates = latest_fx_rates(session)
    cash = sum((convert(a.balance, a.currency, BASE_CURRENCY, rates) for a in accounts), Decimal(0))
    spent = sum((convert(s.amount, s.currency, BASE_CURRENCY, rates) for s in spending), Decimal(0))
    summary = PortfolioSummary(
        customer_oid=oid,
        base_currency=BASE_CURRENCY,
        total_cash_balance=to_cents(cash),
        total_spending=to_cents(spent),
        total_assets=len(assets),
        total_accounts=len(accounts),
        total_transactions=len(transactions),
        total_spending_categories=len({s.category for s in spending}),
        total_derivative_positions=len(derivatives),
        has_data=HasData(
            assets=bool(assets),
            accounts=bool(accounts),
            transactions=bool(transactions),
            spending=bool(spending),
            derivatives=bool(derivatives),
        ),
    )
    return Portfolio(
        customer_oid=oid,
        user=UserOut(name=customer.name, customer_oid=oid),
        assets=assets,
        bank_accounts=accounts,
        transactions=transactions,
        spending=spending,
        derivative_transactions=derivatives,
        portfolio_summary=summary,
    )


def check_database(session: Session) -> None:
    try:
        session.exec(select(text("1")))
    except SQLAlchemyError:
        raise ServiceUnavailable(
            "Database unavailable: the bank cannot reach its database"
        ) from None
