"""Who the synthetic customers are: personas that set income, spending, savings and investing.

Amounts are in whole units of the customer's currency per month; the
generator draws each customer's figures from these ranges.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field

RETAIL_MIX = {
    "groceries": 18, "dining": 12, "coffee": 8, "transport": 7, "fuel": 6, "shopping": 10,
    "clothing": 4, "electronics": 1.5, "home": 2, "entertainment": 4, "travel": 1.5,
    "healthcare": 3, "personal_care": 2.5, "fitness": 1, "pets": 1.5, "education": 0.5,
}  # fmt: skip
BUSINESS_MIX = {
    "office": 20, "software": 12, "marketing": 8, "shipping": 10, "travel": 8, "dining": 14,
    "fuel": 6, "electronics": 4, "coffee": 6,
}  # fmt: skip


@dataclass(frozen=True)
class Persona:
    name: str
    share: float
    income: tuple[int, int]
    """Monthly income (revenue for a business), whole units."""
    pay: tuple[str, ...]
    """Pay frequencies to choose from: monthly, semimonthly, biweekly, or receipts."""
    card_per_month: tuple[int, int]
    card_share: float
    """Share of income spent by card."""
    housing: str | None
    housing_share: tuple[float, float] = (0.0, 0.0)
    buffer_months: tuple[float, float] = (1.0, 3.0)
    """Checking balance at the start of the history, in months of income."""
    savings: float = 0.5
    """Probability of a savings account."""
    savings_months: tuple[float, float] = (1.0, 6.0)
    save_share: float = 0.05
    invest: float = 0.4
    holdings: tuple[int, int] = (1, 3)
    portfolio_months: tuple[int, int] = (3, 18)
    """What is invested, in months of income."""
    universe: tuple[str, ...] = ("SPY", "VTI", "QQQ", "AAPL", "MSFT", "AMZN", "GOOGL", "NVDA")
    crypto: float = 0.15
    derivatives: float = 0.0
    mix: Mapping[str, float] = field(default_factory=lambda: RETAIL_MIX)
    subscriptions: tuple[int, int] = (1, 4)
    atm: tuple[int, int] = (0, 3)
    taxes: float = 0.0
    """Quarterly estimated tax, as a share of income."""
    business: bool = False


BONDS = ("US10Y", "US5Y", "CB-JNJ-2033", "CB-VZ-2032", "CB-AAPL-2031")

PERSONAS: tuple[Persona, ...] = (
    Persona("student", 0.11, (700, 1800), ("biweekly",), (20, 45), 0.5, "rent", (0.25, 0.4),
            (0.3, 1.5), savings=0.25, savings_months=(0.2, 1.0), save_share=0.02, invest=0.1,
            holdings=(1, 1), portfolio_months=(1, 3), universe=("SPY", "VTI", "QQQ"),
            crypto=0.2, mix={**RETAIL_MIX, "coffee": 14, "dining": 16, "education": 3,
                             "fuel": 2, "home": 0.5, "pets": 0.3},
            subscriptions=(2, 4), atm=(0, 3)),
    Persona("young_professional", 0.28, (3500, 8000), ("semimonthly", "biweekly", "monthly"),
            (35, 80), 0.58, "rent", (0.22, 0.32), (0.8, 3.0), savings=0.55, save_share=0.06,
            invest=0.5, holdings=(1, 4), crypto=0.25, derivatives=0.04,
            mix={**RETAIL_MIX, "dining": 16, "travel": 2.5, "fitness": 2},
            subscriptions=(2, 6), atm=(0, 2)),
    Persona("family", 0.22, (5000, 12000), ("biweekly", "semimonthly"), (45, 80), 0.6,
            "mortgage", (0.18, 0.28), (0.8, 3.0), savings=0.75, savings_months=(1.0, 8.0),
            save_share=0.05, invest=0.45, holdings=(1, 4), crypto=0.08,
            mix={**RETAIL_MIX, "groceries": 26, "home": 4, "pets": 3, "clothing": 6,
                 "education": 1.5, "coffee": 4},
            subscriptions=(2, 5), atm=(0, 2)),
    Persona("retiree", 0.13, (2400, 6500), ("monthly",), (20, 45), 0.7, None, (0.0, 0.0),
            (3.0, 12.0), savings=0.85, savings_months=(6.0, 36.0), save_share=0.0,
            invest=0.6, holdings=(2, 5),
            universe=("SPY", "VTI", "JNJ", "MSFT", "US10Y", "US5Y", "CB-JNJ-2033", "CB-VZ-2032"),
            portfolio_months=(12, 60), crypto=0.02,
            mix={**RETAIL_MIX, "healthcare": 9, "coffee": 3, "fuel": 4, "groceries": 22,
                 "electronics": 0.5},
            subscriptions=(1, 3), atm=(1, 4)),
    Persona("high_net_worth", 0.07, (16000, 60000), ("semimonthly", "monthly"), (40, 80), 0.45,
            "mortgage", (0.1, 0.18), (2.0, 6.0), savings=0.9, savings_months=(3.0, 18.0),
            save_share=0.1, invest=0.98, holdings=(4, 8), portfolio_months=(24, 96),
            universe=("SPY", "VTI", "QQQ", "AAPL", "MSFT", "AMZN", "GOOGL", "NVDA", "TSLA",
                      "JNJ", *BONDS),
            crypto=0.35, derivatives=0.4,
            mix={**RETAIL_MIX, "dining": 18, "travel": 6, "clothing": 7, "personal_care": 4},
            subscriptions=(3, 7), atm=(0, 1), taxes=0.08),
    Persona("small_business", 0.10, (20000, 150000), ("receipts",), (20, 60), 0.3, "rent",
            (0.05, 0.1), (0.5, 2.0), savings=0.4, savings_months=(0.5, 3.0), save_share=0.03,
            invest=0.3, holdings=(1, 3), portfolio_months=(2, 8),
            universe=("US10Y", "US5Y", "SPY", "CB-AAPL-2031"), crypto=0.03,
            mix=BUSINESS_MIX, subscriptions=(3, 8), atm=(0, 1), taxes=0.07, business=True),
    Persona("corporation", 0.05, (300000, 4000000), ("receipts",), (30, 70), 0.2, "rent",
            (0.03, 0.06), (0.5, 2.0), savings=0.0, save_share=0.0, invest=0.8,
            holdings=(2, 4), portfolio_months=(2, 10),
            universe=("US10Y", "US5Y", "CB-AAPL-2031", "CB-VZ-2032", "SPY", "QQQ", "MSFT",
                      "AAPL"),
            crypto=0.0, derivatives=0.1, mix=BUSINESS_MIX, subscriptions=(4, 10), atm=(0, 0),
            taxes=0.05, business=True),
    Persona("empty", 0.04, (0, 0), (), (0, 0), 0.0, None),
)  # fmt: skip
