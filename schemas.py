"""Request and response shapes of the REST API (and of the MCP tools that share them).

Field descriptions are written for whoever reads ``/openapi.json``: a person in
the Swagger UI or an agent deciding which field answers its question.
"""

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from identifiers import CUSTOMER_OID_EXAMPLE
from money import Decimal8, Money

OID_DESCRIPTION = "Customer identifier: a lowercase hyphenated UUID (or a legacy upper-case id)."


class ErrorResponse(BaseModel):
    detail: str = Field(description="What went wrong, in words a person or an agent can act on.")


class CustomerOut(BaseModel):
    customer_oid: str = Field(description=OID_DESCRIPTION, examples=[CUSTOMER_OID_EXAMPLE])
    name: str = Field(description="The customer's full name or company name.")


class RegisterCustomerRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"name": "New Customer"}]},
    )

    name: str = Field(
        description="Full name or company name: 2 to 100 characters after trimming.",
        max_length=10_000,
    )
    customer_oid: str | None = Field(
        default=None,
        description="Optional UUID for the new customer, in any common spelling; "
        "one is generated when it is absent.",
        max_length=100,
    )


class RegisterCustomerResponse(BaseModel):
    customer_oid: str = Field(description="The canonical id of the new customer.")
    name: str = Field(description="The name as stored (trimmed and NFC-normalised).")
    message: Literal["Customer registered successfully"]


class DeleteCustomerResponse(BaseModel):
    customer_oid: str = Field(description="The canonical id of the deleted customer.")
    message: Literal["Customer and all associated data deleted successfully"]


class CustomerExistsResponse(BaseModel):
    customer_oid: str = Field(description="The canonical form of the id that was asked about.")
    exists: bool = Field(description="Whether a customer with this id is registered.")
    name: str | None = Field(description="The customer's name, or null when it does not exist.")


class HealthResponse(BaseModel):
    status: Literal["healthy"]
    service: Literal["dummy-bank-api"]


class UserOut(BaseModel):
    name: str
    customer_oid: str


class InstitutionOut(BaseModel):
    id: int
    name: str = Field(description="Institution name, e.g. 'Global Bank'.")
    institution_type: str = Field(description="bank, broker or crypto_exchange.")
    country: str = Field(description="ISO 3166-1 alpha-2 country code.")
    routing_number: str | None = Field(description="US ABA routing number, where it has one.")
    bic: str | None = Field(description="SWIFT/BIC code, where it has one.")


class AssetOut(BaseModel):
    id: int
    customer_oid: str
    account_id: int | None = Field(description="The account that holds the position.")
    asset_type: str = Field(description="stock, etf, bond, crypto or commodity.")
    symbol: str = Field(description="Ticker of the instrument, e.g. AAPL, BTC, US10Y.")
    name: str = Field(description="Instrument name.")
    currency: str = Field(description="ISO 4217 currency of the price and of current_value.")
    quantity: Decimal8 = Field(description="Units held (shares, coins, bonds per 100 face).")
    current_price: Decimal8 = Field(description="Latest close of the instrument in the bank.")
    price_date: date = Field(description="Date of current_price.")
    current_value: Money = Field(description="quantity x current_price, rounded to the cent.")


class BankAccountOut(BaseModel):
    id: int
    customer_oid: str
    account_number: str
    iban: str | None = Field(description="IBAN for accounts that have one (mod-97 valid).")
    account_type: str = Field(description="checking, savings, brokerage or crypto.")
    balance: Money = Field(description="Current balance in the account's currency.")
    currency: str = Field(description="ISO 4217 currency code.")
    opened_on: date
    institution: InstitutionOut


class TransactionOut(BaseModel):
    id: int
    customer_oid: str
    account_id: int | None
    transaction_date: date
    transaction_type: str = Field(
        description="deposit, withdrawal, buy, sell, dividend, interest, fee, card_payment "
        "or transfer."
    )
    description: str
    category: str | None = Field(description="Spending or booking category, e.g. groceries.")
    amount: Money = Field(description="Signed amount: negative when money leaves the account.")
    currency: str
    symbol: str | None = Field(description="Instrument traded, for buy and sell.")
    quantity: Decimal8 | None = Field(description="Units traded, for buy and sell.")
    price: Decimal8 | None = Field(description="Price per unit, for buy and sell.")


class SpendingOut(BaseModel):
    id: int
    customer_oid: str
    month: str = Field(description="Calendar month, YYYY-MM.", examples=["2026-09"])
    category: str
    amount: Money = Field(description="Total spent in the category that month (positive).")
    currency: str
    transaction_count: int = Field(description="How many card payments make up the amount.")


class DerivativeOut(BaseModel):
    id: int
    customer_oid: str
    account_id: int | None
    instrument_type: str = Field(description="option or future.")
    underlying_symbol: str
    option_type: str | None = Field(description="call or put; null for futures.")
    side: str = Field(description="long (bought) or short (written/sold).")
    strategy: str | None = Field(description="e.g. covered_call, cash_secured_put, long_call.")
    contracts: int
    multiplier: int = Field(description="Units of the underlying per contract.")
    strike: Decimal8 | None = Field(description="Strike price per unit; null for futures.")
    premium: Decimal8 | None = Field(description="Option premium per unit; null for futures.")
    trade_price: Decimal8 | None = Field(description="Futures price when opened.")
    currency: str
    trade_date: date
    expiry_date: date
    status: str = Field(description="open, closed, expired or exercised.")
    closed_on: date | None


class HasData(BaseModel):
    assets: bool
    accounts: bool
    transactions: bool
    spending: bool
    derivatives: bool


class PortfolioSummary(BaseModel):
    customer_oid: str
    base_currency: str = Field(description="Currency of every total in this summary.")
    total_cash_balance: Money = Field(
        description="All account balances converted into base_currency at the latest FX rates."
    )
    total_spending: Money = Field(description="All recorded spending converted into base_currency.")
    total_assets: int = Field(description="Number of holdings.")
    total_accounts: int = Field(description="Number of bank accounts.")
    total_transactions: int = Field(description="Number of transactions.")
    total_spending_categories: int = Field(description="Number of distinct spending categories.")
    total_derivative_positions: int = Field(description="Number of derivative transactions.")
    has_data: HasData


class Portfolio(BaseModel):
    customer_oid: str
    user: UserOut
    assets: list[AssetOut]
    bank_accounts: list[BankAccountOut]
    transactions: list[TransactionOut]
    spending: list[SpendingOut]
    derivative_transactions: list[DerivativeOut]
    portfolio_summary: PortfolioSummary
