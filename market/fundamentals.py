"""What a quote page shows beside the price: the day's volume, market capitalisation, P/E and
dividend yield, deterministic for each instrument and day.

Shares outstanding (or coins in circulation), trailing earnings per share and the typical
daily volume are fixed per instrument, of the order of the real instruments' figures. The
day's volume is that typical volume scaled by the size of the day's move against the
instrument's usual move (traders trade more on days that move), times a log-normal draw
seeded by the symbol and the day. A figure that means nothing for an instrument is None:
no P/E for an ETF, a coin, a bond or gold; no market capitalisation for an ETF, a bond or
a futures contract; no exchange volume for a bond (they trade over the counter).
"""

import math
import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from core.money import to_cents
from market.calendars import TRADING_DAYS_PER_YEAR
from market.model import SPECS, payouts


@dataclass(frozen=True)
class Fundamentals:
    typical_volume: int | None
    """Units traded on an ordinary day: shares, coins or futures contracts."""
    units_outstanding: int | None = None
    """Shares outstanding, or coins in circulation: what market capitalisation counts."""
    earnings_per_share: Decimal | None = None
    """Trailing twelve months, in the instrument's currency."""


FUNDAMENTALS: dict[str, Fundamentals] = {
    "AAPL": Fundamentals(55_000_000, 15_120_000_000, Decimal("6.57")),
    "MSFT": Fundamentals(21_000_000, 7_433_000_000, Decimal("12.41")),
    "GOOGL": Fundamentals(27_000_000, 12_200_000_000, Decimal("8.04")),
    "AMZN": Fundamentals(41_000_000, 10_560_000_000, Decimal("5.53")),
    "TSLA": Fundamentals(96_000_000, 3_220_000_000, Decimal("2.04")),
    "NVDA": Fundamentals(240_000_000, 24_400_000_000, Decimal("2.94")),
    "JNJ": Fundamentals(7_200_000, 2_407_000_000, Decimal("6.95")),
    "SAP": Fundamentals(1_400_000, 1_167_000_000, Decimal("5.06")),
    "SPY": Fundamentals(68_000_000),
    "QQQ": Fundamentals(38_000_000),
    "VTI": Fundamentals(3_600_000),
    "BTC": Fundamentals(31_000, 19_930_000),
    "ETH": Fundamentals(420_000, 120_600_000),
    "GC": Fundamentals(210_000),
}
"""By symbol; a symbol not here (the bonds) has no volume, capitalisation or earnings."""

PAYOUT_WINDOW = timedelta(days=365)
"""Dividend yield counts the dividends paid in the year up to the quote (trailing)."""


@dataclass(frozen=True)
class QuoteFigures:
    volume: int | None
    market_cap: Decimal | None
    pe_ratio: Decimal | None
    dividend_yield: Decimal | None
    """Percent of the price."""


def quote_figures(
    symbol: str, day: date, price: Decimal, previous_close: Decimal | None
) -> QuoteFigures:
    """The quote page's figures for ``symbol`` closing at ``price`` on ``day``."""
    facts = FUNDAMENTALS.get(symbol, Fundamentals(None))
    return QuoteFigures(
        volume=_volume(symbol, day, price, previous_close, facts.typical_volume),
        market_cap=(
            None if facts.units_outstanding is None else to_cents(price * facts.units_outstanding)
        ),
        pe_ratio=(
            None
            if facts.earnings_per_share is None
            else (price / facts.earnings_per_share).quantize(Decimal("0.01"))
        ),
        dividend_yield=_dividend_yield(symbol, day, price),
    )


def _volume(
    symbol: str, day: date, price: Decimal, previous: Decimal | None, typical: int | None
) -> int | None:
    spec = SPECS.get(symbol)
    if typical is None or spec is None:
        return None
    days_a_year = 365 if spec.calendar == "every_day" else TRADING_DAYS_PER_YEAR
    usual_move = spec.annual_volatility / math.sqrt(days_a_year)
    move = abs(float(price / previous) - 1) if previous else usual_move
    # The mean of |move| / usual_move is about 0.8 for normal moves: the factor averages 1.
    activity = 0.5 + 0.625 * move / usual_move
    draw = random.Random(f"volume:{symbol}:{day.isoformat()}").gauss(0.0, 0.25)
    return max(1, round(typical * activity * math.exp(draw - 0.25**2 / 2)))


def _dividend_yield(symbol: str, day: date, price: Decimal) -> Decimal | None:
    spec = SPECS.get(symbol)
    if spec is None or spec.asset_type.value not in ("stock", "etf") or not price:
        return None
    paid = sum(
        (
            p.per_unit
            for p in payouts()
            if p.symbol == symbol
            and p.kind == "dividend"
            and day - PAYOUT_WINDOW < p.ex_date <= day
        ),
        Decimal(0),
    )
    return (paid * 100 / price).quantize(Decimal("0.01"))
