"""The synthetic customer generator: who each customer is, and its rows, batch by batch.

``CustomerGenerator`` draws a customer (persona, locale, name, when it joined),
has a ``CustomerBook`` fill its accounts and transactions, and draws the profile it
declares (``profiles.py``, on a random stream of its own); ``produce`` runs
in a process of its own and hands the loader (``bulk_load.py``) batches of rows,
as tuples or as PostgreSQL COPY text.
"""

import random
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from faker.providers.person.de_DE import Provider as GermanNames
from faker.providers.person.en_GB import Provider as BritishNames
from faker.providers.person.en_US import Provider as AmericanNames
from sqlalchemy import Table
from sqlmodel import SQLModel

from core.identifiers import name_tokens
from core.money import MONEY_SCALE, PRICE_SCALE, QUANTITY_SCALE
from market.calendars import month_end
from market.institutions import (
    ALBION_SECURITIES,
    GLOBAL_BANK,
    HARBORVIEW_BANK,
    INVESTMENT_CORP,
    NORDSTERN_DEPOT,
    RHEINTAL_BANK,
    THAMESGATE_BANK,
)
from market.merchants import CITIES
from market.model import AS_OF, ScaledMarket, month_starts, monthly_spending, payouts
from models import CUSTOMER_TABLES, Customer, CustomerNameToken
from services.books import KEPT_TYPES, Book, KeptRow, fold_book, kept_row
from synthetic.book import (
    ACCOUNT,
    AMOUNT,
    BY_DAY,
    CATEGORY,
    CURRENCY,
    INDUSTRIES,
    MONEY_UNIT,
    PRICE,
    QUANTITY,
    SYMBOL,
    TRANSACTION_COLUMNS,
    TYPE,
    Backdrop,
    IdCounters,
    Locale,
    Picker,
)
from synthetic.investing import Investments
from synthetic.personas import PERSONAS
from synthetic.profiles import draw_profile, investing_record
from synthetic.statements import Statements

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
COLUMNS: dict[str, tuple[str, ...]] = {
    table.name: TRANSACTION_COLUMNS
    if table.name == "transactions"
    else tuple(column.name for column in table.columns if column.server_default is None)
    for table in TABLES
}
"""Table -> columns, in the order of the generator's tuples."""


def _unscaled(value: int | None, scale: int) -> Decimal | None:
    return None if value is None else Decimal(value).scaleb(-scale)


def uuid7(moment: datetime, random_bits: int) -> str:
    """A version 7 UUID (RFC 9562): 48 bits of Unix milliseconds, then 74 random bits."""
    millis = int(moment.replace(tzinfo=UTC).timestamp() * 1000)
    rand_a, rand_b = random_bits >> 62, random_bits & ((1 << 62) - 1)
    value = (millis << 80) | (7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b
    return str(uuid.UUID(int=value))


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

T = TypeVar("T")


def _pick_weighted(rng: random.Random, table: Sequence[tuple[T, float]]) -> T:
    draw, total = rng.random(), 0.0
    for item, weight in table:
        total += weight
        if draw < total:
            return item
    return table[-1][0]


PERSONA_TABLE = tuple((p, p.share) for p in PERSONAS)


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
        self.backdrop = Backdrop(
            market, institutions, tuple(month_starts(AS_OF, history_months)), payouts()
        )

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
        positions = len(rows["derivative_transactions"])
        book = None
        if persona.name != "empty":
            book = CustomerBook(
                self.backdrop, rng, index, oid, name, persona, locale, joined, ids, rows
            )
            book.fill()
        record = investing_record(
            self.backdrop.market,
            book.trades if book else {},
            len(rows["derivative_transactions"]) - positions,
        )
        profile = draw_profile(
            oid, name, persona, locale.country, book.city if book else None, joined, record
        )
        rows["customer_profiles"].append(tuple(profile[c] for c in COLUMNS["customer_profiles"]))
        kept = kept_row(oid, book.kept_book() if book else Book())
        rows["kept_books"].append(tuple(kept[c] for c in COLUMNS["kept_books"]))


class CustomerBook(Statements, Investments):
    """One customer's accounts, holdings, transactions, spending and derivatives."""

    # --- the customer's life -------------------------------------------------------------

    def fill(self) -> None:
        rng, p = self.rng, self.p
        cents = MONEY_UNIT
        self.income = rng.randint(*p.income) * cents
        opened = self.joined + timedelta(rng.randint(0, 45))
        # Every account opens after its owner joined the bank, never before.
        self.start = max(self.backdrop.months[0], opened)
        bank = rng.choice(self.locale.banks)
        self.checking = self.account(bank, "checking", self.currency, opened)
        self.opening_target[self.checking] = int(rng.uniform(*p.buffer_months) * self.income)
        self.savings = None
        if rng.random() < p.savings:
            saved = opened + timedelta(rng.randint(0, 400))
            if saved < AS_OF - timedelta(60):
                self.savings = self.account(bank, "savings", self.currency, saved)
                self.savings_opened = saved
                self.opening_target[self.savings] = int(
                    rng.uniform(*p.savings_months) * self.income
                )
        self.months = [m for m in self.backdrop.months if month_end(m) >= self.start]
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

    # --- output --------------------------------------------------------------------------

    def kept_book(self) -> Book:
        """The figures the bank keeps for this customer (``services/books.py``), from the
        bookings in the order ``flush`` gave them their ids."""
        rows: list[KeptRow] = [
            (
                b[TYPE],
                date.fromisoformat(b[0]),
                b[SYMBOL],
                _unscaled(b[QUANTITY], QUANTITY_SCALE),
                _unscaled(b[PRICE], PRICE_SCALE),
                b[CATEGORY],
                b[CURRENCY],
                Decimal(b[AMOUNT]).scaleb(-MONEY_SCALE),
            )
            for b in self.bookings
            if b[TYPE] in KEPT_TYPES
        ]
        return fold_book(rows, len(self.bookings))

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
