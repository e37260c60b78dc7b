"""Risk of today's book: volatility, beta, Sharpe and Sortino, drawdown, value at risk,
expected shortfall, diversification and a score.

The conventions, written once here and in the schema's descriptions:

- **The book** is today's holdings and open derivatives, held unchanged through the
  window (historical simulation): on each day of the window, each holding gains
  ``market value today x its base-currency return that day``, and each derivative the
  change in its value when its underlying moves as it did that day (an option repriced
  by Black-Scholes at the moved price, its volatility and time to expiry unchanged).
  The book's daily return is that P&L over today's holdings' value.
- **The window** is the last 252 daily returns (253 closes) on New York Stock Exchange
  trading days up to ``as_of``. A price on another calendar is its last close on or
  before each day; a currency's rate likewise.
- **Annualised** means x252 for means and x sqrt(252) for standard deviations, which
  are sample ones (n - 1).
- **The risk-free rate** is the bank's flat 4% a year (``analysis.pricing``, the rate its
  option prices discount with), 4% / 252 a day.
- **Value at risk and expected shortfall** are negative amounts: historical by the
  linear-interpolation quantile of the daily P&L and the mean of the days at or beyond
  it; parametric (variance-covariance, delta-normal) from the sample covariance of the
  instruments' returns and the delta-adjusted exposures, mean zero. Ten days is the one-day
  figure times sqrt(10) (the square-root-of-time rule of the Basel market-risk rules).

Floats do the statistics; every figure is rounded into a ``Decimal`` when reported.
"""

import math
import statistics
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache, partial
from itertools import pairwise
from typing import TypeVar

from analysis.pricing import RISK_FREE_RATE
from analysis.stress import option_risk, stress_tests
from analysis.valuation import Converter, PortfolioInputs, Terms, terms
from core.money import to_cents
from market.calendars import TRADING_DAYS_PER_YEAR, open_days
from market.classification import COUNTRIES, SECTORS
from schemas.portfolio import DerivativeOut
from schemas.risk import (
    Diversification,
    Drawdown,
    RiskHeadline,
    RiskReport,
    RiskWindow,
    Slice,
    ValueAtRisk,
)
from schemas.summary import Holding

WINDOW_RETURNS = TRADING_DAYS_PER_YEAR
BENCHMARK = "SPY"
RISK_FREE_SOURCE = (
    "The bank's flat 4% a year, close to the Treasury curve its market is generated with; "
    "the rate its option prices discount with."
)
CONFIDENCES = (95, 99)
HORIZONS = (1, 10)
VOLATILITY_DIVISOR, STRESS_DIVISOR = 4.0, 8.0
"""The risk score's two halves: volatility in percent over 4, worst stress loss over 8."""
CATEGORIES = ((2.5, "conservative"), (5.0, "moderate"), (7.5, "aggressive"))
RATIO = Decimal("0.0001")
T = TypeVar("T")
PERCENT = Decimal("0.01")


@lru_cache(maxsize=8)
def window_days(as_of: date) -> tuple[date, ...]:
    """The 253 NYSE trading days up to ``as_of``: 252 daily returns."""
    days = open_days("NYSE", as_of - timedelta(days=400), as_of)
    return tuple(days[-(WINDOW_RETURNS + 1) :])


def _ratio(value: float | None, places: Decimal = RATIO) -> Decimal | None:
    if value is None or not math.isfinite(value):
        return None
    return Decimal(repr(value)).quantize(places)


def _money(value: float) -> Decimal:
    return to_cents(Decimal(repr(value)))


@dataclass(frozen=True)
class Series:
    """One instrument over the window: closes, base-currency rates, and the returns."""

    closes: list[float]
    rates: list[float]

    @property
    def base_returns(self) -> list[float]:
        values = [c * r for c, r in zip(self.closes, self.rates, strict=True)]
        return [b / a - 1.0 if a else 0.0 for a, b in pairwise(values)]


def read_series(
    p: PortfolioInputs, fx: Converter, symbol: str, days: tuple[date, ...]
) -> Series | None:
    """The instrument's closes and rates on each day (the last known before a gap), or None
    when it has no close in the window at all."""
    history = p.prices.get(symbol)
    if history is None:
        return None
    closes = history.on_each(days)
    currency = p.instrument_currency.get(symbol, p.base_currency)
    rates = fx.rates_on(currency, days)
    first = next((i for i, c in enumerate(closes) if c is not None), None)
    if first is None:
        return None
    filled_closes, filled_rates = [], []
    close, rate = float(closes[first] or 0), float(rates[first] or 0)
    for c, r in zip(closes, rates, strict=True):
        close = float(c) if c is not None else close
        rate = float(r) if r is not None else rate
        filled_closes.append(close)
        filled_rates.append(rate)
    return Series(filled_closes, filled_rates)


def _returns(
    p: PortfolioInputs, fx: Converter, symbol: str, days: tuple[date, ...]
) -> tuple[Series | None, list[float]]:
    found = read_series(p, fx, symbol, days)
    return found, [] if found is None else found.base_returns


def quantile(values: Sequence[float], level: float) -> float:
    """The ``level`` quantile by linear interpolation between order statistics."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * level
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (position - low) * (ordered[high] - ordered[low])


def tail_mean(values: Sequence[float], level: float) -> float:
    """The mean of the ``floor((n - 1) x level) + 1`` smallest values."""
    ordered = sorted(values)
    count = int((len(ordered) - 1) * level) + 1
    return mean(ordered[:count])


def max_drawdown(days: Sequence[date], returns: Sequence[float]) -> Drawdown:
    """The largest fall of the compounded returns from a running peak, with its dates."""
    wealth, peak, peak_day = 1.0, 1.0, days[0]
    worst, worst_peak, worst_trough = 0.0, None, None
    levels = [1.0]
    for day, r in zip(days[1:], returns, strict=True):
        wealth *= 1.0 + r
        levels.append(wealth)
        if wealth > peak:
            peak, peak_day = wealth, day
        fall = wealth / peak - 1.0
        if fall < worst:
            worst, worst_peak, worst_trough = fall, peak_day, day
    recovery = None
    if worst_peak is not None and worst_trough is not None:
        top = levels[days.index(worst_peak)]
        after = days.index(worst_trough)
        recovery = next((days[i] for i in range(after + 1, len(days)) if levels[i] >= top), None)
    return Drawdown(
        max_drawdown_percent=_ratio(worst * 100, PERCENT),
        peak_date=worst_peak,
        trough_date=worst_trough,
        recovery_date=recovery,
    )


def mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values)


def covariance(a: Sequence[float], b: Sequence[float]) -> float:
    """The sample covariance (n - 1), in floats: ``statistics`` works in exact fractions,
    a hundred times slower on a year of returns."""
    mean_a, mean_b = mean(a), mean(b)
    return math.fsum((x - mean_a) * (y - mean_b) for x, y in zip(a, b, strict=True)) / (len(a) - 1)


def stdev(values: Sequence[float]) -> float:
    return math.sqrt(covariance(values, values))


Correlation = Callable[[str, str, dict[str, list[float]]], float | None]
"""The correlation of two symbols' returns (a before b), None when either never moves."""


def correlation(a: str, b: str, returns: dict[str, list[float]]) -> float | None:
    centred, norms = [], []
    for series in (returns[a], returns[b]):
        middle = mean(series)
        deviations = [x - middle for x in series]
        centred.append(deviations)
        norms.append(math.sqrt(math.fsum(x * x for x in deviations)))
    if not norms[0] or not norms[1]:
        return None
    return math.fsum(x * y for x, y in zip(*centred, strict=True)) / (norms[0] * norms[1])


def _kept_correlation(fx: Converter, days: tuple[date, ...]) -> Correlation:
    """``correlation``, kept with the converter's market figures: it is the market's."""

    def kept(a: str, b: str, returns: dict[str, list[float]]) -> float | None:
        return _kept(fx, ("correlation", a, b, days), lambda: correlation(a, b, returns))

    return kept


def average_correlation(
    weights: dict[str, float],
    returns: dict[str, list[float]],
    pair: Correlation = correlation,
) -> float | None:
    """Sum of w_i x w_j x correlation_ij over the pairs i < j, over the sum of w_i x w_j; a
    series that never moves has no correlation and leaves its pairs out."""
    symbols = sorted(weights)
    paired = weighted = 0.0
    for i, a in enumerate(symbols):
        for b in symbols[i + 1 :]:
            found = pair(a, b, returns)
            if found is None:
                continue
            both = weights[a] * weights[b]
            paired += both
            weighted += both * found
    return weighted / paired if paired else None


def _kept(fx: Converter, key: Hashable, work: Callable[[], T]) -> T:
    """``work()``, remembered under ``key`` among the market figures of ``fx``."""
    figures = fx.market_figures
    try:
        found: T = figures[key]
    except KeyError:
        found = figures[key] = work()
    return found


def _herfindahl(shares: dict[str, float]) -> float:
    return sum(s * s for s in shares.values())


def _slices(shares: dict[str, float]) -> list[Slice]:
    ordered = sorted(shares.items(), key=lambda item: (-item[1], item[0]))
    return [Slice(key=k, percent=_ratio(v * 100, PERCENT) or Decimal(0)) for k, v in ordered]


def diversification(
    weights: dict[str, float],
    returns: dict[str, list[float]],
    pair: Correlation = correlation,
) -> Diversification:
    """Concentration by holding, sector and country, and the weighted pairwise correlation."""
    if not weights:
        return Diversification(
            holdings=0, effective_holdings=None, holdings_concentration=None,
            sector_concentration=None, geographic_concentration=None, correlation_risk=None,
            sectors=[], countries=[],
        )  # fmt: skip
    sectors: dict[str, float] = {}
    countries: dict[str, float] = {}
    for symbol, weight in weights.items():
        for name, part in SECTORS.get(symbol, (("Other", Decimal(1)),)):
            sectors[name] = sectors.get(name, 0.0) + weight * float(part)
        for name, part in COUNTRIES.get(symbol, (("none", Decimal(1)),)):
            countries[name] = countries.get(name, 0.0) + weight * float(part)
    concentration = _herfindahl(weights)
    return Diversification(
        holdings=len(weights),
        effective_holdings=_ratio(1.0 / concentration, PERCENT),
        holdings_concentration=_ratio(concentration),
        sector_concentration=_ratio(_herfindahl(sectors)),
        geographic_concentration=_ratio(_herfindahl(countries)),
        correlation_risk=_ratio(average_correlation(weights, returns, pair)),
        sectors=_slices(sectors),
        countries=_slices(countries),
    )


def score(
    volatility_percent: float | None, worst_loss_percent: float | None
) -> tuple[Decimal, str]:
    """The 0-10 risk score and its category: the mean of a volatility score (annualised
    volatility in percent / 4, at most 10) and a stress score (the worst stress test's loss
    in percent / 8, at most 10), to one decimal. A year's volatility alone calls a calm
    year's equity index "conservative"; the stress tests remember what equities can do."""
    if volatility_percent is None or worst_loss_percent is None:
        return Decimal("0.0"), "none"
    calm = min(10.0, volatility_percent / VOLATILITY_DIVISOR)
    stressed = min(10.0, max(worst_loss_percent, 0.0) / STRESS_DIVISOR)
    rounded = Decimal(repr((calm + stressed) / 2)).quantize(Decimal("0.1"))
    category = next((name for top, name in CATEGORIES if rounded < Decimal(repr(top))), None)
    return rounded, category or "speculative"


def _derivative_pnl(d: DerivativeOut, t: Terms, series: Series) -> tuple[float, list[float]]:
    """The position's value today (base currency) and its P&L on each day of the window:
    revalued at the underlying's price moved as it moved that day, and at the moved rate."""
    spot, rate = series.closes[-1], series.rates[-1]
    now = t.unit_value(spot)
    pnl = [
        t.sign * t.units * (t.unit_value(spot * b / a) * rate * rb / ra - now * rate)
        if a and ra
        else 0.0
        for a, b, ra, rb in zip(
            series.closes, series.closes[1:], series.rates, series.rates[1:], strict=False
        )
    ]
    if t.option_type is None:
        # A future is worth what it gained since its trade.
        now -= float(d.trade_price or spot)
    return t.sign * t.units * now * rate, pnl


def assess_risk(p: PortfolioInputs, fx: Converter, holdings: Sequence[Holding]) -> RiskReport:
    days = window_days(p.as_of)
    value = sum((float(h.market_value_base) for h in holdings), 0.0)
    open_derivatives = [
        d for d in p.derivatives if d.status == "open" and d.underlying_symbol in p.prices
    ]
    symbols = {h.symbol for h in holdings} | {d.underlying_symbol for d in open_derivatives}
    series: dict[str, Series] = {}
    returns: dict[str, list[float]] = {}
    for symbol in sorted(symbols | {BENCHMARK}):
        # The market's alone: each instrument's series is worked out once per snapshot.
        found, moves = _kept(fx, ("returns", symbol, days), partial(_returns, p, fx, symbol, days))
        if found is not None:
            series[symbol], returns[symbol] = found, moves
    observations = len(days) - 1
    pnl = [0.0] * observations
    exposure = {h.symbol: float(h.market_value_base) for h in holdings}
    for h in holdings:
        worth = float(h.market_value_base)
        for i, r in enumerate(returns[h.symbol]):
            pnl[i] += worth * r
    derivatives_value = 0.0
    options = option_risk(p, fx, open_derivatives)
    for d in open_derivatives:
        worth, moves = _derivative_pnl(d, terms(d, p), series[d.underlying_symbol])
        derivatives_value += worth
        pnl = [a + b for a, b in zip(pnl, moves, strict=True)]
    for line in options.by_underlying:
        exposure[line.underlying_symbol] = float(line.net_exposure)

    book_returns = [x / value for x in pnl] if value > 0 else None
    reason = None
    if not holdings and not open_derivatives:
        reason = "Nothing invested: no holdings and no open derivatives."
    elif book_returns is None:
        reason = "No holdings: returns need a value to be measured against; the amounts stand."
    elif observations < 2:
        reason = "Too short a price history for statistics."

    volatility = annual_return = beta = sharpe = sortino = None
    drawdown = Drawdown(
        max_drawdown_percent=None, peak_date=None, trough_date=None, recovery_date=None
    )
    if book_returns is not None and observations >= 2:
        per_year = TRADING_DAYS_PER_YEAR
        volatility = stdev(book_returns) * math.sqrt(per_year) * 100
        growth = math.prod(1.0 + r for r in book_returns)
        annual_return = (growth ** (per_year / observations) - 1.0) * 100 if growth > 0 else None
        benchmark = returns.get(BENCHMARK)
        if benchmark and covariance(benchmark, benchmark) > 0:
            beta = covariance(book_returns, benchmark) / covariance(benchmark, benchmark)
        daily_free = RISK_FREE_RATE / per_year
        excess = [r - daily_free for r in book_returns]
        spread = stdev(excess)
        sharpe = mean(excess) / spread * math.sqrt(per_year) if spread else None
        downside = math.sqrt(mean([min(e, 0.0) ** 2 for e in excess]))
        sortino = mean(excess) * per_year / (downside * math.sqrt(per_year)) if (downside) else None
        drawdown = max_drawdown(days, book_returns)

    linear = [0.0] * observations
    for symbol, amount in exposure.items():
        for i, r in enumerate(returns.get(symbol, ())):
            linear[i] += amount * r
    sigma = stdev(linear) if observations >= 2 else 0.0
    var_rows = []
    for confidence in CONFIDENCES:
        tail = 1.0 - confidence / 100
        z = statistics.NormalDist().inv_cdf(confidence / 100)
        one_day_var = quantile(pnl, tail) if observations else 0.0
        one_day_es = tail_mean(pnl, tail) if observations else 0.0
        density = statistics.NormalDist().pdf(z)
        for horizon in HORIZONS:
            scale = math.sqrt(horizon)
            historical = min(one_day_var, 0.0) * scale
            var_rows.append(
                ValueAtRisk(
                    confidence_percent=confidence,
                    horizon_days=horizon,
                    historical_var=_money(historical),
                    historical_expected_shortfall=_money(min(one_day_es, 0.0) * scale),
                    parametric_var=_money(-z * sigma * scale),
                    parametric_expected_shortfall=_money(-sigma * density / tail * scale),
                    historical_var_percent=_ratio(historical / value * 100, PERCENT)
                    if value > 0
                    else None,
                )
            )

    weights = {h.symbol: float(h.market_value_base) / value for h in holdings} if value > 0 else {}
    stresses = stress_tests(p, fx, holdings, open_derivatives, value)
    worst = min(stresses, key=lambda s: s.pnl, default=None)
    worst_loss = None if worst is None or worst.pnl_percent is None else -float(worst.pnl_percent)
    risk_score, category = score(volatility, worst_loss)
    return RiskReport(
        base_currency=p.base_currency,
        as_of=p.as_of,
        reason=reason,
        holdings_value=_money(value),
        derivatives_value=_money(derivatives_value),
        window=RiskWindow(
            start_date=days[0],
            end_date=days[-1],
            observations=observations,
            calendar="NYSE",
            periods_per_year=TRADING_DAYS_PER_YEAR,
        ),
        risk_score=risk_score,
        risk_category=category,
        volatility_percent=_ratio(volatility, PERCENT),
        annualized_return_percent=_ratio(annual_return, PERCENT),
        benchmark=BENCHMARK,
        beta=_ratio(beta),
        risk_free_rate_percent=_ratio(RISK_FREE_RATE * 100, PERCENT) or Decimal(0),
        risk_free_rate_source=RISK_FREE_SOURCE,
        sharpe_ratio=_ratio(sharpe),
        sortino_ratio=_ratio(sortino),
        drawdown=drawdown,
        value_at_risk=var_rows,
        stress_tests=stresses,
        worst_scenario=worst.name if worst is not None and worst.pnl < 0 else None,
        diversification=diversification(
            weights, {s: returns[s] for s in weights}, _kept_correlation(fx, days)
        ),
        options=options,
    )


def headline(report: RiskReport) -> RiskHeadline:
    """The figures of ``report`` that the portfolio summary carries."""
    one_day = {v.confidence_percent: v for v in report.value_at_risk if v.horizon_days == 1}
    worst = next((s for s in report.stress_tests if s.name == report.worst_scenario), None)
    spread = report.diversification
    return RiskHeadline(
        reason=report.reason,
        risk_score=report.risk_score,
        risk_category=report.risk_category,
        volatility_percent=report.volatility_percent,
        beta=report.beta,
        sharpe_ratio=report.sharpe_ratio,
        sortino_ratio=report.sortino_ratio,
        max_drawdown_percent=report.drawdown.max_drawdown_percent,
        value_at_risk_1d_95=one_day[95].historical_var,
        value_at_risk_1d_99=one_day[99].historical_var,
        expected_shortfall_1d_99=one_day[99].historical_expected_shortfall,
        worst_scenario=report.worst_scenario,
        worst_scenario_pnl=None if worst is None else worst.pnl,
        sector_concentration=spread.sector_concentration,
        geographic_concentration=spread.geographic_concentration,
        correlation_risk=spread.correlation_risk,
    )
