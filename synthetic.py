"""Synthetic customers: a deterministic bank book of any size, streamed into the database.

Customer ``i`` of seed ``S`` is generated from its own random stream
(``Random(f"{S}:{i}")``), so the same N, S and history depth give the same
rows to the byte on any machine, however the work is batched. Amounts are
computed in integer cents; floats only shape the draws.

Each customer has a persona (``personas.py``) that sets income, pay rhythm,
spending, housing, cash buffer, savings and portfolio; banks in the country
of its currency; is paid by a named employer on business days; pays rent or
a mortgage, utilities, a phone and subscriptions every month; spends by card
at merchants of its city and online (``merchants.py``); moves money between
its own accounts, earns interest, pays fees and taxes, gets refunds; and
invests on trading days at the day's price plus spread and commission,
receiving dividends and coupons. Holdings are the sum of their trades,
balances an opening balance plus every booked transaction, and monthly
spending the sum of that month's card payments.
"""

import random
import uuid
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cache
from itertools import accumulate
from operator import itemgetter
from typing import Any, TypeVar

from faker.providers.person.de_DE import Provider as GermanNames
from faker.providers.person.en_GB import Provider as BritishNames
from faker.providers.person.en_US import Provider as AmericanNames
from sqlalchemy import Table
from sqlmodel import SQLModel

from calendars import (
    BANKING_CALENDAR,
    futures_expiry,
    is_open,
    on_or_after,
    on_or_before,
    option_expiry,
)
from identifiers import make_iban, name_tokens
from market_model import (
    ALBION_SECURITIES,
    AS_OF,
    BBAN_ACCOUNT_DIGITS,
    CRYPTO_EXCHANGE,
    GLOBAL_BANK,
    HARBORVIEW_BANK,
    IBAN_BANK_CODES,
    INVESTMENT_CORP,
    NORDSTERN_DEPOT,
    RHEINTAL_BANK,
    SPECS,
    THAMESGATE_BANK,
    ScaledMarket,
    execution_price,
    month_starts,
    monthly_spending,
    payouts,
)
from merchants import CATEGORIES, CITIES, PHONE_CARRIERS, UTILITY_BILLERS, Merchant, local_merchants
from models import CUSTOMER_TABLES, Customer, CustomerNameToken
from money import MONEY_SCALE, PRICE_SCALE, QUANTITY_SCALE
from personas import PERSONAS, Persona
from pricing import premium_cents

# CustomerOIDs are UUIDv7 minted in load order (customer i after customer i-1), which keeps
# every customer_oid index append-only during a bulk load; when each customer joined the
# bank (``created_at``) is drawn over years, independently of the order.
MINTED_FROM = datetime(2026, 10, 1)
MINT_STEP = timedelta(milliseconds=50)
JOINED_FROM = date(2012, 1, 1)
DEFAULT_HISTORY_MONTHS = 12

_FILLED: tuple[type[SQLModel], ...] = (Customer, CustomerNameToken, *CUSTOMER_TABLES)
TABLES: tuple[Table, ...] = tuple(model.__table__ for model in _FILLED)  # type: ignore[attr-defined]
"""The tables the generator fills, parents first (as in ``CUSTOMER_TABLES``): the write order."""
TRANSACTION_COLUMNS = (
    "transaction_date", "transaction_type", "description", "account_id", "category", "amount",
    "currency", "symbol", "quantity", "price", "merchant", "merchant_category_code", "channel",
    "booking_date", "value_date", "id", "customer_oid",
)  # fmt: skip
"""Booking tuples start with the date they are sorted by and need only an id appended."""
COLUMNS: dict[str, tuple[str, ...]] = {
    table.name: TRANSACTION_COLUMNS
    if table.name == "transactions"
    else tuple(column.name for column in table.columns)
    for table in TABLES
}
"""Table -> columns, in the order of the generator's tuples."""

MONEY_UNIT: int = 10**MONEY_SCALE
PRICE_UNIT: int = 10**PRICE_SCALE
QUANTITY_UNIT: int = 10**QUANTITY_SCALE
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
    country: str
    first: Picker
    last: Picker
    company_suffixes: tuple[str, ...]
    banks: tuple[str, ...]
    broker: str
    pension: str
    tax_office: str


def _weights(names: Sequence[str] | dict[str, float]) -> dict[str, float]:
    return dict(names) if isinstance(names, dict) else dict.fromkeys(names, 1.0)


def _names(provider: Any) -> tuple[Picker, Picker]:
    first = {**_weights(provider.first_names_male), **_weights(provider.first_names_female)}
    return Picker(first), Picker(provider.last_names)


LOCALES = (
    (Locale("USD", "US", *_names(AmericanNames), ("Inc", "LLC", "Corp", "Group"),
            (GLOBAL_BANK, GLOBAL_BANK, HARBORVIEW_BANK), INVESTMENT_CORP,
            "SSA TREAS 310 XXSOC SEC", "IRS USATAXPYMT"), 0.75),
    (Locale("EUR", "DE", *_names(GermanNames), ("GmbH", "AG", "SE", "KG"), (RHEINTAL_BANK,),
            NORDSTERN_DEPOT, "RENTENKASSE BUND", "FINANZAMT"), 0.17),
    (Locale("GBP", "GB", *_names(BritishNames), ("Ltd", "PLC", "LLP"), (THAMESGATE_BANK,),
            ALBION_SECURITIES, "DWP STATE PENSION", "HMRC SELF ASSESSMENT"), 0.08),
)  # fmt: skip
INDUSTRIES = (
    "Logistics", "Holdings", "Analytics", "Foods", "Energy", "Capital", "Systems", "Partners",
    "Manufacturing", "Health", "Retail", "Media", "Labs", "Construction", "Consulting",
)  # fmt: skip
TAX_MONTHS = {
    "US": ((1, 15), (4, 15), (6, 15), (9, 15)),
    "DE": ((3, 10), (6, 10), (9, 10), (12, 10)),
    "GB": ((1, 31), (7, 31)),
}

T = TypeVar("T")


def _pick_weighted(rng: random.Random, table: Sequence[tuple[T, float]]) -> T:
    draw, total = rng.random(), 0.0
    for item, weight in table:
        total += weight
        if draw < total:
            return item
    return table[-1][0]


PERSONA_TABLE = tuple((p, p.share) for p in PERSONAS)


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


@cache
def _iso(day: date) -> str:
    return day.isoformat()


@cache
def _business_days(calendar: str, first: date, last: date) -> tuple[date, ...]:
    return tuple(
        first + timedelta(n)
        for n in range((last - first).days + 1)
        if is_open(calendar, first + timedelta(n))
    )


@cache
def _next_business_day(calendar: str, day: date) -> date:
    return on_or_after(calendar, day + timedelta(1))


@cache
def _month_end(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1) - timedelta(1)


LOCAL_MERCHANTS = local_merchants()
CATEGORY_MEAN = {
    category: (spec.low + spec.high) * MONEY_UNIT // 2 for category, spec in CATEGORIES.items()
}


Booking = tuple[Any, ...]
"""A transaction without its id and customer, in ``TRANSACTION_COLUMNS`` order."""
BY_DAY = itemgetter(0)
ACCOUNT, AMOUNT, TYPE, CATEGORY, CURRENCY = 3, 5, 1, 4, 6


@cache
def _month_days(calendar: str, first: date, last: date) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The days from ``first`` to ``last`` and the business day each posts on, as text."""
    days = [first + timedelta(n) for n in range((last - first).days + 1)]
    posted = [_iso(min(_next_business_day(calendar, day), AS_OF)) for day in days]
    return tuple(_iso(day) for day in days), tuple(posted)


class CustomerGenerator:
    """Generates one customer's rows at a time into per-table lists."""

    def __init__(
        self,
        seed: int,
        market: ScaledMarket,
        institutions: dict[str, int],
        history_months: int = DEFAULT_HISTORY_MONTHS,
    ) -> None:
        self.seed = seed
        self.market = market
        self.institutions = institutions
        self.months = tuple(month_starts(AS_OF, history_months))
        self.payouts = payouts()

    def generate(
        self, index: int, ids: IdCounters, rows: dict[str, list[tuple[object, ...]]]
    ) -> None:
        rng = random.Random(f"{self.seed}:{index}")
        persona = _pick_weighted(rng, PERSONA_TABLE)
        locale = _pick_weighted(rng, LOCALES)
        oid = uuid7(MINTED_FROM + index * MINT_STEP, rng.getrandbits(74))
        joined = JOINED_FROM + timedelta(rng.randrange((AS_OF - JOINED_FROM).days - 60))
        registered = datetime(joined.year, joined.month, joined.day) + timedelta(
            seconds=rng.randrange(8 * 3600, 20 * 3600)
        )
        if persona.business:
            industry = rng.choice(INDUSTRIES)
            name = f"{locale.last(rng)} {industry} {rng.choice(locale.company_suffixes)}"
        else:
            name = f"{locale.first(rng)} {locale.last(rng)}"
        user_id = ids.take("users")
        rows["users"].append(
            (user_id, oid, name, registered.isoformat(sep=" ", timespec="microseconds"))
        )
        for token in name_tokens(name):
            rows["customer_name_tokens"].append((token, user_id))
        if persona.name == "empty":
            return
        _Book(self, rng, index, oid, name, persona, locale, joined, ids, rows).fill()


class _Book:
    """One customer's accounts, holdings, transactions, spending and derivatives."""

    def __init__(
        self,
        generator: CustomerGenerator,
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
        self.g, self.rng, self.index, self.oid, self.name = generator, rng, index, oid, name
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

    # --- accounts and bookings -----------------------------------------------------------

    def account(self, institution: str, account_type: str, currency: str, opened: date) -> int:
        account_id = self.ids.take("bank_accounts")
        number = f"5{self.index:09d}{len(self.accounts) + 1}"
        iban = None
        code = IBAN_BANK_CODES.get(institution)
        if code and account_type in ("checking", "savings") and currency == self.currency:
            country = self.locale.country
            iban = make_iban(country, code + number[-BBAN_ACCOUNT_DIGITS[country] :])
        self.accounts.append(
            [account_id, self.oid, self.g.institutions[institution], number, iban, account_type,
             currency, 0, _iso(opened)]
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
            (_iso(day), kind, description, account_id, category, cents, currency, symbol,
             quantity, price, merchant, mcc, channel, _iso(booked or day), _iso(value or day))
        )  # fmt: skip

    # --- the customer's life -------------------------------------------------------------

    def fill(self) -> None:
        rng, p = self.rng, self.p
        cents = MONEY_UNIT
        self.income = rng.randint(*p.income) * cents
        opened = self.joined + timedelta(rng.randint(0, 45))
        # Every account opens after its owner joined the bank, never before.
        self.start = max(self.g.months[0], opened)
        bank = rng.choice(self.locale.banks)
        self.checking = self.account(bank, "checking", self.currency, opened)
        self.opening_target[self.checking] = int(rng.uniform(*p.buffer_months) * self.income)
        self.savings: int | None = None
        if rng.random() < p.savings:
            saved = opened + timedelta(rng.randint(0, 400))
            if saved < AS_OF - timedelta(60):
                self.savings = self.account(bank, "savings", self.currency, saved)
                self.savings_opened = saved
                self.opening_target[self.savings] = int(
                    rng.uniform(*p.savings_months) * self.income
                )
        self.months = [m for m in self.g.months if _month_end(m) >= self.start]
        self.city = rng.choice(CITIES[self.locale.country])[0]
        if p.business:
            self.receipts()
        else:
            self.payroll()
        self.housing()
        self.bills()
        self.card_spending()
        self.cash_and_fees()
        self.savings_flows()
        self.taxes()
        if rng.random() < p.invest:
            self.invest()
        self.flush()

    def days_of(self, month: date) -> tuple[date, date]:
        return max(month, self.start), min(_month_end(month), AS_OF)

    def payroll(self) -> None:
        rng, p, locale = self.rng, self.p, self.locale
        frequency = rng.choice(p.pay)
        if p.name == "retiree":
            payer = locale.pension
        else:
            industry = rng.choice(INDUSTRIES)
            payer = f"{locale.last(rng)} {industry} {rng.choice(locale.company_suffixes)}"
        per_year = {"monthly": 12, "semimonthly": 24, "biweekly": 26}[frequency]
        pay = self.income * 12 // per_year
        dates: list[date] = []
        if frequency == "biweekly":
            friday = date(2023, 1, 6) + timedelta(7 * rng.randint(0, 1))
            while friday <= AS_OF:
                if friday >= self.start:
                    dates.append(on_or_before(self.calendar, friday))
                friday += timedelta(14)
        else:
            for month in self.months:
                days = [_month_end(month)]
                if frequency == "semimonthly":
                    days.insert(0, month + timedelta(14))
                if p.name == "retiree":
                    days = [month + timedelta(2)]
                for day in days:
                    paid = on_or_before(self.calendar, day)
                    if self.start <= paid <= AS_OF:
                        dates.append(paid)
        description = (
            payer
            if p.name == "retiree"
            else f"PAYROLL {payer.upper()[:60]} PPD ID {self.index % 9973:04d}"
        )
        for day in dates:
            self.book(
                self.checking,
                day,
                "deposit",
                description,
                "income",
                pay,
                self.currency,
                "ach",
                merchant=payer,
            )
        if p.name == "student":
            family = f"{self.name.split()[-1]} family"
            support = rng.randint(2, 8) * 50 * MONEY_UNIT
            for month in self.months:
                day = on_or_after(self.calendar, month)
                if self.start <= day <= AS_OF:
                    self.book(
                        self.checking,
                        day,
                        "transfer",
                        f"TRANSFER FROM {family.upper()}",
                        "transfer",
                        support,
                        self.currency,
                        "transfer",
                        merchant=family,
                    )

    def receipts(self) -> None:
        """A business is paid by its clients: many receipts a month, by ACH or wire."""
        rng, locale = self.rng, self.locale
        corporation = self.p.name == "corporation"
        clients = [
            f"{locale.last(rng)} {rng.choice(INDUSTRIES)} {rng.choice(locale.company_suffixes)}"
            for _ in range(rng.randint(4, 20))
        ]
        channel = "wire" if corporation else "ach"
        for month in self.months:
            first, last = self.days_of(month)
            open_days = _business_days(self.calendar, first, last)
            if not open_days:
                continue
            count = rng.randint(8, 25)
            for _ in range(count):
                amount = int(self.income / count * rng.uniform(0.3, 1.7))
                client = rng.choice(clients)
                day = rng.choice(open_days)
                self.book(
                    self.checking,
                    day,
                    "deposit",
                    f"{channel.upper()} FROM {client.upper()}",
                    "income",
                    amount,
                    self.currency,
                    channel,
                    merchant=client,
                )
            payroll = self.income * rng.randint(30, 45) // 100
            provider = "Keystone Payroll Services"
            for day in (month + timedelta(14), _month_end(month)):
                paid = on_or_before(self.calendar, day)
                if first <= paid <= last:
                    self.book(
                        self.checking,
                        paid,
                        "withdrawal",
                        "KEYSTONE PAYROLL NET PAY",
                        "payroll_services",
                        -(payroll // 2),
                        self.currency,
                        "ach",
                        merchant=provider,
                    )
            if corporation:
                for _ in range(rng.randint(3, 10)):
                    supplier = rng.choice(clients)
                    amount = int(self.income * rng.uniform(0.01, 0.04))
                    day = rng.choice(open_days)
                    self.book(
                        self.checking,
                        day,
                        "withdrawal",
                        f"WIRE TO {supplier.upper()}",
                        "shipping",
                        -amount,
                        self.currency,
                        "wire",
                        merchant=supplier,
                    )
                    self.book(
                        self.checking,
                        day,
                        "fee",
                        "OUTGOING WIRE FEE",
                        "fees",
                        -25 * MONEY_UNIT,
                        self.currency,
                        "internal",
                    )

    def housing(self) -> None:
        rng, p = self.rng, self.p
        if p.housing is None:
            return
        amount = int(self.income * rng.uniform(*p.housing_share)) // 100 * 100
        if p.housing == "mortgage":
            payee = f"{rng.choice(('Keystone', 'Harbor', 'Summit', 'Liberty'))} Home Loans"
            description = f"{payee.upper()} MORTGAGE PMT"
        else:
            landlord = f"{self.locale.last(self.rng)} Property Management"
            payee = landlord
            description = f"RENT {landlord.upper()}"
        for month in self.months:
            day = on_or_after(self.calendar, month)
            if self.start <= day <= AS_OF:
                self.book(
                    self.checking,
                    day,
                    "withdrawal",
                    description,
                    p.housing,
                    -amount,
                    self.currency,
                    "ach",
                    merchant=payee,
                    booked=day,
                )

    def bills(self) -> None:
        """Utilities, phone, insurance and subscriptions: one biller, about the same day and
        amount every month (utilities follow the seasons)."""
        rng, p = self.rng, self.p
        city = self.city.title()
        recurring: list[tuple[str, str, str, int, int, str, str, str | None]] = []
        scale = max(1, self.income // (6000 * MONEY_UNIT))
        utility = f"{city} {rng.choice(UTILITY_BILLERS)}"
        recurring.append(
            (
                "withdrawal",
                "utilities",
                utility,
                rng.randint(60, 180) * MONEY_UNIT * scale,
                rng.randint(3, 25),
                "ach",
                f"{utility.upper()} AUTOPAY",
                "4900",
            )
        )
        brand = rng.choice(("Bluewave", "Cellnet", "Skyline", "Horizon Peak"))
        carrier = f"{brand} {rng.choice(PHONE_CARRIERS)}"
        recurring.append(
            (
                "withdrawal",
                "phone",
                carrier,
                rng.randint(35, 120) * MONEY_UNIT,
                rng.randint(5, 28),
                "ach",
                f"{carrier.upper()} BILL PAY",
                "4814",
            )
        )
        if p.name in ("family", "retiree", "high_net_worth"):
            insurer = rng.choice(LOCAL_MERCHANTS[(self.locale.country, None, "insurance")])
            recurring.append(
                (
                    "withdrawal",
                    "insurance",
                    insurer.name,
                    insurer.typical,
                    rng.randint(1, 28),
                    "ach",
                    f"{insurer.description} PREMIUM",
                    insurer.mcc,
                )
            )
        pool = LOCAL_MERCHANTS[(self.locale.country, None, "subscriptions")]
        if p.business:
            pool = pool + LOCAL_MERCHANTS[(self.locale.country, None, "software")]
        for merchant in rng.sample(pool, min(len(pool), rng.randint(*p.subscriptions))):
            price = merchant.typical // 100 * 100 + 99
            recurring.append(
                (
                    "card_payment",
                    "subscriptions" if merchant.category == "subscriptions" else merchant.category,
                    merchant.name,
                    price,
                    rng.randint(1, 28),
                    "online",
                    merchant.description,
                    merchant.mcc,
                )
            )
        for kind, category, payee, amount, day_of_month, channel, text, mcc in recurring:
            for month in self.months:
                due = month + timedelta(day_of_month - 1)
                seasonal = amount
                if category == "utilities":
                    winter = month.month in (12, 1, 2) or month.month in (7, 8)
                    seasonal = (
                        amount * rng.randint(105 if winter else 85, 130 if winter else 105) // 100
                    )
                day = on_or_after(self.calendar, due) if channel == "ach" else due
                if not self.start <= day <= AS_OF:
                    continue
                booked = _next_business_day(self.calendar, day) if channel == "online" else day
                self.book(
                    self.checking,
                    day,
                    kind,
                    text,
                    category,
                    -seasonal,
                    self.currency,
                    channel,
                    merchant=payee,
                    mcc=mcc,
                    booked=min(booked, AS_OF),
                )

    def favorites(self) -> dict[str, list[Merchant]]:
        rng, country = self.rng, self.locale.country
        chosen = {}
        for category in self.p.mix:
            pool = LOCAL_MERCHANTS.get((country, self.city, category), []) + LOCAL_MERCHANTS.get(
                (country, None, category), []
            )
            if pool:
                chosen[category] = rng.sample(pool, min(len(pool), rng.randint(2, 6)))
        return chosen

    def card_spending(self) -> None:
        rng, p = self.rng, self.p
        favorites = self.favorites()
        mix = {category: weight for category, weight in p.mix.items() if category in favorites}
        picker = Picker(mix)
        low, high = p.card_per_month
        if p.business:
            low, high = low + self.income // (400_000 * MONEY_UNIT), high
        count_mean = (low + high) / 2
        total_weight = sum(mix.values())
        ticket = sum(CATEGORY_MEAN[c] * w for c, w in mix.items()) / total_weight
        scale = max(0.3, min(12.0, self.income * p.card_share / (count_mean * ticket)))
        calendar, currency, checking = self.calendar, self.currency, self.checking
        book, uniform = self.bookings.append, rng.random
        items, cumulative = picker.items, picker.cumulative
        whole = cumulative[-1]
        # Each favourite as (text, category, typical ticket scaled, name, MCC, channel).
        shops = {
            category: [
                (m.description, category, m.typical * scale, m.name, m.mcc, m.channel)
                for m in found
            ]
            for category, found in favorites.items()
        }
        for month in self.months:
            first, last = self.days_of(month)
            days, posted = _month_days(calendar, first, last)
            span = len(days)
            share = span / ((_month_end(month) - month).days + 1)
            for _ in range(int(rng.randint(low, high) * share + 0.5)):
                choices = shops[items[bisect_right(cumulative, uniform() * whole)]]
                text, category, typical, name, mcc, channel = choices[
                    int(uniform() * uniform() * len(choices))
                ]
                amount = int(typical * (0.4 + 1.2 * uniform()) * (0.6 + 0.8 * uniform()))
                if amount < 50:
                    amount = 50
                at = int(uniform() * span)
                book(
                    (
                        days[at],
                        "card_payment",
                        text,
                        checking,
                        category,
                        -amount,
                        currency,
                        None,
                        None,
                        None,
                        name,
                        mcc,
                        channel,
                        posted[at],
                        days[at],
                    )
                )
                if uniform() < 0.015:
                    back = at + rng.randint(2, 12)
                    if back < span:
                        refund = amount if uniform() < 0.6 else amount * rng.randint(20, 80) // 100
                        book(
                            (
                                days[back],
                                "card_payment",
                                f"REFUND {text}",
                                checking,
                                category,
                                refund,
                                currency,
                                None,
                                None,
                                None,
                                name,
                                mcc,
                                channel,
                                posted[back],
                                days[back],
                            )
                        )

    def cash_and_fees(self) -> None:
        rng, p = self.rng, self.p
        monthly_fee = rng.random() < (0.5 if p.business else 0.12)
        for month in self.months:
            first, last = self.days_of(month)
            span = (last - first).days + 1
            for _ in range(rng.randint(*p.atm)):
                day = first + timedelta(rng.randrange(span))
                amount = rng.choice((20, 40, 60, 80, 100, 140, 200, 300)) * MONEY_UNIT
                self.book(
                    self.checking,
                    day,
                    "withdrawal",
                    f"ATM WITHDRAWAL {self.city}",
                    "cash",
                    -amount,
                    self.currency,
                    "atm",
                )
                if rng.random() < 0.35:
                    self.book(
                        self.checking,
                        day,
                        "fee",
                        "NON-NETWORK ATM FEE",
                        "fees",
                        -rng.choice((250, 300, 350)),
                        self.currency,
                        "atm",
                    )
            if monthly_fee and _month_end(month) <= AS_OF and _month_end(month) >= self.start:
                fee = (25 if p.business else 12) * MONEY_UNIT
                self.book(
                    self.checking,
                    _month_end(month),
                    "fee",
                    "MONTHLY SERVICE FEE",
                    "fees",
                    -fee,
                    self.currency,
                    "internal",
                )

    def savings_flows(self) -> None:
        """A monthly transfer from checking after payday, and interest at each month's end."""
        if self.savings is None:
            return
        rng = self.rng
        rate = rng.choice((5, 10, 50, 150, 250, 350, 400, 425)) / 10_000
        balance = self.opening_target[self.savings]
        moved = self.income * self.p.save_share
        start = max(self.start, self.savings_opened)
        for month in self.months:
            day = on_or_after(self.calendar, month + timedelta(rng.randint(1, 4)))
            if moved and start <= day <= AS_OF:
                amount = int(moved * rng.uniform(0.6, 1.4)) // 1000 * 1000
                if amount:
                    self.book(
                        self.checking,
                        day,
                        "transfer",
                        f"TRANSFER TO SAVINGS ...{self.savings % 10000:04d}",
                        "transfer",
                        -amount,
                        self.currency,
                        "transfer",
                    )
                    self.book(
                        self.savings,
                        day,
                        "transfer",
                        f"TRANSFER FROM CHECKING ...{self.checking % 10000:04d}",
                        "transfer",
                        amount,
                        self.currency,
                        "transfer",
                    )
                    balance += amount
            end = _month_end(month)
            if start <= end <= AS_OF:
                interest = int(balance * rate / 12)
                if interest:
                    self.book(
                        self.savings,
                        end,
                        "interest",
                        f"INTEREST PAID {rate * 100:.2f}% APY",
                        "interest",
                        interest,
                        self.currency,
                        "internal",
                    )
                    balance += interest

    def taxes(self) -> None:
        if not self.p.taxes:
            return
        country = self.locale.country
        payments = 12 // len(TAX_MONTHS[country])
        amount = int(self.income * self.p.taxes * payments) // MONEY_UNIT * MONEY_UNIT
        office = self.locale.tax_office
        if country == "DE":
            office = f"{office} {self.city}"
        for year in (AS_OF.year - 1, AS_OF.year):
            for month, day_of_month in TAX_MONTHS[country]:
                day = on_or_after(self.calendar, date(year, month, day_of_month))
                if self.start <= day <= AS_OF:
                    self.book(
                        self.checking,
                        day,
                        "withdrawal",
                        f"{office} ESTIMATED TAX",
                        "taxes",
                        -amount,
                        self.currency,
                        "ach",
                        merchant=office,
                    )

    # --- investing -----------------------------------------------------------------------

    def invest(self) -> None:
        rng, p, market = self.rng, self.p, self.g.market
        count = rng.randint(*p.holdings)
        universe = list(p.universe)
        if self.currency == "EUR" and not p.business:
            universe.append("SAP")
        symbols = rng.sample(universe, min(count, len(universe)))
        if rng.random() < p.crypto:
            symbols.append("BTC" if rng.random() < 0.7 else "ETH")
        if not symbols:
            return
        budget = self.income * rng.randint(*p.portfolio_months)
        opened = self.start
        self.brokerage: dict[str, int] = {}
        span = (AS_OF - timedelta(20) - opened).days
        if span < 10:
            return
        for symbol in symbols:
            asset_type = market.asset_type[symbol]
            account = self.investment_account(symbol, opened)
            target = budget // len(symbols)
            if asset_type == "crypto":
                target = max(target // 4, 100 * MONEY_UNIT)
            day = opened + timedelta(rng.randrange(span))
            quantity = self.buy_quantity(symbol, day, target)
            if not quantity:
                continue
            self.trade(account, symbol, day, quantity, buy=True)
            if asset_type in ("etf", "crypto") and rng.random() < 0.4:
                # A monthly saving plan: the same amount on the first trading day after payday.
                monthly = max(target // 24, 50 * MONEY_UNIT)
                for month in self.months:
                    plan_day = month + timedelta(rng.randint(1, 5))
                    if day < plan_day <= AS_OF:
                        quantity = self.buy_quantity(symbol, plan_day, monthly)
                        if quantity:
                            self.trade(account, symbol, plan_day, quantity, buy=True)
            held = sum(q for _, q, _ in self.trades[symbol])
            if rng.random() < 0.2 and held >= 2 * QUANTITY_UNIT:
                sell_day = day + timedelta(rng.randint(20, max(21, (AS_OF - day).days - 1)))
                if sell_day <= AS_OF:
                    sold = held // 2 // QUANTITY_UNIT * QUANTITY_UNIT
                    self.trade(account, symbol, sell_day, sold, buy=False)
        if rng.random() < self.p.derivatives:
            self.derivatives()
        self.holdings()

    def investment_account(self, symbol: str, opened: date) -> int:
        market = self.g.market
        crypto = market.asset_type[symbol] == "crypto"
        currency = market.currency[symbol]
        key = "crypto" if crypto else f"brokerage:{currency}"
        if key not in self.brokerage:
            institution = CRYPTO_EXCHANGE if crypto else self.locale.broker
            kind = "crypto" if crypto else "brokerage"
            self.brokerage[key] = self.account(institution, kind, currency, opened)
        return self.brokerage[key]

    def execution(self, symbol: str, day: date, *, buy: bool) -> tuple[date, int]:
        """The first trading day from ``day`` on and its price: the close plus half the spread."""
        calendar = SPECS[symbol].calendar
        traded = on_or_after(calendar, day)
        if traded > AS_OF:
            traded = on_or_before(calendar, AS_OF)
        close = self.g.market.closes[symbol][traded]
        return traded, execution_price(close, self.g.market.asset_type[symbol], buy=buy)

    def buy_quantity(self, symbol: str, day: date, amount: int) -> int:
        _, price = self.execution(symbol, day, buy=True)
        asset_type = self.g.market.asset_type[symbol]
        units = amount * PRICE_UNIT // MONEY_UNIT * 10_000 // price
        if asset_type == "bond":
            return max(units // 10_000 // 10 * 10, 0) * QUANTITY_UNIT
        if asset_type in ("stock", "etf") and amount >= 20 * price // PRICE_UNITS_PER_CENT:
            return units // 10_000 * QUANTITY_UNIT
        # Fractional shares and crypto: four decimal places.
        return units * QUANTITY_UNIT // 10_000

    def commission(self, symbol: str, quantity: int, gross: int) -> int:
        asset_type = self.g.market.asset_type[symbol]
        if asset_type == "crypto":
            return max(gross * 5 // 1000, 99)
        if self.locale.country == "DE":
            return 490 + gross * 25 // 10_000
        if self.locale.country == "GB":
            return 595
        if asset_type == "bond":
            return max(1000, quantity // QUANTITY_UNIT * 10)
        # Per share, with a minimum and at most one per cent of the trade.
        return min(max(100, quantity * 5 // 10 // QUANTITY_UNIT), max(gross // 100, 1))

    def trade(
        self,
        account: int,
        symbol: str,
        day: date,
        quantity: int,
        *,
        buy: bool,
        price: int | None = None,
        note: str = "",
    ) -> None:
        if price is None:
            day, price = self.execution(symbol, day, buy=buy)
        gross = _round_div(quantity * price, QUANTITY_UNIT * PRICE_UNIT // MONEY_UNIT)
        currency = self.g.market.currency[symbol]
        shown = f"{quantity / QUANTITY_UNIT:g}"
        verb = "BUY" if buy else "SELL"
        settles = (
            on_or_after(self.calendar, day + timedelta(1)) if symbol not in ("BTC", "ETH") else day
        )
        broker = "Crypto Exchange" if symbol in ("BTC", "ETH") else self.locale.broker
        self.book(
            account,
            day,
            "buy" if buy else "sell",
            f"{verb}{note} {shown} {symbol} @ {price / PRICE_UNIT:.2f}",
            "investment",
            -gross if buy else gross,
            currency,
            "internal",
            merchant=broker,
            symbol=symbol,
            quantity=quantity,
            price=price,
            value=min(settles, AS_OF),
        )
        if not note:
            fee = self.commission(symbol, quantity, gross)
            self.book(
                account,
                day,
                "fee",
                f"COMMISSION {verb} {shown} {symbol}",
                "fees",
                -fee,
                currency,
                "internal",
                merchant=broker,
            )
        self.trades.setdefault(symbol, []).append((day, quantity if buy else -quantity, account))

    def held_on(self, symbol: str, day: date) -> int:
        """Units held at the close of the day before ``day``."""
        return sum(q for traded, q, _ in self.trades.get(symbol, ()) if traded < day)

    def holdings(self) -> None:
        """Pay each dividend and coupon on what was held, then write the holdings."""
        market = self.g.market
        for payout in self.g.payouts:
            trades = self.trades.get(payout.symbol)
            if not trades or payout.pay_date < self.start:
                continue
            held = self.held_on(payout.symbol, payout.ex_date)
            if held <= 0:
                continue
            per_unit = int(payout.per_unit.scaleb(PRICE_SCALE))
            amount = _round_div(held * per_unit, QUANTITY_UNIT * PRICE_UNITS_PER_CENT)
            if not amount:
                continue
            account = trades[0][2]
            label = "COUPON" if payout.kind == "interest" else "DIVIDEND"
            self.book(
                account,
                payout.pay_date,
                "dividend" if payout.kind == "dividend" else "interest",
                f"{label} {payout.symbol} {payout.per_unit.normalize():f} x "
                f"{Decimal(held).scaleb(-QUANTITY_SCALE).normalize():f}",
                "dividends" if payout.kind == "dividend" else "interest",
                amount,
                market.currency[payout.symbol],
                "internal",
                merchant=payout.symbol,
                symbol=payout.symbol,
            )
        for symbol, trades in self.trades.items():
            quantity = sum(q for _, q, _ in trades)
            if quantity:
                self.rows["assets"].append(
                    (self.ids.take("assets"), self.oid, trades[0][2], symbol, quantity)
                )

    # --- derivatives ---------------------------------------------------------------------

    def derivatives(self) -> None:
        rng, market = self.rng, self.g.market
        stocks = [
            s
            for s, trades in self.trades.items()
            if market.asset_type[s] in ("stock", "etf")
            and market.currency[s] == "USD"
            and all(q > 0 for _, q, _ in trades)
        ]
        account = self.investment_account("SPY", self.start)
        self.optioned: set[str] = set()
        for _ in range(rng.randint(1, 3)):
            choice = rng.random()
            if choice < 0.15:
                self.future(account)
                continue
            symbol = rng.choice(stocks) if stocks and choice < 0.7 else rng.choice(("SPY", "QQQ"))
            if symbol not in self.optioned:
                # One position per underlying, so a covered call's shares stay covered.
                self.optioned.add(symbol)
                self.option(account, symbol)

    def open_day(self, low: date, high: date) -> date | None:
        if high <= low:
            return None
        day = on_or_before("NYSE", low + timedelta(self.rng.randrange((high - low).days)))
        return day if day >= low else None

    def option(self, account: int, symbol: str) -> None:
        rng, market = self.rng, self.g.market
        trade_day = self.open_day(max(self.start, AS_OF - timedelta(300)), AS_OF - timedelta(5))
        if trade_day is None:
            return
        months_out = rng.randint(1, 3)
        year, month = divmod(trade_day.year * 12 + trade_day.month - 1 + months_out, 12)
        expiry = option_expiry(year, month + 1)
        _, spot = market.close_on_or_before(symbol, trade_day)
        held = self.held_on(symbol, trade_day + timedelta(1))
        covered = held >= 100 * QUANTITY_UNIT and rng.random() < 0.7
        if covered:
            option_type, side, strategy = "call", "short", "covered_call"
            contracts = min(held // (100 * QUANTITY_UNIT), rng.randint(1, 3))
            strike_factor = rng.uniform(1.02, 1.12)
        elif rng.random() < 0.5:
            option_type, side, strategy = "put", "short", "cash_secured_put"
            contracts, strike_factor = rng.randint(1, 2), rng.uniform(0.88, 0.98)
        else:
            option_type = "call" if rng.random() < 0.6 else "put"
            side, strategy = "long", f"long_{option_type}"
            contracts, strike_factor = rng.randint(1, 5), rng.uniform(0.92, 1.1)
        spot_value = spot / PRICE_UNIT
        step = 1 if spot_value < 100 else 5
        strike = max(step, round(spot_value * strike_factor / step) * step)
        volatility = SPECS[symbol].annual_volatility
        years = (expiry - trade_day).days / 365
        premium = premium_cents(option_type, spot_value, strike, years, volatility)
        units = contracts * 100
        sign = 1 if side == "short" else -1
        verb = "STO" if side == "short" else "BTO"
        label = f"{symbol} {expiry:%d%b%y}".upper() + f" {strike} {option_type[0].upper()}"
        self.book(
            account,
            trade_day,
            "option_premium",
            f"{verb} {contracts} {label} @ {premium / 100:.2f}",
            "derivatives",
            sign * premium * units,
            "USD",
            "internal",
            merchant=self.locale.broker,
            symbol=symbol,
        )
        self.book(
            account,
            trade_day,
            "fee",
            f"OPTIONS COMMISSION {contracts} CONTRACTS",
            "fees",
            -65 * contracts,
            "USD",
            "internal",
            merchant=self.locale.broker,
        )
        status, closed_on = "open", None
        if expiry <= AS_OF:
            _, settle = market.close_on_or_before(symbol, expiry)
            at_expiry = settle / PRICE_UNIT
            in_money = at_expiry > strike if option_type == "call" else at_expiry < strike
            closed_on = expiry
            if in_money:
                status = "exercised"
                # Calls deliver shares to the holder, puts to the writer, at the strike.
                buys = (option_type == "call") == (side == "long")
                shares = units * QUANTITY_UNIT
                if not buys and self.held_on(symbol, expiry + timedelta(1)) < shares:
                    # A long put without the shares is sold the day before it expires.
                    status, closed_on = "closed", on_or_before("NYSE", expiry - timedelta(1))
                    _, last_close = market.close_on_or_before(symbol, closed_on)
                    cost = max(int((strike - last_close / PRICE_UNIT) * 100), 0) * units
                    self.book(
                        account,
                        closed_on,
                        "option_premium",
                        f"STC {contracts} {label}",
                        "derivatives",
                        -cost if side == "short" else cost,
                        "USD",
                        "internal",
                        merchant=self.locale.broker,
                        symbol=symbol,
                    )
                else:
                    what = "ASSIGNED" if side == "short" else "EXERCISED"
                    self.trade(
                        account,
                        symbol,
                        expiry,
                        shares,
                        buy=buys,
                        price=strike * PRICE_UNIT,
                        note=f" ({what} {label})",
                    )
            else:
                status = "expired"
        self.rows["derivative_transactions"].append(
            (self.ids.take("derivative_transactions"), self.oid, account, "option", symbol,
             option_type, side, strategy, contracts, 100, strike * PRICE_UNIT,
             premium * PRICE_UNITS_PER_CENT, None, "USD", _iso(trade_day), _iso(expiry), status,
             _iso(closed_on) if closed_on else None)
        )  # fmt: skip

    def future(self, account: int) -> None:
        rng, market = self.rng, self.g.market
        trade_day = self.open_day(max(self.start, AS_OF - timedelta(300)), AS_OF - timedelta(5))
        if trade_day is None:
            return
        year, month = divmod(trade_day.year * 12 + trade_day.month - 1 + rng.randint(1, 5), 12)
        expiry = futures_expiry(year, month + 1)
        _, entry = market.close_on_or_before("GC", trade_day)
        side = "long" if rng.random() < 0.75 else "short"
        contracts = rng.randint(1, 2)
        status, closed_on = "open", None
        if expiry <= AS_OF:
            _, exit_price = market.close_on_or_before("GC", expiry)
            sign = 1 if side == "long" else -1
            result = sign * (exit_price - entry) * 100 * contracts // PRICE_UNITS_PER_CENT
            self.book(
                account,
                expiry,
                "settlement",
                f"GC FUTURE {expiry:%b%y} SETTLEMENT {contracts} {side.upper()}".upper(),
                "derivatives",
                result,
                "USD",
                "internal",
                merchant=self.locale.broker,
            )
            status, closed_on = "closed", expiry
        self.rows["derivative_transactions"].append(
            (self.ids.take("derivative_transactions"), self.oid, account, "future", "GC", None,
             side, f"{side}_future", contracts, 100, None, None, entry, "USD", _iso(trade_day),
             _iso(expiry), status, _iso(closed_on) if closed_on else None)
        )  # fmt: skip

    # --- output --------------------------------------------------------------------------

    def flush(self) -> None:
        bookings = self.bookings
        # Stable: the bookings of one day keep the order they were made in.
        bookings.sort(key=BY_DAY)
        running: dict[int, int] = {}
        lowest: dict[int, int] = {}
        for b in bookings:
            account_id = b[ACCOUNT]
            balance = running.get(account_id, 0) + b[AMOUNT]
            running[account_id] = balance
            if balance < lowest.get(account_id, 0):
                lowest[account_id] = balance
        oid, next_id = self.oid, self.ids.next_id
        first = next_id["transactions"]
        next_id["transactions"] = first + len(bookings)
        self.rows["transactions"].extend([(*b, first + n, oid) for n, b in enumerate(bookings)])
        cards = (
            (b[0][:7], b[TYPE], b[CATEGORY], b[CURRENCY], b[AMOUNT])
            for b in bookings
            if b[TYPE] == "card_payment"
        )
        take = self.ids.take
        for month, category, ccy, amount, count in monthly_spending(cards):
            self.rows["spending"].append(
                (take("spending"), oid, month, category, amount, ccy, count)
            )
        for account in self.accounts:
            account_id = account[0]
            # The opening balance is what the account held when the history starts: enough
            # never to be overdrawn, and at least the persona's buffer.
            opening = max(self.opening_target.get(account_id, 0), -lowest.get(account_id, 0))
            opening = (opening + MONEY_UNIT - 1) // MONEY_UNIT * MONEY_UNIT
            account[7] = opening + running.get(account_id, 0)
            self.rows["bank_accounts"].append(tuple(account))


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


def copy_text(rows: list[tuple[object, ...]]) -> bytes:
    """Rows in PostgreSQL's COPY text format: tab-separated, \\N for null.

    The generator writes no tab, newline or backslash into any value (names and
    descriptions come from fixed lists); a backslash would need escaping, so
    one found is an error rather than a silently different value.
    """
    text = "".join(
        ["\t".join(["\\N" if v is None else str(v) for v in row]) + "\n" for row in rows]
    )
    if "\\" in text.replace("\\N", ""):
        raise ValueError("a generated value holds a backslash: COPY would read it differently")
    return text.encode()


def produce(
    queue: Any,
    seed: int,
    market: ScaledMarket,
    institutions: dict[str, int],
    ids: IdCounters,
    first: int,
    count: int,
    batch_size: int,
    history_months: int = DEFAULT_HISTORY_MONTHS,
    as_copy_text: bool = False,
) -> None:
    """Generator process: put each batch on ``queue``, then None (or the error's text).

    With ``as_copy_text`` each table's rows travel as (row count, COPY text):
    formatted here, on the generator's core, and cheaper to pass than tuples.
    """
    try:
        generator = CustomerGenerator(seed, market, institutions, history_months)
        for customers, rows in batches(generator, ids, first, count, batch_size):
            if as_copy_text:
                queue.put(
                    (
                        customers,
                        {table: (len(found), copy_text(found)) for table, found in rows.items()},
                    )
                )
            else:
                queue.put((customers, rows))
    except BaseException as error:  # the loader re-raises it; nothing is swallowed
        queue.put(f"{type(error).__name__}: {error}")
        raise
    queue.put(None)
