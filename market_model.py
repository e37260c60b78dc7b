"""The market both generated books live in: instruments, closes, FX rates, institutions, calendar.

The sample customers (``seed.py``) and the synthetic ones (``synthetic.py``)
trade at these prices, bank with these institutions and book to this
calendar. Closes and rates are deterministic random walks that end at fixed
prices on ``AS_OF``, so two fresh installs agree to the cent.
"""

import math
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import TypeVar

from sqlalchemy import func, insert
from sqlmodel import Session, select

from identifiers import make_iban
from models import (
    AssetType,
    FxRate,
    Institution,
    InstitutionType,
    Instrument,
    InstrumentPrice,
    TransactionType,
)
from money import PRICE_SCALE

AS_OF = date(2026, 9, 30)
"""The bank's "today": the last day with prices, the date every valuation is as of."""
HISTORY_START = date(2023, 10, 2)
MARKET_SEED = "dummy-bank-market-v1"
TRADING_DAYS_PER_YEAR = 252

T = TypeVar("T")
Amount = TypeVar("Amount", int, Decimal)


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


def month_starts(last: date, count: int) -> list[date]:
    """The first days of the ``count`` calendar months ending with ``last``'s month."""
    year, month = last.year, last.month
    firsts = []
    for _ in range(count):
        firsts.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return firsts[::-1]


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


MAX_CLOSED_DAYS = 14


def close_on_or_before(history: dict[date, T], day: date) -> tuple[date, T]:
    """The last close on or before ``day``: a trade on a closed market gets the previous one.

    Markets close for days, not weeks: a gap longer than that means ``day`` lies before
    the history, which is an error, not a reason to walk back forever.
    """
    for _ in range(MAX_CLOSED_DAYS + 1):
        if day in history:
            return day, history[day]
        day -= timedelta(days=1)
    raise LookupError(f"no close within {MAX_CLOSED_DAYS} days on or before {day}")


@dataclass
class MarketData:
    """Every generated close, kept in memory so that sample trades use real prices."""

    closes: dict[str, dict[date, Decimal]] = field(default_factory=dict)

    def close_on_or_before(self, symbol: str, day: date) -> tuple[date, Decimal]:
        return close_on_or_before(self.closes[symbol], day)


@dataclass
class ScaledMarket:
    """Every close in integer price units (as stored), for the synthetic generator's trades."""

    closes: dict[str, dict[date, int]]
    currency: dict[str, str]
    asset_type: dict[str, str]

    @classmethod
    def generated(cls) -> "ScaledMarket":
        """The generated market, every close scaled to integer price units."""
        return cls(
            closes={
                spec.symbol: {
                    day: int(close.scaleb(PRICE_SCALE)) for day, close in generate_prices(spec)
                }
                for spec in INSTRUMENTS
            },
            currency={spec.symbol: spec.currency for spec in INSTRUMENTS},
            asset_type={spec.symbol: spec.asset_type.value for spec in INSTRUMENTS},
        )

    def close_on_or_before(self, symbol: str, day: date) -> tuple[date, int]:
        return close_on_or_before(self.closes[symbol], day)


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

GLOBAL_BANK = "Global Bank"
INVESTMENT_CORP = "Investment Corp"
CRYPTO_EXCHANGE = "Crypto Exchange"

GLOBAL_BANK_CODES: dict[str, str] = {"DE": "50010517", "GB": "GLBL601613"}
"""Global Bank's national bank code per IBAN country (GB: bank id and sort code)."""
BBAN_ACCOUNT_DIGITS: dict[str, int] = {"DE": 10, "GB": 8}
"""How many of an account number's last digits follow the bank code in the country's BBAN."""

INSTITUTIONS: tuple[dict[str, str | None], ...] = (
    {
        "name": GLOBAL_BANK,
        "institution_type": InstitutionType.bank.value,
        "country": "US",
        "routing_number": "021000089",
        "bic": "GLBLUS33",
    },
    {
        "name": INVESTMENT_CORP,
        "institution_type": InstitutionType.broker.value,
        "country": "US",
        "routing_number": "011000138",
        "bic": "INVCUS44",
    },
    {
        "name": CRYPTO_EXCHANGE,
        "institution_type": InstitutionType.crypto_exchange.value,
        "country": "US",
        "routing_number": None,
        "bic": None,
    },
)


def load_institutions(session: Session) -> dict[str, int]:
    """Insert the institutions that are missing; return every institution's id by name."""
    existing = {i.name: i.id for i in session.exec(select(Institution))}
    for spec in INSTITUTIONS:
        if spec["name"] not in existing:
            institution = Institution.model_validate(spec)
            session.add(institution)
            session.flush()
            existing[institution.name] = institution.id
    return {name: ident for name, ident in existing.items() if ident is not None}


def bank_iban(
    country: str | None, account_number: str, bank_codes: dict[str, str] = GLOBAL_BANK_CODES
) -> str | None:
    """The IBAN of a Global Bank account in ``country``, or None where accounts have none."""
    if country is None or country not in bank_codes:
        return None
    bban = bank_codes[country] + account_number[-BBAN_ACCOUNT_DIGITS[country] :]
    return make_iban(country, bban)


# --- Bookkeeping both books follow ------------------------------------------


def monthly_spending(
    bookings: Iterable[tuple[str, str, str | None, str, Amount]],
) -> list[tuple[str, str, str, Amount, int]]:
    """Spending rows from (month, type, category, currency, amount) bookings.

    A month's spending in a category is the sum and the count of its card
    payments, per currency; rows come sorted by month, category and currency.
    """
    spent: dict[tuple[str, str, str], list[Amount]] = {}
    for month, kind, category, currency, amount in bookings:
        if kind == TransactionType.card_payment and category:
            spent.setdefault((month, category, currency), []).append(-amount)
    return [
        (month, category, currency, sum(amounts[1:], amounts[0]), len(amounts))
        for (month, category, currency), amounts in sorted(spent.items())
    ]
