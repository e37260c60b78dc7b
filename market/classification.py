"""Where each instrument's money is: its sectors and its countries, for concentration figures.

A stock belongs to its issuer's GICS sector and country of domicile. An ETF is looked
through to what it holds, in round figures of the real funds' published breakdowns
(SPY and VTI hold the US market, QQQ the Nasdaq-100). A Treasury is "Government"; a
corporate bond takes its issuer's sector. Coins and gold belong to no sector and no
country: they are counted under a bucket of their own, so that a book of nothing but
Bitcoin is as concentrated as a book of nothing but Apple.

Each breakdown adds up to exactly 1.
"""

from decimal import Decimal

Breakdown = tuple[tuple[str, Decimal], ...]

IT, COMM, DISC, STAPLES = (
    "Information Technology",
    "Communication Services",
    "Consumer Discretionary",
    "Consumer Staples",
)
HEALTH, FIN, INDUSTRIALS, ENERGY = "Health Care", "Financials", "Industrials", "Energy"
UTILITIES, REAL_ESTATE, MATERIALS = "Utilities", "Real Estate", "Materials"
GOVERNMENT, DIGITAL, COMMODITIES = "Government", "Digital Assets", "Commodities"
NO_COUNTRY = "none"
"""Coins and gold: held nowhere in particular."""


def _whole(name: str) -> Breakdown:
    return ((name, Decimal(1)),)


US_MARKET: Breakdown = (
    (IT, Decimal("0.31")), (FIN, Decimal("0.13")), (HEALTH, Decimal("0.10")),
    (DISC, Decimal("0.10")), (COMM, Decimal("0.09")), (INDUSTRIALS, Decimal("0.08")),
    (STAPLES, Decimal("0.06")), (ENERGY, Decimal("0.035")), (UTILITIES, Decimal("0.025")),
    (REAL_ESTATE, Decimal("0.02")), (MATERIALS, Decimal("0.02")),
)  # fmt: skip
NASDAQ_100: Breakdown = (
    (IT, Decimal("0.50")), (COMM, Decimal("0.16")), (DISC, Decimal("0.14")),
    (HEALTH, Decimal("0.06")), (STAPLES, Decimal("0.05")), (INDUSTRIALS, Decimal("0.05")),
    (UTILITIES, Decimal("0.01")), (MATERIALS, Decimal("0.01")), (FIN, Decimal("0.01")),
    (ENERGY, Decimal("0.01")),
)  # fmt: skip

SECTORS: dict[str, Breakdown] = {
    "AAPL": _whole(IT),
    "MSFT": _whole(IT),
    "GOOGL": _whole(COMM),
    "AMZN": _whole(DISC),
    "TSLA": _whole(DISC),
    "NVDA": _whole(IT),
    "JNJ": _whole(HEALTH),
    "SAP": _whole(IT),
    "SPY": US_MARKET,
    "QQQ": NASDAQ_100,
    "VTI": US_MARKET,
    "US10Y": _whole(GOVERNMENT),
    "US5Y": _whole(GOVERNMENT),
    "CB-JNJ-2033": _whole(HEALTH),
    "CB-VZ-2032": _whole(COMM),
    "CB-AAPL-2031": _whole(IT),
    "BTC": _whole(DIGITAL),
    "ETH": _whole(DIGITAL),
    "GC": _whole(COMMODITIES),
}
"""GICS sectors (and three buckets of our own), by symbol."""

COUNTRIES: dict[str, Breakdown] = {
    symbol: _whole("US") for symbol in SECTORS if symbol not in {"SAP", "QQQ", "BTC", "ETH", "GC"}
} | {
    "SAP": _whole("DE"),
    # A few Nasdaq-100 members are domiciled abroad (ASML, AstraZeneca, Arm...).
    "QQQ": (("US", Decimal("0.96")), ("NL", Decimal("0.02")), ("GB", Decimal("0.02"))),
    "BTC": _whole(NO_COUNTRY),
    "ETH": _whole(NO_COUNTRY),
    "GC": _whole(NO_COUNTRY),
}
"""ISO 3166-1 alpha-2 country of domicile (``none`` for coins and gold), by symbol."""
