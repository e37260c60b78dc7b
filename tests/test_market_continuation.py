"""The market after the history continues its factor model: the continued returns have the
model's volatility and correlations, and the history's; and a day's closes depend on the
seed and the day alone."""

import math
import statistics
from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise

import pytest

from market.continuation import closes_on, payouts_on, simulate
from market.model import AS_OF, FACTORS, SPECS, generate_prices, payouts

THROUGH = date(2028, 10, 2)
"""About 500 stock-market days after the history."""


@pytest.fixture(scope="module")
def continued() -> dict[str, list[tuple[date, Decimal]]]:
    return simulate(11, THROUGH)


def returns(closes: list[tuple[date, Decimal]]) -> dict[date, float]:
    return {
        day: float(close) / float(before) - 1.0 for (_, before), (day, close) in pairwise(closes)
    }


def implied(first: str, second: str) -> tuple[float, float, float]:
    """The model's annual volatilities of two equities and their correlation."""

    def variance(a: str, b: str) -> float:
        loads_a, loads_b = dict(SPECS[a].loadings), dict(SPECS[b].loadings)
        shared = sum(
            loads_a[f] * loads_b[f] * FACTORS[f].annual_volatility ** 2
            for f in loads_a
            if f in loads_b
        )
        return shared + (SPECS[a].idiosyncratic ** 2 if a == b else 0.0)

    one, two = math.sqrt(variance(first, first)), math.sqrt(variance(second, second))
    return one, two, variance(first, second) / (one * two)


def sample(a: dict[date, float], b: dict[date, float]) -> tuple[float, float, float]:
    days = sorted(set(a) & set(b))
    xs, ys = [a[d] for d in days], [b[d] for d in days]
    yearly = math.sqrt(252)
    return (
        statistics.stdev(xs) * yearly,
        statistics.stdev(ys) * yearly,
        statistics.correlation(xs, ys),
    )


@pytest.mark.parametrize(("first", "second"), [("SPY", "QQQ"), ("VTI", "QQQ"), ("SPY", "GC")])
def test_continued_returns_have_the_models_volatility_and_correlation(
    continued: dict[str, list[tuple[date, Decimal]]], first: str, second: str
) -> None:
    vol_a, vol_b, correlation = implied(first, second)
    got_a, got_b, got = sample(returns(continued[first]), returns(continued[second]))
    assert len(continued[first]) > 480
    # Student-t(4) shocks: most of their variance sits in rare tails, so the sample
    # volatility of 500 days is mostly below the model's (the history's is 0.12 for SPY's
    # 0.16): a wide band around the model's, and a narrower one around the history's.
    history = sample(
        returns(generate_prices(SPECS[first])), returns(generate_prices(SPECS[second]))
    )
    assert 0.6 * vol_a < got_a < 1.25 * vol_a
    assert 0.6 * vol_b < got_b < 1.25 * vol_b
    assert 0.7 * history[0] < got_a < 1.3 * history[0]
    assert 0.7 * history[1] < got_b < 1.3 * history[1]
    assert abs(got - correlation) < 0.08
    assert abs(got - history[2]) < 0.1


def test_the_continuation_starts_from_the_historys_last_close(
    continued: dict[str, list[tuple[date, Decimal]]],
) -> None:
    for symbol in ("AAPL", "US10Y", "BTC"):
        assert continued[symbol][0] == generate_prices(SPECS[symbol])[-1]
    # Stocks close on exchange days only, crypto every day, FX on weekdays.
    stock_days = [day for day, _ in continued["AAPL"][1:]]
    assert date(2026, 11, 26) not in stock_days  # Thanksgiving
    assert all(day.weekday() < 5 for day in stock_days)
    assert len(continued["BTC"]) == (THROUGH - AS_OF).days + 1
    assert all(day.weekday() < 5 for day, _ in continued["fx:EUR"])
    assert all(close == close.quantize(Decimal("0.01")) for _, close in continued["AAPL"])
    assert all(rate == rate.quantize(Decimal("0.0001")) for _, rate in continued["fx:EUR"])


def test_a_days_closes_depend_on_the_seed_and_the_day() -> None:
    last = {s: generate_prices(spec)[-1] for s, spec in SPECS.items()}
    rates = {"EUR": (AS_OF, Decimal("1.1135")), "GBP": (AS_OF, Decimal("1.3370"))}
    day = AS_OF + timedelta(1)
    first = closes_on(3, day, last, rates)
    assert first == closes_on(3, day, last, rates)
    assert first.prices != closes_on(4, day, last, rates).prices
    with pytest.raises(ValueError, match="continued from"):
        closes_on(3, AS_OF, last, rates)


def test_payouts_after_the_history_follow_the_same_schedule() -> None:
    paid = [p for n in range(1, 400) for p in payouts_on(AS_OF + timedelta(n))]
    before = payouts()
    assert {p.symbol for p in paid} == {p.symbol for p in before}
    for payout in paid:
        earlier = [p for p in before if p.symbol == payout.symbol]
        assert payout.per_unit == earlier[-1].per_unit
        assert payout.ex_date <= payout.pay_date
    aapl = [p.pay_date for p in paid if p.symbol == "AAPL"]
    assert aapl[:2] == [date(2026, 11, 16), date(2027, 2, 16)]
