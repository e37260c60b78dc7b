"""What a trade or a conversion costs at this bank: spreads, commissions and the FX margin.

One schedule for the generated history (``synthetic/``) and for the orders and transfers
customers give today (``services/instructions``): a fill is the close plus (or minus) half
the spread, rounded to the cent against the customer; the commission depends on the asset
type and the broker's country; a conversion between currencies is at the day's mid rate
less ``FX_MARGIN``. Every amount here is rounded down to the cent where the customer pays
it, except commissions, which are rounded to the cent half to even as the statement shows.
"""

from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, Decimal

from core.money import CENT, PRICE_SCALE, to_cents

HALF_SPREAD = {
    "etf": 0.0002,
    "stock": 0.0005,
    "bond": 0.0015,
    "crypto": 0.0025,
    "commodity": 0.0003,
}
"""Half the bid-ask spread a trade pays, as a share of the close."""

OPTION_HALF_SPREAD = Decimal("0.02")
"""Half the bid-ask spread of a listed option, as a share of its model value (at least a cent
a unit): options trade far wider than their underlyings."""

OPTION_COMMISSION = Decimal("0.65")
"""Commission per option contract, in the option's currency."""

FX_MARGIN = Decimal("0.005")
"""The bank's margin on a conversion between currencies: the customer's rate is the mid rate
less 0.5%, a retail bank's usual spread."""

PRICE_PLACES = Decimal(1).scaleb(-PRICE_SCALE)


def execution_price(close: int, asset_type: str, *, buy: bool) -> int:
    """What a market order fills at, in price units: the close plus (or minus) half the
    spread, rounded to the cent against the customer."""
    cent: int = 10 ** (PRICE_SCALE - 2)
    half = HALF_SPREAD[asset_type]
    moved = close * (1 + half) if buy else close * (1 - half)
    cents = int(moved / cent) + (1 if buy else 0)
    return cents * cent


def fill_price(close: Decimal, asset_type: str, *, buy: bool) -> Decimal:
    """``execution_price`` for a close given as a ``Decimal``."""
    units = int(close.scaleb(PRICE_SCALE))
    return Decimal(execution_price(units, asset_type, buy=buy)).scaleb(-PRICE_SCALE)


def commission(asset_type: str, country: str, quantity: Decimal, gross: Decimal) -> Decimal:
    """The broker's commission on a trade of ``quantity`` units for ``gross``, by the broker's
    country: crypto 0.5% (at least 0.99); Germany 4.90 plus 0.25%; Britain 5.95 flat; US
    bonds 0.10 a unit (at least 10); US shares half a cent a share, at least 1.00 and at most
    1% of the trade (at least a cent)."""
    if asset_type == "crypto":
        return max(to_cents(gross * Decimal("0.005")), Decimal("0.99"))
    if country == "DE":
        return Decimal("4.90") + to_cents(gross * Decimal("0.0025"))
    if country == "GB":
        return Decimal("5.95")
    if asset_type == "bond":
        return max(Decimal(10), to_cents(quantity.to_integral_value(ROUND_FLOOR) / 10))
    return min(
        max(Decimal(1), to_cents(quantity * Decimal("0.005"))), max(to_cents(gross / 100), CENT)
    )


def option_fill(model_value: Decimal, *, buy: bool) -> Decimal:
    """What one unit of an option trades at: its model value plus (or minus) half the
    option spread, at least a cent away, rounded to the cent against the customer."""
    half = max(model_value * OPTION_HALF_SPREAD, CENT)
    if buy:
        return (model_value + half).quantize(CENT, rounding=ROUND_CEILING)
    return max((model_value - half).quantize(CENT, rounding=ROUND_FLOOR), Decimal(0))


def customer_rate(mid: Decimal) -> Decimal:
    """The rate a customer converts at: the mid rate less the bank's margin, to six places,
    rounded down."""
    return (mid * (1 - FX_MARGIN)).quantize(PRICE_PLACES, rounding=ROUND_DOWN)
