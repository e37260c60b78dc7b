"""The answers of ``/api/*``: the shapes the OpenBanking MCP server written alongside the
original bank reads, by its field names. Each is built from the same services as the rest of
the API; only the names and the arrangement are the original's."""

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from core.money import Decimal8, Money
from schemas.common import OID_DESCRIPTION


class ApiAccount(BaseModel):
    account_id: int = Field(description="The account's id (the sections' id).")
    account_type: str = Field(description="checking, savings, brokerage or crypto.")
    account_name: str = Field(
        description="Institution, type and the account number's last four digits."
    )
    balance: Money = Field(description="Current balance in the account's currency.")
    currency: str = Field(description="ISO 4217 currency of the balance.")
    status: Literal["active"] = Field(description="Every account the bank shows is active.")


class ApiAccounts(BaseModel):
    customer_oid: str = Field(description=OID_DESCRIPTION)
    accounts: list[ApiAccount]
    total_assets: Money = Field(
        description="The balances of every account converted into base_currency and added "
        "up (the accounts section's total_cash_balance); holdings are not included."
    )
    base_currency: str = Field(description="Currency of total_assets.")


class ApiTransaction(BaseModel):
    transaction_id: int
    date: dt.date = Field(description="Booking day.")
    type: str = Field(description="deposit, withdrawal, buy, sell, dividend, interest, fee, ...")
    symbol: str | None = Field(description="Instrument traded, for buy and sell.")
    quantity: Decimal8 | None = Field(description="Units traded, for buy and sell.")
    price: Decimal8 | None = Field(description="Price per unit, for buy and sell.")
    amount: Money = Field(description="Signed, in the account's currency: negative is out.")
    fees: Money = Field(
        description="Always 0: the bank books every fee and commission as a transaction of "
        "its own, of type fee, which this list shows."
    )
    account_id: int | None


class ApiPagination(BaseModel):
    current_page: int = Field(description="This page's number, from 1.")
    per_page: int = Field(description="Transactions per page.")
    total_transactions: int = Field(description="How many the customer has, on all pages.")
    total_pages: int = Field(description="How many pages of per_page there are.")


class ApiTransactions(BaseModel):
    customer_oid: str = Field(description=OID_DESCRIPTION)
    transactions: list[ApiTransaction] = Field(description="This page, newest first.")
    pagination: ApiPagination


class ApiHolding(BaseModel):
    symbol: str
    name: str
    currency: str = Field(description="Currency of current_price and avg_cost.")
    quantity: Decimal8
    current_price: Decimal8 = Field(description="Latest close, in currency.")
    market_value: Money = Field(description="quantity x current_price, in base_currency.")
    percentage: Decimal8 = Field(
        description="Share of total_value; the holdings and the cash add up to 100."
    )
    avg_cost: Decimal8 | None = Field(
        description="Average cost per unit (average-cost method), in currency; null without trades."
    )
    unrealized_gain_loss: Money | None = Field(
        description="market_value less what the units held cost, in base_currency."
    )


class ApiAllocation(BaseModel):
    """Percentages of total_value that add up to 100."""

    stocks: Decimal8 = Field(description="Stocks and equity ETFs.")
    bonds: Decimal8 = Field(description="Government and corporate bonds.")
    cash: Decimal8 = Field(description="Every account's balance.")
    other: Decimal8 = Field(description="Crypto and commodities.")


class ApiPerformance(BaseModel):
    """Today's holdings valued at an earlier close (the summary's 1d, mtd and ytd periods):
    what the positions held now gained, not the customer's own return."""

    today_change: Money = Field(description="Since the previous day's close, base_currency.")
    today_change_percent: Decimal8 | None
    mtd_change: Money = Field(description="Since the last month's end, base_currency.")
    mtd_change_percent: Decimal8 | None
    ytd_change: Money = Field(description="Since the last year's end, base_currency.")
    ytd_change_percent: Decimal8 | None


class ApiPortfolio(BaseModel):
    customer_oid: str = Field(description=OID_DESCRIPTION)
    total_value: Money = Field(description="Cash and holdings (net worth), base_currency.")
    cash_balance: Money = Field(description="Every account's balance, base_currency.")
    holdings: list[ApiHolding] = Field(description="Largest first.")
    allocation: ApiAllocation
    performance: ApiPerformance
    base_currency: str
    as_of: dt.date = Field(description="The last market date; every figure is as of this day.")


class ApiQuote(BaseModel):
    symbol: str
    price: Decimal8 = Field(description="Latest close, in the instrument's currency.")
    change: Decimal8 | None = Field(description="Against the previous close.")
    change_percent: Decimal8 | None
    volume: int | None = Field(description="Units traded that day; null for bonds.")
    market_cap: Money | None = Field(description="Null for ETFs, bonds and futures.")
    pe_ratio: Decimal8 | None = Field(description="Stocks only.")
    dividend_yield: Decimal8 | None = Field(description="Percent, trailing year; stocks, ETFs.")


class ApiIndex(BaseModel):
    price: Decimal8
    change: Decimal8 | None
    change_percent: Decimal8 | None


class ApiMarketData(BaseModel):
    timestamp: dt.datetime = Field(
        description="The close the prices are from: 4 p.m. New York time on the last market "
        "date, in UTC."
    )
    market_data: list[ApiQuote] = Field(description="The symbols asked for, in that order.")
    market_indices: dict[str, ApiIndex] = Field(
        description="The index ETFs the bank lists (SPY, QQQ, VTI) with their day's change."
    )
    not_found: list[str] = Field(
        description="Symbols asked for that the bank does not know: listed here, not an error, "
        "so that the others still answer."
    )


class ApiRiskProfile(BaseModel):
    risk_score: Decimal8 = Field(description="0 to 10 (the risk section's risk_score).")
    risk_category: str = Field(
        description="none, conservative, moderate, aggressive or speculative."
    )
    volatility: Decimal8 | None = Field(
        description="Annualised volatility of the book's daily returns, as a fraction (0.18 = 18%)."
    )
    beta: Decimal8 | None = Field(description="Against SPY, in the base currency.")
    sharpe_ratio: Decimal8 | None = Field(description="Against a 4% risk-free rate.")
    max_drawdown: Decimal8 | None = Field(
        description="The largest fall from a peak over the last 252 trading days, as a "
        "negative fraction (-0.12 = a 12% fall)."
    )


class ApiVarAnalysis(BaseModel):
    """Historical simulation of today's book over the last 252 trading days; 10 days is the
    1-day figure times sqrt(10). Losses are negative amounts in base_currency."""

    model_config = ConfigDict(serialize_by_alias=True, validate_by_name=True)

    one_day_var_95: Money = Field(serialization_alias="1_day_var_95")
    one_day_var_99: Money = Field(serialization_alias="1_day_var_99")
    ten_day_var_95: Money = Field(serialization_alias="10_day_var_95")
    ten_day_var_99: Money = Field(serialization_alias="10_day_var_99")


class ApiDiversification(BaseModel):
    sector_concentration: Decimal8 | None = Field(
        description="Herfindahl index by sector, ETFs looked through, 0 to 1 (1: one sector)."
    )
    geographic_concentration: Decimal8 | None = Field(
        description="Herfindahl index by country of domicile, 0 to 1."
    )
    correlation_risk: Decimal8 | None = Field(
        description="Weighted average pairwise correlation of the holdings' daily returns, "
        "-1 to 1 (in practice 0 to 1)."
    )


class ApiRisk(BaseModel):
    customer_oid: str = Field(description=OID_DESCRIPTION)
    risk_profile: ApiRiskProfile
    var_analysis: ApiVarAnalysis
    stress_tests: dict[str, Money] = Field(
        description="Each scenario's profit or loss on today's book, base_currency (see the "
        "risk section for the shocks and each holding's share)."
    )
    diversification: ApiDiversification
    base_currency: str
    as_of: dt.date = Field(description="The last market date; every figure is as of this day.")
    reason: str | None = Field(description="Why the statistics are null, when they are.")


class ApiProfile(BaseModel):
    """Who the customer is: what it declared, and its income and net worth from the books."""

    name: str = Field(description="Full name or company name.")
    email: str | None = Field(description="Contact address; null when not given.")
    phone: str | None = Field(description="E.164 phone number; null when not given.")
    date_of_birth: dt.date | None = Field(
        description="A person's date of birth; null for a company or when not given."
    )
    risk_tolerance: str | None = Field(
        description="conservative, moderate or aggressive (declared, else derived from the "
        "holdings); null when there is nothing to go on."
    )
    investment_experience: str | None = Field(
        description="none, beginner, intermediate or advanced (declared, else derived from "
        "the trades)."
    )
    annual_income: Money = Field(
        description="Pay, pension or business revenue booked over the twelve months to the "
        "market's last day (credits of category income), in base currency (USD unless asked)."
    )
    net_worth: Money = Field(description="Cash and holdings at market value: the summary's.")
    investment_goals: list[str] = Field(description="Most important first; empty when none.")
    time_horizon: str | None = Field(
        description="short (under 3 years), medium (3 to 10) or long (over 10); null when not "
        "given."
    )


class ApiPreferences(BaseModel):
    communication_method: str | None = Field(
        description="email, phone, sms or mail (post); null when not given."
    )
    portfolio_style: str | None = Field(
        description="preservation, income, balanced or growth; null when not given."
    )
    esg_investing: bool = Field(
        description="Whether the customer asked for ESG investing; false when it did not say."
    )


class ApiCustomer(BaseModel):
    customer_oid: str = Field(description=OID_DESCRIPTION)
    profile: ApiProfile
    preferences: ApiPreferences
