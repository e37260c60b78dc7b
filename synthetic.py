"""Synthetic customers: a deterministic bank book of any size, streamed into the database.

Customer ``i`` of seed ``S`` is generated from its own random stream
(``Random(f"{S}:{i}")``), so the same N and S give the same rows to the byte
on any machine, however the work is batched. Only integer arithmetic and
IEEE-exact float operations feed the data: no float ever becomes an amount.

Segments, and what each customer of a segment gets:

=========  =====  ==============================================================
segment    share  accounts, holdings, history
=========  =====  ==============================================================
retail      60%   checking (+ savings 40%), 0-3 ETF/stock holdings in a brokerage
                  account, 4 salary deposits, card spending in 3 categories
affluent    24%   checking, savings, brokerage (+ crypto 30%), 3-6 holdings incl.
                  bonds and crypto, 4 salary deposits, spending in 4 categories,
                  derivatives for 25% of them (covered calls, puts, gold futures)
corporate   11%   operating account (+ treasury), 2-4 holdings, 4 receipts,
                  business spending in 4 categories
empty        5%   a registered customer with no data at all
=========  =====  ==============================================================

Currencies: 75% USD (US names), 17% EUR (German names, DE IBANs), 8% GBP
(British names, GB IBANs); holdings are priced in their instrument's currency.
Holdings are the sum of their trades, balances an opening balance plus every
booked transaction, and monthly spending the sum of that month's card payments.
"""

import random
import uuid
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate
from typing import Any, NamedTuple, TypeVar

from faker.providers.person.de_DE import Provider as GermanNames
from faker.providers.person.en_GB import Provider as BritishNames
from faker.providers.person.en_US import Provider as AmericanNames
from sqlalchemy import Table
from sqlmodel import SQLModel

from identifiers import name_tokens
from market_model import (
    AS_OF,
    CRYPTO_EXCHANGE,
    GLOBAL_BANK,
    INVESTMENT_CORP,
    ScaledMarket,
    bank_iban,
    month_starts,
    monthly_spending,
)
from models import CUSTOMER_TABLES, Customer, CustomerNameToken
from money import MONEY_SCALE, PRICE_SCALE, QUANTITY_SCALE

# Customer i registered at REGISTRATION_START + i steps: ids and UUIDv7 CustomerOIDs then
# grow with i, which keeps every customer_oid index append-only during a bulk load.
REGISTRATION_START = datetime(2016, 1, 1)
REGISTRATION_STEP = timedelta(minutes=4)
MONTHS = tuple(month_starts(AS_OF, 4))
TRADE_WINDOW = (date(2024, 10, 1), date(2026, 6, 30))

_FILLED: tuple[type[SQLModel], ...] = (Customer, CustomerNameToken, *CUSTOMER_TABLES)
TABLES: tuple[Table, ...] = tuple(model.__table__ for model in _FILLED)  # type: ignore[attr-defined]
"""The tables the generator fills, parents first (as in ``CUSTOMER_TABLES``): the write order."""
COLUMNS: dict[str, tuple[str, ...]] = {
    table.name: tuple(column.name for column in table.columns) for table in TABLES
}
"""Table -> columns, in the order of the table and of the generator's tuples."""

MONEY_UNIT = 10**MONEY_SCALE
PRICE_UNIT = 10**PRICE_SCALE
QUANTITY_UNIT = 10**QUANTITY_SCALE
PRICE_UNITS_PER_CENT = PRICE_UNIT // MONEY_UNIT


def uuid7(moment: datetime, random_bits: int) -> str:
    """A version 7 UUID (RFC 9562): 48 bits of Unix milliseconds, then 74 random bits."""
    millis = int(moment.replace(tzinfo=UTC).timestamp() * 1000)
    rand_a, rand_b = random_bits >> 62, random_bits & ((1 << 62) - 1)
    value = (millis << 80) | (7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b
    return str(uuid.UUID(int=value))


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
    first: Picker
    last: Picker
    company_suffixes: tuple[str, ...]
    iban_country: str | None


def _weights(names: Sequence[str] | dict[str, float]) -> dict[str, float]:
    return dict(names) if isinstance(names, dict) else dict.fromkeys(names, 1.0)


def _names(provider: Any) -> tuple[Picker, Picker]:
    first = {**_weights(provider.first_names_male), **_weights(provider.first_names_female)}
    return Picker(first), Picker(provider.last_names)


LOCALES = (
    (Locale("USD", *_names(AmericanNames), ("Inc", "LLC", "Corp", "Group"), None), 0.75),
    (Locale("EUR", *_names(GermanNames), ("GmbH", "AG", "SE", "KG"), "DE"), 0.17),
    (Locale("GBP", *_names(BritishNames), ("Ltd", "PLC", "LLP"), "GB"), 0.08),
)
INDUSTRIES = (
    "Logistics", "Holdings", "Analytics", "Foods", "Energy", "Capital", "Systems", "Partners",
    "Manufacturing", "Health", "Retail", "Media", "Labs", "Construction", "Consulting",
)  # fmt: skip
SEGMENTS = (("retail", 0.60), ("affluent", 0.24), ("corporate", 0.11), ("empty", 0.05))
PERSONAL_CATEGORIES = (
    "groceries", "dining", "transport", "utilities", "entertainment", "shopping", "travel",
    "healthcare",
)  # fmt: skip
BUSINESS_CATEGORIES = ("office", "utilities", "marketing", "software", "travel", "payroll_services")
RETAIL_SYMBOLS = ("SPY", "VTI", "QQQ", "AAPL", "MSFT", "AMZN", "GOOGL", "NVDA", "TSLA", "JNJ")
AFFLUENT_SYMBOLS = (*RETAIL_SYMBOLS, "US10Y", "US5Y", "CB-JNJ-2033", "CB-VZ-2032", "BTC", "ETH")
EUROPEAN_SYMBOLS = ("SAP",)
CORPORATE_SYMBOLS = ("US10Y", "US5Y", "CB-AAPL-2031", "SPY", "QQQ", "MSFT", "AAPL")


T = TypeVar("T")


def _pick_weighted(rng: random.Random, table: Sequence[tuple[T, float]]) -> T:
    draw, total = rng.random(), 0.0
    for item, weight in table:
        total += weight
        if draw < total:
            return item
    return table[-1][0]


@dataclass
class IdCounters:
    """The next free id of each table, so rows can reference each other in one batch."""

    next_id: dict[str, int] = field(default_factory=dict)

    def take(self, table: str) -> int:
        value = self.next_id[table]
        self.next_id[table] = value + 1
        return value


def _round_div(numerator: int, denominator: int) -> int:
    """Integer division rounding half to even, for exact money."""
    quotient, remainder = divmod(numerator, denominator)
    twice = 2 * remainder
    if twice > denominator or (twice == denominator and quotient % 2):
        quotient += 1
    return quotient


class CustomerGenerator:
    """Generates one customer's rows at a time into per-table lists."""

    def __init__(self, seed: int, market: ScaledMarket, institutions: dict[str, int]) -> None:
        self.seed = seed
        self.market = market
        self.bank = institutions[GLOBAL_BANK]
        self.broker = institutions[INVESTMENT_CORP]
        self.exchange = institutions[CRYPTO_EXCHANGE]

    def generate(
        self, index: int, ids: IdCounters, rows: dict[str, list[tuple[object, ...]]]
    ) -> None:
        rng = random.Random(f"{self.seed}:{index}")
        segment = _pick_weighted(rng, SEGMENTS)
        locale = _pick_weighted(rng, LOCALES)
        registered = (
            REGISTRATION_START
            + index * REGISTRATION_STEP
            + timedelta(seconds=rng.randrange(int(REGISTRATION_STEP.total_seconds())))
        )
        oid = uuid7(registered, rng.getrandbits(74))
        if segment == "corporate":
            name = (
                f"{locale.last(rng)} {rng.choice(INDUSTRIES)} {rng.choice(locale.company_suffixes)}"
            )
        else:
            name = f"{locale.first(rng)} {locale.last(rng)}"
        user_id = ids.take("users")
        created = registered.date()
        rows["users"].append(
            (user_id, oid, name, registered.isoformat(sep=" ", timespec="microseconds"))
        )
        for token in name_tokens(name):
            rows["customer_name_tokens"].append((token, user_id))
        if segment == "empty":
            return
        _Book(self, rng, index, oid, segment, locale, created, ids, rows).fill()


class _Booking(NamedTuple):
    account_id: int
    day: str
    kind: str
    description: str
    category: str | None
    cents: int
    currency: str
    symbol: str | None
    quantity: int | None
    price: int | None


class _Book:
    """One customer's accounts, holdings, transactions, spending and derivatives."""

    def __init__(
        self,
        generator: CustomerGenerator,
        rng: random.Random,
        index: int,
        oid: str,
        segment: str,
        locale: Locale,
        created: date,
        ids: IdCounters,
        rows: dict[str, list[tuple[object, ...]]],
    ) -> None:
        self.g, self.rng, self.index, self.oid = generator, rng, index, oid
        self.segment, self.locale, self.created, self.ids, self.rows = (
            segment, locale, created, ids, rows,
        )  # fmt: skip
        self.accounts: list[list[Any]] = []
        self.bookings: list[_Booking] = []

    def account(self, institution: int, account_type: str, currency: str, opening: int) -> int:
        account_id = self.ids.take("bank_accounts")
        number = f"5{self.index:09d}{len(self.accounts) + 1}"
        domestic = account_type in ("checking", "savings") and currency == self.locale.currency
        iban = bank_iban(self.locale.iban_country, number) if domestic else None
        opened = self.created - timedelta(days=self.rng.randint(0, 2000))
        self.accounts.append(
            [account_id, self.oid, institution, number, iban, account_type, currency, opening,
             opened.isoformat()]
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
        symbol: str | None = None,
        quantity: int | None = None,
        price: int | None = None,
    ) -> None:
        self.bookings.append(
            _Booking(account_id, day.isoformat(), kind, description, category, cents, currency,
                     symbol, quantity, price)
        )  # fmt: skip
        for account in self.accounts:
            if account[0] == account_id:
                account[7] += cents

    def fill(self) -> None:
        rng, currency = self.rng, self.locale.currency
        corporate = self.segment == "corporate"
        affluent = self.segment == "affluent"
        income = {
            "retail": rng.randint(2_800, 7_500),
            "affluent": rng.randint(9_000, 30_000),
            "corporate": rng.randint(60_000, 900_000),
        }[self.segment] * MONEY_UNIT
        main = self.account(self.g.bank, "checking", currency, rng.randint(5, 60) * income // 10)
        if affluent or (not corporate and rng.random() < 0.4):
            self.account(self.g.bank, "savings", currency, rng.randint(2, 40) * income)

        for first in MONTHS:
            description = "Customer receipts" if corporate else "Salary"
            self.book(main, first, "deposit", description, "income", income, currency)

        categories = BUSINESS_CATEGORIES if corporate else PERSONAL_CATEGORIES
        chosen = rng.sample(categories, 4 if corporate or affluent else 3)
        for first in MONTHS:
            for category in chosen:
                typical = income * rng.randint(2, 9) // 100
                for n in range(rng.randint(1, 2)):
                    day = first + timedelta(days=rng.randint(0, 27))
                    description = f"Card payment {n + 1} ({category})"
                    self.book(main, day, "card_payment", description, category, -typical, currency)

        holdings = self.trade(income, corporate, affluent)
        if affluent and holdings and rng.random() < 0.25:
            self.derivative(holdings)
        self.flush()

    def trade(self, income: int, corporate: bool, affluent: bool) -> dict[str, int]:
        rng, market = self.rng, self.g.market
        universe: tuple[str, ...]
        if corporate:
            count, universe = rng.randint(2, 4), CORPORATE_SYMBOLS
        elif affluent:
            count, universe = rng.randint(3, 6), AFFLUENT_SYMBOLS
        else:
            count, universe = rng.choice((0, 0, 1, 2, 3)), RETAIL_SYMBOLS
        if self.locale.currency == "EUR" and count:
            universe = universe + EUROPEAN_SYMBOLS
        symbols = rng.sample(universe, min(count, len(universe)))
        if not symbols:
            return {}
        budget = income * rng.randint(3, 30)
        by_currency: dict[str, int] = {}
        for symbol in symbols:
            ccy = market.currency[symbol]
            if ccy not in by_currency:
                institution = (
                    self.g.exchange if market.asset_type[symbol] == "crypto" else self.g.broker
                )
                kind = "crypto" if institution == self.g.exchange else "brokerage"
                by_currency[ccy] = self.account(institution, kind, ccy, budget * 2)
        held: dict[str, int] = {}
        span = (TRADE_WINDOW[1] - TRADE_WINDOW[0]).days
        for symbol in symbols:
            account_id = by_currency[market.currency[symbol]]
            day, price = market.close_on_or_before(
                symbol, TRADE_WINDOW[0] + timedelta(days=rng.randint(0, span))
            )
            # Spend about a share of the budget; crypto in thousandths, bonds in tens.
            target = budget // len(symbols)
            units = max(1, target * PRICE_UNIT // MONEY_UNIT // max(price, 1))
            if market.asset_type[symbol] == "crypto":
                quantity = (
                    max(1, target * PRICE_UNIT * 1000 // MONEY_UNIT // price)
                    * QUANTITY_UNIT
                    // 1000
                )
            elif market.asset_type[symbol] == "bond":
                quantity = max(10, units // 10 * 10) * QUANTITY_UNIT
            else:
                quantity = units * QUANTITY_UNIT
            self.trade_row(account_id, symbol, day, quantity, price, buy=True)
            held[symbol] = quantity
            if rng.random() < 0.2 and quantity >= 2 * QUANTITY_UNIT:
                sell_day, sell_price = market.close_on_or_before(
                    symbol, day + timedelta(days=rng.randint(30, max(31, (AS_OF - day).days - 1)))
                )
                sold = quantity // 2 // QUANTITY_UNIT * QUANTITY_UNIT or quantity // 2
                self.trade_row(account_id, symbol, sell_day, sold, sell_price, buy=False)
                held[symbol] = quantity - sold
        for symbol, quantity in held.items():
            account_id = by_currency[market.currency[symbol]]
            self.rows["assets"].append(
                (self.ids.take("assets"), self.oid, account_id, symbol, quantity)
            )
        return held

    def trade_row(
        self, account_id: int, symbol: str, day: date, quantity: int, price: int, *, buy: bool
    ) -> None:
        gross = _round_div(quantity * price, QUANTITY_UNIT * PRICE_UNIT // MONEY_UNIT)
        shown = f"{quantity / QUANTITY_UNIT:g}"
        verb = "Buy" if buy else "Sell"
        self.book(
            account_id,
            day,
            "buy" if buy else "sell",
            f"{verb} {shown} {symbol} @ {price / PRICE_UNIT:.2f}",
            "investment",
            -gross if buy else gross,
            self.g.market.currency[symbol],
            symbol,
            quantity,
            price,
        )

    def derivative(self, holdings: dict[str, int]) -> None:
        rng, market = self.rng, self.g.market
        account_id = next((a[0] for a in self.accounts if a[5] == "brokerage"), None)
        if account_id is None:
            account_id = self.account(self.g.broker, "brokerage", "USD", 10_000 * MONEY_UNIT)
        trade_day = AS_OF - timedelta(days=rng.randint(20, 200))
        expiry = trade_day + timedelta(days=rng.choice((30, 60, 90, 180)))
        status = "open" if expiry > AS_OF else rng.choice(("expired", "closed"))
        closed = None if status == "open" else min(expiry, AS_OF).isoformat()
        stocks = [s for s in holdings if market.asset_type[s] in ("stock", "etf")]
        if stocks and rng.random() < 0.8:
            symbol = rng.choice(stocks)
            _, spot = market.close_on_or_before(symbol, trade_day)
            covered = holdings[symbol] >= 100 * QUANTITY_UNIT
            option_type = "call" if covered or rng.random() < 0.5 else "put"
            side = "short" if covered else "long"
            strategy = "covered_call" if covered else f"long_{option_type}"
            # Strikes and premiums are whole cents.
            strike = (
                spot * rng.randint(90, 115) // 100 // PRICE_UNITS_PER_CENT * PRICE_UNITS_PER_CENT
            )
            premium = (
                spot * rng.randint(15, 60) // 1000 // PRICE_UNITS_PER_CENT * PRICE_UNITS_PER_CENT
            )
            self.rows["derivative_transactions"].append(
                (self.ids.take("derivative_transactions"), self.oid, account_id, "option", symbol,
                 option_type, side, strategy, rng.randint(1, 5), 100, strike, premium, None, "USD",
                 trade_day.isoformat(), expiry.isoformat(), status, closed)
            )  # fmt: skip
        else:
            _, spot = market.close_on_or_before("GC", trade_day)
            self.rows["derivative_transactions"].append(
                (self.ids.take("derivative_transactions"), self.oid, account_id, "future", "GC",
                 None, "long", "long_future", 1, 100, None, None, spot, "USD",
                 trade_day.isoformat(), expiry.isoformat(), status, closed)
            )  # fmt: skip

    def flush(self) -> None:
        self.bookings.sort(key=lambda b: (b.day, b.kind, b.description))
        for b in self.bookings:
            self.rows["transactions"].append((self.ids.take("transactions"), self.oid, *b))
        bookings = ((b.day[:7], b.kind, b.category, b.currency, b.cents) for b in self.bookings)
        for month, category, ccy, amount, count in monthly_spending(bookings):
            self.rows["spending"].append(
                (self.ids.take("spending"), self.oid, month, category, amount, ccy, count)
            )
        self.rows["bank_accounts"].extend(tuple(a) for a in self.accounts)


def batches(
    generator: CustomerGenerator, ids: IdCounters, first: int, count: int, batch_size: int
) -> Iterator[tuple[int, dict[str, list[tuple[object, ...]]]]]:
    """Yield (customers in batch, rows per table) for customers first..first+count-1."""
    for start in range(first, first + count, batch_size):
        end = min(start + batch_size, first + count)
        rows: dict[str, list[tuple[object, ...]]] = {table: [] for table in COLUMNS}
        for index in range(start, end):
            generator.generate(index, ids, rows)
        yield end - start, rows


def produce(
    queue: Any,
    seed: int,
    market: ScaledMarket,
    institutions: dict[str, int],
    ids: IdCounters,
    first: int,
    count: int,
    batch_size: int,
) -> None:
    """Generator process: put each batch on ``queue``, then None (or the error's text)."""
    try:
        generator = CustomerGenerator(seed, market, institutions)
        for batch in batches(generator, ids, first, count, batch_size):
            queue.put(batch)
    except BaseException as error:  # the loader re-raises it; nothing is swallowed
        queue.put(f"{type(error).__name__}: {error}")
        raise
    queue.put(None)
