"""A customer's own rows: holdings, accounts, filtered and paged transactions, spending,
derivatives and trades, shaped as the API sends them."""

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from analytics import CashEvent, Trade
from errors import InvalidInput
from models import (
    Asset,
    BankAccount,
    DerivativeTransaction,
    Institution,
    Instrument,
    Spending,
    Transaction,
)
from money import CENT, to_cents
from paging import TransactionPosition, decode_cursor, encode_cursor, fingerprint
from schemas import (
    MONTH_PATTERN,
    AssetOut,
    BankAccountOut,
    DerivativeOut,
    InstitutionOut,
    SpendingOut,
    TransactionOut,
)
from services.market import latest_prices

MAX_AMOUNT = 10**15


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


def count_transactions(session: Session, oid: str) -> int:
    return session.exec(
        select(func.count()).select_from(Transaction).where(Transaction.customer_oid == oid)
    ).one()


def cash_events(
    session: Session, oid: str, kinds: tuple[str, ...], *, other_than: str | None = None
) -> list[CashEvent]:
    """The customer's transactions of these types (in currencies other than ``other_than``),
    oldest first: what conversion at each day's rate and the customer's return need."""
    query = select(Transaction).where(
        Transaction.customer_oid == oid, col(Transaction.transaction_type).in_(kinds)
    )
    if other_than is not None:
        query = query.where(Transaction.currency != other_than)
    rows = session.exec(query.order_by(col(Transaction.transaction_date), col(Transaction.id)))
    return [
        CashEvent(
            on=row.transaction_date,
            category=row.category or "",
            currency=row.currency,
            amount=row.amount,
            symbol=row.symbol,
        )
        for row in rows
    ]
