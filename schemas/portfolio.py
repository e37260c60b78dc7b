"""A portfolio and its sections: holdings, accounts, transactions, spending, derivatives."""

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from core.money import Decimal8, Money
from market.merchants import TAXONOMY
from schemas.common import OID_DESCRIPTION
from schemas.summary import CashBalance, Holding


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
        description="deposit, withdrawal, buy, sell, dividend, interest, fee, card_payment, "
        "transfer, option_premium or settlement."
    )
    description: str
    category: str | None = Field(description="Spending or booking category, e.g. groceries.")
    amount: Money = Field(description="Signed amount: negative when money leaves the account.")
    currency: str
    symbol: str | None = Field(description="Instrument traded, for buy and sell.")
    quantity: Decimal8 | None = Field(description="Units traded, for buy and sell.")
    price: Decimal8 | None = Field(description="Price per unit, for buy and sell.")
    merchant: str | None = Field(
        default=None, description="Merchant or counterparty: a shop, employer, biller or broker."
    )
    merchant_category_code: str | None = Field(
        default=None, description="The card network's four-digit merchant category code (MCC)."
    )
    category_group: str | None = Field(
        default=None,
        description="The group the category rolls up into, e.g. FOOD_AND_DRINK for groceries.",
    )
    channel: str | None = Field(
        default=None, description="card, online, ach, wire, atm, transfer or internal."
    )
    booking_date: date | None = Field(
        default=None,
        description="Day the bank posted it (a card payment posts a day or two later).",
    )
    value_date: date | None = Field(
        default=None, description="Day from which the money counts for interest."
    )
    instruction_id: int | None = Field(
        default=None,
        description="The instruction (transfer, payment, order) that booked it; null for the "
        "history.",
    )

    @model_validator(mode="after")
    def _group_the_category(self) -> "TransactionOut":
        if self.category_group is None and self.category is not None:
            self.category_group = TAXONOMY.get(self.category)
        return self


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
    position: Literal["long", "short"] = Field(
        description="long (bought) or short (written/sold): side, under a name that means the "
        "same on /user-portfolio, whose side is the original's buy or sell."
    )
    strategy: str | None = Field(description="e.g. covered_call, cash_secured_put, long_call.")
    contracts: int
    multiplier: int = Field(description="Units of the underlying per contract.")
    strike: Decimal8 | None = Field(description="Strike price per unit; null for futures.")
    premium: Decimal8 | None = Field(description="Option premium per unit; null for futures.")
    premium_per_unit: Decimal8 | None = Field(
        description="Option premium per unit of the underlying; null for futures. The same as "
        "premium here; on /user-portfolio, premium is the position's total, as in the original."
    )
    trade_price: Decimal8 | None = Field(description="Futures price when opened.")
    currency: str
    trade_date: date
    expiry_date: date
    status: str = Field(description="open, closed, expired or exercised.")
    closed_on: date | None


class SummaryRef(BaseModel):
    customer_oid: str
    base_currency: str = Field(description="Currency of the converted figures.")
    as_of: date = Field(description="The last market date; valuations are as of this day.")


class AssetsSection(SummaryRef):
    total_market_value: Money = Field(description="All holdings in base_currency.")
    assets: list[AssetOut] = Field(description="The holdings as in the portfolio.")
    holdings: list[Holding] = Field(description="Each holding valued, largest first.")


class AccountsSection(SummaryRef):
    total_cash_balance: Money = Field(description="All balances in base_currency.")
    cash_by_currency: list[CashBalance]
    bank_accounts: list[BankAccountOut]


class TransactionsPage(BaseModel):
    customer_oid: str
    total: int = Field(description="How many transactions match the filters, on all pages.")
    remaining: int = Field(description="How many matching transactions come after this page.")
    limit: int = Field(description="The page size used.")
    order: Literal["desc", "asc"] = Field(description="Date order: desc is newest first.")
    transactions: list[TransactionOut] = Field(
        description="This page: sorted by date, then id, in the requested order."
    )
    next_cursor: str | None = Field(
        description="Pass as cursor=, with the same filters, for the next page; "
        "null on the last page."
    )
    next: str | None = Field(description="The URL of the next page, or null on the last page.")


class SpendingGroup(BaseModel):
    key: str = Field(description="The category, or the month (YYYY-MM).")
    total: Money = Field(description="Spending in base_currency.")
    percent: Decimal8 = Field(description="Share of the total; the groups add up to 100.")
    transaction_count: int = Field(description="Card payments behind the total.")


class SpendingSection(BaseModel):
    customer_oid: str
    base_currency: str
    group_by: Literal["category", "month"]
    from_month: str | None = Field(description="First month included (YYYY-MM), if limited.")
    to_month: str | None = Field(description="Last month included (YYYY-MM), if limited.")
    total: Money = Field(description="All spending in the range, in base_currency.")
    groups: list[SpendingGroup] = Field(
        description="Largest first when grouped by category; oldest first by month."
    )
    spending: list[SpendingOut] = Field(description="The monthly rows in the range.")


class DerivativesSection(BaseModel):
    customer_oid: str
    status: str | None = Field(description="The status filter applied, or null for all.")
    count: int
    derivative_transactions: list[DerivativeOut]


class ValuePoint(BaseModel):
    date: date
    value: Money = Field(description="The current holdings at that day's closes and FX rates.")


class HoldingsValueHistory(BaseModel):
    """What today's holdings were worth on each weekday of the last year (the explorer's line)."""

    customer_oid: str = Field(description=OID_DESCRIPTION)
    base_currency: str = Field(description="ISO 4217 currency of every value.")
    as_of: date = Field(description="The last market date, the end of the series.")
    points: list[ValuePoint] = Field(description="One point per weekday, oldest first.")
