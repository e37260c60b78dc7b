"""One synthetic customer's book: what its statements and its investing both write into.

``Book`` holds the customer (persona, locale, random stream), its accounts and
its bookings, and the two ways to add to them: ``account`` opens one and
``book`` books a transaction. The statement flows (``statements.py``) and
investing (``investing.py``) are mixins over it; ``generator.py`` puts them
together and writes the result.
"""

import random
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from itertools import accumulate
from operator import itemgetter
from typing import Any

from core.identifiers import make_iban
from core.money import MONEY_SCALE, PRICE_SCALE, QUANTITY_SCALE
from market.calendars import BANKING_CALENDAR, month_end
from market.institutions import BBAN_ACCOUNT_DIGITS, IBAN_BANK_CODES
from market.model import AS_OF, Payout, ScaledMarket
from synthetic.personas import Persona

MONEY_UNIT: int = 10**MONEY_SCALE
PRICE_UNIT: int = 10**PRICE_SCALE
QUANTITY_UNIT: int = 10**QUANTITY_SCALE
PRICE_UNITS_PER_CENT = PRICE_UNIT // MONEY_UNIT

TRANSACTION_COLUMNS = (
    "transaction_date", "transaction_type", "description", "account_id", "category", "amount",
    "currency", "symbol", "quantity", "price", "merchant", "merchant_category_code", "channel",
    "booking_date", "value_date", "id", "customer_oid",
)  # fmt: skip
"""Booking tuples start with the date they are sorted by and need only an id appended."""
Booking = tuple[Any, ...]
"""A transaction without its id and customer, in ``TRANSACTION_COLUMNS`` order."""
BY_DAY = itemgetter(0)
ACCOUNT, AMOUNT, TYPE, CATEGORY, CURRENCY = 3, 5, 1, 4, 6
SYMBOL, QUANTITY, PRICE = 7, 8, 9


@dataclass(frozen=True)
class Backdrop:
    """What every book of one load is drawn against: the market, the institutions' row ids,
    the first days of the history's months, and the dividends and coupons paid in it."""

    market: ScaledMarket
    institutions: dict[str, int]
    months: tuple[date, ...]
    payouts: tuple[Payout, ...]


class Picker:
    """Draws from a weighted list (or a plain one) with one uniform number."""

    def __init__(self, items: Sequence[str] | dict[str, float]) -> None:
        if isinstance(items, dict):
            self.items = list(items)
            weights = list(items.values())
        else:
            self.items = list(items)
            weights = [1.0] * len(self.items)
        self.cumulative = list(accumulate(weights))

    def __call__(self, rng: random.Random) -> str:
        return self.items[bisect_right(self.cumulative, rng.random() * self.cumulative[-1])]


@dataclass(frozen=True)
class Locale:
    currency: str
    country: str
    first: Picker
    last: Picker
    company_suffixes: tuple[str, ...]
    banks: tuple[str, ...]
    broker: str
    pension: str
    tax_office: str


INDUSTRIES = (
    "Logistics", "Holdings", "Analytics", "Foods", "Energy", "Capital", "Systems", "Partners",
    "Manufacturing", "Health", "Retail", "Media", "Labs", "Construction", "Consulting",
)  # fmt: skip


@dataclass
class IdCounters:
    """The next free id of each table, so rows can reference each other in one batch."""

    next_id: dict[str, int] = field(default_factory=dict)

    def take(self, table: str) -> int:
        value = self.next_id[table]
        self.next_id[table] = value + 1
        return value


@cache
def iso(day: date) -> str:
    return day.isoformat()


class Book:
    """One customer's accounts and transactions, and how to add to them."""

    # Set by ``CustomerBook.fill`` before any statement or trade is made.
    income: int
    """Monthly income, in cents."""
    start: date
    """The first day of the customer's history: its first account's opening, or later."""
    months: list[date]
    """The first days of the months of the history."""
    checking: int
    savings: int | None
    savings_opened: date
    """When the savings account opened (set only when there is one)."""
    city: str

    def __init__(
        self,
        backdrop: Backdrop,
        rng: random.Random,
        index: int,
        oid: str,
        name: str,
        persona: Persona,
        locale: Locale,
        joined: date,
        ids: IdCounters,
        rows: dict[str, list[tuple[object, ...]]],
    ) -> None:
        self.backdrop, self.rng, self.index, self.oid, self.name = backdrop, rng, index, oid, name
        self.p, self.locale, self.joined, self.ids, self.rows = (
            persona, locale, joined, ids, rows,
        )  # fmt: skip
        self.currency = locale.currency
        self.calendar = BANKING_CALENDAR[self.currency]
        self.accounts: list[list[Any]] = []
        self.opening_target: dict[int, int] = {}
        self.bookings: list[Booking] = []
        self.trades: dict[str, list[tuple[date, int, int]]] = {}
        """symbol -> (day, signed quantity, account) of every trade, in booking order."""

    def account(self, institution: str, account_type: str, currency: str, opened: date) -> int:
        account_id = self.ids.take("bank_accounts")
        number = f"5{self.index:09d}{len(self.accounts) + 1}"
        iban = None
        code = IBAN_BANK_CODES.get(institution)
        if code and account_type in ("checking", "savings") and currency == self.currency:
            country = self.locale.country
            iban = make_iban(country, code + number[-BBAN_ACCOUNT_DIGITS[country] :])
        self.accounts.append(
            [account_id, self.oid, self.backdrop.institutions[institution], number, iban,
             account_type, currency, 0, iso(opened)]
        )  # fmt: skip
        return account_id

    def book(
        self,
        account_id: int,
        day: date,
        kind: str,
        description: str,
        category: str | None,
        cents: int,
        currency: str,
        channel: str,
        *,
        merchant: str | None = None,
        mcc: str | None = None,
        symbol: str | None = None,
        quantity: int | None = None,
        price: int | None = None,
        booked: date | None = None,
        value: date | None = None,
    ) -> None:
        self.bookings.append(
            (iso(day), kind, description, account_id, category, cents, currency, symbol,
             quantity, price, merchant, mcc, channel, iso(booked or day), iso(value or day))
        )  # fmt: skip

    def days_of(self, month: date) -> tuple[date, date]:
        """The days of ``month`` within the history: from its start to the market's last day."""
        return max(month, self.start), min(month_end(month), AS_OF)
