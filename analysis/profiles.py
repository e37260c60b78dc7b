"""What a customer's books say about it as an investor: its risk tolerance, its experience,
and how long its money may stay invested at its age.

One rule, used twice: the synthetic generator declares each customer's profile by it (so the
declared profile agrees with what the customer holds and trades), and the profile service
derives the two figures from the books for a customer who declared none. Plain values in,
plain words out; nothing here reads the database.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from models import InvestmentExperience, RiskTolerance, TimeHorizon

SPECULATIVE_TYPES = frozenset({"crypto", "commodity"})
SPECULATIVE_SHARE = Decimal("0.25")
"""Crypto and commodities above this share of what is invested make a portfolio aggressive."""
CONCENTRATED_SHARE = Decimal("0.40")
"""One single stock above this share of what is invested makes a portfolio aggressive."""
BOND_SHARE = Decimal("0.50")
"""Bonds at or above this share of what is invested make a portfolio conservative."""
ACTIVE_TRADES = 12
ACTIVE_SYMBOLS = 4
"""From this many trades, or this many instruments ever traded, an investor is intermediate."""


@dataclass(frozen=True)
class InvestingRecord:
    """What a customer holds and has done: market value per symbol (in one currency or
    near enough: the shares are what count), each symbol's asset type, the buys and sells
    booked, the instruments ever traded, and the option and futures positions opened."""

    values: Mapping[str, Decimal]
    asset_types: Mapping[str, str]
    trades: int
    symbols_traded: int
    derivatives: int


def risk_tolerance(record: InvestingRecord) -> RiskTolerance | None:
    """aggressive with any derivative position, crypto and commodities over 25% of what is
    invested, or one stock over 40%; conservative with bonds at 50% or more; moderate
    otherwise; None when nothing is invested and no derivative was ever opened."""
    invested = sum((v for v in record.values.values() if v > 0), Decimal(0))
    if record.derivatives:
        return RiskTolerance.aggressive
    if not invested:
        return None

    def share(kinds: frozenset[str]) -> Decimal:
        held = (v for s, v in record.values.items() if record.asset_types.get(s) in kinds)
        return sum(held, Decimal(0)) / invested

    stocks = [v for s, v in record.values.items() if record.asset_types.get(s) == "stock"]
    if share(SPECULATIVE_TYPES) > SPECULATIVE_SHARE or (
        stocks and max(stocks) / invested > CONCENTRATED_SHARE
    ):
        return RiskTolerance.aggressive
    if share(frozenset({"bond"})) >= BOND_SHARE:
        return RiskTolerance.conservative
    return RiskTolerance.moderate


def investment_experience(record: InvestingRecord) -> InvestmentExperience:
    """advanced with any derivative position; none without a trade; intermediate from 12
    trades or 4 instruments traded; beginner below."""
    if record.derivatives:
        return InvestmentExperience.advanced
    if not record.trades:
        return InvestmentExperience.none
    if record.trades >= ACTIVE_TRADES or record.symbols_traded >= ACTIVE_SYMBOLS:
        return InvestmentExperience.intermediate
    return InvestmentExperience.beginner


def age_on(born: date, day: date) -> int:
    """Whole years from ``born`` to ``day`` (a 29 February birthday counts on 1 March)."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def horizon_for_age(age: int) -> TimeHorizon:
    """long under 45 (more than 10 years before retirement), medium from 45 to 62, short from
    63 (the money is being drawn on)."""
    if age < 45:
        return TimeHorizon.long
    if age < 63:
        return TimeHorizon.medium
    return TimeHorizon.short
