"""The market after ``AS_OF``: each new day's closes, continuing the history's factor model.

A sandbox's clock (``sandboxes/clock.py``) asks for the closes of one day at a time. Each
series (a common factor, an instrument's own moves, a currency's) carries on its GARCH(1,1)
variance from where the history left it, and draws its Student-t innovation for a day from
a stream of its own keyed by the sandbox's seed, the series and the day: a day's draws do
not depend on how the days were advanced (thirty at once or one at a time). A close is the
previous stored close times one plus the day's move, rounded as the history is (prices to
the cent, rates to four places), on the days its market is open; bonds move by their yield.

Dividends and coupons keep their schedule (``payout_schedule``): those paid after ``AS_OF``
are ``payouts_on`` their pay day.
"""

import math
import random
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import cache, lru_cache

from market.calendars import LAST_YEAR, TRADING_DAYS_PER_YEAR, is_open, on_or_after, open_days
from market.model import (
    AS_OF,
    FACTORS,
    FX_RATES,
    HISTORY_START,
    INSTRUMENTS,
    MARKET_SEED,
    InstrumentSpec,
    Payout,
    bond_price,
    bond_yield,
    garch_step,
    garch_with_state,
    generate_fx,
    generate_prices,
    normal,
    payout_schedule,
    steps_per_year,
    student_t,
)
from models import AssetType

HORIZON = date(LAST_YEAR, 12, 31)
"""The last day the market is continued to: the calendars know their holidays up to here,
and every bond matures after it."""
MAX_DAYS_PER_ADVANCE = 366
"""The most days one advance of a sandbox's clock runs: a year, leap day included."""
PRICE_PLACES = Decimal("0.01")
RATE_PLACES = Decimal("0.0001")
BOND_OWN_VOLATILITY = 0.0015
"""A corporate bond's own yield volatility (as ``model._bond_path`` has it)."""
EARNINGS_MONTHS = (1, 4, 7, 10)


@dataclass(frozen=True)
class Series:
    """One GARCH series of the model: its random stream's name, calendar and parameters."""

    key: str
    calendar: str
    annual_volatility: float
    per_year: int
    degrees: int

    @property
    def long_run(self) -> float:
        return self.annual_volatility * self.annual_volatility / self.per_year


@cache
def all_series() -> dict[str, Series]:
    """Every series the history drew, by the name of its stream (as ``model.py`` names it)."""
    found = {
        f"factor:{name}": Series(
            f"factor:{name}",
            spec.calendar,
            spec.annual_volatility,
            steps_per_year(spec.calendar),
            spec.degrees_of_freedom,
        )
        for name, spec in FACTORS.items()
    }
    for spec in INSTRUMENTS:
        if spec.asset_type == AssetType.bond:
            own = Series(
                f"own:{spec.symbol}",
                spec.calendar,
                BOND_OWN_VOLATILITY,
                TRADING_DAYS_PER_YEAR,
                4,
            )
        else:
            own = Series(
                f"own:{spec.symbol}",
                spec.calendar,
                spec.idiosyncratic,
                steps_per_year(spec.calendar),
                4,
            )
        found[own.key] = own
    for currency, _, volatility in FX_RATES:
        found[f"fx:{currency}"] = Series(f"fx:{currency}", "weekdays", volatility, 261, 6)
    return found


@cache
def history_end_variances() -> dict[str, float]:
    """Each series' variance for the first day after ``AS_OF``: the history replayed."""
    return {
        key: garch_with_state(
            key,
            open_days(series.calendar, HISTORY_START, AS_OF),
            series.annual_volatility,
            series.per_year,
            series.degrees,
        )[1]
        for key, series in all_series().items()
    }


def day_stream(seed: int, name: str, day: date) -> random.Random:
    """The random stream of one series on one day of one sandbox."""
    return random.Random(f"{MARKET_SEED}:continued:{seed}:{name}:{day.isoformat()}")


@dataclass
class _Path:
    reached: date
    variance: float
    shocks: dict[date, float] = field(default_factory=dict)


Scripted = tuple[tuple[str, date, float], ...]
"""Moves a sandbox's script adds to series on days: (series key, day, move), sorted."""


class ContinuedShocks:
    """The shocks of every series after ``AS_OF`` for one seed, computed once up to the
    latest day asked for (each day's shock needs the variance the days before left).

    ``scripted`` moves are added to the model's own draw on their day, and the variance goes
    on from the sum: a scripted crash is followed by the turbulent days a real one is."""

    def __init__(self, seed: int, scripted: Scripted = ()) -> None:
        self.seed = seed
        self._scripted = {(key, day): move for key, day, move in scripted}
        self._lock = threading.Lock()
        variances = history_end_variances()
        self._paths = {key: _Path(AS_OF, variances[key]) for key in all_series()}

    def shock(self, key: str, day: date) -> float:
        """The series' shock on ``day``; 0 on a day its calendar is closed."""
        path = self._paths[key]
        if day > path.reached:
            with self._lock:
                self._extend(key, path, day)
        return path.shocks.get(day, 0.0)

    def _extend(self, key: str, path: _Path, through: date) -> None:
        series = all_series()[key]
        for day in open_days(series.calendar, path.reached + timedelta(1), through):
            draw = student_t(day_stream(self.seed, key, day), series.degrees)
            shock = math.sqrt(path.variance) * draw + self._scripted.get((key, day), 0.0)
            path.shocks[day] = shock
            path.variance = garch_step(path.variance, shock, series.long_run)
        path.reached = max(path.reached, through)


@lru_cache(maxsize=32)
def continued(seed: int, scripted: Scripted = ()) -> ContinuedShocks:
    """The shocks of one seed (and script), shared by every advance of the sandboxes with
    that seed and those scripted moves."""
    return ContinuedShocks(seed, scripted)


@cache
def _report_days(spec: InstrumentSpec) -> frozenset[date]:
    """The days a company reports (a jump of its price), after the history as in it."""
    return frozenset(
        on_or_after(spec.calendar, date(year, month, 20 + len(spec.symbol)))
        for year in range(AS_OF.year, LAST_YEAR + 1)
        for month in EARNINGS_MONTHS
    )


def _equity_move(shocks: ContinuedShocks, spec: InstrumentSpec, day: date) -> float:
    per_year = steps_per_year(spec.calendar)
    move = spec.annual_drift / per_year + shocks.shock(f"own:{spec.symbol}", day)
    if spec.asset_type == AssetType.stock and day in _report_days(spec):
        jump = 4.0 * spec.idiosyncratic / math.sqrt(per_year)
        move += jump * normal(day_stream(shocks.seed, f"earnings:{spec.symbol}", day))
    for factor, loading in spec.loadings:
        move += loading * shocks.shock(f"factor:{factor}", day)
    return max(move, -0.6)


def _bond_close(
    shocks: ContinuedShocks, spec: InstrumentSpec, day: date, previous: tuple[date, Decimal]
) -> Decimal:
    """The previous close's yield, moved by the curve (level and slope) and credit."""
    assert spec.maturity is not None
    before, price = previous
    tenor = (spec.maturity - day).days / 365.25
    move = shocks.shock("factor:rates_level", day) + (tenor - 7.0) / 5.0 * shocks.shock(
        "factor:rates_slope", day
    )
    if spec.credit_spread:
        move += shocks.shock("factor:credit", day) + shocks.shock(f"own:{spec.symbol}", day)
    start = bond_yield(spec.coupon, float(price), before, spec.maturity)
    close = bond_price(spec.coupon, max(start + move, 0.001), day, spec.maturity)
    return Decimal(close).quantize(PRICE_PLACES)


@dataclass(frozen=True)
class DayCloses:
    """One day's new closes (instruments whose market is open) and FX rates (weekdays)."""

    day: date
    prices: dict[str, Decimal]
    rates: dict[str, Decimal]


def closes_on(
    seed: int,
    day: date,
    last_prices: Mapping[str, tuple[date, Decimal]],
    last_rates: Mapping[str, tuple[date, Decimal]],
    scripted: Scripted = (),
) -> DayCloses:
    """The closes of ``day`` (after ``AS_OF``, up to ``HORIZON``) from the last stored ones
    (each symbol's and currency's day and value before ``day``), in symbol order."""
    if not AS_OF < day <= HORIZON:
        raise ValueError(f"the market is continued from {AS_OF} to {HORIZON}, not to {day}")
    shocks = continued(seed, scripted)
    prices: dict[str, Decimal] = {}
    for spec in sorted(INSTRUMENTS, key=lambda s: s.symbol):
        previous = last_prices.get(spec.symbol)
        if previous is None or not is_open(spec.calendar, day):
            continue
        if spec.asset_type == AssetType.bond:
            prices[spec.symbol] = _bond_close(shocks, spec, day, previous)
        else:
            move = _equity_move(shocks, spec, day)
            prices[spec.symbol] = Decimal(float(previous[1]) * (1.0 + move)).quantize(PRICE_PLACES)
    rates: dict[str, Decimal] = {}
    if is_open("weekdays", day):
        dollar = shocks.shock("factor:usd", day)
        for currency, _, _ in sorted(FX_RATES):
            found = last_rates.get(currency)
            if found is not None:
                move = 1.0 + shocks.shock(f"fx:{currency}", day) - dollar
                rates[currency] = Decimal(float(found[1]) * move).quantize(RATE_PLACES)
    return DayCloses(day, prices, rates)


@cache
def _payouts_by_day() -> dict[date, tuple[Payout, ...]]:
    by_day: dict[date, list[Payout]] = {}
    for payout in payout_schedule(AS_OF.year, LAST_YEAR + 1):
        if AS_OF < payout.pay_date <= HORIZON:
            by_day.setdefault(payout.pay_date, []).append(payout)
    return {day: tuple(found) for day, found in by_day.items()}


def payouts_on(day: date) -> tuple[Payout, ...]:
    """The dividends and coupons paid on ``day`` (after ``AS_OF``), by symbol."""
    return _payouts_by_day().get(day, ())


def simulate(seed: int, through: date) -> dict[str, list[tuple[date, Decimal]]]:
    """Every instrument's and currency's (``fx:EUR``) closes from the history's last to
    ``through``, without a database: what a sandbox advanced to ``through`` stores."""
    paths: dict[str, list[tuple[date, Decimal]]] = {
        spec.symbol: [generate_prices(spec)[-1]] for spec in INSTRUMENTS
    }
    for currency, last, volatility in FX_RATES:
        paths[f"fx:{currency}"] = [generate_fx(currency, last, volatility)[-1]]
    day = AS_OF + timedelta(1)
    while day <= through:
        last_prices = {s.symbol: paths[s.symbol][-1] for s in INSTRUMENTS}
        last_rates = {c: paths[f"fx:{c}"][-1] for c, _, _ in FX_RATES}
        found = closes_on(seed, day, last_prices, last_rates)
        for symbol, close in found.prices.items():
            paths[symbol].append((day, close))
        for currency, rate in found.rates.items():
            paths[f"fx:{currency}"].append((day, rate))
        day += timedelta(1)
    return paths
