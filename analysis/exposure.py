"""Derivatives exposure: premiums, notional and expiries of the open positions, and their values.

An option is valued by Black-Scholes at the underlying's latest close, a future
marked to market against its trade price.
"""

from datetime import timedelta
from decimal import Decimal

from analysis.pricing import black_scholes
from analysis.valuation import PERCENT_PLACES, Converter, PortfolioInputs, terms
from core.money import to_cents
from schemas.summary import DerivativeExposure, ExpiringPosition, PositionValue

UNIT_PLACES = Decimal("0.0001")


def derivative_exposure(p: PortfolioInputs, fx: Converter) -> DerivativeExposure:
    """What the open positions cost or brought in, their notional, what expires soon, and
    each one's value and delta."""
    open_positions = [d for d in p.derivatives if d.status == "open"]
    paid, received, notional = Decimal(0), Decimal(0), Decimal(0)
    for d in open_positions:
        rate = fx.rate(d.currency, p.as_of)
        units = d.contracts * d.multiplier
        if d.premium is not None:
            premium = to_cents(d.premium * units * rate)
            if d.side == "long":
                paid += premium
            else:
                received += premium
        underlying = p.prices[d.underlying_symbol].on_or_before(p.as_of)
        if underlying is not None:
            notional += to_cents(underlying * units * rate)
    positions = _position_values(p, fx)
    horizon = p.as_of + timedelta(days=30)
    expiring = [
        ExpiringPosition(
            id=d.id,
            underlying_symbol=d.underlying_symbol,
            instrument_type=d.instrument_type,
            option_type=d.option_type,
            side=d.side,
            expiry_date=d.expiry_date,
            days_to_expiry=(d.expiry_date - p.as_of).days,
        )
        for d in sorted(open_positions, key=lambda d: (d.expiry_date, d.id))
        if p.as_of <= d.expiry_date <= horizon
    ]
    return DerivativeExposure(
        open_positions=len(open_positions),
        premium_paid=paid,
        premium_received=received,
        net_premium=received - paid,
        total_premium=paid + received,
        notional=notional,
        nearest_expiry=min(
            (d.expiry_date for d in open_positions if d.expiry_date >= p.as_of), default=None
        ),
        expiring_within_30_days=expiring,
        market_value=sum((v.market_value for v in positions), Decimal(0)),
        positions=positions,
    )


def _position_values(p: PortfolioInputs, fx: Converter) -> list[PositionValue]:
    values = []
    for d in sorted(p.derivatives, key=lambda d: (d.expiry_date, d.id)):
        spot = p.prices[d.underlying_symbol].on_or_before(p.as_of)
        if d.status != "open" or spot is None:
            continue
        t = terms(d, p)
        sign, units = t.sign, t.units
        if t.option_type is not None:
            price, delta = black_scholes(
                t.option_type, float(spot), t.strike, t.years, t.volatility
            )
            unit = Decimal(repr(price)).quantize(UNIT_PLACES)
            unit_delta = Decimal(repr(delta)).quantize(UNIT_PLACES)
            method = "black_scholes"
        else:
            unit = spot - (d.trade_price or spot)
            unit_delta, method = Decimal(1), "mark_to_market"
        values.append(
            PositionValue(
                id=d.id,
                underlying_symbol=d.underlying_symbol,
                instrument_type=d.instrument_type,
                option_type=d.option_type,
                side=d.side,
                contracts=d.contracts,
                multiplier=d.multiplier,
                strike=d.strike,
                expiry_date=d.expiry_date,
                underlying_price=spot,
                unit_value=unit,
                market_value=to_cents(sign * unit * units * fx.rate(d.currency, p.as_of)),
                delta=unit_delta,
                delta_units=(sign * unit_delta * units).quantize(PERCENT_PLACES),
                method=method,
            )
        )
    return values
