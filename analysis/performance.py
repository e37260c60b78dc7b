"""Performance of the securities: returns over fixed periods, and volatility over a year.

Each period's return is the holdings' value change (today's quantities at both
ends) and, beside it, the customer's own return by Modified Dietz, which counts
the trades and the dividends and coupons paid out over the period.
"""

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise

from analysis.valuation import (
    HUNDRED,
    PERCENT_PLACES,
    Converter,
    PortfolioInputs,
    percent,
    weekdays,
)
from core.money import to_cents
from market.calendars import TRADING_DAYS_PER_YEAR, months_before
from schemas.summary import Performance, PeriodReturn


def period_start(as_of: date, months: int) -> date:
    """Month-end to month-end: from a month's last day, the last day ``months`` months earlier
    (2026-09-30 -> 2026-08-31, not 08-30); from any other day, the same day of the month."""
    if (as_of + timedelta(1)).day != 1:
        return months_before(as_of, months)
    year, month = divmod(as_of.year * 12 + as_of.month - months, 12)
    return date(year, month + 1, 1) - timedelta(1)


def period_starts(as_of: date) -> dict[str, date]:
    """Where each performance period starts; the value on or before that date is the base."""
    return {
        # The previous day's close, whichever market was open then (crypto trades every day).
        "1d": as_of - timedelta(1),
        "mtd": date(as_of.year, as_of.month, 1) - timedelta(1),
        "1m": period_start(as_of, 1),
        "3m": period_start(as_of, 3),
        "ytd": date(as_of.year - 1, 12, 31),
        "1y": period_start(as_of, 12),
    }


def annualized_volatility(values: Sequence[Decimal]) -> Decimal | None:
    """Sample standard deviation of daily returns times sqrt(252), as a percentage."""
    returns = [b / a - 1 for a, b in pairwise(values) if a]
    if len(returns) < 2:
        return None
    mean = sum(returns, Decimal(0)) / len(returns)
    variance = sum(((r - mean) ** 2 for r in returns), Decimal(0)) / (len(returns) - 1)
    return (variance.sqrt() * Decimal(TRADING_DAYS_PER_YEAR).sqrt() * HUNDRED).quantize(
        PERCENT_PLACES
    )


def measure_performance(p: PortfolioInputs, fx: Converter) -> Performance:
    """Returns over a day, the month to date, 1m, 3m, the year to date and 1y, and the last
    year's volatility."""

    def value_on(day: date, *, rounded: bool) -> Decimal:
        total = Decimal(0)
        for asset in p.assets:
            close = p.prices[asset.symbol].on_or_before(day)
            if close is None:
                continue
            value = asset.quantity * close * fx.rate(asset.currency, day)
            total += to_cents(value) if rounded else value
        return total

    end_value = value_on(p.as_of, rounded=True)
    periods = []
    worked_out: dict[date, tuple[Decimal, tuple[Decimal | None, Decimal, Decimal, Decimal]]] = {}
    for name, start in period_starts(p.as_of).items():
        if start not in worked_out:  # on a month's last day, mtd starts where 1m does
            worked_out[start] = (
                value_on(start, rounded=True),
                _modified_dietz(p, fx, start, p.as_of),
            )
        start_value, own = worked_out[start]
        gain = end_value - start_value
        periods.append(
            PeriodReturn(
                period=name,
                start_date=start,
                start_value=start_value,
                end_value=end_value,
                gain=gain,
                return_percent=percent(gain, start_value),
                customer_return_percent=own[0],
                portfolio_start_value=own[1],
                portfolio_end_value=own[2],
                net_flows=own[3],
            )
        )
    days = weekdays(months_before(p.as_of, 12), p.as_of)
    columns = [
        (asset, p.prices[asset.symbol].on_each(days), fx.rates_on(asset.currency, days))
        for asset in p.assets
    ]
    series = []
    for index, day in enumerate(days):
        total = Decimal(0)
        for asset, closes, rates in columns:
            close, rate = closes[index], rates[index]
            if close is None:
                continue
            if rate is None:
                rate = fx.rate(asset.currency, day)  # raises, saying which rate is missing
            total += asset.quantity * close * rate
        series.append(total)
    return Performance(
        as_of=p.as_of,
        periods=periods,
        annualized_volatility_percent=annualized_volatility(series) if p.assets else None,
    )


def _modified_dietz(
    p: PortfolioInputs, fx: Converter, start: date, end: date
) -> tuple[Decimal | None, Decimal, Decimal, Decimal]:
    """The customer's return on the securities from ``start`` to ``end`` (Modified Dietz).

    Returns (return in percent, value at start, value at end, net flows), in the
    base currency; the return is None when nothing was invested over the period.
    """

    def value_at(day: date) -> Decimal:
        total = Decimal(0)
        for symbol, trades in p.trades.items():
            held = sum((t.quantity for t in trades if t.on <= day), Decimal(0))
            close = p.prices[symbol].on_or_before(day) if symbol in p.prices else None
            if held and close is not None:
                total += held * close * fx.rate(p.instrument_currency[symbol], day)
        return total

    span = Decimal((end - start).days)
    flows = weighted = Decimal(0)

    def flow(day: date, amount: Decimal) -> None:
        nonlocal flows, weighted
        flows += amount
        weighted += amount * (end - day).days / span

    for symbol, trades in p.trades.items():
        for t in trades:
            if start < t.on <= end:
                flow(t.on, t.quantity * t.price * fx.rate(p.instrument_currency[symbol], t.on))
    for event in p.income:
        if start < event.on <= end:
            flow(event.on, -event.amount * fx.rate(event.currency, event.on))
    start_value, end_value = value_at(start), value_at(end)
    base = start_value + weighted
    result = None if base <= 0 else ((end_value - start_value - flows) * HUNDRED / base)
    return (
        None if result is None else result.quantize(PERCENT_PLACES),
        to_cents(start_value),
        to_cents(end_value),
        to_cents(flows),
    )
