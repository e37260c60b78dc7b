"""A customer's own rows: holdings, accounts, filtered and paged transactions, spending,
derivatives and trades, shaped as the API sends them.

Rows are read as plain tuples of the columns each answer shows (no ORM object per
row) and shaped without validating again what the database already holds.
"""

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any, TypeVar, cast

from pydantic import BaseModel, TypeAdapter
from sqlalchemy import (
    BigInteger,
    BindParameter,
    Date,
    Result,
    Table,
    bindparam,
    func,
    select,
    type_coerce,
)
from sqlmodel import Session

from analysis.valuation import CashEvent, Trade
from core.errors import InvalidInput
from core.money import CENT, ScaledDecimal, to_cents
from core.paging import TransactionPosition, decode_cursor, encode_cursor, fingerprint
from market.merchants import TAXONOMY
from models import Asset, BankAccount, DerivativeTransaction, Institution, Spending, Transaction
from schemas.common import MONTH_PATTERN
from schemas.portfolio import (
    AssetOut,
    BankAccountOut,
    DerivativeOut,
    InstitutionOut,
    SpendingOut,
    TransactionOut,
)
from services.market import MarketSnapshot

MAX_AMOUNT = 10**15

Shape = TypeVar("Shape", bound=BaseModel)


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


def _columns(table: Table, shape: type[BaseModel]) -> list[Any]:
    """The table's columns that the answer's shape shows, in the shape's order."""
    return [table.c[name] for name in shape.model_fields if name in table.c]


@cache
def _list_of(shape: type[Shape]) -> TypeAdapter[list[Shape]]:
    return TypeAdapter(list[shape])  # type: ignore[valid-type]


def _shaped(shape: type[Shape], result: Result[Any]) -> list[Shape]:
    """Rows as the answer's shapes, validated in one pass (cheaper than one model at a time)."""
    names = list(result.keys())
    return _list_of(shape).validate_python([dict(zip(names, row, strict=True)) for row in result])


ASSETS, ACCOUNTS, INSTITUTIONS = _table(Asset), _table(BankAccount), _table(Institution)
TRANSACTIONS, SPENDING = _table(Transaction), _table(Spending)
DERIVATIVES = _table(DerivativeTransaction)


OID: BindParameter[str] = bindparam("oid")
"""Statements read on every request are built once, with the customer as a parameter."""

_ASSETS = (
    select(ASSETS.c.id, ASSETS.c.customer_oid, ASSETS.c.account_id, ASSETS.c.symbol)
    .add_columns(ASSETS.c.quantity)
    .where(ASSETS.c.customer_oid == OID)
    .order_by(ASSETS.c.id)
)
_ACCOUNT_COLUMNS = _columns(ACCOUNTS, BankAccountOut)
_ACCOUNTS = (
    select(
        *_ACCOUNT_COLUMNS,
        *(c.label(f"i_{c.name}") for c in _columns(INSTITUTIONS, InstitutionOut)),
    )
    .join(INSTITUTIONS, INSTITUTIONS.c.id == ACCOUNTS.c.institution_id)
    .where(ACCOUNTS.c.customer_oid == OID)
    .order_by(ACCOUNTS.c.id)
)


def _read(session: Session, statement: Any, oid: str) -> Result[Any]:
    # Straight to the connection: these are plain rows, the ORM has nothing to add.
    return session.connection().execute(statement, {"oid": oid})


AssetRow = tuple[int, str, int | None, str, Decimal]


def list_assets(session: Session, oid: str, market: MarketSnapshot) -> list[AssetOut]:
    holdings = []
    rows = cast(Iterable[AssetRow], _read(session, _ASSETS, oid))
    for ident, customer_oid, account_id, symbol, quantity in rows:
        instrument = market.instruments[symbol]
        price, price_date = market.latest(symbol)
        holdings.append(
            {
                "id": ident,
                "customer_oid": customer_oid,
                "account_id": account_id,
                "asset_type": instrument.asset_type,
                "symbol": symbol,
                "name": instrument.name,
                "currency": instrument.currency,
                "quantity": quantity,
                "current_price": price,
                "price_date": price_date,
                "current_value": to_cents(quantity * price),
            }
        )
    return _list_of(AssetOut).validate_python(holdings)


def list_accounts(session: Session, oid: str) -> list[BankAccountOut]:
    accounts = []
    for row in _read(session, _ACCOUNTS, oid):
        values = row._mapping
        account = {c.name: values[c.name] for c in _ACCOUNT_COLUMNS}
        account["institution"] = {name: values[f"i_{name}"] for name in InstitutionOut.model_fields}
        accounts.append(account)
    return _list_of(BankAccountOut).validate_python(accounts)


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


TRANSACTION_COLUMNS = _columns(TRANSACTIONS, TransactionOut)
_EVERY_TRANSACTION = (
    select(*TRANSACTION_COLUMNS)
    .where(TRANSACTIONS.c.customer_oid == OID)
    .order_by(TRANSACTIONS.c.transaction_date.desc(), TRANSACTIONS.c.id.desc())
)


def query_transactions(
    session: Session,
    oid: str,
    filters: TransactionFilter = TransactionFilter(),
    *,
    order: str = "desc",
    limit: int | None = None,
    cursor: str | None = None,
    shape: type[TransactionOut] = TransactionOut,
) -> TransactionSlice:
    """A customer's transactions, filtered, sorted by (date, id), one keyset page at a time.

    With no limit, every matching transaction. The cursor is the (date, id) of
    the last row shown, so pages never skip or repeat a row, even while new
    transactions are booked.
    """
    conditions = [TRANSACTIONS.c.customer_oid == oid, *filters.conditions()]
    scope = fingerprint(oid, filters, order)
    day, ident = TRANSACTIONS.c.transaction_date, TRANSACTIONS.c.id
    ordering = (day.desc(), ident.desc()) if order == "desc" else (day.asc(), ident.asc())
    seen = 0
    if cursor is None and limit is None:
        if filters == TransactionFilter() and order == "desc":
            rows = _shaped(shape, _read(session, _EVERY_TRANSACTION, oid))
        else:
            query = select(*TRANSACTION_COLUMNS).where(*conditions).order_by(*ordering)
            rows = _shaped(shape, session.connection().execute(query))
        return TransactionSlice(rows, len(rows), 0, None)
    total = session.connection().execute(select(func.count()).where(*conditions)).scalar_one()
    if cursor is not None:
        position = decode_cursor(cursor, scope, TransactionPosition)
        after_day, after_id, seen = position.d, position.i, position.n
        if order == "desc":
            conditions.append((day < after_day) | ((day == after_day) & (ident < after_id)))
        else:
            conditions.append((day > after_day) | ((day == after_day) & (ident > after_id)))
    query = select(*TRANSACTION_COLUMNS).where(*conditions).order_by(*ordering)
    if limit is not None:
        query = query.limit(limit + 1)
    rows = _shaped(shape, session.connection().execute(query))
    return _page(rows, total, seen, limit, scope)


_RAW_TRANSACTION_COLUMNS = [
    # Straight from the driver: scaled integers and, on SQLite, ISO day strings.
    type_coerce(c, BigInteger()) if isinstance(c.type, ScaledDecimal) else c
    for c in TRANSACTION_COLUMNS
]
_RAW_NEWEST = (
    select(*_RAW_TRANSACTION_COLUMNS)
    .where(TRANSACTIONS.c.customer_oid == OID)
    .order_by(TRANSACTIONS.c.transaction_date.desc(), TRANSACTIONS.c.id.desc())
)
_RAW_NEWEST_FEW = _RAW_NEWEST.limit(bindparam("limit"))


def _unscale(unit: int) -> Callable[[Any], Any]:
    return lambda v: None if v is None else v / unit


def _iso(value: Any) -> Any:
    return value if value is None or isinstance(value, str) else value.isoformat()


def _as_is(value: Any) -> Any:
    return value


def _json_plan() -> list[tuple[str, int, Callable[[Any], Any]]]:
    """For each field of ``OriginalTransaction``'s JSON, in its order: the name, the column
    it comes from and how that column's value becomes the JSON value.

    An amount of ``n`` units of ``10**-k`` becomes the float ``n / 10**k``: both integers
    are exact in a double and IEEE division rounds once, so it is the very float that
    ``float(Decimal)`` gives, which is what the model's serialiser sends."""
    index = {c.name: i for i, c in enumerate(TRANSACTION_COLUMNS)}
    plan: list[tuple[str, int, Callable[[Any], Any]]] = []
    for name in [*TransactionOut.model_fields, "date", "type", "asset"]:
        source = {"date": "transaction_date", "type": "transaction_type", "asset": "symbol"}.get(
            name, name
        )
        if name == "category_group":
            plan.append((name, index["category"], _category_group))
            continue
        column = TRANSACTION_COLUMNS[index[source]]
        if isinstance(column.type, ScaledDecimal):
            shape = _unscale(10**column.type.scale)
        elif isinstance(column.type, Date):
            shape = _iso
        else:
            shape = _as_is
        plan.append((name, index[source], shape))
    return plan


def _category_group(category: str | None) -> str | None:
    return None if category is None else TAXONOMY.get(category)


_PLAN = _json_plan()


def newest_transaction_values(
    session: Session, oid: str, limit: int | None = None
) -> list[dict[str, Any]]:
    """A customer's transactions, newest first, as the JSON values ``OriginalTransaction``
    would send (its fields in its order, the original's three names last), without a model
    per row. ``tests/test_kept_books.py`` holds them to the model's own serialisation."""
    plan = _PLAN
    if limit is None:
        rows = _driver_rows(session, _RAW_NEWEST, {"oid": oid})
    else:
        rows = _driver_rows(session, _RAW_NEWEST_FEW, {"oid": oid, "limit": limit})
    return [{name: shape(row[at]) for name, at, shape in plan} for row in rows]


def _driver_rows(session: Session, statement: Any, values: dict[str, Any]) -> list[Any]:
    """The statement's rows as the driver returns them, all at once: for reads of hundreds
    of rows whose columns need no conversion on the way (SQLAlchemy's per-row result
    processing is most of the cost of reading them otherwise)."""
    connection = session.connection()
    compiled, sql = _compiled(statement, connection.dialect)
    given = compiled.construct_params(values)
    positions = compiled.positiontup
    parameters: Any = tuple(given[n] for n in positions) if positions else given
    return list(connection.exec_driver_sql(sql, parameters).all())


@cache
def _compiled(statement: Any, dialect: Any) -> tuple[Any, str]:
    compiled = statement.compile(dialect=dialect)
    return compiled, str(compiled)


def transactions_by_number(
    session: Session, oid: str, *, page: int, per_page: int
) -> tuple[list[TransactionOut], int]:
    """Page ``page`` (from 1) of a customer's transactions, newest first, ``per_page`` to a
    page, and how many there are in all: numbered pages, as the original's API had them.
    Unlike a cursor, a number moves when transactions are booked in between."""
    total = (
        session.connection()
        .execute(select(func.count()).where(TRANSACTIONS.c.customer_oid == oid))
        .scalar_one()
    )
    query = _EVERY_TRANSACTION.offset((page - 1) * per_page).limit(per_page)
    return _shaped(TransactionOut, _read(session, query, oid)), total


def newest_transactions(
    oid: str, rows: Sequence[TransactionOut], limit: int | None
) -> TransactionSlice:
    """The first page of ``rows`` (every transaction, newest first), as ``query_transactions``
    would give it, without reading them twice."""
    scope = fingerprint(oid, TransactionFilter(), "desc")
    shown = list(rows[: limit + 1]) if limit is not None else list(rows)
    return _page(shown, len(rows), 0, limit, scope)


def _page(
    rows: list[TransactionOut], total: int, seen: int, limit: int | None, scope: str
) -> TransactionSlice:
    next_cursor, remaining = None, 0
    if limit is not None and len(rows) > limit:
        rows = rows[:limit]
        last, shown = rows[-1], seen + len(rows)
        next_cursor = encode_cursor(
            TransactionPosition(d=last.transaction_date, i=last.id, n=shown), scope
        )
        # Counted from the cursor, not the table: exact unless rows changed between pages.
        remaining = max(total - shown, 0)
    return TransactionSlice(rows, total, remaining, next_cursor)


_MONTH = re.compile(MONTH_PATTERN)


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
    query = select(*_columns(SPENDING, SpendingOut)).where(SPENDING.c.customer_oid == oid)
    if from_month:
        query = query.where(SPENDING.c.month >= from_month)
    if to_month:
        query = query.where(SPENDING.c.month <= to_month)
    ordering = (SPENDING.c.month, SPENDING.c.category, SPENDING.c.id)
    return _shaped(SpendingOut, session.connection().execute(query.order_by(*ordering)))


def list_derivatives(session: Session, oid: str, status: str | None = None) -> list[DerivativeOut]:
    query = select(
        *_columns(DERIVATIVES, DerivativeOut),
        DERIVATIVES.c.side.label("position"),
        DERIVATIVES.c.premium.label("premium_per_unit"),
    ).where(DERIVATIVES.c.customer_oid == oid)
    if status is not None:
        query = query.where(DERIVATIVES.c.status == status)
    ordering = (DERIVATIVES.c.trade_date.desc(), DERIVATIVES.c.id.desc())
    return _shaped(DerivativeOut, session.connection().execute(query.order_by(*ordering)))


def trades_by_symbol(transactions: Iterable[TransactionOut]) -> dict[str, list[Trade]]:
    """Buys and sells by symbol, in booking order, from a customer's transactions."""
    booked = sorted(
        (t for t in transactions if t.transaction_type in ("buy", "sell")),
        key=lambda t: (t.transaction_date, t.id),
    )
    trades: dict[str, list[Trade]] = defaultdict(list)
    for row in booked:
        if row.symbol and row.quantity is not None and row.price is not None:
            signed = row.quantity if row.transaction_type == "buy" else -row.quantity
            trades[row.symbol].append(
                Trade(on=row.transaction_date, quantity=signed, price=row.price)
            )
    return trades


def read_trades(session: Session, oid: str) -> dict[str, list[Trade]]:
    query = select(*TRANSACTION_COLUMNS).where(
        TRANSACTIONS.c.customer_oid == oid, TRANSACTIONS.c.transaction_type.in_(["buy", "sell"])
    )
    return trades_by_symbol(_shaped(TransactionOut, session.connection().execute(query)))


def cash_events(
    transactions: Sequence[TransactionOut], kinds: tuple[str, ...], *, other_than: str | None = None
) -> list[CashEvent]:
    """The transactions of these types (in currencies other than ``other_than``), oldest
    first: what conversion at each day's rate and the customer's own return need."""
    chosen = [
        t
        for t in transactions
        if t.transaction_type in kinds and (other_than is None or t.currency != other_than)
    ]
    chosen.sort(key=lambda t: (t.transaction_date, t.id))
    return [
        CashEvent(
            on=t.transaction_date,
            category=t.category or "",
            currency=t.currency,
            amount=t.amount,
            symbol=t.symbol,
        )
        for t in chosen
    ]


def read_cash_events(
    session: Session, oid: str, kinds: tuple[str, ...], *, other_than: str | None = None
) -> list[CashEvent]:
    """``cash_events`` of a customer, read in one statement."""
    query = select(*TRANSACTION_COLUMNS).where(
        TRANSACTIONS.c.customer_oid == oid, TRANSACTIONS.c.transaction_type.in_(kinds)
    )
    if other_than is not None:
        query = query.where(TRANSACTIONS.c.currency != other_than)
    rows = _shaped(TransactionOut, session.connection().execute(query))
    return cash_events(rows, kinds, other_than=other_than)
