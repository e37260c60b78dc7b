"""The market both generated books live in: instruments, closes, FX rates, institutions, calendar.

The sample customers (``seed.py``) and the synthetic ones (``synthetic/``)
trade at these prices, bank with these institutions and book to this
calendar. Daily returns come from a factor model (common factors times each
instrument's loadings, plus its own shock), every series a GARCH(1,1) with
Student-t innovations, on the days its market is open; bonds are priced from
a yield on the Treasury curve. Paths are deterministic and end at fixed
prices on ``AS_OF``, so two fresh installs agree to the cent.
"""

import math
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import func, insert
from sqlmodel import Session, select

from core.money import PRICE_SCALE
from market.calendars import (
    TRADING_DAYS_PER_YEAR,
    month_end,
    months_before,
    on_or_after,
    on_or_before,
    open_days,
)
from models import (
    AssetType,
    FxRate,
    Instrument,
    InstrumentPrice,
    TransactionType,
)

AS_OF = date(2026, 9, 30)
"""The bank's "today": the last day with prices, the date every valuation is as of."""
HISTORY_START = date(2023, 10, 2)
MARKET_SEED = "dummy-bank-market-v10"

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
    """The volatility options on it are priced with; the factor loadings below produce it."""
    loadings: tuple[tuple[str, float], ...] = ()
    """Exposure to each common factor of ``FACTORS``: what makes instruments move together."""
    idiosyncratic: float = 0.0
    """Annual volatility of what moves this instrument alone."""
    calendar: str = "NYSE"
    payout: str | None = None
    """Cash paid per unit held at each payment (dividend per share, coupon per 100 face)."""
    payout_months: tuple[int, ...] = ()
    payout_day: int = 15
    coupon: float = 0.0
    """Bonds: annual coupon rate, paid twice a year on the maturity's day of month."""
    maturity: date | None = None
    credit_spread: float = 0.0


@dataclass(frozen=True)
class FactorSpec:
    annual_volatility: float
    """For rate factors, the annual volatility of the yield itself (0.009 = 90 basis points)."""
    calendar: str
    degrees_of_freedom: int = 4


FACTORS: dict[str, FactorSpec] = {
    "us_equity": FactorSpec(0.16, "NYSE"),
    "tech": FactorSpec(0.12, "NYSE"),
    "health": FactorSpec(0.10, "NYSE"),
    "consumer": FactorSpec(0.12, "NYSE"),
    "europe": FactorSpec(0.14, "XETR"),
    "crypto": FactorSpec(0.60, "every_day"),
    "gold": FactorSpec(0.14, "NYSE"),
    "rates_level": FactorSpec(0.009, "NYSE"),
    "rates_slope": FactorSpec(0.004, "NYSE"),
    "credit": FactorSpec(0.003, "NYSE"),
    "usd": FactorSpec(0.06, "weekdays", degrees_of_freedom=6),
}

STOCK, ETF, BOND = AssetType.stock, AssetType.etf, AssetType.bond
_Q1 = (2, 5, 8, 11)
_Q3 = (3, 6, 9, 12)
INSTRUMENTS: tuple[InstrumentSpec, ...] = (
    InstrumentSpec("AAPL", "Apple Inc.", STOCK, "USD", "228.40", 0.12, 0.26,
                   (("us_equity", 1.1), ("tech", 0.8)), 0.15, payout="0.25", payout_months=_Q1),
    InstrumentSpec("MSFT", "Microsoft Corporation", STOCK, "USD", "438.15", 0.14, 0.24,
                   (("us_equity", 1.05), ("tech", 0.7)), 0.13, payout="0.83", payout_months=_Q3,
                   payout_day=12),
    InstrumentSpec("GOOGL", "Alphabet Inc. Class A", STOCK, "USD", "178.62", 0.12, 0.28,
                   (("us_equity", 1.1), ("tech", 0.8)), 0.18, payout="0.20", payout_months=_Q3,
                   payout_day=16),
    InstrumentSpec("AMZN", "Amazon.com, Inc.", STOCK, "USD", "196.35", 0.15, 0.32,
                   (("us_equity", 1.15), ("tech", 0.6), ("consumer", 0.6)), 0.20),
    InstrumentSpec("TSLA", "Tesla, Inc.", STOCK, "USD", "262.80", 0.10, 0.56,
                   (("us_equity", 1.5), ("tech", 0.6), ("consumer", 0.8)), 0.45),
    InstrumentSpec("NVDA", "NVIDIA Corporation", STOCK, "USD", "131.45", 0.35, 0.50,
                   (("us_equity", 1.6), ("tech", 1.3)), 0.35, payout="0.01", payout_months=_Q3,
                   payout_day=27),
    InstrumentSpec("JNJ", "Johnson & Johnson", STOCK, "USD", "162.30", 0.04, 0.16,
                   (("us_equity", 0.55), ("health", 1.0)), 0.09, payout="1.24",
                   payout_months=_Q3, payout_day=7),
    InstrumentSpec("SAP", "SAP SE", STOCK, "EUR", "212.70", 0.15, 0.26,
                   (("us_equity", 0.5), ("europe", 0.9), ("tech", 0.5)), 0.14, calendar="XETR",
                   payout="2.35", payout_months=(5,), payout_day=20),
    InstrumentSpec("SPY", "SPDR S&P 500 ETF Trust", ETF, "USD", "571.20", 0.09, 0.16,
                   (("us_equity", 1.0),), 0.01, payout="1.75", payout_months=(1, 4, 7, 10),
                   payout_day=31),
    InstrumentSpec("QQQ", "Invesco QQQ Trust", ETF, "USD", "488.10", 0.11, 0.20,
                   (("us_equity", 1.1), ("tech", 0.7)), 0.02, payout="0.70",
                   payout_months=(1, 4, 7, 10), payout_day=31),
    InstrumentSpec("VTI", "Vanguard Total Stock Market ETF", ETF, "USD", "283.55", 0.09, 0.17,
                   (("us_equity", 1.02),), 0.015, payout="0.95", payout_months=_Q3,
                   payout_day=28),
    InstrumentSpec("US10Y", "US Treasury 4.25% 2034 (per 100 face)", BOND, "USD", "98.72", 0.0,
                   0.06, coupon=0.0425, maturity=date(2034, 8, 15)),
    InstrumentSpec("US5Y", "US Treasury 4.00% 2029 (per 100 face)", BOND, "USD", "99.35", 0.0,
                   0.035, coupon=0.04, maturity=date(2029, 8, 31)),
    InstrumentSpec("CB-JNJ-2033", "Johnson & Johnson 4.95% 2033 bond", BOND, "USD", "101.85",
                   0.0, 0.05, coupon=0.0495, maturity=date(2033, 3, 1), credit_spread=0.006),
    InstrumentSpec("CB-VZ-2032", "Verizon 5.05% 2032 bond", BOND, "USD", "100.40", 0.0, 0.05,
                   coupon=0.0505, maturity=date(2032, 5, 9), credit_spread=0.011),
    InstrumentSpec("CB-AAPL-2031", "Apple 3.35% 2031 bond", BOND, "USD", "96.90", 0.0, 0.04,
                   coupon=0.0335, maturity=date(2031, 2, 9), credit_spread=0.005),
    InstrumentSpec("BTC", "Bitcoin", AssetType.crypto, "USD", "63450.00", 0.30, 0.62,
                   (("crypto", 1.0), ("us_equity", 0.4)), 0.15, calendar="every_day"),
    InstrumentSpec("ETH", "Ether", AssetType.crypto, "USD", "2615.40", 0.25, 0.75,
                   (("crypto", 1.1), ("us_equity", 0.5)), 0.30, calendar="every_day"),
    InstrumentSpec("GC", "Gold (COMEX, per troy ounce)", AssetType.commodity, "USD", "2659.80",
                   0.08, 0.15, (("gold", 1.0),), 0.03),
)  # fmt: skip
SPECS = {spec.symbol: spec for spec in INSTRUMENTS}

FX_RATES: tuple[tuple[str, str, float], ...] = (
    # currency, US dollars per unit on AS_OF, annual volatility of its own moves (beside "usd")
    ("EUR", "1.1135", 0.04),
    ("GBP", "1.3370", 0.05),
)


def month_starts(last: date, count: int) -> list[date]:
    """The first days of the ``count`` calendar months ending with ``last``'s month."""
    year, month = last.year, last.month
    firsts = []
    for _ in range(count):
        firsts.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return firsts[::-1]


def normal(rng: random.Random) -> float:
    # Irwin-Hall: twelve uniforms, only additions, so every machine rounds it the same way.
    return sum(rng.random() for _ in range(12)) - 6.0


def student_t(rng: random.Random, degrees: int) -> float:
    """A Student-t draw scaled to unit variance: fat tails from a normal over a chi."""
    chi_square = sum(normal(rng) ** 2 for _ in range(degrees))
    draw = normal(rng) / math.sqrt(chi_square / (degrees - 2))
    # Beyond ten deviations a single day would make the GARCH variance explode.
    return max(-10.0, min(10.0, draw))


def garch_series(
    key: str, days: list[date], annual_vol: float, per_year: int, degrees: int
) -> dict[date, float]:
    """Daily shocks with GARCH(1,1) volatility clustering and Student-t innovations.

    The long-run variance is the factor's (``annual_vol`` squared over ``per_year``
    steps); a large shock raises the next days' variance, which then decays at 0.98 a day.
    """
    return garch_with_state(key, days, annual_vol, per_year, degrees)[0]


GARCH_ALPHA, GARCH_BETA = 0.10, 0.88
"""How much of yesterday's squared shock and of yesterday's variance make today's variance."""


def garch_step(variance: float, shock: float, long_run: float) -> float:
    """The next day's variance after ``shock`` (GARCH(1,1) around ``long_run``)."""
    omega = long_run * (1.0 - GARCH_ALPHA - GARCH_BETA)
    return omega + GARCH_ALPHA * shock * shock + GARCH_BETA * variance


def garch_with_state(
    key: str, days: list[date], annual_vol: float, per_year: int, degrees: int
) -> tuple[dict[date, float], float]:
    """``garch_series``, and the variance of the day after the last: where a continuation of
    the series (``market/continuation.py``) starts."""
    rng = random.Random(f"{MARKET_SEED}:{key}")
    long_run = annual_vol * annual_vol / per_year
    variance, shocks = long_run, dict[date, float]()
    for day in days:
        shock = math.sqrt(variance) * student_t(rng, degrees)
        shocks[day] = shock
        variance = garch_step(variance, shock, long_run)
    return shocks, variance


def steps_per_year(calendar: str) -> int:
    return {"every_day": 365, "weekdays": 261}.get(calendar, TRADING_DAYS_PER_YEAR)


@cache
def factor_shocks() -> dict[str, dict[date, float]]:
    """Each common factor's daily shock on the days its market is open."""
    return {
        name: garch_series(
            f"factor:{name}",
            open_days(spec.calendar, HISTORY_START, AS_OF),
            spec.annual_volatility,
            steps_per_year(spec.calendar),
            spec.degrees_of_freedom,
        )
        for name, spec in FACTORS.items()
    }


def quantize(levels: list[float], last: Decimal, places: int) -> list[Decimal]:
    scale = float(last) / levels[-1]
    quantum = Decimal(1).scaleb(-places)
    return [Decimal(level * scale).quantize(quantum) for level in levels]


def _equity_path(spec: InstrumentSpec, days: list[date]) -> list[Decimal]:
    factors = factor_shocks()
    per_year = steps_per_year(spec.calendar)
    own = garch_series(f"own:{spec.symbol}", days, spec.idiosyncratic, per_year, 4)
    drift = spec.annual_drift / per_year
    # A company's results move its own price once a quarter: four jumps a year.
    earnings = random.Random(f"{MARKET_SEED}:earnings:{spec.symbol}")
    jump = 4.0 * spec.idiosyncratic / math.sqrt(per_year)
    reports = {
        on_or_after(spec.calendar, date(year, month, 20 + len(spec.symbol)))
        for year in range(HISTORY_START.year, AS_OF.year + 1)
        for month in (1, 4, 7, 10)
    }
    level, levels = 1.0, []
    for day in days:
        move = drift + own[day]
        if spec.asset_type == AssetType.stock and day in reports:
            move += jump * normal(earnings)
        for factor, loading in spec.loadings:
            move += loading * factors[factor].get(day, 0.0)
        # A day's fall is bounded: a price never crosses zero.
        level *= 1.0 + max(move, -0.6)
        levels.append(level)
    return quantize(levels, Decimal(spec.last_price), 2)


def bond_price(coupon: float, bond_yield: float, day: date, maturity: date) -> float:
    """Clean price per 100 face from a yield, semi-annual coupons.

    Whole coupon periods are discounted by repeated multiplication and the
    broken first period by simple interest (the Moosmüller convention), so the
    price needs nothing but arithmetic that rounds the same everywhere.
    """
    periods, previous = 0, maturity
    while previous > day:
        periods += 1
        previous = months_before(previous, 6)
    following = months_before(previous, -6)
    elapsed = (day - previous).days / (following - day + (day - previous)).days
    half_coupon, growth = 100.0 * coupon / 2, 1.0 + bond_yield / 2
    value, discount = 0.0, 1.0
    for _ in range(periods):
        discount /= growth
        value += half_coupon * discount
    value += 100.0 * discount
    dirty = value / (1.0 + bond_yield / 2 * (1.0 - elapsed)) * growth
    return dirty - half_coupon * elapsed


def bond_yield(coupon: float, price: float, day: date, maturity: date) -> float:
    """The yield at which ``bond_price`` gives ``price`` (bisection between -5% and 30%)."""
    low, high = -0.05, 0.30
    for _ in range(80):
        middle = (low + high) / 2
        if bond_price(coupon, middle, day, maturity) > price:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def _bond_path(spec: InstrumentSpec, days: list[date]) -> list[Decimal]:
    """Prices from a yield that moves with the Treasury curve (level and slope) and credit."""
    assert spec.maturity is not None
    factors = factor_shocks()
    own = garch_series(f"own:{spec.symbol}", days, 0.0015, TRADING_DAYS_PER_YEAR, 4)
    moves, cumulative = [], 0.0
    for day in days:
        tenor = (spec.maturity - day).days / 365.25
        cumulative += (
            factors["rates_level"][day] + (tenor - 7.0) / 5.0 * factors["rates_slope"][day]
        )
        if spec.credit_spread:
            cumulative += factors["credit"][day] + own[day]
        moves.append(cumulative)
    last_yield = bond_yield(spec.coupon, float(spec.last_price), AS_OF, spec.maturity)
    prices = [
        bond_price(spec.coupon, max(last_yield + move - moves[-1], 0.001), day, spec.maturity)
        for day, move in zip(days, moves, strict=True)
    ]
    return quantize(prices, Decimal(spec.last_price), 2)


def generate_prices(spec: InstrumentSpec) -> list[tuple[date, Decimal]]:
    """The instrument's closes on every day its market was open, ending at ``last_price``."""
    days = open_days(spec.calendar, HISTORY_START, AS_OF)
    path = _bond_path(spec, days) if spec.asset_type == AssetType.bond else _equity_path(spec, days)
    return list(zip(days, path, strict=True))


def generate_fx(currency: str, last: str, volatility: float) -> list[tuple[date, Decimal]]:
    """US dollars per unit on weekdays: the dollar's own factor plus the currency's moves."""
    days = open_days("weekdays", HISTORY_START, AS_OF)
    own = garch_series(f"fx:{currency}", days, volatility, 261, 6)
    dollar = factor_shocks()["usd"]
    level, levels = 1.0, []
    for day in days:
        level *= 1.0 + own[day] - dollar[day]
        levels.append(level)
    return list(zip(days, quantize(levels, Decimal(last), 4), strict=True))


@dataclass(frozen=True)
class Payout:
    symbol: str
    ex_date: date
    """Whoever holds the instrument at the close before this day is paid."""
    pay_date: date
    per_unit: Decimal
    kind: str
    """"dividend" or "interest" (a bond coupon)."""


@cache
def payouts() -> tuple[Payout, ...]:
    """Every dividend and coupon paid between ``HISTORY_START`` and ``AS_OF``, by pay date."""
    return tuple(
        p
        for p in payout_schedule(HISTORY_START.year, AS_OF.year)
        if p.ex_date > HISTORY_START and p.pay_date <= AS_OF
    )


@cache
def payout_schedule(first_year: int, last_year: int) -> tuple[Payout, ...]:
    """Every dividend and coupon due in these years by the instruments' schedules, by pay
    date: the history's (``payouts``) and those after ``AS_OF`` (``market/continuation.py``)."""
    found = []
    for spec in INSTRUMENTS:
        if spec.maturity is not None:
            per_unit = Decimal(str(spec.coupon * 100 / 2)).quantize(Decimal("0.000001"))
            months = sorted({spec.maturity.month, (spec.maturity.month + 5) % 12 + 1})
            kind, day = "interest", spec.maturity.day
        elif spec.payout:
            per_unit, months, kind, day = (
                Decimal(spec.payout), list(spec.payout_months), "dividend", spec.payout_day,
            )  # fmt: skip
        else:
            continue
        for year in range(first_year, last_year + 1):
            for month in months:
                due = date(year, month, min(day, month_end(date(year, month, 1)).day))
                pay = on_or_after("US" if spec.currency == "USD" else "DE", due)
                ex = due if kind == "interest" else on_or_before(spec.calendar, due - timedelta(14))
                if spec.maturity is None or pay <= spec.maturity:
                    found.append(Payout(spec.symbol, ex, pay, per_unit, kind))
    return tuple(sorted(found, key=lambda p: (p.pay_date, p.symbol)))


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


# --- Bookkeeping both books follow ------------------------------------------


def monthly_spending(
    bookings: Iterable[tuple[str, str, str | None, str, Amount]],
) -> list[tuple[str, str, str, Amount, int]]:
    """Spending rows from (month, type, category, currency, amount) bookings.

    A month's spending in a category is the sum and the count of its card
    payments, per currency; rows come sorted by month, category and currency.
    """
    spent: dict[tuple[str, str, str], list[Any]] = {}
    for month, kind, category, currency, amount in bookings:
        if kind == TransactionType.card_payment and category:
            key = (month, category, currency)
            found = spent.get(key)
            if found is None:
                spent[key] = [-amount, 1]
            else:
                found[0] -= amount
                found[1] += 1
    return [
        (month, category, currency, total, count)
        for (month, category, currency), (total, count) in sorted(spent.items())
    ]
