"""The five sample customers of the contract: who they are and what their books hold.

Only data lives here: accounts with their opening balances, trades, option and
futures positions, typical monthly spending and housing, the few figures their
statements follow, and what each declared in its profile. ``seed.py`` turns them into rows.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from market.institutions import (
    CRYPTO_EXCHANGE,
    GLOBAL_BANK,
    IBAN_BANK_CODES,
    INVESTMENT_CORP,
    RHEINTAL_BANK,
    THAMESGATE_BANK,
)
from models import AccountType, DerivativeStatus, TransactionType

SAMPLE_BANK_CODES = {"DE": IBAN_BANK_CODES[RHEINTAL_BANK], "GB": IBAN_BANK_CODES[THAMESGATE_BANK]}
"""The samples' euro and sterling accounts are held at the German and the British bank."""


@dataclass(frozen=True)
class AccountSpec:
    key: str
    institution: str
    account_type: AccountType
    currency: str
    opening_balance: str
    opened_on: date
    iban_country: str | None = None


@dataclass(frozen=True)
class TradeSpec:
    account: str
    symbol: str
    side: TransactionType
    quantity: str
    on: date


@dataclass(frozen=True)
class DerivativeSpec:
    account: str
    instrument_type: str
    underlying: str
    side: str
    contracts: int
    multiplier: int
    trade_date: date
    expiry_date: date
    status: DerivativeStatus
    option_type: str | None = None
    strategy: str | None = None
    strike: str | None = None
    premium: str | None = None
    closed_on: date | None = None


@dataclass(frozen=True)
class SampleProfile:
    """What the sample declared (the ``customer_profiles`` row); contact details are fake:
    reserved example domains and the fictional 555-01XX phone range."""

    kind: str
    email: str
    phone: str
    risk_tolerance: str
    investment_experience: str
    investment_goals: tuple[str, ...]
    time_horizon: str
    communication_method: str
    portfolio_style: str
    esg_investing: bool
    date_of_birth: date | None = None
    founded_on: date | None = None


@dataclass(frozen=True)
class SampleCustomer:
    customer_oid: str
    name: str
    income_account: str
    monthly_income: str
    income_description: str
    spending_account: str
    monthly_spending: dict[str, str]
    """Typical spending per category and month; each month varies around it."""
    accounts: tuple[AccountSpec, ...]
    trades: tuple[TradeSpec, ...]
    profile: SampleProfile
    derivatives: tuple[DerivativeSpec, ...] = ()


BUY, SELL = TransactionType.buy, TransactionType.sell
CHECKING, SAVINGS = AccountType.checking, AccountType.savings
BROKERAGE, CRYPTO = AccountType.brokerage, AccountType.crypto

SAMPLE_CUSTOMERS: tuple[SampleCustomer, ...] = (
    SampleCustomer(
        customer_oid="550e8400-e29b-41d4-a716-446655440001",
        name="John Doe",
        income_account="checking",
        monthly_income="8500.00",
        income_description="Salary - Acme Engineering Inc.",
        spending_account="checking",
        monthly_spending={
            "groceries": "620.00",
            "dining": "310.00",
            "transport": "180.00",
            "utilities": "240.00",
            "entertainment": "150.00",
        },
        accounts=(
            AccountSpec("checking", GLOBAL_BANK, CHECKING, "USD", "12000.00", date(2019, 3, 4)),
            AccountSpec(
                "eur",
                RHEINTAL_BANK,
                SAVINGS,
                "EUR",
                "15000.00",
                date(2021, 6, 1),
                iban_country="DE",
            ),
            AccountSpec(
                "brokerage", INVESTMENT_CORP, BROKERAGE, "USD", "90000.00", date(2020, 1, 15)
            ),
            AccountSpec("crypto", CRYPTO_EXCHANGE, CRYPTO, "USD", "60000.00", date(2022, 5, 9)),
            AccountSpec(
                "eur_brokerage", INVESTMENT_CORP, BROKERAGE, "EUR", "8000.00", date(2025, 9, 1)
            ),
        ),
        trades=(
            TradeSpec("brokerage", "AAPL", BUY, "60", date(2024, 11, 4)),
            TradeSpec("brokerage", "AAPL", BUY, "60", date(2025, 4, 7)),
            TradeSpec("brokerage", "AAPL", SELL, "20", date(2026, 2, 17)),
            TradeSpec("brokerage", "GOOGL", BUY, "50", date(2025, 1, 13)),
            TradeSpec("brokerage", "US5Y", BUY, "150", date(2024, 12, 2)),
            TradeSpec("brokerage", "SPY", BUY, "40", date(2025, 3, 10)),
            TradeSpec("brokerage", "SPY", BUY, "15", date(2026, 1, 5)),
            TradeSpec("eur_brokerage", "SAP", BUY, "25", date(2025, 9, 15)),
            TradeSpec("crypto", "BTC", BUY, "0.15", date(2025, 2, 3)),
            TradeSpec("crypto", "BTC", BUY, "0.1", date(2026, 3, 2)),
        ),
        profile=SampleProfile(
            kind="person",
            date_of_birth=date(1984, 6, 12),
            email="john.doe@example.com",
            phone="+12125550101",
            risk_tolerance="moderate",
            investment_experience="advanced",
            investment_goals=("retirement", "children_education", "wealth_growth"),
            time_horizon="long",
            communication_method="email",
            portfolio_style="balanced",
            esg_investing=False,
        ),
        derivatives=(
            DerivativeSpec(
                "brokerage",
                "option",
                "AAPL",
                "short",
                1,
                100,
                date(2026, 8, 17),
                date(2026, 10, 16),
                DerivativeStatus.open,
                option_type="call",
                strategy="covered_call",
                strike="240.00",
                premium="4.35",
            ),
            DerivativeSpec(
                "brokerage",
                "option",
                "SPY",
                "short",
                1,
                100,
                date(2026, 6, 22),
                date(2026, 8, 21),
                DerivativeStatus.expired,
                option_type="put",
                strategy="cash_secured_put",
                strike="540.00",
                premium="6.10",
                closed_on=date(2026, 8, 21),
            ),
        ),
    ),
    SampleCustomer(
        customer_oid="550e8400-e29b-41d4-a716-446655440002",
        name="Jane Smith",
        income_account="checking",
        monthly_income="11200.00",
        income_description="Salary - Northwind Capital LLC",
        spending_account="checking",
        monthly_spending={
            "dining": "720.00",
            "travel": "900.00",
            "shopping": "640.00",
            "groceries": "480.00",
            "transport": "260.00",
        },
        accounts=(
            AccountSpec("checking", GLOBAL_BANK, CHECKING, "USD", "9000.00", date(2018, 9, 10)),
            AccountSpec(
                "brokerage", INVESTMENT_CORP, BROKERAGE, "USD", "120000.00", date(2019, 2, 1)
            ),
            AccountSpec("crypto", CRYPTO_EXCHANGE, CRYPTO, "USD", "140000.00", date(2021, 1, 20)),
        ),
        trades=(
            TradeSpec("brokerage", "TSLA", BUY, "80", date(2024, 10, 14)),
            TradeSpec("brokerage", "TSLA", SELL, "30", date(2025, 12, 8)),
            TradeSpec("brokerage", "NVDA", BUY, "200", date(2024, 10, 21)),
            TradeSpec("brokerage", "NVDA", BUY, "100", date(2025, 7, 14)),
            TradeSpec("brokerage", "MSFT", BUY, "40", date(2025, 5, 5)),
            TradeSpec("crypto", "BTC", BUY, "0.4", date(2024, 11, 18)),
            TradeSpec("crypto", "ETH", BUY, "6", date(2025, 1, 6)),
            TradeSpec("crypto", "ETH", SELL, "2", date(2026, 5, 11)),
        ),
        profile=SampleProfile(
            kind="person",
            date_of_birth=date(1991, 3, 8),
            email="jane.smith@example.org",
            phone="+12125550142",
            risk_tolerance="aggressive",
            investment_experience="advanced",
            investment_goals=("wealth_growth", "early_retirement"),
            time_horizon="long",
            communication_method="sms",
            portfolio_style="growth",
            esg_investing=False,
        ),
        derivatives=(
            DerivativeSpec(
                "brokerage",
                "option",
                "NVDA",
                "long",
                5,
                100,
                date(2026, 7, 20),
                date(2026, 12, 18),
                DerivativeStatus.open,
                option_type="call",
                strategy="long_call",
                strike="140.00",
                premium="9.80",
            ),
            DerivativeSpec(
                "brokerage",
                "future",
                "GC",
                "long",
                1,
                100,
                date(2026, 8, 3),
                date(2026, 12, 29),
                DerivativeStatus.open,
                strategy="long_future",
            ),
            DerivativeSpec(
                "brokerage",
                "option",
                "TSLA",
                "long",
                2,
                100,
                date(2026, 1, 12),
                date(2026, 3, 20),
                DerivativeStatus.closed,
                option_type="put",
                strategy="long_put",
                strike="230.00",
                premium="12.40",
                closed_on=date(2026, 3, 2),
            ),
        ),
    ),
    SampleCustomer(
        customer_oid="550e8400-e29b-41d4-a716-446655440003",
        name="Robert Johnson",
        income_account="checking",
        monthly_income="6400.00",
        income_description="Pension - State Teachers Retirement",
        spending_account="checking",
        monthly_spending={
            "groceries": "540.00",
            "healthcare": "420.00",
            "utilities": "310.00",
            "insurance": "280.00",
        },
        accounts=(
            AccountSpec("checking", GLOBAL_BANK, CHECKING, "USD", "18000.00", date(2009, 5, 12)),
            AccountSpec("savings", GLOBAL_BANK, SAVINGS, "USD", "85000.00", date(2011, 8, 30)),
            AccountSpec(
                "brokerage", INVESTMENT_CORP, BROKERAGE, "USD", "160000.00", date(2012, 4, 2)
            ),
        ),
        trades=(
            TradeSpec("brokerage", "US10Y", BUY, "400", date(2024, 10, 7)),
            TradeSpec("brokerage", "US10Y", BUY, "200", date(2025, 10, 6)),
            TradeSpec("brokerage", "CB-JNJ-2033", BUY, "250", date(2024, 11, 11)),
            TradeSpec("brokerage", "CB-VZ-2032", BUY, "200", date(2025, 2, 10)),
            TradeSpec("brokerage", "SPY", BUY, "60", date(2024, 12, 16)),
            TradeSpec("brokerage", "JNJ", BUY, "120", date(2025, 3, 3)),
            TradeSpec("brokerage", "JNJ", SELL, "20", date(2026, 6, 1)),
        ),
        profile=SampleProfile(
            kind="person",
            date_of_birth=date(1957, 11, 23),
            email="robert.johnson@example.net",
            phone="+17185550163",
            risk_tolerance="conservative",
            investment_experience="intermediate",
            investment_goals=("retirement_income", "capital_preservation", "estate_planning"),
            time_horizon="short",
            communication_method="mail",
            portfolio_style="income",
            esg_investing=True,
        ),
    ),
    SampleCustomer(
        customer_oid="550e8400-e29b-41d4-a716-446655440004",
        name="ABC Corporation",
        income_account="operating",
        monthly_income="185000.00",
        income_description="Customer receipts - consolidated",
        spending_account="operating",
        monthly_spending={
            "office": "14500.00",
            "utilities": "6200.00",
            "marketing": "38000.00",
            "software": "12500.00",
            "travel": "9800.00",
        },
        accounts=(
            AccountSpec("operating", GLOBAL_BANK, CHECKING, "USD", "450000.00", date(2015, 2, 2)),
            AccountSpec(
                "gbp",
                THAMESGATE_BANK,
                CHECKING,
                "GBP",
                "120000.00",
                date(2020, 10, 1),
                iban_country="GB",
            ),
            AccountSpec(
                "treasury", INVESTMENT_CORP, BROKERAGE, "USD", "2500000.00", date(2016, 7, 1)
            ),
        ),
        trades=(
            TradeSpec("treasury", "AAPL", BUY, "1500", date(2024, 10, 1)),
            TradeSpec("treasury", "MSFT", BUY, "900", date(2024, 10, 1)),
            TradeSpec("treasury", "MSFT", SELL, "200", date(2026, 4, 13)),
            TradeSpec("treasury", "CB-AAPL-2031", BUY, "5000", date(2025, 1, 21)),
            TradeSpec("treasury", "QQQ", BUY, "800", date(2025, 6, 2)),
        ),
        profile=SampleProfile(
            kind="company",
            founded_on=date(2014, 11, 3),
            email="treasury.abc.corporation@example.com",
            phone="+12125550187",
            risk_tolerance="moderate",
            investment_experience="advanced",
            investment_goals=("cash_management", "capital_preservation", "business_expansion"),
            time_horizon="medium",
            communication_method="email",
            portfolio_style="balanced",
            esg_investing=True,
        ),
        derivatives=(
            DerivativeSpec(
                "treasury",
                "option",
                "QQQ",
                "long",
                8,
                100,
                date(2026, 7, 1),
                date(2026, 10, 16),
                DerivativeStatus.open,
                option_type="put",
                strategy="protective_put",
                strike="460.00",
                premium="8.25",
            ),
        ),
    ),
    SampleCustomer(
        customer_oid="550e8400-e29b-41d4-a716-446655440005",
        name="Michael Chen",
        income_account="checking",
        monthly_income="15800.00",
        income_description="Salary - Chen & Partners Advisory",
        spending_account="checking",
        monthly_spending={
            "dining": "950.00",
            "travel": "1400.00",
            "shopping": "880.00",
            "groceries": "560.00",
            "entertainment": "300.00",
        },
        accounts=(
            AccountSpec("checking", GLOBAL_BANK, CHECKING, "USD", "30000.00", date(2016, 11, 7)),
            AccountSpec(
                "brokerage", INVESTMENT_CORP, BROKERAGE, "USD", "150000.00", date(2017, 3, 15)
            ),
            AccountSpec("crypto", CRYPTO_EXCHANGE, CRYPTO, "USD", "60000.00", date(2020, 12, 1)),
        ),
        trades=(
            TradeSpec("brokerage", "AMZN", BUY, "150", date(2024, 10, 28)),
            TradeSpec("brokerage", "AMZN", BUY, "50", date(2025, 8, 4)),
            TradeSpec("brokerage", "VTI", BUY, "250", date(2025, 1, 27)),
            TradeSpec("crypto", "ETH", BUY, "12", date(2024, 12, 9)),
            TradeSpec("crypto", "ETH", SELL, "4.5", date(2026, 7, 6)),
        ),
        profile=SampleProfile(
            kind="person",
            date_of_birth=date(1979, 9, 2),
            email="michael.chen@example.com",
            phone="+12125550119",
            risk_tolerance="moderate",
            investment_experience="intermediate",
            investment_goals=("wealth_growth", "estate_planning"),
            time_horizon="long",
            communication_method="phone",
            portfolio_style="growth",
            esg_investing=True,
        ),
    ),
)

INCOME_MONTHS = 12
"""Months of pay, housing, savings, interest and payouts in each sample's statements."""
SPENDING_MONTHS = 6
"""Months of card spending."""
SAVINGS_RATE = Decimal("0.035")
"""What a sample's savings account earns a year, paid monthly."""
BILLED_MONTHLY = ("insurance",)
"""Spending categories paid as one bill a month, to one payee."""
SAMPLE_HOUSING: dict[str, tuple[str, str, str]] = {
    "550e8400-e29b-41d4-a716-446655440001": ("mortgage", "Keystone Home Loans", "2450.00"),
    "550e8400-e29b-41d4-a716-446655440002": ("rent", "Hudson Yards Property Management", "3200.00"),
    "550e8400-e29b-41d4-a716-446655440004": (
        "rent",
        "Midtown Office Property Management",
        "18500.00",
    ),
    "550e8400-e29b-41d4-a716-446655440005": ("rent", "Tribeca Property Management", "4100.00"),
}
"""Each sample's monthly housing payment: category, payee, amount (Robert owns his home)."""
