"""Booking outside an instruction: what a sandbox's day books for its customers.

Dividends, coupons, expiring options and the statement flows of a day are not instructions
that a customer gave: ``DayLedger`` posts their rows, moves the balances and holdings they
belong to, and at the end of the day says what it added (``Effect``s, with the rows' ids);
``keep`` then keeps the books of every customer it touched, in the clock's transaction, as
every write of the bank does. ``apply_bookings`` books a list of the synthetic generator's
booking tuples (``synthetic/book.py``) for one customer: the seam the statement flows of a
continued sandbox use.
"""

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import insert, true
from sqlmodel import Session, col, select

from core.money import MONEY_SCALE, PRICE_SCALE, QUANTITY_SCALE
from market.model import monthly_spending
from models import AccountType, Asset, BankAccount, KeptBook, Spending, Transaction
from services.books import KEPT_TYPES, KeptRow, keep_books, keep_extended
from services.effects import BALANCE_CHANGED, HOLDING_CHANGED, TRANSACTION_ADDED, Effect

BOOKING_FIELDS = (
    "transaction_date", "transaction_type", "description", "account_id", "category", "amount",
    "currency", "symbol", "quantity", "price", "merchant", "merchant_category_code", "channel",
    "booking_date", "value_date",
)  # fmt: skip
"""The fields of a booking tuple, in order (``synthetic.book.TRANSACTION_COLUMNS`` without
the id and customer): days as ISO strings, amount in cents, quantity and price as integers
in their storage scales."""


class PostedRow(NamedTuple):
    """A statement row posted in bulk (``post_bookings``): what the day's effects, the
    monthly spending and the kept books read of it, without an ORM object per row."""

    id: int
    customer_oid: str
    account_id: int
    transaction_date: date
    transaction_type: str
    category: str | None
    amount: Decimal
    currency: str
    symbol: str | None
    quantity: Decimal | None
    price: Decimal | None


Posted = Transaction | PostedRow


class DayLedger:
    """The rows, balances and holdings one day books, and the customers whose books to keep."""

    def __init__(self, session: Session, day: date) -> None:
        self.session = session
        self.day = day
        self.rows: list[Posted] = []
        self.accounts: dict[int, BankAccount] = {}
        self.holdings: list[Effect] = []
        self.touched: set[str] = set()
        self.loaded: dict[int, BankAccount] = {}
        """Accounts read for the day at once (``statement_balances``), held here: the
        session's identity map alone keeps them only while something else does."""

    def account(self, account_id: int | None) -> BankAccount | None:
        if account_id is None:
            return None
        found = self.loaded.get(account_id)
        return found if found is not None else self.session.get(BankAccount, account_id)

    def post(self, account: BankAccount, amount: Decimal, **row: Any) -> Transaction:
        """A statement row on ``account`` for the day; the balance moves with it."""
        account.balance += amount
        self.session.add(account)
        added = Transaction(
            customer_oid=account.customer_oid,
            account_id=account.id,
            transaction_date=row.pop("transaction_date", self.day),
            amount=amount,
            currency=account.currency,
            booking_date=row.pop("booking_date", self.day),
            value_date=row.pop("value_date", self.day),
            **row,
        )
        self.adopt([added], [account])
        return added

    def adopt(self, rows: Iterable[Transaction], accounts: Iterable[BankAccount]) -> None:
        """Rows and balances written by someone else (a scheduled payment): reported and
        kept with the day's own."""
        for row in rows:
            self.session.add(row)
            self.rows.append(row)
            self.touched.add(row.customer_oid)
        for account in accounts:
            self.accounts[account.id or 0] = account

    def _holding(self, oid: str, symbol: str) -> Asset | None:
        return self.session.exec(
            select(Asset).where(Asset.customer_oid == oid, Asset.symbol == symbol)
        ).first()

    def held(self, oid: str, symbol: str) -> Decimal:
        """How much of ``symbol`` the customer holds now."""
        found = self._holding(oid, symbol)
        return found.quantity if found is not None else Decimal(0)

    def hold(self, oid: str, account_id: int | None, symbol: str, change: Decimal) -> Decimal:
        """Move the customer's holding of ``symbol`` by ``change``; the quantity after."""
        held = self._holding(oid, symbol)
        before = held.quantity if held is not None else Decimal(0)
        after = before + change
        if held is None and after == 0:
            return after
        if held is None:
            held = Asset(customer_oid=oid, account_id=account_id, symbol=symbol, quantity=after)
            self.session.add(held)
        elif after == 0:
            self.session.delete(held)
        else:
            held.quantity = after
            self.session.add(held)
        self.touched.add(oid)
        self.holdings.append(
            Effect(
                HOLDING_CHANGED,
                oid,
                {"symbol": symbol, "quantity_before": str(before), "quantity_after": str(after)},
            )
        )
        return after

    def close(self) -> list[Effect]:
        """Write what is pending; the rows added and the balances after, as effects."""
        self.session.flush()
        effects = [
            Effect(
                TRANSACTION_ADDED,
                row.customer_oid,
                {
                    "transaction_id": row.id,
                    "account_id": row.account_id,
                    "transaction_type": row.transaction_type,
                    "amount": str(row.amount),
                    "currency": row.currency,
                },
            )
            for row in self.rows
        ]
        effects += [
            Effect(
                BALANCE_CHANGED,
                account.customer_oid,
                {
                    "account_id": account.id,
                    "currency": account.currency,
                    "balance": str(account.balance),
                },
            )
            for _, account in sorted(self.accounts.items())
        ]
        return effects + self.holdings


def stale_books(session: Session) -> set[str]:
    """The customers whose kept books are stale (rows changed outside the bank's writes):
    read before a day books anything, since the bank's own inserts mark them too."""
    kept = KeptBook.__table__.c  # type: ignore[attr-defined]
    found = session.connection().execute(select(kept.customer_oid).where(kept.book_stale == true()))
    return set(found.scalars())


def keep(
    session: Session,
    touched: Iterable[str],
    rows: Sequence[Posted],
    after: date,
    stale: set[str],
) -> None:
    """Keep the books of the customers ``touched`` (``rows`` were booked for them, or their
    positions changed). A book that was up to date (not in ``stale``) and whose new rows all
    come after ``after`` (the last day it had) is extended by them; any other is derived
    from the statement again. The kept summaries go with the old books."""
    session.flush()
    added: dict[str, tuple[list[KeptRow], int]] = {oid: ([], 0) for oid in touched}
    derive = set(stale)
    for row in rows:
        kept, count = added.setdefault(row.customer_oid, ([], 0))
        added[row.customer_oid] = (kept, count + 1)
        if row.transaction_date <= after:
            derive.add(row.customer_oid)
        if row.transaction_type in KEPT_TYPES:
            kept.append(
                (row.transaction_type, row.transaction_date, row.symbol, row.quantity,
                 row.price, row.category, row.currency, row.amount)
            )  # fmt: skip
    connection = session.connection()
    derive &= set(added)
    missing = keep_extended(connection, {o: a for o, a in added.items() if o not in derive})
    keep_books(connection, sorted(derive | set(missing)))


def apply_bookings(
    ledger: DayLedger, oid: str, bookings: Sequence[tuple[Any, ...]]
) -> list[PostedRow]:
    """Book the generator's booking tuples for ``oid`` on the ledger's day (``post_bookings``
    for one customer), card payments into the month's ``spending``. The rows, in order."""
    posted = post_bookings(ledger, [(oid, booking) for booking in bookings])
    add_spending(ledger.session, posted)
    return posted


class SpendingRows:
    """The monthly ``spending`` rows an advance adds to, read once per customer and month
    (and held: each day of a month adds to the same rows)."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str, str, str], Spending] = {}
        self.read: set[tuple[str, str]] = set()

    def load(self, session: Session, wanted: set[tuple[str, str]]) -> None:
        missing = wanted - self.read
        if not missing:
            return
        customers = sorted({oid for oid, _ in missing})
        months = sorted({month for _, month in missing})
        for found in session.exec(
            select(Spending).where(
                col(Spending.customer_oid).in_(customers), col(Spending.month).in_(months)
            )
        ):
            key = (found.customer_oid, found.month, found.category, found.currency)
            self.rows.setdefault(key, found)
        self.read |= {(oid, month) for oid in customers for month in months}


def add_spending(
    session: Session, rows: Sequence[Posted], held: SpendingRows | None = None
) -> None:
    """The card payments among ``rows`` into their customers' monthly ``spending``: the rows
    they add to are read at once (or were, into ``held``, by an earlier day)."""
    if not rows:
        return
    held = held or SpendingRows()
    by_customer: dict[str, list[Posted]] = {}
    for row in rows:
        by_customer.setdefault(row.customer_oid, []).append(row)
    held.load(session, {(row.customer_oid, row.transaction_date.isoformat()[:7]) for row in rows})
    for oid, own in by_customer.items():
        _add_spending(session, oid, own, held.rows)


def _add_spending(
    session: Session,
    oid: str,
    rows: Sequence[Posted],
    existing: dict[tuple[str, str, str, str], Spending],
) -> None:
    spent = monthly_spending(
        (r.transaction_date.isoformat()[:7], r.transaction_type, r.category, r.currency, r.amount)
        for r in rows
    )
    for month, category, currency, amount, count in spent:
        found = existing.get((oid, month, category, currency))
        if found is None:
            found = Spending(
                customer_oid=oid, month=month, category=category, currency=currency,
                amount=Decimal(0), transaction_count=0,
            )  # fmt: skip
            existing[(oid, month, category, currency)] = found
        found.amount += amount
        found.transaction_count += count
        session.add(found)


def statement_balances(ledger: DayLedger) -> dict[int, int]:
    """Every checking and savings account's balance now, in cents: what a day of the
    statement flows starts from (the day's earlier bookings included). The ledger keeps
    the accounts, so that booking on them reads none again."""
    found = ledger.session.exec(
        select(BankAccount).where(
            col(BankAccount.account_type).in_((AccountType.checking, AccountType.savings))
        )
    )
    ledger.loaded.update((account.id or 0, account) for account in found)
    return {key: int(account.balance.scaleb(MONEY_SCALE)) for key, account in ledger.loaded.items()}


def post_bookings(
    ledger: DayLedger, bookings: Sequence[tuple[str, tuple[Any, ...]]]
) -> list[PostedRow]:
    """Post many customers' booking tuples at once: each (customer, booking) on an account
    of that customer in the booking's currency, inserted in one statement, the balances
    moved on the ledger's accounts. Monthly spending is the caller's (``add_spending``)."""
    values, moved = [], []
    for oid, booking in bookings:
        fields = dict(zip(BOOKING_FIELDS, booking, strict=True))
        account = ledger.account(fields["account_id"])
        if account is None or account.customer_oid != oid:
            raise ValueError(f"a booking of {oid} names an account that is not theirs")
        if fields["currency"] != account.currency:
            raise ValueError(f"a booking of {oid} is not in its account's currency")
        amount = Decimal(fields["amount"]).scaleb(-MONEY_SCALE)
        for name, scale in (("quantity", QUANTITY_SCALE), ("price", PRICE_SCALE)):
            if fields[name] is not None:
                fields[name] = Decimal(fields[name]).scaleb(-scale)
        for name in ("transaction_date", "booking_date", "value_date"):
            fields[name] = date.fromisoformat(fields[name])
        values.append({**fields, "customer_oid": oid, "amount": amount})
        moved.append((account, amount))
    if not values:
        return []
    ledger.session.flush()
    table = Transaction.__table__  # type: ignore[attr-defined]
    ids = (
        ledger.session.connection()
        .execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), values)
        .scalars()
    )
    posted = []
    for row_id, row, (account, amount) in zip(ids, values, moved, strict=True):
        account.balance += amount
        ledger.accounts[account.id or 0] = account
        ledger.touched.add(account.customer_oid)
        posted.append(
            PostedRow(
                id=row_id,
                customer_oid=row["customer_oid"],
                account_id=row["account_id"],
                transaction_date=row["transaction_date"],
                transaction_type=row["transaction_type"],
                category=row["category"],
                amount=row["amount"],
                currency=row["currency"],
                symbol=row["symbol"],
                quantity=row["quantity"],
                price=row["price"],
            )
        )
    ledger.rows += posted
    return posted
