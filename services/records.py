"""A customer's own rows: holdings, accounts, filtered and paged transactions, spending,
derivatives and trades, shaped as the API sends them.

Rows are read as plain tuples of the columns each answer shows (no ORM object per
row) and shaped without validating again what the database already holds.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any, TypeVar, cast

import orjson
from pydantic import BaseModel, TypeAdapter
from sqlalchemy import (
    BigInteger,
    BindParameter,
    Double,
    Result,
    Table,
    bindparam,
    func,
    literal_column,
    null,
    select,
    type_coerce,
)
from sqlalchemy import cast as sql_cast
from sqlmodel import Session

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


def _scaled_as_float(value: Any) -> Any:
    """A scaled-integer column as the float its JSON number is (see ``_json_columns``)."""
    as_float: Any = sql_cast(type_coerce(value, BigInteger()), Double())
    unit: Any = literal_column(repr(float(10**value.type.scale)), Double())
    return (as_float / unit).label(value.name)


def _json_columns() -> list[Any]:
    """``OriginalTransaction``'s JSON fields in its order, each a column expression whose
    value the driver returns ready for orjson: no conversion per row in Python.

    An amount of ``n`` units of ``10**-k`` becomes ``CAST(n AS DOUBLE) / 10**k``: the
    integer is exact in a double and IEEE division rounds once, so it is the very float
    that ``float(Decimal)`` gives, which is what the model's serialiser sends. Days come as
    ISO text (SQLite) or dates (PostgreSQL), which orjson writes alike; the original's three
    names repeat their columns. Only the category's group is filled in afterwards."""
    column = TRANSACTIONS.c
    shaped = []
    for name in [*TransactionOut.model_fields, "date", "type", "asset"]:
        source = {"date": "transaction_date", "type": "transaction_type", "asset": "symbol"}
        if name == "category_group":  # a dictionary lookup in Python: cheaper than a CASE
            shaped.append(null().label(name))
            continue
        value = column[source.get(name, name)]
        if isinstance(value.type, ScaledDecimal):
            shaped.append(_scaled_as_float(value))
        else:
            shaped.append(value.label(name))
    return shaped


_JSON_COLUMNS = _json_columns()
_JSON_NAMES = tuple(c.name for c in _JSON_COLUMNS)
_RAW_NEWEST = (
    select(*_JSON_COLUMNS)
    .where(TRANSACTIONS.c.customer_oid == OID)
    .order_by(TRANSACTIONS.c.transaction_date.desc(), TRANSACTIONS.c.id.desc())
)
_RAW_NEWEST_FEW = _RAW_NEWEST.limit(bindparam("limit"))


def newest_transaction_values(
    session: Session, oid: str, limit: int | None = None
) -> list[dict[str, Any]]:
    """A customer's transactions, newest first, as the JSON values ``OriginalTransaction``
    would send (its fields in its order, the original's three names last), without a model
    per row. ``tests/test_kept_books.py`` holds them to the model's own serialisation."""
    if limit is None:
        rows = _driver_rows(session, _RAW_NEWEST, {"oid": oid})
    else:
        rows = _driver_rows(session, _RAW_NEWEST_FEW, {"oid": oid, "limit": limit})
    names, groups = _JSON_NAMES, TAXONOMY
    shaped = []
    for row in rows:
        values = dict(zip(names, row, strict=True))
        category = values["category"]
        if category is not None:
            values["category_group"] = groups.get(category)
        shaped.append(values)
    return shaped


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
    if not from_month and not to_month:
        return _shaped(SpendingOut, _read(session, _EVERY_SPENDING, oid))
    query = select(*_columns(SPENDING, SpendingOut)).where(SPENDING.c.customer_oid == oid)
    if from_month:
        query = query.where(SPENDING.c.month >= from_month)
    if to_month:
        query = query.where(SPENDING.c.month <= to_month)
    return _shaped(SpendingOut, session.connection().execute(query.order_by(*_SPENDING_ORDER)))


_SPENDING_ORDER = (SPENDING.c.month, SPENDING.c.category, SPENDING.c.id)
_EVERY_SPENDING = (
    select(*_columns(SPENDING, SpendingOut))
    .where(SPENDING.c.customer_oid == OID)
    .order_by(*_SPENDING_ORDER)
)


_SPENDING_JSON = (
    select(
        *(
            _scaled_as_float(c) if isinstance(c.type, ScaledDecimal) else c
            for c in _columns(SPENDING, SpendingOut)
        )
    )
    .where(SPENDING.c.customer_oid == OID)
    .order_by(*_SPENDING_ORDER)
)
_SPENDING_NAMES = tuple(SpendingOut.model_fields)


def spending_json(session: Session, oid: str) -> bytes:
    """A customer's spending rows as the JSON array ``list[SpendingOut]`` would be, without a
    model per row (``tests/test_kept_books.py`` holds the two to the same bytes)."""
    rows = _driver_rows(session, _SPENDING_JSON, {"oid": oid})
    names = _SPENDING_NAMES
    return orjson.dumps([dict(zip(names, row, strict=True)) for row in rows])


_DERIVATIVES = (
    select(
        *_columns(DERIVATIVES, DerivativeOut),
        DERIVATIVES.c.side.label("position"),
        DERIVATIVES.c.premium.label("premium_per_unit"),
    )
    .where(DERIVATIVES.c.customer_oid == OID)
    .order_by(DERIVATIVES.c.trade_date.desc(), DERIVATIVES.c.id.desc())
)
_DERIVATIVES_BY_STATUS = _DERIVATIVES.where(DERIVATIVES.c.status == bindparam("status"))


def list_derivatives(session: Session, oid: str, status: str | None = None) -> list[DerivativeOut]:
    if status is None:
        return _shaped(DerivativeOut, _read(session, _DERIVATIVES, oid))
    found = session.connection().execute(_DERIVATIVES_BY_STATUS, {"oid": oid, "status": status})
    return _shaped(DerivativeOut, found)
