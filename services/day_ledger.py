"""Booking outside an instruction: what a sandbox's day books for its customers.

Dividends, coupons, expiring options and the statement flows of a day are not instructions
that a customer gave: ``DayLedger`` posts their rows, moves the balances and holdings they
belong to, and at the end of the day says what it added (``Effect``s, with the rows' ids);
``keep`` then keeps the books of every customer it touched, in the clock's transaction, as
every write of the bank does. ``apply_bookings`` books a list of the synthetic generator's
booking tuples (``synthetic/book.py``) for one customer: the seam the statement flows of a
continued sandbox use.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import Connection, text, true
from sqlalchemy import select as select_columns
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from core.bulk import on_driver, update_rows, write_rows
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
in their storage scales: the form the rows are stored in."""
TRANSACTION_COLUMNS = (*BOOKING_FIELDS, "id", "customer_oid")
SPENDING_COLUMNS = (
    "id", "customer_oid", "month", "category", "currency", "amount", "transaction_count",
)  # fmt: skip
TYPE, ACCOUNT, CATEGORY, AMOUNT, CURRENCY, SYMBOL, QUANTITY, PRICE = 1, 3, 4, 5, 6, 7, 8, 9


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

    def __init__(
        self, session: Session, day: date, loaded: dict[int, BankAccount] | None = None
    ) -> None:
        self.session = session
        self.day = day
        self.rows: list[Posted] = []
        self.accounts: dict[int, BankAccount] = {}
        self.holdings: list[Effect] = []
        self.touched: set[str] = set()
        self.loaded: dict[int, BankAccount] = {} if loaded is None else loaded
        """Accounts read at once (``statement_balances``), held here: the session's identity
        map alone keeps them only while something else does. The days of one advance share
        them (``loaded``): no day's step opens an account."""

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
    ledger: DayLedger,
    oid: str,
    bookings: Sequence[tuple[Any, ...]],
    spending: "SpendingRows | None" = None,
) -> list[PostedRow]:
    """Book the generator's booking tuples for ``oid`` on the ledger's day (``post_bookings``
    for one customer), card payments into the month's ``spending``. The rows, in order."""
    posted = post_bookings(ledger, [(oid, booking) for booking in bookings])
    add_spending(ledger.session, posted, spending)
    return posted


class SpendingRows:
    """The monthly ``spending`` rows an advance adds to, read once per customer and month
    and held (each day of a month adds to the same rows): key -> [id, amount, count]. What
    the days add to rows already there is written once, at the end (``write``)."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str, str, str], list[Any]] = {}
        self.read: set[tuple[str, str]] = set()
        self.unwritten: dict[tuple[str, str, str, str], list[Any]] = {}

    def write(self, connection: Connection) -> None:
        """Write the totals of the rows added to since the last write."""
        rows = [(i, _cents(amount), count) for i, amount, count in self.unwritten.values()]
        columns = ("amount", "transaction_count")
        on_driver(connection, update_rows, "spending", "id", columns, rows)
        self.unwritten.clear()

    def load(self, connection: Connection, wanted: set[tuple[str, str]]) -> None:
        missing = wanted - self.read
        if not missing:
            return
        customers = sorted({oid for oid, _ in missing})
        months = sorted({month for _, month in missing})
        table = Spending.__table__  # type: ignore[attr-defined]
        for row_id, *key, amount, count in connection.execute(
            select_columns(
                table.c.id, table.c.customer_oid, table.c.month, table.c.category,
                table.c.currency, table.c.amount, table.c.transaction_count,
            ).where(table.c.customer_oid.in_(customers), table.c.month.in_(months))
        ):  # fmt: skip
            self.rows.setdefault(tuple(key), [row_id, amount, count])
        self.read |= {(oid, month) for oid in customers for month in months}


def add_spending(
    session: Session, rows: Sequence[Posted], held: SpendingRows | None = None
) -> None:
    """The card payments among ``rows`` into their customers' monthly ``spending``, in at
    most three statements: the rows they add to are read at once (or were, into ``held``,
    by an earlier day), then updated (with ``held``, by its ``write``, once the caller is
    done), and the new ones inserted, in bulk. A new row's id follows the order of
    ``rows``' customers, so that a day adds the same rows whatever the days around it. The
    caller's transaction writes."""
    spent: dict[tuple[str, str, str, str], tuple[Decimal, int]] = {}
    by_customer: dict[str, list[Posted]] = {}
    for row in rows:
        by_customer.setdefault(row.customer_oid, []).append(row)
    for oid, own in by_customer.items():
        for month, category, currency, amount, count in monthly_spending(
            (r.transaction_date.isoformat()[:7], r.transaction_type, r.category, r.currency,
             r.amount)
            for r in own
        ):  # fmt: skip
            spent[(oid, month, category, currency)] = (amount, count)
    if not spent:
        return
    held_here = held or SpendingRows()
    session.flush()
    connection = session.connection()
    held_here.load(connection, {(key[0], key[1]) for key in spent})
    new = []
    for key, (amount, count) in spent.items():
        found = held_here.rows.get(key)
        if found is None:
            new.append(key)
            held_here.rows[key] = [0, amount, count]
        else:
            found[1] += amount
            found[2] += count
            held_here.unwritten[key] = found
    if held is None:
        held_here.write(connection)
    if new:
        ids = reserve_ids(connection, "spending", len(new))
        for key, row_id in zip(new, ids, strict=True):
            held_here.rows[key][0] = row_id
        written = [
            (held_here.rows[key][0], *key, _cents(held_here.rows[key][1]), held_here.rows[key][2])
            for key in new
        ]
        on_driver(connection, write_rows, "spending", SPENDING_COLUMNS, written)
    # Written past the ORM: whatever it holds of these rows is read again when next used.
    for kept in list(session.identity_map.values()):
        if isinstance(kept, Spending):
            session.expire(kept)


def statement_balances(ledger: DayLedger) -> dict[int, int]:
    """Every checking and savings account's balance now, in cents: what a day of the
    statement flows starts from (the day's earlier bookings included). The ledger keeps
    the accounts, so that booking on them reads none again; they are read on the first day
    of an advance only, every later day's moves being made on the same objects."""
    if not ledger.loaded:
        found = ledger.session.exec(
            select(BankAccount).where(
                col(BankAccount.account_type).in_((AccountType.checking, AccountType.savings))
            )
        )
        ledger.loaded.update((account.id or 0, account) for account in found)
    return {key: int(account.balance.scaleb(MONEY_SCALE)) for key, account in ledger.loaded.items()}


def reserve_ids(connection: Connection, table: str, count: int) -> list[int]:
    """``count`` new ids of ``table`` (``transactions`` or ``spending``), ascending. The
    caller's transaction writes: on SQLite it holds the database's write lock, so the next
    ids are the highest's successors; on PostgreSQL they come from the column's sequence."""
    if table not in ("transactions", "spending"):
        raise ValueError(f"no ids are reserved for {table}")
    if connection.dialect.name == "postgresql":
        taken = connection.execute(
            text(
                f"SELECT nextval(pg_get_serial_sequence('{table}', 'id'))"
                " FROM generate_series(1, :count)"
            ),
            {"count": count},
        ).scalars()
        return sorted(taken)
    highest = int(
        connection.execute(text(f"SELECT COALESCE(MAX(id), 0) FROM {table}")).scalar() or 0
    )
    return list(range(highest + 1, highest + 1 + count))


def post_bookings(
    ledger: DayLedger, bookings: Sequence[tuple[str, tuple[Any, ...]]]
) -> list[PostedRow]:
    """Post many customers' booking tuples at once: each (customer, booking) on an account
    of that customer in the booking's currency, written in one go as the tuples already are
    (``core.bulk``), the balances moved on the ledger's accounts. Monthly spending is the
    caller's (``add_spending``)."""
    if not bookings:
        return []
    ledger.session.flush()
    connection = ledger.session.connection()
    ids = reserve_ids(connection, "transactions", len(bookings))
    rows: list[tuple[object, ...]] = []
    posted: list[PostedRow] = []
    moved: dict[int, int] = defaultdict(int)
    for row_id, (oid, booking) in zip(ids, bookings, strict=True):
        if len(booking) != len(BOOKING_FIELDS):
            raise ValueError(
                f"a booking of {oid} has {len(booking)} fields, not {len(BOOKING_FIELDS)}"
            )
        account = ledger.account(booking[ACCOUNT])
        if account is None or account.customer_oid != oid:
            raise ValueError(f"a booking of {oid} names an account that is not theirs")
        if booking[CURRENCY] != account.currency:
            raise ValueError(f"a booking of {oid} is not in its account's currency")
        cents, quantity, price = booking[AMOUNT], booking[QUANTITY], booking[PRICE]
        if not all(type(v) is int for v in (cents, quantity or 0, price or 0)):
            raise ValueError(f"a booking of {oid} has an amount that is not in storage units")
        rows.append((*booking, row_id, oid))
        moved[account.id or 0] += cents
        posted.append(
            PostedRow(
                id=row_id,
                customer_oid=oid,
                account_id=booking[ACCOUNT],
                transaction_date=date.fromisoformat(booking[0]),
                transaction_type=booking[TYPE],
                category=booking[CATEGORY],
                amount=Decimal(cents).scaleb(-MONEY_SCALE),
                currency=booking[CURRENCY],
                symbol=booking[SYMBOL],
                quantity=None if quantity is None else Decimal(quantity).scaleb(-QUANTITY_SCALE),
                price=None if price is None else Decimal(price).scaleb(-PRICE_SCALE),
            )
        )
    on_driver(connection, write_rows, "transactions", TRANSACTION_COLUMNS, rows)
    for key, cents in moved.items():
        account = ledger.loaded.get(key) or ledger.account(key)
        assert account is not None
        # Moved as the database holds it: the ORM would update each account on its own.
        set_committed_value(
            account, "balance", account.balance + Decimal(cents).scaleb(-MONEY_SCALE)
        )
        ledger.accounts[key] = account
        ledger.touched.add(account.customer_oid)
    balances = [(key, _cents(ledger.accounts[key].balance)) for key in moved]
    on_driver(connection, update_rows, "bank_accounts", "id", ("balance",), balances)
    ledger.rows += posted
    return posted


def _cents(amount: Decimal) -> int:
    return int(amount.scaleb(MONEY_SCALE))
