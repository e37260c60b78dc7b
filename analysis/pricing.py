"""Option prices and their greeks by Black-Scholes, from an instrument's volatility.

Floats are fine here: the results are rounded to cents (premiums) or shown to
four places (deltas) before anyone sees them.
"""

import math
from dataclasses import dataclass

RISK_FREE_RATE = 0.04
"""A flat rate for discounting, close to the Treasury curve the market is generated with."""


def _normal_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def _normal_pdf(x: float) -> float:
    return math.exp(-x * x / 2) / math.sqrt(2 * math.pi)


@dataclass(frozen=True)
class Greeks:
    """One long unit's price and sensitivities."""

    price: float
    delta: float
    """Change in price per 1 of the underlying."""
    gamma: float
    """Change in delta per 1 of the underlying."""
    vega: float
    """Change in price per volatility point (0.01 of annual volatility)."""
    theta: float
    """Change in price per calendar day that passes, all else equal (1/365 of a year)."""


def greeks(option_type: str, spot: float, strike: float, years: float, volatility: float) -> Greeks:
    """Black-Scholes price, delta, gamma, vega and theta of a European call or put; at
    expiry (or without volatility) the intrinsic value, its delta, and no other greek."""
    price, delta = black_scholes(option_type, spot, strike, years, volatility)
    if years <= 0 or volatility <= 0 or spot <= 0:
        return Greeks(price, delta, 0.0, 0.0, 0.0)
    root = volatility * math.sqrt(years)
    d1 = (math.log(spot / strike) + (RISK_FREE_RATE + volatility * volatility / 2) * years) / root
    d2 = d1 - root
    density = _normal_pdf(d1)
    discounted = strike * math.exp(-RISK_FREE_RATE * years)
    decay = -spot * density * volatility / (2 * math.sqrt(years))
    if option_type == "call":
        theta = decay - RISK_FREE_RATE * discounted * _normal_cdf(d2)
    else:
        theta = decay + RISK_FREE_RATE * discounted * _normal_cdf(-d2)
    return Greeks(
        price=price,
        delta=delta,
        gamma=density / (spot * root),
        vega=spot * density * math.sqrt(years) / 100,
        theta=theta / 365,
    )


def black_scholes(
    option_type: str, spot: float, strike: float, years: float, volatility: float
) -> tuple[float, float]:
    """(price, delta) of one unit of a European call or put; at expiry, intrinsic value."""
    call = option_type == "call"
    if spot <= 0:
        # A worthless underlying: the call is worth nothing, the put its discounted strike.
        return (0.0, 0.0) if call else (strike * math.exp(-RISK_FREE_RATE * max(years, 0)), -1.0)
    if years <= 0 or volatility <= 0:
        intrinsic = max(spot - strike, 0.0) if call else max(strike - spot, 0.0)
        in_the_money = spot > strike if call else spot < strike
        return intrinsic, (1.0 if call else -1.0) if in_the_money else 0.0
    root = volatility * math.sqrt(years)
    d1 = (math.log(spot / strike) + (RISK_FREE_RATE + volatility * volatility / 2) * years) / root
    d2 = d1 - root
    discounted = strike * math.exp(-RISK_FREE_RATE * years)
    if call:
        return spot * _normal_cdf(d1) - discounted * _normal_cdf(d2), _normal_cdf(d1)
    return discounted * _normal_cdf(-d2) - spot * _normal_cdf(-d1), _normal_cdf(d1) - 1.0


def premium_cents(
    option_type: str, spot: float, strike: float, years: float, volatility: float
) -> int:
    """The premium per unit in cents: Black-Scholes, never below intrinsic value.

    A European put deep in the money is worth less than its intrinsic value;
    listed equity options are American, so nobody sells one for less.
    """
    price, _ = black_scholes(option_type, spot, strike, years, volatility)
    intrinsic = max(spot - strike, 0.0) if option_type == "call" else max(strike - spot, 0.0)
    return max(math.ceil(max(price, intrinsic) * 100 - 1e-9), 1)
