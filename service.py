"""The bank's operations: every query and rule that REST, MCP and the scripts share.

Functions take a session first and raise the domain errors of ``errors.py``;
they never know about HTTP.
"""

import re
import unicodedata
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, text, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Session, col, select

from analytics import (
    Converter,
    History,
    PortfolioInputs,
    Trade,
    cash_by_currency,
    months_before,
    percent,
    period_starts,
    shares_of_100,
    spending_totals,
    summarize,
    value_holdings,
)
from db import begin_write
from errors import Conflict, InvalidInput, NotFound, ServiceUnavailable
from identifiers import name_tokens, new_customer_oid, parse_customer_oid, prefix_upper_bound
from models import (
    CUSTOMER_COUNTER,
    Asset,
    BankAccount,
    Counter,
    Customer,
    CustomerNameToken,
    DerivativeTransaction,
    FxRate,
    Institution,
    Instrument,
    InstrumentPrice,
    Spending,
    Transaction,
)
from money import CENT, to_cents
from paging import (
    CustomerPosition,
    TransactionPosition,
    decode_cursor,
    encode_cursor,
    fingerprint,
)
from schemas import (
    AccountsSection,
    AssetOut,
    AssetsSection,
    BankAccountOut,
    Close,
    CustomerExistsResponse,
    CustomerOut,
    CustomersPage,
    DeleteCustomerResponse,
    DerivativeOut,
    DerivativesSection,
    InstitutionOut,
    MarketDataResponse,
    Portfolio,
    PortfolioSummary,
    PriceChange,
    PriceHistory,
    Quote,
    RegisterCustomerResponse,
    SpendingGroup,
    SpendingOut,
    SpendingSection,
    TransactionOut,
    TransactionsPage,
    UserOut,
)

BASE_CURRENCY = "USD"
MAX_SYMBOLS = 50
MAX_AMOUNT = 10**15
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


def search_customers(
    session: Session, name: str | None = None, *, limit: int = 100, cursor: str | None = None
) -> CustomersPage:
    """Customers with a name word starting with each word of ``name``, oldest first, paged.

    Matching goes through the name-token index, so the cost follows the number
    of matches, not the size of the bank; the unfiltered total is a kept count.
    """
    words = name_tokens(name or "")
    if name is not None and name.strip() and not words:
        raise InvalidInput("name: give at least one letter or digit to search for")
    scope = fingerprint("customers", words)
    start = CustomerPosition(i=0, n=0)
    position = decode_cursor(cursor, scope, CustomerPosition) if cursor is not None else start
    after, seen = position.i, position.n
    if words:
        matching = _name_matches(words)
        total = session.exec(select(func.count()).select_from(matching)).one()
        page_ids = list(
            session.exec(
                select(matching.c.customer_id)
                .where(matching.c.customer_id > after)
                .order_by(matching.c.customer_id)
                .limit(limit + 1)
            )
        )
        query = select(Customer).where(col(Customer.id).in_(page_ids[:limit]))
        more = len(page_ids) > limit
    else:
        total = customer_count(session)
        query = select(Customer).where(col(Customer.id) > after).limit(limit + 1)
        more = False
    rows = list(session.exec(query.order_by(col(Customer.id))))
    if len(rows) > limit:
        more, rows = True, rows[:limit]
    shown = seen + len(rows)
    next_cursor = (
        encode_cursor(CustomerPosition(i=rows[-1].id or 0, n=shown), scope) if more else None
    )
    return CustomersPage(
        customers=[CustomerOut(customer_oid=c.customer_oid, name=c.name) for c in rows],
        total=total,
        remaining=max(total - shown, 0) if more else 0,
        next_cursor=next_cursor,
    )


def _name_matches(words: list[str]) -> Any:
    """Ids of customers having, for every word, a name token that starts with it."""
    token = CustomerNameToken.__table__.c  # type: ignore[attr-defined]
    query = None
    for word in words:
        ids = select(token.customer_id).where(
            token.token >= word, token.token < prefix_upper_bound(word)
        )
        query = ids if query is None else query.where(token.customer_id.in_(ids))
    assert query is not None
    return query.distinct().subquery()


def customer_count(session: Session) -> int:
    return session.exec(select(Counter.value).where(Counter.name == CUSTOMER_COUNTER)).one()


def bump_counter(session: Session, name: str, delta: int) -> None:
    """Add ``delta`` to a kept count inside the caller's transaction."""
    table = Counter.__table__  # type: ignore[attr-defined]
    updated = session.exec(
        update(table).where(table.c.name == name).values(value=table.c.value + delta)
    )
    if updated.rowcount == 0:
        session.add(Counter(name=name, value=delta))


def add_customer(
    session: Session, oid: str, name: str, created_at: datetime | None = None
) -> Customer:
    """Insert a customer with its name tokens and count it; the caller commits."""
    customer = Customer(customer_oid=oid, name=name)
    if created_at is not None:
        customer.created_at = created_at
    session.add(customer)
    session.flush()
    assert customer.id is not None
    session.add_all(CustomerNameToken(token=t, customer_id=customer.id) for t in name_tokens(name))
    bump_counter(session, CUSTOMER_COUNTER, 1)
    return customer


def customer_exists(session: Session, raw_oid: str) -> CustomerExistsResponse:
    """Whether a (well-formed) id is registered, with its canonical form and the name."""
    oid = parse_customer_oid(raw_oid)
    name = session.exec(select(Customer.name).where(Customer.customer_oid == oid)).first()
    return CustomerExistsResponse(customer_oid=oid, exists=name is not None, name=name)


def register_customer(
    session: Session, name: str, customer_oid: str | None = None
) -> RegisterCustomerResponse:
    clean_name = normalize_customer_name(name)
    oid = new_customer_oid() if customer_oid is None else parse_customer_oid(customer_oid)
    begin_write(session)
    try:
        add_customer(session, oid, clean_name)
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Conflict(f"Customer with CustomerOID '{oid}' already exists") from None
    return RegisterCustomerResponse(customer_oid=oid, name=clean_name)


def delete_customer(session: Session, raw_oid: str) -> DeleteCustomerResponse:
    """Delete a customer and, by cascade, every row it owns, in one transaction."""
    oid = parse_customer_oid(raw_oid)
    begin_write(session)
    deleted = session.exec(delete(Customer).where(col(Customer.customer_oid) == oid))
    if deleted.rowcount == 0:
        session.rollback()
        raise NotFound(f"Customer with CustomerOID '{oid}' not found")
    bump_counter(session, CUSTOMER_COUNTER, -1)
    session.commit()
    return DeleteCustomerResponse(customer_oid=oid)


# --- Market data ----------------------------------------------------------------


def market_as_of(session: Session) -> date:
    """The last day the bank has prices for: every valuation is as of this day."""
    latest = session.exec(select(func.max(InstrumentPrice.price_date))).one()
    return latest or date.today()


def latest_prices(session: Session, symbols: Iterable[str]) -> dict[str, InstrumentPrice]:
    """The most recent close of each symbol (one indexed look-up per symbol)."""
    wanted = sorted(set(symbols))
    if not wanted:
        return {}
    newest = (
        select(InstrumentPrice.symbol, func.max(InstrumentPrice.price_date).label("price_date"))
        .where(col(InstrumentPrice.symbol).in_(wanted))
        .group_by(col(InstrumentPrice.symbol))
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


def price_histories(session: Session, symbols: Iterable[str], since: date) -> dict[str, History]:
    wanted = sorted(set(symbols))
    points: dict[str, list[tuple[date, Decimal]]] = {symbol: [] for symbol in wanted}
    if wanted:
        rows = session.exec(
            select(
                col(InstrumentPrice.symbol),
                col(InstrumentPrice.price_date),
                col(InstrumentPrice.close),
            )
            .where(col(InstrumentPrice.symbol).in_(wanted), InstrumentPrice.price_date >= since)
            .order_by(col(InstrumentPrice.symbol), col(InstrumentPrice.price_date))
        )
        for symbol, day, close in rows:
            points[symbol].append((day, close))
    return {symbol: History(series) for symbol, series in points.items()}


def fx_histories(session: Session, since: date) -> dict[str, History]:
    """US dollars per unit of each currency the bank quotes, day by day since ``since``."""
    points: dict[str, list[tuple[date, Decimal]]] = defaultdict(list)
    rows = session.exec(
        select(col(FxRate.currency), col(FxRate.rate_date), col(FxRate.usd_per_unit))
        .where(FxRate.rate_date >= since)
        .order_by(col(FxRate.currency), col(FxRate.rate_date))
    )
    for currency, day, rate in rows:
        points[currency].append((day, rate))
    return {currency: History(series) for currency, series in points.items()}


def resolve_currency(session: Session, currency: str | None) -> str:
    """The base currency asked for (USD by default), or ``InvalidInput`` listing the choices."""
    if currency is None:
        return BASE_CURRENCY
    known = {BASE_CURRENCY, *session.exec(select(FxRate.currency).distinct())}
    code = currency.strip().upper()
    if code not in known:
        shown = currency[:10]
        raise InvalidInput(
            f"currency: '{shown}' is not supported; use one of {', '.join(sorted(known))}"
        )
    return code


FX_LOOKBACK = timedelta(days=10)
"""How far back the latest rate may lie: longer than any market holiday."""


def converter(session: Session, base: str, as_of: date) -> Converter:
    return Converter(fx_histories(session, as_of - FX_LOOKBACK), base)


def _instruments(
    session: Session, symbols: Iterable[str] | None, *, field: str = "symbols"
) -> list[Instrument]:
    query = select(Instrument).order_by(col(Instrument.symbol))
    if symbols is None:
        return list(session.exec(query))
    wanted = list(dict.fromkeys(s.strip().upper() for s in symbols if s.strip()))
    if not wanted:
        raise InvalidInput(f"{field}: give at least one symbol, such as AAPL or BTC")
    if len(wanted) > MAX_SYMBOLS:
        raise InvalidInput(f"symbols: at most {MAX_SYMBOLS} symbols per request")
    found = {i.symbol: i for i in session.exec(query.where(col(Instrument.symbol).in_(wanted)))}
    unknown = [symbol[:16] for symbol in wanted if symbol not in found]
    if unknown:
        raise NotFound(f"Unknown symbols: {', '.join(unknown)}")
    return [found[symbol] for symbol in wanted]


def read_quotes(session: Session, symbols: Iterable[str] | None = None) -> MarketDataResponse:
    """Latest close of each symbol (all instruments when none are named) and its changes."""
    instruments = _instruments(session, symbols)
    as_of = market_as_of(session)
    histories = price_histories(
        session, (i.symbol for i in instruments), months_before(as_of, 12) - timedelta(days=7)
    )
    quotes = []
    for instrument in instruments:
        history = histories[instrument.symbol]
        if not history.dates:
            continue
        price, price_date = history.values[-1], history.dates[-1]

        def change(
            since: date, price: Decimal = price, history: History = history
        ) -> PriceChange | None:
            index = bisect_right(history.dates, since)
            if not index:
                return None
            previous = history.values[index - 1]
            return PriceChange(
                since=history.dates[index - 1],
                previous_close=previous,
                change=price - previous,
                change_percent=percent(price - previous, previous),
            )

        quotes.append(
            Quote(
                symbol=instrument.symbol,
                name=instrument.name,
                asset_type=instrument.asset_type,
                currency=instrument.currency,
                price=price,
                price_date=price_date,
                change_1d=change(price_date - timedelta(days=1)),
                change_30d=change(price_date - timedelta(days=30)),
                change_1y=change(months_before(price_date, 12)),
            )
        )
    return MarketDataResponse(as_of=as_of, quotes=quotes)


def read_price_history(
    session: Session, symbol: str, date_from: date | None = None, date_to: date | None = None
) -> PriceHistory:
    """Daily closes of one symbol between two dates (the last year by default)."""
    (instrument,) = _instruments(session, [symbol], field="symbol")
    date_to = date_to or market_as_of(session)
    date_from = date_from or months_before(date_to, 12)
    if date_from > date_to:
        raise InvalidInput(
            f"from: {date_from} is after to: {date_to}; from must be on or before to"
        )
    rows = session.exec(
        select(col(InstrumentPrice.price_date), col(InstrumentPrice.close))
        .where(
            InstrumentPrice.symbol == instrument.symbol,
            InstrumentPrice.price_date >= date_from,
            InstrumentPrice.price_date <= date_to,
        )
        .order_by(col(InstrumentPrice.price_date))
    )
    return PriceHistory(
        symbol=instrument.symbol,
        name=instrument.name,
        currency=instrument.currency,
        from_date=date_from,
        to_date=date_to,
        closes=[Close(date=day, close=close) for day, close in rows],
    )


# --- Portfolio sections -------------------------------------------------------------


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


@dataclass(frozen=True)
class TransactionFilter:
    """Which of a customer's transactions to return; every field narrows the result."""

    date_from: date | None = None
    date_to: date | None = None
    transaction_type: str | None = None
    symbol: str | None = None
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None

    def conditions(self) -> list[Any]:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise InvalidInput(
                f"from: {self.date_from} is after to: {self.date_to}; from must be on or before to"
            )
        for name in ("min_amount", "max_amount"):
            value = getattr(self, name)
            if value is None:
                continue
            # Stored amounts are 64-bit counts of cents: nothing lies beyond 10^15. Checked
            # by exponent, because arithmetic on 1e999999999 itself would overflow.
            if value.adjusted() >= 15:
                raise InvalidInput(f"{name}: must be between -{MAX_AMOUNT} and {MAX_AMOUNT}")
            if value != value.quantize(CENT):
                raise InvalidInput(f"{name}: must be an amount with at most 2 decimal places")
        if (
            self.min_amount is not None
            and self.max_amount is not None
            and self.min_amount > self.max_amount
        ):
            raise InvalidInput("min_amount: must not be greater than max_amount")
        column = Transaction.__table__.c  # type: ignore[attr-defined]
        found = []
        if self.date_from:
            found.append(column.transaction_date >= self.date_from)
        if self.date_to:
            found.append(column.transaction_date <= self.date_to)
        if self.transaction_type:
            found.append(column.transaction_type == self.transaction_type)
        if self.symbol:
            found.append(column.symbol == self.symbol.strip().upper())
        if self.min_amount is not None:
            found.append(column.amount >= self.min_amount)
        if self.max_amount is not None:
            found.append(column.amount <= self.max_amount)
        return found


@dataclass(frozen=True)
class TransactionSlice:
    transactions: list[TransactionOut]
    total: int
    remaining: int
    next_cursor: str | None


def query_transactions(
    session: Session,
    oid: str,
    filters: TransactionFilter = TransactionFilter(),
    *,
    order: str = "desc",
    limit: int | None = None,
    cursor: str | None = None,
) -> TransactionSlice:
    """A customer's transactions, filtered, sorted by (date, id), one keyset page at a time.

    With no limit, every matching transaction. The cursor is the (date, id) of
    the last row shown, so pages never skip or repeat a row, even while new
    transactions are booked.
    """
    conditions = [col(Transaction.customer_oid) == oid, *filters.conditions()]
    scope = fingerprint(oid, filters, order)
    total = session.exec(select(func.count()).select_from(Transaction).where(*conditions)).one()
    day, ident = col(Transaction.transaction_date), col(Transaction.id)
    seen = 0
    if cursor is not None:
        position = decode_cursor(cursor, scope, TransactionPosition)
        after_day, after_id, seen = position.d, position.i, position.n
        if order == "desc":
            conditions.append((day < after_day) | ((day == after_day) & (ident < after_id)))
        else:
            conditions.append((day > after_day) | ((day == after_day) & (ident > after_id)))
    ordering = (day.desc(), ident.desc()) if order == "desc" else (day.asc(), ident.asc())
    query = select(Transaction).where(*conditions).order_by(*ordering)
    if limit is not None:
        query = query.limit(limit + 1)
    rows = list(session.exec(query))
    next_cursor, remaining = None, 0
    if limit is not None and len(rows) > limit:
        rows = rows[:limit]
        last, shown = rows[-1], seen + len(rows)
        next_cursor = encode_cursor(
            TransactionPosition(d=last.transaction_date, i=last.id or 0, n=shown), scope
        )
        # Counted from the cursor, not the table: exact unless rows changed between pages.
        remaining = max(total - shown, 0)
    return TransactionSlice(
        transactions=[TransactionOut.model_validate(row, from_attributes=True) for row in rows],
        total=total,
        remaining=remaining,
        next_cursor=next_cursor,
    )


_MONTH = re.compile(r"(?!0000)[0-9]{4}-(0[1-9]|1[0-2])")


def parse_month(name: str, value: str | None) -> str | None:
    if value is not None and not _MONTH.fullmatch(value):
        raise InvalidInput(f"{name}: must be a month written YYYY-MM, such as 2026-09")
    return value


def list_spending(
    session: Session, oid: str, from_month: str | None = None, to_month: str | None = None
) -> list[SpendingOut]:
    from_month, to_month = parse_month("from_month", from_month), parse_month("to_month", to_month)
    if from_month and to_month and from_month > to_month:
        raise InvalidInput("from_month: must be on or before to_month")
    query = select(Spending).where(Spending.customer_oid == oid)
    if from_month:
        query = query.where(Spending.month >= from_month)
    if to_month:
        query = query.where(Spending.month <= to_month)
    rows = session.exec(
        query.order_by(col(Spending.month), col(Spending.category), col(Spending.id))
    )
    return [SpendingOut.model_validate(row, from_attributes=True) for row in rows]


def list_derivatives(session: Session, oid: str, status: str | None = None) -> list[DerivativeOut]:
    query = select(DerivativeTransaction).where(DerivativeTransaction.customer_oid == oid)
    if status is not None:
        query = query.where(DerivativeTransaction.status == status)
    rows = session.exec(
        query.order_by(
            col(DerivativeTransaction.trade_date).desc(), col(DerivativeTransaction.id).desc()
        )
    )
    return [DerivativeOut.model_validate(row, from_attributes=True) for row in rows]


def trades_by_symbol(session: Session, oid: str) -> dict[str, list[Trade]]:
    rows = session.exec(
        select(Transaction)
        .where(
            Transaction.customer_oid == oid,
            col(Transaction.transaction_type).in_(["buy", "sell"]),
        )
        .order_by(col(Transaction.transaction_date), col(Transaction.id))
    )
    trades: dict[str, list[Trade]] = defaultdict(list)
    for row in rows:
        if row.symbol and row.quantity is not None and row.price is not None:
            signed = row.quantity if row.transaction_type == "buy" else -row.quantity
            trades[row.symbol].append(
                Trade(on=row.transaction_date, quantity=signed, price=row.price)
            )
    return trades


def read_assets(session: Session, raw_oid: str, currency: str | None = None) -> AssetsSection:
    oid = get_customer(session, raw_oid).customer_oid
    base = resolve_currency(session, currency)
    as_of = market_as_of(session)
    assets = list_assets(session, oid)
    holdings = value_holdings(
        assets, trades_by_symbol(session, oid), converter(session, base, as_of), as_of
    )
    return AssetsSection(
        customer_oid=oid,
        base_currency=base,
        as_of=as_of,
        total_market_value=sum((h.market_value_base for h in holdings), Decimal(0)),
        assets=assets,
        holdings=holdings,
    )


def read_accounts(session: Session, raw_oid: str, currency: str | None = None) -> AccountsSection:
    oid = get_customer(session, raw_oid).customer_oid
    base = resolve_currency(session, currency)
    as_of = market_as_of(session)
    accounts = list_accounts(session, oid)
    balances = cash_by_currency(accounts, converter(session, base, as_of), as_of)
    return AccountsSection(
        customer_oid=oid,
        base_currency=base,
        as_of=as_of,
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
    oid = get_customer(session, raw_oid).customer_oid
    base = resolve_currency(session, currency)
    rows = list_spending(session, oid, from_month, to_month)
    as_of = market_as_of(session)
    totals, counts = spending_totals(rows, converter(session, base, as_of), as_of, by=group_by)
    shares = shares_of_100(totals)
    if group_by == "category":
        keys = sorted(totals, key=lambda k: (-totals[k], k))
    else:
        keys = sorted(totals)
    return SpendingSection(
        customer_oid=oid,
        base_currency=base,
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


# --- Summary and the whole portfolio ----------------------------------------------------


def summarize_customer(
    session: Session,
    oid: str,
    base: str,
    *,
    assets: list[AssetOut],
    accounts: list[BankAccountOut],
    spending: list[SpendingOut],
    derivatives: list[DerivativeOut],
    transaction_count: int,
) -> PortfolioSummary:
    as_of = market_as_of(session)
    since = min(period_starts(as_of).values()) - timedelta(days=10)
    symbols = {a.symbol for a in assets} | {d.underlying_symbol for d in derivatives}
    return summarize(
        PortfolioInputs(
            customer_oid=oid,
            base_currency=base,
            as_of=as_of,
            assets=assets,
            accounts=accounts,
            trades=trades_by_symbol(session, oid),
            prices=price_histories(session, symbols, since),
            usd_per_unit=fx_histories(session, since),
            spending=spending,
            derivatives=derivatives,
            transaction_count=transaction_count,
        )
    )


def count_transactions(session: Session, oid: str) -> int:
    return session.exec(
        select(func.count()).select_from(Transaction).where(Transaction.customer_oid == oid)
    ).one()


def read_summary(session: Session, raw_oid: str, currency: str | None = None) -> PortfolioSummary:
    oid = get_customer(session, raw_oid).customer_oid
    base = resolve_currency(session, currency)
    count = count_transactions(session, oid)
    return summarize_customer(
        session,
        oid,
        base,
        assets=list_assets(session, oid),
        accounts=list_accounts(session, oid),
        spending=list_spending(session, oid),
        derivatives=list_derivatives(session, oid),
        transaction_count=count,
    )


PORTFOLIO_SECTIONS = (
    "assets",
    "bank_accounts",
    "transactions",
    "spending",
    "derivative_transactions",
    "portfolio_summary",
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
    customer = get_customer(session, raw_oid)
    oid = customer.customer_oid
    base = resolve_currency(session, currency)
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
            oid,
            base,
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
        user=UserOut(name=customer.name, customer_oid=oid),
        assets=assets,
        bank_accounts=accounts,
        transactions=transactions.transactions,
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
