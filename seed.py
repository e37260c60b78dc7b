"""Sample data: deterministic market data and the five sample customers of the contract.

``python seed.py`` fills an empty database and leaves a full one as it is:
market data is loaded when the bank has none, and each sample customer is
added only when its CustomerOID is not taken. Everything here is generated
from fixed seeds, so two fresh installs agree to the cent.
"""

import argparse
import math
import multiprocessing
import os
import random
import resource
import time as clock
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, select
from tqdm import tqdm

import synthetic
from db import create_db_engine, create_schema
from identifiers import make_iban
from models import (
    CUSTOMER_COUNTER,
    AccountType,
    Asset,
    AssetType,
    BankAccount,
    Counter,
    Customer,
    DerivativeStatus,
    DerivativeTransaction,
    FxRate,
    Institution,
    InstitutionType,
    Instrument,
    InstrumentPrice,
    Spending,
    Transaction,
    TransactionType,
)
from money import to_cents
from service import add_customer
from synthetic import IdCounters

AS_OF = date(2026, 9, 30)
"""The bank's "today": the last day with prices, the date every valuation is as of."""
HISTORY_START = date(2023, 10, 2)
MARKET_SEED = "dummy-bank-market-v1"
TRADING_DAYS_PER_YEAR = 252


@dataclass(frozen=True)
class InstrumentSpec:
    symbol: str
    name: str
    asset_type: AssetType
    currency: str
    last_price: str
    """The close on ``AS_OF``; the generated path is scaled to end exactly here."""
    annual_drift: float
    annual_volatility: float


INSTRUMENTS: tuple[InstrumentSpec, ...] = (
    InstrumentSpec("AAPL", "Apple Inc.", AssetType.stock, "USD", "228.40", 0.12, 0.27),
    InstrumentSpec("MSFT", "Microsoft Corporation", AssetType.stock, "USD", "438.15", 0.14, 0.25),
    InstrumentSpec("GOOGL", "Alphabet Inc. Class A", AssetType.stock, "USD", "178.62", 0.12, 0.30),
    InstrumentSpec("AMZN", "Amazon.com, Inc.", AssetType.stock, "USD", "196.35", 0.15, 0.32),
    InstrumentSpec("TSLA", "Tesla, Inc.", AssetType.stock, "USD", "262.80", 0.10, 0.58),
    InstrumentSpec("NVDA", "NVIDIA Corporation", AssetType.stock, "USD", "131.45", 0.35, 0.52),
    InstrumentSpec("JNJ", "Johnson & Johnson", AssetType.stock, "USD", "162.30", 0.04, 0.16),
    InstrumentSpec("SAP", "SAP SE", AssetType.stock, "EUR", "212.70", 0.15, 0.26),
    InstrumentSpec("SPY", "SPDR S&P 500 ETF Trust", AssetType.etf, "USD", "571.20", 0.09, 0.16),
    InstrumentSpec("QQQ", "Invesco QQQ Trust", AssetType.etf, "USD", "488.10", 0.11, 0.21),
    InstrumentSpec(
        "VTI", "Vanguard Total Stock Market ETF", AssetType.etf, "USD", "283.55", 0.09, 0.17
    ),
    InstrumentSpec(
        "US10Y", "US Treasury 4.25% 2034 (per 100 face)", AssetType.bond, "USD", "98.72", 0.0, 0.05
    ),
    InstrumentSpec(
        "US5Y", "US Treasury 4.00% 2029 (per 100 face)", AssetType.bond, "USD", "99.35", 0.0, 0.03
    ),
    InstrumentSpec(
        "CB-JNJ-2033",
        "Johnson & Johnson 4.95% 2033 bond",
        AssetType.bond,
        "USD",
        "101.85",
        0.0,
        0.04,
    ),
    InstrumentSpec(
        "CB-VZ-2032", "Verizon 5.05% 2032 bond", AssetType.bond, "USD", "100.40", 0.0, 0.05
    ),
    InstrumentSpec(
        "CB-AAPL-2031", "Apple 3.35% 2031 bond", AssetType.bond, "USD", "96.90", 0.0, 0.04
    ),
    InstrumentSpec("BTC", "Bitcoin", AssetType.crypto, "USD", "63450.00", 0.30, 0.55),
    InstrumentSpec("ETH", "Ether", AssetType.crypto, "USD", "2615.40", 0.25, 0.65),
    InstrumentSpec(
        "GC", "Gold (COMEX, per troy ounce)", AssetType.commodity, "USD", "2659.80", 0.08, 0.15
    ),
)

FX_RATES: tuple[tuple[str, str, float], ...] = (
    # currency, US dollars per unit on AS_OF, annual volatility
    ("EUR", "1.1135", 0.07),
    ("GBP", "1.3370", 0.08),
)


def trading_days(start: date, end: date, *, every_day: bool) -> list[date]:
    days = (start + timedelta(n) for n in range((end - start).days + 1))
    return [d for d in days if every_day or d.weekday() < 5]


def price_path(
    key: str,
    days: list[date],
    last: Decimal,
    drift: float,
    volatility: float,
    *,
    places: int,
    steps_per_year: int,
) -> list[tuple[date, Decimal]]:
    """A deterministic random walk over ``days`` that ends exactly at ``last``.

    Shocks are Irwin-Hall sums of uniforms (mean 0, variance 1) and the walk
    uses only additions and multiplications, which IEEE 754 rounds the same on
    every machine, so the path is identical to the cent everywhere.
    """
    rng = random.Random(f"{MARKET_SEED}:{key}")
    step_drift = drift / steps_per_year
    step_vol = volatility / math.sqrt(steps_per_year)
    level, levels = 1.0, []
    for _ in days:
        shock = sum(rng.random() for _ in range(12)) - 6.0
        level *= 1.0 + step_drift + step_vol * shock
        levels.append(level)
    scale = float(last) / levels[-1]
    quantum = Decimal(1).scaleb(-places)
    return [(d, Decimal(lv * scale).quantize(quantum)) for d, lv in zip(days, levels, strict=True)]


def generate_prices(spec: InstrumentSpec) -> list[tuple[date, Decimal]]:
    every_day = spec.asset_type == AssetType.crypto
    days = trading_days(HISTORY_START, AS_OF, every_day=every_day)
    return price_path(
        spec.symbol,
        days,
        Decimal(spec.last_price),
        spec.annual_drift,
        spec.annual_volatility,
        places=2,
        steps_per_year=365 if every_day else TRADING_DAYS_PER_YEAR,
    )


def generate_fx(currency: str, last: str, volatility: float) -> list[tuple[date, Decimal]]:
    days = trading_days(HISTORY_START, AS_OF, every_day=False)
    return price_path(
        f"fx:{currency}",
        days,
        Decimal(last),
        0.0,
        volatility,
        places=4,
        steps_per_year=TRADING_DAYS_PER_YEAR,
    )


@dataclass
class MarketData:
    """Every generated close, kept in memory so that sample trades use real prices."""

    closes: dict[str, dict[date, Decimal]] = field(default_factory=dict)

    def close_on_or_before(self, symbol: str, day: date) -> tuple[date, Decimal]:
        history = self.closes[symbol]
        while day not in history:
            day -= timedelta(days=1)
        return day, history[day]


def load_market_data(session: Session) -> MarketData:
    """Insert instruments, daily closes and FX rates unless they are already there."""
    market = MarketData({spec.symbol: dict(generate_prices(spec)) for spec in INSTRUMENTS})
    if session.exec(select(func.count()).select_from(Instrument)).one() == 0:
        session.execute(
            insert(Instrument),
            [
                {
                    "symbol": s.symbol,
                    "name": s.name,
                    "asset_type": s.asset_type.value,
                    "currency": s.currency,
                }
                for s in INSTRUMENTS
            ],
        )
        session.execute(
            insert(InstrumentPrice),
            [
                {"symbol": symbol, "price_date": d, "close": close}
                for symbol, history in market.closes.items()
                for d, close in history.items()
            ],
        )
        session.execute(
            insert(FxRate),
            [
                {"currency": currency, "rate_date": d, "usd_per_unit": rate}
                for currency, last, vol in FX_RATES
                for d, rate in generate_fx(currency, last, vol)
            ],
        )
    return market


# --- Institutions -----------------------------------------------------------

INSTITUTIONS: tuple[dict[str, str | None], ...] = (
    {
        "name": "Global Bank",
        "institution_type": InstitutionType.bank.value,
        "country": "US",
        "routing_number": "021000089",
        "bic": "GLBLUS33",
    },
    {
        "name": "Investment Corp",
        "institution_type": InstitutionType.broker.value,
        "country": "US",
        "routing_number": "011000138",
        "bic": "INVCUS44",
    },
    {
        "name": "Crypto Exchange",
        "institution_type": InstitutionType.crypto_exchange.value,
        "country": "US",
        "routing_number": None,
        "bic": None,
    },
)


def load_institutions(session: Session) -> dict[str, int]:
    existing = {i.name: i.id for i in session.exec(select(Institution))}
    for spec in INSTITUTIONS:
        if spec["name"] not in existing:
            institution = Institution.model_validate(spec)
            session.add(institution)
            session.flush()
            existing[institution.name] = institution.id
    return {name: ident for name, ident in existing.items() if ident is not None}


# --- The five sample customers ----------------------------------------------


@dataclass(frozen=True)
class AccountSpec:
    key: str
    institution: str
    account_type: AccountType
    currency: str
    opening_balance: str
    opened_on: date
    iban_country: str | None = None


@dataclass(frozen=True)
class TradeSpec:
    account: str
    symbol: str
    side: TransactionType
    quantity: str
    on: date


@dataclass(frozen=True)
class DerivativeSpec:
    account: str
    instrument_type: str
    underlying: str
    side: str
    contracts: int
    multiplier: int
    trade_date: date
    expiry_date: date
    status: DerivativeStatus
    option_type: str | None = None
    strategy: str | None = None
    strike: str | None = None
    premium: str | None = None
    closed_on: date | None = None


@dataclass(frozen=True)
class SampleCustomer:
    customer_oid: str
    name: str
    income_account: str
    monthly_income: str
    income_description: str
    spending_account: str
    monthly_spending: dict[str, str]
    """Typical spending per category and month; each month varies around it."""
    accounts: tuple[AccountSpec, ...]
    trades: tuple[TradeSpec, ...]
    derivatives: tuple[DerivativeSpec, ...] = ()


BUY, SELL = TransactionType.buy, TransactionType.sell
CHECKING, SAVINGS = AccountType.checking, AccountType.savings
BROKERAGE, CRYPTO = AccountType.brokerage, AccountType.crypto

SAMPLE_CUSTOMERS: tuple[SampleCustomer, ...] = (
    SampleCustomer(
        customer_oid="550e8400-e29b-41d4-a716-446655440001",
        name="John Doe",
        income_account="checking",
        monthly_income="8500.00",
        income_description="Salary - Acme Engineering Inc.",
        spending_account="checking",
        monthly_spending={
            "groceries": "620.00",
            "dining": "310.00",
            "transport": "180.00",
            "utilities": "240.00",
            "entertainment": "150.00",
        },
        accounts=(
            AccountSpec("checking", "Global Bank", CHECKING, "USD", "12000.00", date(2019, 3, 4)),
            AccountSpec(
                "eur",
                "Global Bank",
                SAVINGS,
                "EUR",
                "15000.00",
                date(2021, 6, 1),
                iban_country="DE",
            ),
            AccountSpec(
                "brokerage", "Investment Corp", BROKERAGE, "USD", "90000.00", date(2020, 1, 15)
            ),
            AccountSpec("crypto", "Crypto Exchange", CRYPTO, "USD", "60000.00", date(2022, 5, 9)),
        ),
        trades=(
            TradeSpec("brokerage", "AAPL", BUY, "60", date(2024, 11, 4)),
            TradeSpec("brokerage", "AAPL", BUY, "60", date(2025, 4, 7)),
            TradeSpec("brokerage", "AAPL", SELL, "20", date(2026, 2, 17)),
            TradeSpec("brokerage", "GOOGL", BUY, "50", date(2025, 1, 13)),
            TradeSpec("brokerage", "US5Y", BUY, "150", date(2024, 12, 2)),
            TradeSpec("brokerage", "SPY", BUY, "40", date(2025, 3, 10)),
            TradeSpec("brokerage", "SPY", BUY, "15", date(2026, 1, 5)),
            TradeSpec("eur", "SAP", BUY, "25", date(2025, 9, 15)),
            TradeSpec("crypto", "BTC", BUY, "0.15", date(2025, 2, 3)),
            TradeSpec("crypto", "BTC", BUY, "0.1", date(2026, 3, 2)),
        ),
        derivatives=(
            DerivativeSpec(
                "brokerage",
                "option",
                "AAPL",
                "short",
                1,
                100,
                date(2026, 8, 17),
                date(2026, 10, 16),
                DerivativeStatus.open,
                option_type="call",
                strategy="covered_call",
                strike="240.00",
                premium="4.35",
            ),
            DerivativeSpec(
                "brokerage",
                "option",
                "SPY",
                "short",
                1,
                100,
                date(2026, 6, 22),
                date(2026, 8, 21),
                DerivativeStatus.expired,
                option_type="put",
                strategy="cash_secured_put",
                strike="540.00",
                premium="6.10",
                closed_on=date(2026, 8, 21),
            ),
        ),
    ),
    SampleCustomer(
        customer_oid="550e8400-e29b-41d4-a716-446655440002",
        name="Jane Smith",
        income_account="checking",
        monthly_income="11200.00",
        income_description="Salary - Northwind Capital LLC",
        spending_account="checking",
        monthly_spending={
            "dining": "720.00",
            "travel": "900.00",
            "shopping": "640.00",
            "groceries": "480.00",
            "transport": "260.00",
        },
        accounts=(
            AccountSpec("checking", "Global Bank", CHECKING, "USD", "9000.00", date(2018, 9, 10)),
            AccountSpec(
                "brokerage", "Investment Corp", BROKERAGE, "USD", "120000.00", date(2019, 2, 1)
            ),
            AccountSpec("crypto", "Crypto Exchange", CRYPTO, "USD", "140000.00", date(2021, 1, 20)),
        ),
        trades=(
            TradeSpec("brokerage", "TSLA", BUY, "80", date(2024, 10, 14)),
            TradeSpec("brokerage", "TSLA", SELL, "30", date(2025, 12, 8)),
            TradeSpec("brokerage", "NVDA", BUY, "200", date(2024, 10, 21)),
            TradeSpec("brokerage", "NVDA", BUY, "100", date(2025, 7, 14)),
            TradeSpec("brokerage", "MSFT", BUY, "40", date(2025, 5, 5)),
            TradeSpec("crypto", "BTC", BUY, "0.4", date(2024, 11, 18)),
            TradeSpec("crypto", "ETH", BUY, "6", date(2025, 1, 6)),
            TradeSpec("crypto", "ETH", SELL, "2", date(2026, 5, 11)),
        ),
        derivatives=(
            DerivativeSpec(
                "brokerage",
                "option",
                "NVDA",
                "long",
                5,
                100,
                date(2026, 7, 20),
                date(2026, 12, 18),
                DerivativeStatus.open,
                option_type="call",
                strategy="long_call",
                strike="140.00",
                premium="9.80",
            ),
            DerivativeSpec(
                "brokerage",
                "future",
                "GC",
                "long",
                1,
                100,
                date(2026, 8, 3),
                date(2026, 12, 29),
                DerivativeStatus.open,
                strategy="long_future",
            ),
            DerivativeSpec(
                "brokerage",
                "option",
                "TSLA",
                "long",
                2,
                100,
                date(2026, 1, 12),
                date(2026, 3, 20),
                DerivativeStatus.closed,
                option_type="put",
                strategy="long_put",
                strike="230.00",
                premium="12.40",
                closed_on=date(2026, 3, 2),
            ),
        ),
    ),
    SampleCustomer(
        customer_oid="550e8400-e29b-41d4-a716-446655440003",
        name="Robert Johnson",
        income_account="checking",
        monthly_income="6400.00",
        income_description="Pension - State Teachers Retirement",
        spending_account="checking",
        monthly_spending={
            "groceries": "540.00",
            "healthcare": "420.00",
            "utilities": "310.00",
            "insurance": "280.00",
        },
        accounts=(
            AccountSpec("checking", "Global Bank", CHECKING, "USD", "18000.00", date(2009, 5, 12)),
            AccountSpec("savings", "Global Bank", SAVINGS, "USD", "85000.00", date(2011, 8, 30)),
            AccountSpec(
                "brokerage", "Investment Corp", BROKERAGE, "USD", "160000.00", date(2012, 4, 2)
            ),
        ),
        trades=(
            TradeSpec("brokerage", "US10Y", BUY, "400", date(2024, 10, 7)),
            TradeSpec("brokerage", "US10Y", BUY, "200", date(2025, 10, 6)),
            TradeSpec("brokerage", "CB-JNJ-2033", BUY, "250", date(2024, 11, 11)),
            TradeSpec("brokerage", "CB-VZ-2032", BUY, "200", date(2025, 2, 10)),
            TradeSpec("brokerage", "SPY", BUY, "60", date(2024, 12, 16)),
            TradeSpec("brokerage", "JNJ", BUY, "120", date(2025, 3, 3)),
            TradeSpec("brokerage", "JNJ", SELL, "20", date(2026, 6, 1)),
        ),
    ),
    SampleCustomer(
        customer_oid="550e8400-e29b-41d4-a716-446655440004",
        name="ABC Corporation",
        income_account="operating",
        monthly_income="185000.00",
        income_description="Customer receipts - consolidated",
        spending_account="operating",
        monthly_spending={
            "office": "14500.00",
            "utilities": "6200.00",
            "marketing": "38000.00",
            "software": "12500.00",
            "travel": "9800.00",
        },
        accounts=(
            AccountSpec("operating", "Global Bank", CHECKING, "USD", "450000.00", date(2015, 2, 2)),
            AccountSpec(
                "gbp",
                "Global Bank",
                CHECKING,
                "GBP",
                "120000.00",
                date(2020, 10, 1),
                iban_country="GB",
            ),
            AccountSpec(
                "treasury", "Investment Corp", BROKERAGE, "USD", "2500000.00", date(2016, 7, 1)
            ),
        ),
        trades=(
            TradeSpec("treasury", "AAPL", BUY, "1500", date(2024, 10, 1)),
            TradeSpec("treasury", "MSFT", BUY, "900", date(2024, 10, 1)),
            TradeSpec("treasury", "MSFT", SELL, "200", date(2026, 4, 13)),
            TradeSpec("treasury", "CB-AAPL-2031", BUY, "5000", date(2025, 1, 21)),
            TradeSpec("treasury", "QQQ", BUY, "800", date(2025, 6, 2)),
        ),
        derivatives=(
            DerivativeSpec(
                "treasury",
                "option",
                "QQQ",
                "long",
                8,
                100,
                date(2026, 7, 1),
                date(2026, 10, 16),
                DerivativeStatus.open,
                option_type="put",
                strategy="protective_put",
                strike="460.00",
                premium="8.25",
            ),
        ),
    ),
    SampleCustomer(
        customer_oid="550e8400-e29b-41d4-a716-446655440005",
        name="Michael Chen",
        income_account="checking",
        monthly_income="15800.00",
        income_description="Salary - Chen & Partners Advisory",
        spending_account="checking",
        monthly_spending={
            "dining": "950.00",
            "travel": "1400.00",
            "shopping": "880.00",
            "groceries": "560.00",
            "entertainment": "300.00",
        },
        accounts=(
            AccountSpec("checking", "Global Bank", CHECKING, "USD", "30000.00", date(2016, 11, 7)),
            AccountSpec(
                "brokerage", "Investment Corp", BROKERAGE, "USD", "150000.00", date(2017, 3, 15)
            ),
            AccountSpec("crypto", "Crypto Exchange", CRYPTO, "USD", "60000.00", date(2020, 12, 1)),
        ),
        trades=(
            TradeSpec("brokerage", "AMZN", BUY, "150", date(2024, 10, 28)),
            TradeSpec("brokerage", "AMZN", BUY, "50", date(2025, 8, 4)),
            TradeSpec("brokerage", "VTI", BUY, "250", date(2025, 1, 27)),
            TradeSpec("crypto", "ETH", BUY, "12", date(2024, 12, 9)),
            TradeSpec("crypto", "ETH", SELL, "4.5", date(2026, 7, 6)),
        ),
    ),
)

MERCHANTS: dict[str, tuple[str, ...]] = {
    "groceries": ("Whole Foods Market", "Trader Joe's", "Safeway"),
    "dining": ("Blue Bottle Coffee", "Chipotle", "The Capital Grille"),
    "transport": ("Uber", "Shell", "MTA MetroCard"),
    "utilities": ("ConEdison", "Verizon Fios", "City Water Services"),
    "entertainment": ("Netflix", "AMC Theatres", "Spotify"),
    "travel": ("Delta Air Lines", "Marriott Hotels", "Hertz"),
    "shopping": ("Amazon.com", "Apple Store", "Nordstrom"),
    "healthcare": ("CVS Pharmacy", "Mount Sinai Medical", "Quest Diagnostics"),
    "insurance": ("State Farm", "MetLife"),
    "office": ("WeWork", "Staples Business", "Regus"),
    "marketing": ("Google Ads", "LinkedIn Marketing", "Meta Ads"),
    "software": ("Salesforce", "Atlassian", "Amazon Web Services"),
}

SPENDING_MONTHS = 6
INCOME_MONTHS = 12


def month_starts(last: date, count: int) -> list[date]:
    """The first days of the ``count`` calendar months ending with ``last``'s month."""
    year, month = last.year, last.month
    firsts = []
    for _ in range(count):
        firsts.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return firsts[::-1]


def account_number(customer_index: int, account_index: int) -> str:
    return f"40{customer_index:06d}{account_index:04d}"


def add_sample_customer(
    session: Session,
    sample: SampleCustomer,
    customer_index: int,
    market: MarketData,
    institutions: dict[str, int],
) -> None:
    """Add one sample customer; balances, holdings and spending follow from its transactions."""
    rng = random.Random(f"sample:{sample.customer_oid}")
    # A fixed registration time keeps two fresh installs identical to the byte.
    registered = datetime.combine(min(a.opened_on for a in sample.accounts), time(9), UTC)
    add_customer(session, sample.customer_oid, sample.name, registered)

    accounts: dict[str, BankAccount] = {}
    for index, spec in enumerate(sample.accounts, start=1):
        number = account_number(customer_index, index)
        iban = None
        if spec.iban_country == "DE":
            iban = make_iban("DE", "37040044" + number[-10:])
        elif spec.iban_country == "GB":
            iban = make_iban("GB", "GLBL" + "601613" + number[-8:])
        account = BankAccount(
            customer_oid=sample.customer_oid,
            institution_id=institutions[spec.institution],
            account_number=number,
            iban=iban,
            account_type=spec.account_type.value,
            currency=spec.currency,
            balance=Decimal(spec.opening_balance),
            opened_on=spec.opened_on,
        )
        session.add(account)
        accounts[spec.key] = account
    session.flush()

    transactions: list[Transaction] = []

    def book(account_key: str, amount: Decimal, **fields: Any) -> None:
        account = accounts[account_key]
        transactions.append(
            Transaction(
                customer_oid=sample.customer_oid,
                account_id=account.id,
                currency=account.currency,
                amount=amount,
                **fields,
            )
        )
        account.balance += amount

    for first in month_starts(AS_OF, INCOME_MONTHS):
        book(
            sample.income_account,
            transaction_date=first,
            transaction_type=TransactionType.deposit.value,
            description=sample.income_description,
            category="income",
            amount=Decimal(sample.monthly_income),
        )

    for first in month_starts(AS_OF, SPENDING_MONTHS):
        for category, typical in sample.monthly_spending.items():
            month_total = Decimal(typical) * Decimal(rng.randint(80, 120)) / 100
            payments = rng.randint(1, 3)
            for n in range(payments):
                share = to_cents(month_total / payments)
                book(
                    sample.spending_account,
                    transaction_date=first + timedelta(days=rng.randint(0, 27)),
                    transaction_type=TransactionType.card_payment.value,
                    description=MERCHANTS[category][n % len(MERCHANTS[category])],
                    category=category,
                    amount=-share,
                )

    holdings: dict[str, Decimal] = defaultdict(Decimal)
    held_in: dict[str, str] = {}
    for trade in sample.trades:
        traded_on, price = market.close_on_or_before(trade.symbol, trade.on)
        quantity = Decimal(trade.quantity)
        gross = to_cents(quantity * price)
        buying = trade.side == TransactionType.buy
        book(
            trade.account,
            transaction_date=traded_on,
            transaction_type=trade.side.value,
            description=f"{'Buy' if buying else 'Sell'} {trade.quantity} {trade.symbol} @ {price}",
            category="investment",
            amount=-gross if buying else gross,
            symbol=trade.symbol,
            quantity=quantity,
            price=price,
        )
        holdings[trade.symbol] += quantity if buying else -quantity
        held_in[trade.symbol] = trade.account

    for symbol, quantity in holdings.items():
        if quantity:
            session.add(
                Asset(
                    customer_oid=sample.customer_oid,
                    account_id=accounts[held_in[symbol]].id,
                    symbol=symbol,
                    quantity=quantity,
                )
            )

    for deriv in sample.derivatives:
        trade_price = None
        if deriv.instrument_type == "future":
            trade_price = market.close_on_or_before(deriv.underlying, deriv.trade_date)[1]
        session.add(
            DerivativeTransaction(
                customer_oid=sample.customer_oid,
                account_id=accounts[deriv.account].id,
                instrument_type=deriv.instrument_type,
                underlying_symbol=deriv.underlying,
                option_type=deriv.option_type,
                side=deriv.side,
                strategy=deriv.strategy,
                contracts=deriv.contracts,
                multiplier=deriv.multiplier,
                strike=Decimal(deriv.strike) if deriv.strike else None,
                premium=Decimal(deriv.premium) if deriv.premium else None,
                trade_price=trade_price,
                currency="USD",
                trade_date=deriv.trade_date,
                expiry_date=deriv.expiry_date,
                status=deriv.status.value,
                closed_on=deriv.closed_on,
            )
        )

    transactions.sort(key=lambda t: (t.transaction_date, t.transaction_type, t.description))
    session.add_all(transactions)
    for spending in summarize_spending(sample.customer_oid, transactions):
        session.add(spending)
    for account in accounts.values():
        if account.balance < 0:
            raise ValueError(f"sample account {account.account_number} would be overdrawn")


def summarize_spending(customer_oid: str, transactions: list[Transaction]) -> Iterator[Spending]:
    """Monthly spending per category: the sum of that month's card payments."""
    totals: dict[tuple[str, str, str], list[Decimal]] = defaultdict(list)
    for t in transactions:
        if t.transaction_type == TransactionType.card_payment and t.category:
            month = t.transaction_date.strftime("%Y-%m")
            totals[(month, t.category, t.currency)].append(-t.amount)
    for (month, category, currency), amounts in sorted(totals.items()):
        yield Spending(
            customer_oid=customer_oid,
            month=month,
            category=category,
            amount=sum(amounts, Decimal(0)),
            currency=currency,
            transaction_count=len(amounts),
        )


def seed_sample_data(engine: Engine) -> list[str]:
    """Load market data and every missing sample customer; return the names added."""
    added = []
    with Session(engine) as session, session.begin():
        market = load_market_data(session)
        institutions = load_institutions(session)
        taken = set(session.exec(select(Customer.customer_oid)))
        for index, sample in enumerate(SAMPLE_CUSTOMERS, start=1):
            if sample.customer_oid not in taken:
                add_sample_customer(session, sample, index, market, institutions)
                added.append(sample.name)
    return added


def prepare_database(engine: Engine, *, load_samples: bool = True) -> list[str]:
    """Create the schema and, on a new database, the sample data; return the names added.

    Several workers may start on one new database at once: whichever loses the
    race to create a table or a sample customer finds the work done, and goes on.
    """
    for attempt in range(5):
        try:
            if create_schema(engine) and load_samples:
                return seed_sample_data(engine)
            return []
        except (OperationalError, IntegrityError):
            if attempt == 4:
                raise
            clock.sleep(0.2 * (attempt + 1))
    return []


@dataclass
class LoadReport:
    customers: int
    rows: int
    seconds: float
    database_bytes: int | None

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def load_synthetic(
    engine: Engine, customers: int, seed: int, *, batch_size: int = 1000, progress: bool = True
) -> LoadReport:
    """Top the bank up to ``customers`` synthetic customers of ``seed``, in bulk.

    Rows are generated a batch at a time and written with one multi-row insert
    per table and one transaction per batch, so memory stays flat however many
    customers are asked for. Running it again with the same seed adds only the
    customers that are not there yet.
    """
    seed_sample_data(engine)
    counter = f"synthetic:{seed}"
    with Session(engine) as session:
        institutions = load_institutions(session)
        done = session.exec(select(Counter.value).where(Counter.name == counter)).first() or 0
        ids = IdCounters(
            {
                table: (
                    session.exec(select(func.max(text("id"))).select_from(text(table))).one() or 0
                )
                + 1
                for table in synthetic.COLUMNS
                if table != "customer_name_tokens"
            }
        )
    wanted = max(customers - done, 0)
    market = synthetic.Market(
        closes={
            spec.symbol: {day: int(close.scaleb(6)) for day, close in generate_prices(spec)}
            for spec in INSTRUMENTS
        },
        currency={spec.symbol: spec.currency for spec in INSTRUMENTS},
        asset_type={spec.symbol: spec.asset_type.value for spec in INSTRUMENTS},
    )
    sqlite = engine.url.get_backend_name() == "sqlite"
    mark = "?" if sqlite else "%s"
    upsert = (
        f"INSERT INTO counters (name, value) VALUES ({mark}, {mark}) "
        "ON CONFLICT (name) DO UPDATE SET value = counters.value + excluded.value"
    )
    # Generation runs in a second process while this one writes: two cores, one pipeline.
    context = multiprocessing.get_context("spawn")
    queue = context.Queue(maxsize=1)
    producer = context.Process(
        target=synthetic.produce,
        args=(queue, seed, market, institutions, ids, done, wanted, batch_size),
        daemon=True,
    )
    rows_written, started = 0, clock.perf_counter()
    bar = tqdm(total=wanted, unit=" customers", disable=not progress, mininterval=1.0)
    connection = engine.raw_connection()
    producer.start()
    try:
        cursor = connection.cursor()
        if sqlite:
            # Bulk load: survive a crash of this process, not a power cut, for speed.
            cursor.execute("PRAGMA synchronous = OFF")
            cursor.execute("PRAGMA cache_size = -50000")
            # The generator builds every reference itself (tests run foreign_key_check on
            # its output); checking each one again here would cost a lookup per row.
            cursor.execute("PRAGMA foreign_keys = OFF")
        else:
            # Same trade on PostgreSQL: a crash loses the last batches, never consistency.
            cursor.execute("SET synchronous_commit = off")
        while (batch := queue.get()) is not None:
            if isinstance(batch, str):
                raise RuntimeError(f"generating customers failed: {batch}")
            count, rows = batch
            if sqlite:
                # The engine leaves transactions to SQLAlchemy; here one batch is one.
                cursor.execute("BEGIN IMMEDIATE")
            for table, table_rows in rows.items():
                if table_rows:
                    write_rows(cursor, table, table_rows, sqlite=sqlite)
                    rows_written += len(table_rows)
            for name in (CUSTOMER_COUNTER, counter):
                cursor.execute(upsert, (name, count))
            connection.commit()
            bar.update(count)
            bar.set_postfix_str(f"{rows_written / (clock.perf_counter() - started):,.0f} rows/s")
        if not sqlite:
            # COPY wrote explicit ids: move each id sequence past them.
            for table in synthetic.COLUMNS:
                if "id" in synthetic.COLUMNS[table]:
                    cursor.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
            connection.commit()
    finally:
        bar.close()
        connection.close()
        producer.join(timeout=10)
        if producer.is_alive():
            producer.terminate()
    return LoadReport(wanted, rows_written, clock.perf_counter() - started, database_bytes(engine))


def write_rows(cursor: Any, table: str, rows: list[tuple[object, ...]], *, sqlite: bool) -> None:
    """Bulk-write rows the way each database is fastest at: executemany, or COPY."""
    columns = synthetic.COLUMNS[table]
    if sqlite:
        marks = ", ".join("?" * len(columns))
        cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
        return
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def database_bytes(engine: Engine) -> int | None:
    if engine.url.get_backend_name() == "sqlite":
        return os.path.getsize(engine.url.database) if engine.url.database else None
    with engine.connect() as connection:
        size = connection.execute(text("SELECT pg_database_size(current_database())")).scalar()
    return int(size) if size is not None else None


def peak_memory_mib() -> tuple[float, float]:
    """Peak resident memory of this process and of its largest child, in MiB."""
    return (
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    )


def main() -> None:
    from settings import get_settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=get_settings().database_url)
    parser.add_argument(
        "--customers",
        type=int,
        default=0,
        help="top the bank up to this many synthetic customers (beside the five samples)",
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the synthetic customers")
    parser.add_argument("--batch-size", type=int, default=1000, help="customers per transaction")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args()
    if args.customers < 0 or args.batch_size < 1:
        parser.error("--customers must be 0 or more and --batch-size at least 1")

    engine = create_db_engine(args.database_url)
    added = prepare_database(engine)
    if added:
        print(f"Added {len(added)} sample customers: {', '.join(added)}")
    elif not args.customers:
        print("Every sample customer is already there; nothing changed.")
    if args.customers:
        report = load_synthetic(
            engine, args.customers, args.seed, batch_size=args.batch_size, progress=not args.quiet
        )
        size = f"{report.database_bytes / 2**20:,.1f} MiB" if report.database_bytes else "n/a"
        print(
            f"Synthetic customers added: {report.customers:,} (seed {args.seed})\n"
            f"Rows written: {report.rows:,} in {report.seconds:,.1f} s "
            f"= {report.rows_per_second:,.0f} rows/s\n"
            "Peak memory: {:,.0f} MiB writer + {:,.0f} MiB generator; database size: {}".format(
                *peak_memory_mib(), size
            )
        )
    engine.dispose()


if __name__ == "__main__":
    main()
