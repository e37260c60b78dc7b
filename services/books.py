"""Kept figures: what every read of a customer would otherwise derive from the whole statement.

A bank keeps running balances and positions instead of summing its journal for every
statement; so does this one. Balances per account (``bank_accounts.balance``), the
quantity of each holding (``assets.quantity``) and spending by month, category and
currency (``spending``) are kept in their own tables by the writes that book the rows.
The rest is kept here, one ``kept_books`` row per customer:

- how many transactions there are;
- the trades by symbol (day, signed quantity, price, in booking order) and from them each
  position's quantity and average cost: the cost basis, and the flows of performance;
- the income paid into cash (dividends, coupons, interest), one event per row;
- card spending summed per day, category and currency: a payment in another currency is
  converted at the rate of its own day, and one day's payments share that rate, so the
  daily sums convert to exactly what the payments would.

Every write that books rows calls ``keep_book`` in its own transaction; the bulk loader
writes the books its generator derived from the same bookings (``fold_book``), and the
sample seeding ``keep_books``. ``compute_books`` derives the same figures from the raw
rows: what ``rebuild_books`` and ``disagreements`` (``python -m scripts.books``) and the
tests use. A change to the rows from outside the bank marks the book stale (a trigger,
migration 0010): it is derived from the rows on each read until rebuilt.
"""

import hashlib
import json
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from itertools import groupby
from operator import itemgetter
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, bindparam, delete, func, insert, null, select, update
from sqlmodel import Session

from analysis.valuation import CashEvent, Trade
from core.money import BASE_CURRENCY
from models import Customer, KeptBook, Transaction
from services.market import MarketSnapshot

TRADE_TYPES = ("buy", "sell")
INCOME_TYPES = ("dividend", "interest")
CARD_TYPES = ("card_payment",)
KEPT_TYPES = TRADE_TYPES + INCOME_TYPES + CARD_TYPES

_T = Transaction.__table__.c  # type: ignore[attr-defined]
_B = KeptBook.__table__  # type: ignore[attr-defined]
_USERS = Customer.__table__.c  # type: ignore[attr-defined]


@dataclass
class Book:
    """One customer's kept figures, as the analysis uses them."""

    transaction_count: int = 0
    trades: dict[str, list[Trade]] = field(default_factory=dict)
    """By symbol, in booking order (day, then id)."""
    income: list[CashEvent] = field(default_factory=list)
    """Dividends, coupons and interest, oldest first."""
    card_spending: list[CashEvent] = field(default_factory=list)
    """Card payments (negative) summed per day, category and currency, oldest first."""

    def card_payments(self, other_than: str | None = None) -> list[CashEvent]:
        """Card spending in currencies other than ``other_than`` (all when None)."""
        return [e for e in self.card_spending if other_than is None or e.currency != other_than]

    def to_json(self) -> dict[str, str]:
        """The row's columns: Decimals as exact strings, days in ISO form."""
        return {
            "trades": _dump(
                {
                    s: [[t.on.isoformat(), str(t.quantity), str(t.price)] for t in trades]
                    for s, trades in sorted(self.trades.items())
                }
            ),
            "income": _dump([_event(e, with_symbol=True) for e in self.income]),
            "card_spending": _dump([_event(e, with_symbol=False) for e in self.card_spending]),
        }


def _dump(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


def _event(e: CashEvent, *, with_symbol: bool) -> list[str | None]:
    shown: list[str | None] = [e.on.isoformat(), e.category, e.currency, str(e.amount)]
    return [*shown, e.symbol] if with_symbol else shown


def _events(raw: str) -> list[CashEvent]:
    return [
        CashEvent(
            on=date.fromisoformat(row[0]),
            category=row[1],
            currency=row[2],
            amount=Decimal(row[3]),
            symbol=row[4] if len(row) > 4 else None,
        )
        for row in json.loads(raw)
    ]


def book_from_row(count: int, trades: str, income: str, card_spending: str) -> Book:
    return Book(
        transaction_count=count,
        trades={
            symbol: [Trade(date.fromisoformat(d), Decimal(q), Decimal(p)) for d, q, p in rows]
            for symbol, rows in json.loads(trades).items()
        },
        income=_events(income),
        card_spending=_events(card_spending),
    )


_READ = select(
    _B.c.transaction_count, _B.c.trades, _B.c.income, _B.c.card_spending, _B.c.book_stale
).where(_B.c.customer_oid == bindparam("oid"))


def read_book(session: Session, oid: str) -> Book:
    """A customer's kept figures, or the same derived from the rows when none are kept or
    the rows changed outside the bank's writes (``book_stale``)."""
    connection = session.connection()
    row = connection.execute(_READ, {"oid": oid}).first()
    if row is None or row.book_stale:
        return compute_books(connection, [oid]).get(oid, Book())
    return book_from_row(*row[:4])


# Deriving the figures from the raw rows.

_COUNTS = select(_T.customer_oid, func.count()).group_by(_T.customer_oid)
_KEPT_ROWS = select(
    _T.customer_oid,
    _T.transaction_type,
    _T.transaction_date,
    _T.symbol,
    _T.quantity,
    _T.price,
    _T.category,
    _T.currency,
    _T.amount,
).where(_T.transaction_type.in_(KEPT_TYPES))
_ORDER = (_T.customer_oid, _T.transaction_date, _T.id)


KeptRow = tuple[str, date, str | None, Decimal | None, Decimal | None, str | None, str, Decimal]
"""A transaction as the book needs it: type, day, symbol, quantity, price, category,
currency, amount."""


def fold_book(rows: Iterable[KeptRow], transaction_count: int) -> Book:
    """One customer's book from its kept rows in booking order (day, then id)."""
    book = Book(transaction_count=transaction_count)
    cards: dict[tuple[date, str, str], Decimal] = {}
    for kind, day, symbol, quantity, price, category, currency, amount in rows:
        if kind in TRADE_TYPES:
            if symbol and quantity is not None and price is not None:
                signed = quantity if kind == "buy" else -quantity
                book.trades.setdefault(symbol, []).append(Trade(day, signed, price))
        elif kind in INCOME_TYPES:
            book.income.append(CashEvent(day, category or "", currency, amount, symbol))
        elif kind in CARD_TYPES:
            key = (day, category or "", currency)
            cards[key] = cards.get(key, Decimal(0)) + amount
    book.card_spending = [CashEvent(d, c, cur, a) for (d, c, cur), a in sorted(cards.items())]
    return book


def compute_books(connection: Connection, oids: Sequence[str] | None = None) -> dict[str, Book]:
    """Every named customer's figures (every customer's when None) from the raw rows."""
    counts = _COUNTS
    kept = _KEPT_ROWS.order_by(*_ORDER)
    users = select(_USERS.customer_oid)
    if oids is not None:
        counts = counts.where(_T.customer_oid.in_(oids))
        kept = kept.where(_T.customer_oid.in_(oids))
        users = users.where(_USERS.customer_oid.in_(oids))
    counted: dict[str, int] = {row[0]: row[1] for row in connection.execute(counts)}
    books = {oid: Book() for oid in connection.execute(users).scalars()}
    for oid, rows in groupby(connection.execute(kept), key=itemgetter(0)):
        if oid in books:
            books[oid] = fold_book((row[1:] for row in rows), counted.get(oid, 0))
    for oid, book in books.items():
        book.transaction_count = counted.get(oid, 0)
    return books


def extended_columns(trades: str, income: str, card_spending: str, added: Book) -> dict[str, str]:
    """A kept book's JSON columns with ``added`` (the book of rows booked after all of its
    own) appended: what ``fold_book`` would give for the old rows and the new together,
    without turning the old figures into Decimals and back."""
    new = added.to_json()
    kept_trades = orjson.loads(trades)
    for symbol, rows in orjson.loads(new["trades"]).items():
        kept_trades.setdefault(symbol, []).extend(rows)
    cards = {tuple(row[:3]): row[3] for row in orjson.loads(card_spending)}
    for *key, amount in orjson.loads(new["card_spending"]):
        found = cards.get(tuple(key))
        cards[tuple(key)] = amount if found is None else str(Decimal(found) + Decimal(amount))
    return {
        "trades": _dump({symbol: kept_trades[symbol] for symbol in sorted(kept_trades)}),
        "income": _dump(orjson.loads(income) + orjson.loads(new["income"])),
        "card_spending": _dump([[*key, amount] for key, amount in sorted(cards.items())]),
    }


_READ_MANY = select(
    _B.c.customer_oid, _B.c.transaction_count, _B.c.trades, _B.c.income, _B.c.card_spending
)


def keep_extended(connection: Connection, added: dict[str, tuple[list[KeptRow], int]]) -> list[str]:
    """Extend the kept books of these customers by the rows just booked for them (each:
    the kept kinds among them in booking order, and how many rows in all), without reading
    their statements again. The caller vouches that the books were up to date before and
    that the rows come after all of theirs. The customers who had no kept book: theirs is
    to be derived (``keep_books``)."""
    if not added:
        return []
    found = connection.execute(_READ_MANY.where(_B.c.customer_oid.in_(sorted(added))))
    values = []
    seen = set()
    for oid, count, trades, income, cards in sorted(found):
        seen.add(oid)
        rows, booked = added[oid]
        columns = extended_columns(trades, income, cards, fold_book(rows, booked))
        values.append({"kept_oid": oid, "count": count + booked, **_renamed(columns)})
    if values:
        connection.execute(
            update(_B)
            .where(_B.c.customer_oid == bindparam("kept_oid"))
            .values(
                {
                    "transaction_count": bindparam("count"),
                    "trades": bindparam("trades_json"),
                    "income": bindparam("income_json"),
                    "card_spending": bindparam("cards_json"),
                    **NO_SUMMARY,
                }
            ),
            values,
        )
    return sorted(set(added) - seen)


def _renamed(columns: dict[str, str]) -> dict[str, str]:
    names = {"trades": "trades_json", "income": "income_json", "card_spending": "cards_json"}
    return {names[name]: value for name, value in columns.items()}


def _rows(books: dict[str, Book]) -> list[dict[str, Any]]:
    return [kept_row(oid, b) for oid, b in books.items()]


def keep_books(connection: Connection, oids: Sequence[str]) -> int:
    """Derive and keep the books of these customers, in the caller's transaction."""
    if not oids:
        return 0
    books = compute_books(connection, oids)
    connection.execute(delete(_B).where(_B.c.customer_oid.in_(oids)))
    if books:
        connection.execute(insert(_B), _rows(books))
    return len(books)


NO_SUMMARY = {"summary": None, "statement": None, "summary_key": None, "book_stale": False}
"""What a kept row holds before ``services/kept.py`` computes its summary and statement."""


def keep_book(session: Session, oid: str) -> None:
    """After a write that booked rows for ``oid``: its book again, in the same transaction."""
    session.flush()  # the ORM's pending rows (balances, holdings) first: they are derived from
    connection = session.connection()
    book = compute_books(connection, [oid]).get(oid)
    if book is None:  # deleted: the row went with the customer
        return
    # The kept summary was computed from the rows before this write: it goes too.
    values = {"transaction_count": book.transaction_count, **book.to_json(), **NO_SUMMARY}
    done = connection.execute(update(_B).where(_B.c.customer_oid == oid).values(values))
    if done.rowcount == 0:
        connection.execute(insert(_B).values(customer_oid=oid, **values))


BATCH = 500


def rebuild_books(connection: Connection, *, progress: bool = False) -> int:
    """Every customer's book again from the raw rows, ``BATCH`` customers per statement."""
    oids = list(connection.execute(select(_USERS.customer_oid).order_by(_USERS.id)).scalars())
    connection.execute(delete(_B))
    done = 0
    for start in range(0, len(oids), BATCH):
        chunk = oids[start : start + BATCH]
        books = compute_books(connection, chunk)
        if books:
            connection.execute(insert(_B), _rows(books))
        done += len(books)
        if progress:
            print(f"\r{done:,} of {len(oids):,} customers", end="", flush=True)
    if progress:
        print()
    return done


def disagreements(
    connection: Connection, oids: Sequence[str] | None = None, *, stale_ok: bool = False
) -> list[str]:
    """Where the kept books and the raw rows disagree, one line per customer (none: all kept).
    A book marked stale is read from the rows, never used; ``stale_ok`` does not list it."""
    derived = compute_books(connection, oids)
    query = select(_B.c.customer_oid, _B.c.transaction_count, _B.c.trades, _B.c.income)
    query = query.add_columns(_B.c.card_spending, _B.c.book_stale)
    if oids is not None:
        query = query.where(_B.c.customer_oid.in_(oids))
    found = []
    seen = set()
    for oid, count, trades, income, cards, stale in connection.execute(query):
        seen.add(oid)
        expected = derived.get(oid)
        if expected is None:
            found.append(f"{oid}: a book is kept for a customer that does not exist")
            continue
        if stale:
            if not stale_ok:
                found.append(f"{oid}: rows changed outside the bank's writes (book stale)")
            continue
        kept = book_from_row(count, trades, income, cards)
        for name in ("transaction_count", "trades", "income", "card_spending"):
            if getattr(kept, name) != getattr(expected, name):
                found.append(f"{oid}: {name} kept differs from the rows")
    for oid in sorted(set(derived) - seen):
        found.append(f"{oid}: no book is kept")
    return found


def kept_row(oid: str, book: Book) -> dict[str, Any]:
    """The ``kept_books`` row of a book, by column (no summary yet: ``services/kept.py``)."""
    return {
        "customer_oid": oid,
        "transaction_count": book.transaction_count,
        **book.to_json(),
        **NO_SUMMARY,
    }


# The kept summary: computed and kept by ``services/kept.py``.

_PROJECT = Path(__file__).resolve().parent.parent


def _code_version() -> str:
    """A digest of the code a summary is computed with: the analysis, the market model, the
    answers' shapes, and the services that read the rows for it."""
    digest = hashlib.sha256()
    sources = [
        p for folder in ("analysis", "market", "schemas") for p in (_PROJECT / folder).glob("*.py")
    ]
    sources += [_PROJECT / "services" / f"{name}.py" for name in ("portfolio", "books", "records")]
    sources += [_PROJECT / "core" / "money.py"]
    for path in sorted(sources):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


CODE_VERSION = _code_version()


def summary_key(market: MarketSnapshot, base: str = BASE_CURRENCY) -> str:
    return f"{market.version}:{CODE_VERSION}:{base}"


_KEPT_SUMMARY = select(_B.c.summary, null().label("statement")).where(
    _B.c.customer_oid == bindparam("oid"), _B.c.summary_key == bindparam("key")
)
_KEPT_BOTH = _KEPT_SUMMARY.with_only_columns(_B.c.summary, _B.c.statement)


@dataclass(frozen=True)
class KeptAnswers:
    summary: bytes
    """The summary's JSON."""
    statement: bytes | None
    """Every transaction, newest first, as the JSON array /user-portfolio sends (when
    asked for)."""


def read_kept(session: Session, oid: str, key: str, *, statement: bool) -> KeptAnswers | None:
    """The kept summary, and the statement if asked, when they were computed with ``key``."""
    query = _KEPT_BOTH if statement else _KEPT_SUMMARY
    found = session.connection().execute(query, {"oid": oid, "key": key}).first()
    if found is None or found.summary is None:
        return None
    kept = None if found.statement is None else zlib.decompress(found.statement)
    return KeptAnswers(found.summary.encode(), kept)
