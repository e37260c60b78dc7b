"""Option prices and deltas by Black-Scholes, from an instrument's volatility.

Floats are fine here: the results are rounded to cents (premiums) or shown to
four places (deltas) before anyone sees them.
"""

import math

RISK_FREE_RATE = 0.04
"""A flat rate for discounting, close to the Treasury curve the market is generated with."""


def _normal_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def black_scholes(
    option_type: str, spot: float, strike: float, years: float, volatility: float
) -> tuple[float, float]:
    """(price, delta) of one unit of a European call or put; at expiry, intrinsic value."""
    call = option_type == "call"
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
