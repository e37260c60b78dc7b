"""Stress tests and option greeks: what the book does when the market's factors jump.

A scenario (``market.scenarios``) shocks the factors of the market model. Each instrument
moves by its own loadings on those factors (``market.model.INSTRUMENTS``), so a stock
with a tech loading of 1.3 falls further in a tech crash than the index; its own,
idiosyncratic part does not move. A move below -100% is a price of zero. A bond's yield
moves by the Treasury level, by the slope as the model does for its remaining tenor,
and (a corporate bond) by the credit spread; its price by its modified duration and
convexity at today's yield (``-D x dy + C x dy**2 / 2``). A holding in another currency
than the base one moves with the dollar factor too. An option is repriced by
Black-Scholes at the shocked underlying price; a future moves one for one with it.
"""

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from functools import lru_cache

from analysis.pricing import greeks
from analysis.valuation import Converter, PortfolioInputs, terms
from core.money import to_cents
from market.model import SPECS, bond_price, bond_yield
from market.scenarios import SCENARIOS, Scenario
from schemas.portfolio import DerivativeOut
from schemas.risk import (
    OptionRisk,
    OptionsRisk,
    StressDerivative,
    StressHolding,
    StressTest,
    UnderlyingExposure,
)
from schemas.summary import Holding

BUMP = 0.0001
"""One basis point: the yield step duration and convexity are measured with."""
UNIT = Decimal("0.0001")
PERCENT = Decimal("0.01")


def _money(value: float) -> Decimal:
    return to_cents(Decimal(repr(value)))


@lru_cache(maxsize=256)
def duration_and_convexity(symbol: str, price: float, as_of: date) -> tuple[float, float]:
    """A bond's modified duration and convexity at the yield its price implies today (the
    same three figures for every scenario and every customer holding it that day)."""
    spec = SPECS[symbol]
    assert spec.maturity is not None
    rate = bond_yield(spec.coupon, price, as_of, spec.maturity)
    at = bond_price(spec.coupon, rate, as_of, spec.maturity)
    down = bond_price(spec.coupon, rate - BUMP, as_of, spec.maturity)
    up = bond_price(spec.coupon, rate + BUMP, as_of, spec.maturity)
    return (down - up) / (2 * BUMP * at), (down + up - 2 * at) / (BUMP * BUMP * at)


def price_move(symbol: str, price: float, as_of: date, shocks: dict[str, float]) -> float:
    """The instrument's return, in its own currency, when the factors move by ``shocks``."""
    spec = SPECS.get(symbol)
    if spec is None:
        return 0.0
    if spec.maturity is not None:
        tenor = (spec.maturity - as_of).days / 365.25
        change = shocks.get("rates_level", 0.0) + (tenor - 7.0) / 5.0 * shocks.get(
            "rates_slope", 0.0
        )
        if spec.credit_spread:
            change += shocks.get("credit", 0.0)
        duration, convexity = duration_and_convexity(symbol, price, as_of)
        move = -duration * change + convexity * change * change / 2
    else:
        move = sum(loading * shocks.get(factor, 0.0) for factor, loading in spec.loadings)
    return max(move, -1.0)


def currency_move(currency: str, base: str, shocks: dict[str, float]) -> float:
    """How much more (or less) a unit of ``currency`` is worth in ``base`` after the shocks:
    every currency but the dollar moves by minus the dollar factor against it."""
    dollar = shocks.get("usd", 0.0)

    def usd_value(code: str) -> float:
        return 1.0 if code == "USD" else 1.0 - dollar

    return usd_value(currency) / usd_value(base)


def _stress(
    scenario: Scenario,
    p: PortfolioInputs,
    fx: Converter,
    holdings: Sequence[Holding],
    derivatives: Sequence[DerivativeOut],
    value: float,
) -> StressTest:
    shocks = dict(scenario.shocks)
    lines, total = [], 0.0
    for h in holdings:
        local = price_move(h.symbol, float(h.current_price), p.as_of, shocks)
        moved = (1.0 + local) * currency_move(h.currency, p.base_currency, shocks) - 1.0
        gain = float(h.market_value_base) * moved
        total += gain
        lines.append(
            StressHolding(
                symbol=h.symbol,
                return_percent=Decimal(repr(moved * 100)).quantize(PERCENT),
                pnl=_money(gain),
            )
        )
    positions = []
    for d in derivatives:
        spot_close = p.prices[d.underlying_symbol].on_or_before(p.as_of)
        if spot_close is None:
            continue
        spot = float(spot_close)
        shocked = spot * (1.0 + price_move(d.underlying_symbol, spot, p.as_of, shocks))
        rate = float(fx.rate(d.currency, p.as_of))
        moved_rate = rate * currency_move(d.currency, p.base_currency, shocks)
        t = terms(d, p)
        gain = t.sign * t.units * (t.unit_value(shocked) * moved_rate - t.unit_value(spot) * rate)
        total += gain
        positions.append(
            StressDerivative(id=d.id, underlying_symbol=d.underlying_symbol, pnl=_money(gain))
        )
    return StressTest(
        name=scenario.name,
        title=scenario.title,
        period=scenario.period,
        shocks={name: Decimal(repr(shock)) for name, shock in scenario.shocks},
        pnl=_money(total),
        pnl_percent=Decimal(repr(total / value * 100)).quantize(PERCENT) if value > 0 else None,
        holdings=lines,
        derivatives=positions,
    )


def stress_tests(
    p: PortfolioInputs,
    fx: Converter,
    holdings: Sequence[Holding],
    derivatives: Sequence[DerivativeOut],
    value: float,
) -> list[StressTest]:
    """Every scenario of ``market.scenarios`` applied to the book."""
    return [_stress(s, p, fx, holdings, derivatives, value) for s in SCENARIOS]


def option_risk(
    p: PortfolioInputs, fx: Converter, derivatives: Sequence[DerivativeOut]
) -> OptionsRisk:
    """Each open option's greeks, and every underlying's delta-adjusted exposure."""
    held = {a.symbol: a for a in p.assets}
    positions, exposure = [], dict[str, Decimal]()
    for d in sorted(derivatives, key=lambda d: (d.expiry_date, d.id)):
        spot_close = p.prices[d.underlying_symbol].on_or_before(p.as_of)
        if spot_close is None:
            continue
        spot = float(spot_close)
        rate = float(fx.rate(d.currency, p.as_of))
        t = terms(d, p)
        sign, units = t.sign, t.units
        if t.option_type is not None and d.option_type and d.strike is not None:
            g = greeks(t.option_type, spot, t.strike, t.years, t.volatility)
            delta = sign * units * g.delta
            positions.append(
                OptionRisk(
                    id=d.id,
                    underlying_symbol=d.underlying_symbol,
                    option_type=d.option_type,
                    side=d.side,
                    contracts=d.contracts,
                    multiplier=d.multiplier,
                    strike=d.strike,
                    expiry_date=d.expiry_date,
                    delta=Decimal(repr(delta)).quantize(UNIT),
                    gamma=Decimal(repr(sign * units * g.gamma)).quantize(UNIT),
                    vega=_money(sign * units * g.vega * rate),
                    theta=_money(sign * units * g.theta * rate),
                    delta_exposure=_money(delta * spot * rate),
                )
            )
        else:
            delta = sign * units
        exposure[d.underlying_symbol] = exposure.get(d.underlying_symbol, Decimal(0)) + _money(
            delta * spot * rate
        )
    lines = []
    for symbol in sorted(exposure):
        asset = held.get(symbol)
        outright = (
            to_cents(asset.quantity * asset.current_price * fx.rate(asset.currency, p.as_of))
            if asset is not None
            else Decimal("0.00")
        )
        lines.append(
            UnderlyingExposure(
                underlying_symbol=symbol,
                holdings_value=outright,
                derivatives_delta_exposure=exposure[symbol],
                net_exposure=outright + exposure[symbol],
            )
        )
    return OptionsRisk(positions=positions, by_underlying=lines)
