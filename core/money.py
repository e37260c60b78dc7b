"""Exact amounts: stored as scaled integers, computed as ``Decimal``, sent as JSON numbers.

Floats never hold money here. The database keeps every amount, price and
quantity as an integer count of its smallest unit (hundredths for money), so
sums in SQL and in Python are exact on SQLite and PostgreSQL alike. On the way
out an amount is rounded to the cent and written as the shortest JSON number
that reads back as that decimal: ``0.1 + 0.2`` is sent as ``0.3``.
"""

from decimal import ROUND_HALF_EVEN, Decimal
from typing import Annotated, Any

from pydantic import PlainSerializer
from sqlalchemy import BigInteger
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

CENT = Decimal("0.01")
BASE_CURRENCY = "USD"
CURRENCIES = ("USD", "EUR", "GBP")
"""Every currency the bank quotes and converts to; US dollars are the default base."""
MONEY_SCALE = 2
PRICE_SCALE = 6
QUANTITY_SCALE = 8


def to_cents(value: Decimal) -> Decimal:
    """Round half to even to the cent, the way banks round interest."""
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN)


class ScaledDecimal(TypeDecorator[Decimal]):
    """A ``Decimal`` column stored as a 64-bit integer of ``10**-scale`` units.

    Binding a value with more decimal places than the column keeps raises
    instead of rounding silently: data never changes on its way into the bank.
    """

    impl = BigInteger
    cache_ok = True

    def __init__(self, scale: int) -> None:
        super().__init__()
        self.scale = scale

    def process_bind_param(self, value: Any, dialect: Dialect) -> int | None:
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("floats are not accepted for exact decimal columns")
        scaled = Decimal(value).scaleb(self.scale)
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{value} has more than {self.scale} decimal places")
        return int(scaled)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(int(value)).scaleb(-self.scale)


def _money_json(value: Decimal) -> float:
    # float() of a decimal with two places prints back as those same digits.
    return float(to_cents(value))


def _decimal_json(value: Decimal) -> float:
    return float(value.normalize())


Money = Annotated[Decimal, PlainSerializer(_money_json, return_type=float, when_used="json")]
"""An amount of money: exact in Python, a JSON number rounded to the cent."""

Decimal8 = Annotated[Decimal, PlainSerializer(_decimal_json, return_type=float, when_used="json")]
"""A quantity, price or rate with up to eight places, sent as a JSON number."""
