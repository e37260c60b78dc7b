"""The bank's state as the answer key reads it: plain rows straight from the tables.

Nothing here goes through the services or the analysis the API answers with. The key
computes its gold answers from these rows by code of its own, so that where the key and
the API disagree one of them has a bug, and a test says so.
"""

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from functools import cached_property

from sqlalchemy import Table, func, select
from sqlmodel import Session

from models import (
    Asset,
    BankAccount,
    Customer,
    DerivativeTransaction,
    FxRate,
    Institution,
    Instrument,
    InstrumentPrice,
    Transaction,
)

CENT = Decimal("0.01")


def table(model: type) -> Table:
    found: Table = model.__table__  # type: ignore[attr-defined]
    return found


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True)
class Account:
    number: str
    account_type: str
    currency: str
    balance: Decimal
    institution: str


@dataclass(frozen=True)
class Row:
    """One booked transaction."""

    id: int
    on: date
    kind: str
    category: str | None
    amount: Decimal
    currency: str
    merchant: str | None
    symbol: str | None
    quantity: Decimal | None
    price: Decimal | None


@dataclass(frozen=True)
class Position:
    """One option or futures position."""

    instrument_type: str
    underlying: str
    expiry: date
    status: str


@dataclass(frozen=True)
class Ledger:
    """Everything one customer has; the transactions are read when first asked for."""

    customer_oid: str
    name: str
    accounts: tuple[Account, ...]
    holdings: dict[str, Decimal]
    """Quantity held of each symbol, over all of the customer's accounts."""
    positions: tuple[Position, ...]
    read_rows: Callable[[], tuple[Row, ...]] = field(repr=False, compare=False)

    @cached_property
    def rows(self) -> tuple[Row, ...]:
        """Oldest first, in booking order."""
        return self.read_rows()

    def currencies(self) -> list[str]:
        return sorted({account.currency for account in self.accounts})

    @cached_property
    def card_payments(self) -> list[Row]:
        return [row for row in self.rows if row.kind == "card_payment"]

    def employer(self) -> str | None:
        """Who pays the customer most often: the payer of most income deposits."""
        payers = Counter(
            row.merchant
            for row in self.rows
            if row.kind == "deposit" and row.category == "income" and row.merchant
        )
        return payers.most_common(1)[0][0] if payers else None


class Book:
    """The bank as of its last market day, read lazily and remembered for one key."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._ledgers: dict[str, Ledger | None] = {}
        self._closes: dict[str, list[tuple[date, Decimal]]] = {}

    @cached_property
    def as_of(self) -> date:
        """The market's last day: the day every current figure of the bank is valued on."""
        prices = table(InstrumentPrice)
        last: date | None = self.session.execute(select(func.max(prices.c.price_date))).scalar()
        return last or date.today()

    @cached_property
    def customers(self) -> list[tuple[str, str]]:
        """(customer_oid, name) of every customer, oldest registration first."""
        users = table(Customer)
        rows = self.session.execute(select(users.c.customer_oid, users.c.name).order_by(users.c.id))
        return [(oid, name) for oid, name in rows]

    @cached_property
    def names(self) -> dict[str, str]:
        return dict(self.customers)

    @cached_property
    def _by_name(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for oid, name in self.customers:
            found.setdefault(name.casefold(), []).append(oid)
        return found

    def named(self, name: str) -> list[str]:
        """Every customer whose name is exactly this one (any case)."""
        return list(self._by_name.get(name.casefold(), []))

    @cached_property
    def instruments(self) -> dict[str, tuple[str, str]]:
        """symbol: (name, currency)."""
        instruments = table(Instrument)
        rows = self.session.execute(
            select(instruments.c.symbol, instruments.c.name, instruments.c.currency)
        )
        return {symbol: (name, currency) for symbol, name, currency in rows}

    @cached_property
    def usd_per_unit(self) -> dict[str, Decimal]:
        """Each currency's latest rate on or before ``as_of``."""
        fx = table(FxRate)
        rows = self.session.execute(
            select(fx.c.currency, fx.c.rate_date, fx.c.usd_per_unit)
            .where(fx.c.rate_date <= self.as_of)
            .order_by(fx.c.rate_date)
        )
        rates = {"USD": Decimal(1)}
        for currency, _, rate in rows:
            rates[currency] = rate
        return rates

    def convert(self, amount: Decimal, currency: str, to: str) -> Decimal:
        rates = self.usd_per_unit
        return amount * rates[currency] / rates[to]

    def closes(self, symbol: str) -> list[tuple[date, Decimal]]:
        """The symbol's daily closes up to ``as_of``, oldest first."""
        if symbol not in self._closes:
            prices = table(InstrumentPrice)
            rows = self.session.execute(
                select(prices.c.price_date, prices.c.close)
                .where(prices.c.symbol == symbol, prices.c.price_date <= self.as_of)
                .order_by(prices.c.price_date)
            )
            self._closes[symbol] = [(day, close) for day, close in rows]
        return self._closes[symbol]

    def rates(self, currency: str) -> list[tuple[date, Decimal]]:
        """US dollars per unit of ``currency`` on each day it was fixed, oldest first."""
        if currency == "USD":
            return []
        key = f"fx:{currency}"
        if key not in self._closes:
            fx = table(FxRate)
            rows = self.session.execute(
                select(fx.c.rate_date, fx.c.usd_per_unit)
                .where(fx.c.currency == currency, fx.c.rate_date <= self.as_of)
                .order_by(fx.c.rate_date)
            )
            self._closes[key] = [(day, rate) for day, rate in rows]
        return self._closes[key]

    def close_on_or_before(self, symbol: str, day: date) -> tuple[date, Decimal] | None:
        found = None
        for point in self.closes(symbol):
            if point[0] > day:
                break
            found = point
        return found

    def value(self, symbol: str, quantity: Decimal, to: str) -> Decimal:
        """What ``quantity`` of ``symbol`` is worth at its last close, in ``to``."""
        last = self.closes(symbol)
        if not last:
            return Decimal(0)
        return self.convert(quantity * last[-1][1], self.instruments[symbol][1], to)

    def net_worth(self, ledger: Ledger, currency: str) -> Decimal:
        cash = sum(
            (self.convert(a.balance, a.currency, currency) for a in ledger.accounts),
            Decimal(0),
        )
        invested = sum(
            (
                self.value(symbol, quantity, currency)
                for symbol, quantity in ledger.holdings.items()
            ),
            Decimal(0),
        )
        return cents(cash + invested)

    def ledger(self, customer_oid: str) -> Ledger | None:
        if customer_oid not in self._ledgers:
            self._ledgers[customer_oid] = self._read_ledger(customer_oid)
        return self._ledgers[customer_oid]

    def _read_ledger(self, customer_oid: str) -> Ledger | None:
        name = self.names.get(customer_oid)
        if name is None:
            return None
        execute = self.session.execute
        accounts, institutions = table(BankAccount), table(Institution)
        account_rows = execute(
            select(
                accounts.c.account_number,
                accounts.c.account_type,
                accounts.c.currency,
                accounts.c.balance,
                institutions.c.name,
            )
            .join(institutions, institutions.c.id == accounts.c.institution_id)
            .where(accounts.c.customer_oid == customer_oid)
            .order_by(accounts.c.id)
        )
        assets = table(Asset)
        holdings: dict[str, Decimal] = {}
        for symbol, quantity in execute(
            select(assets.c.symbol, assets.c.quantity).where(assets.c.customer_oid == customer_oid)
        ):
            holdings[symbol] = holdings.get(symbol, Decimal(0)) + quantity
        d = table(DerivativeTransaction)
        positions = execute(
            select(d.c.instrument_type, d.c.underlying_symbol, d.c.expiry_date, d.c.status).where(
                d.c.customer_oid == customer_oid
            )
        )
        return Ledger(
            customer_oid=customer_oid,
            name=name,
            accounts=tuple(Account(*row) for row in account_rows),
            holdings={s: q for s, q in holdings.items() if q},
            positions=tuple(Position(*row) for row in positions),
            read_rows=lambda: self._read_rows(customer_oid),
        )

    def _read_rows(self, customer_oid: str) -> tuple[Row, ...]:
        t = table(Transaction)
        rows = self.session.execute(
            select(
                t.c.id,
                t.c.transaction_date,
                t.c.transaction_type,
                t.c.category,
                t.c.amount,
                t.c.currency,
                t.c.merchant,
                t.c.symbol,
                t.c.quantity,
                t.c.price,
            )
            .where(t.c.customer_oid == customer_oid)
            .order_by(t.c.transaction_date, t.c.id)
        )
        return tuple(Row(*row) for row in rows)
