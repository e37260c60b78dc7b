"""What every portfolio calculation shares: its inputs, currency conversion, percentages.

The summary (``summary.py``), performance (``performance.py``) and derivatives
exposure (``exposure.py``) all work from ``PortfolioInputs``: rows already read,
and price and rate histories that answer "the value on or before this day".
Nothing here touches the database, and everything is ``Decimal``.
"""

from bisect import bisect_right
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

from analysis.pricing import black_scholes
from schemas.portfolio import AssetOut, BankAccountOut, DerivativeOut, SpendingOut

HUNDRED = Decimal(100)
PERCENT_PLACES = Decimal("0.01")
RATE_PLACES = Decimal("0.00000001")


def percent(part: Decimal, whole: Decimal) -> Decimal | None:
    """``part`` as a percentage of ``whole`` to two places; None when ``whole`` is zero."""
    if not whole:
        return None
    return (part * HUNDRED / whole).quantize(PERCENT_PLACES)


@dataclass(frozen=True)
class Trade:
    on: date
    quantity: Decimal
    """Positive for a buy, negative for a sell."""
    price: Decimal


class History:
    """A daily series that answers "the value on or before this date".

    A worker keeps the market's histories for as long as the data does not change, and
    every summary asks them about the same days: the answers are remembered.
    """

    def __init__(self, points: Iterable[tuple[date, Decimal]]) -> None:
        ordered = sorted(points)
        self.dates = [d for d, _ in ordered]
        self.values = [v for _, v in ordered]
        self._answers: dict[date, Decimal | None] = {}
        self._columns: dict[tuple[date, ...], list[Decimal | None]] = {}

    def on_each(self, days: tuple[date, ...]) -> list[Decimal | None]:
        """``on_or_before`` for every day of ``days``, remembered for that tuple."""
        found = self._columns.get(days)
        if found is None:
            found = self._columns[days] = [self.on_or_before(day) for day in days]
        return found

    def on_or_before(self, day: date) -> Decimal | None:
        try:
            return self._answers[day]
        except KeyError:
            index = bisect_right(self.dates, day)
            value = self._answers[day] = self.values[index - 1] if index else None
            return value


@lru_cache(maxsize=64)
def weekdays(start: date, end: date) -> tuple[date, ...]:
    """Monday to Friday from ``start`` to ``end``; the same tuple for the same two days."""
    days = (start + timedelta(n) for n in range((end - start).days + 1))
    return tuple(d for d in days if d.weekday() < 5)


class Converter:
    """Converts between currencies through their US-dollar rates on a given day.

    A cross rate is rounded to eight places before use, so every converted
    figure can be reproduced from the rate the summary shows.
    """

    def __init__(self, usd_per_unit: Mapping[str, History], base: str) -> None:
        self.usd_per_unit = usd_per_unit
        self.base = base
        self._rates: dict[tuple[str, date], tuple[Decimal, date]] = {}
        self._columns: dict[tuple[str, tuple[date, ...]], list[Decimal | None]] = {}
        self.market_figures: dict[Hashable, Any] = {}
        """Figures that depend on the market and the base currency alone (an instrument's
        returns, a pair's correlation), kept as long as the converter: a converter belongs
        to one market snapshot, which never changes."""

    def _usd(self, currency: str, day: date) -> tuple[Decimal, date | None]:
        if currency == "USD":
            return Decimal(1), None
        history = self.usd_per_unit.get(currency)
        index = bisect_right(history.dates, day) if history else 0
        if not history or not index:
            raise LookupError(f"no {currency} exchange rate on or before {day}")
        return history.values[index - 1], history.dates[index - 1]

    def rate(self, currency: str, day: date) -> Decimal:
        return self.rate_with_date(currency, day)[0]

    def rates_on(self, currency: str, days: tuple[date, ...]) -> list[Decimal | None]:
        """``rate`` for every day of ``days`` (None where there is none), remembered."""
        found = self._columns.get((currency, days))
        if found is None:
            found = self._columns[currency, days] = [self._rate_or_none(currency, d) for d in days]
        return found

    def _rate_or_none(self, currency: str, day: date) -> Decimal | None:
        try:
            return self.rate(currency, day)
        except LookupError:
            return None

    def rate_with_date(self, currency: str, day: date) -> tuple[Decimal, date]:
        """Units of the base currency per unit of ``currency``, and the date of the rate."""
        if currency == self.base:
            return Decimal(1), day
        known = self._rates.get((currency, day))
        if known is not None:
            return known
        usd, rate_day = self._usd(currency, day)
        base_usd, base_day = self._usd(self.base, day)
        dates = [d for d in (rate_day, base_day) if d is not None]
        found = self._rates[currency, day] = (
            (usd / base_usd).quantize(RATE_PLACES),
            max(dates, default=day),
        )
        return found


@dataclass(frozen=True)
class CashEvent:
    """A card payment (negative) or a dividend or coupon (positive), on its own day."""

    on: date
    category: str
    currency: str
    amount: Decimal
    symbol: str | None = None


@dataclass(frozen=True)
class PortfolioInputs:
    """What the summary is computed from: rows already read, and price histories."""

    customer_oid: str
    base_currency: str
    as_of: date
    assets: Sequence[AssetOut]
    accounts: Sequence[BankAccountOut]
    trades: Mapping[str, Sequence[Trade]]
    prices: Mapping[str, History]
    usd_per_unit: Mapping[str, History]
    spending: Sequence[SpendingOut]
    derivatives: Sequence[DerivativeOut]
    transaction_count: int
    converter: "Converter | None" = None
    """A converter over ``usd_per_unit`` to the base currency that may be shared and kept."""
    card_payments: Sequence[CashEvent] = ()
    """Card payments in currencies other than the base one, converted one by one."""
    income: Sequence[CashEvent] = ()
    """Dividends and coupons paid out of the securities into cash."""
    instrument_currency: Mapping[str, str] = field(default_factory=dict)
    volatility: Mapping[str, float] = field(default_factory=dict)


DEFAULT_VOLATILITY = 0.3
"""What an option on an instrument the market model does not list is priced with."""


@dataclass(frozen=True)
class Terms:
    """An open derivative position as the pricing sees it."""

    sign: int
    """1 long, -1 short."""
    units: int
    """Contracts times the multiplier: units of the underlying."""
    option_type: str | None
    """call or put; None for a future (or an option without a strike), valued at the spot."""
    strike: float
    years: float
    """Time to expiry in years of 365 days, 0 once expired."""
    volatility: float

    def unit_value(self, spot: float) -> float:
        """One unit's value at ``spot``: Black-Scholes for an option, the spot for a future."""
        if self.option_type is None:
            return spot
        return black_scholes(self.option_type, spot, self.strike, self.years, self.volatility)[0]


def terms(d: DerivativeOut, p: PortfolioInputs) -> Terms:
    is_option = d.instrument_type == "option" and d.option_type and d.strike is not None
    return Terms(
        sign=1 if d.side == "long" else -1,
        units=d.contracts * d.multiplier,
        option_type=d.option_type if is_option else None,
        strike=float(d.strike) if d.strike is not None else 0.0,
        years=max((d.expiry_date - p.as_of).days, 0) / 365,
        volatility=p.volatility.get(d.underlying_symbol, DEFAULT_VOLATILITY),
    )
