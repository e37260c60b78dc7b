"""Request and response shapes of the REST API (and of the MCP tools that share them).

Field descriptions are written for whoever reads ``/openapi.json``: a person in
the Swagger UI or an agent deciding which field answers its question.
"""

import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from identifiers import CUSTOMER_OID_EXAMPLE, OID_PATTERN
from merchants import TAXONOMY
from money import Decimal8, Money

OID_DESCRIPTION = "Customer identifier: a lowercase hyphenated UUID (or a legacy upper-case id)."

MONTH_PATTERN = r"^(?!0000)[0-9]{4}-(0[1-9]|1[0-2])$"
AMOUNT_PATTERN = r"^-?[0-9]{1,15}(\.[0-9]{1,2})?$"


def _iso_date(value: object) -> object:
    # A date is written YYYY-MM-DD; pydantic alone would also take 0 as 1970-01-01.
    if isinstance(value, str) and not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        raise ValueError("must be a date written YYYY-MM-DD")
    if not isinstance(value, str | date):
        raise ValueError("must be a date written YYYY-MM-DD")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_date)]
"""A calendar date written YYYY-MM-DD, and nothing else."""


class ErrorResponse(BaseModel):
    detail: str = Field(description="What went wrong, in words a person or an agent can act on.")
    request_id: str = Field(description="The request's X-Request-ID, to find it in the logs.")


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
        # Documented, not enforced here: the service's own check gives the clearer 400.
        json_schema_extra={"minLength": 2},
    )
    customer_oid: str | None = Field(
        default=None,
        description="Optional UUID for the new customer, in any common spelling; "
        "one is generated when it is absent.",
        json_schema_extra={"pattern": OID_PATTERN},
    )


class RegisterCustomerResponse(BaseModel):
    customer_oid: str = Field(description="The canonical id of the new customer.")
    name: str = Field(description="The name as stored (trimmed and NFC-normalised).")
    message: Literal["Customer registered successfully"] = "Customer registered successfully"


class DeleteCustomerResponse(BaseModel):
    customer_oid: str = Field(description="The canonical id of the deleted customer.")
    message: Literal["Customer and all associated data deleted successfully"] = (
        "Customer and all associated data deleted successfully"
    )


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


class FxRateUsed(BaseModel):
    currency: str = Field(description="ISO 4217 code of a currency the customer holds.")
    rate: Decimal8 = Field(description="Units of base_currency per one unit of this currency.")
    rate_date: date = Field(description="Date of the rate.")


class CashBalance(BaseModel):
    currency: str
    balance: Money = Field(description="Sum of the balances of the accounts in this currency.")
    balance_base: Money = Field(description="The same, converted into base_currency.")
    accounts: int = Field(description="Number of accounts in this currency.")


class Holding(BaseModel):
    symbol: str
    name: str
    asset_type: str
    currency: str = Field(description="Currency of the instrument's price.")
    quantity: Decimal8
    average_cost: Decimal8 | None = Field(
        description="Average cost per unit from the buy and sell history (average-cost method), "
        "in the instrument's currency; null when there are no trades."
    )
    cost_basis: Money | None = Field(description="quantity x average_cost, instrument currency.")
    current_price: Decimal8 = Field(description="Latest close, instrument currency.")
    price_date: date
    market_value: Money = Field(description="quantity x current_price, instrument currency.")
    market_value_base: Money = Field(description="market_value converted into base_currency.")
    cost_basis_base: Money | None = Field(
        description="What the units held cost in base_currency: each buy converted at its trade "
        "date's rate, sells taking out units at the running average (average-cost method)."
    )
    unrealized_gain: Money | None = Field(
        description="market_value_base - cost_basis_base, in base_currency."
    )
    unrealized_gain_percent: Decimal8 | None = Field(
        description="unrealized_gain as a percentage of cost_basis_base."
    )
    weight_percent: Decimal8 = Field(
        description="Share of this holding in the invested market value; all weights add to 100."
    )


class Totals(BaseModel):
    cash: Money = Field(description="All balances in base_currency (= total_cash_balance).")
    invested: Money = Field(description="Market value of all holdings in base_currency.")
    cost_basis: Money = Field(description="Cost basis of the holdings that have one.")
    unrealized_gain: Money = Field(description="Sum of the holdings' unrealized gains.")
    unrealized_gain_percent: Decimal8 | None = Field(
        description="unrealized_gain as a percentage of cost_basis."
    )
    net_worth: Money = Field(description="cash + invested (derivatives are not included).")


class AllocationSlice(BaseModel):
    key: str = Field(description="Asset type (or 'cash') or currency code.")
    value: Money = Field(description="Value in base_currency.")
    percent: Decimal8 = Field(description="Share of net_worth; the slices add up to 100.")


class Allocation(BaseModel):
    by_asset_type: list[AllocationSlice] = Field(
        description="Net worth split by asset type, with cash as 'cash'; largest first."
    )
    by_currency: list[AllocationSlice] = Field(
        description="Net worth split by the currency of each holding and balance; largest first."
    )


class Concentration(BaseModel):
    largest_position: str | None = Field(description="Symbol of the largest holding.")
    largest_position_weight_percent: Decimal8 | None = Field(
        description="Its share of the invested market value."
    )
    herfindahl_index: Decimal8 = Field(
        description="Sum of squared holding weights (as fractions of 1) over the invested "
        "market value, to 4 places: 1 is a single position, 1/n is n equal positions."
    )


class PeriodReturn(BaseModel):
    period: str = Field(description="1m, 3m, ytd or 1y.")
    start_date: date = Field(description="The base date: values use closes on or before it.")
    start_value: Money = Field(
        description="Today's quantities valued at start_date prices and rates, base_currency."
    )
    end_value: Money = Field(description="Today's quantities at today's prices, base_currency.")
    gain: Money = Field(description="end_value - start_value.")
    return_percent: Decimal8 | None = Field(description="gain as a percentage of start_value.")
    customer_return_percent: Decimal8 | None = Field(
        default=None,
        description="The customer's own return on the securities over the period, by the "
        "Modified Dietz method: (portfolio value at the end - value at the start - net flows) / "
        "(value at the start + day-weighted net flows). Buys are flows in, sells and the "
        "dividends and coupons paid out to cash are flows out; in base_currency.",
    )
    customer_return_method: str = Field(
        default="modified_dietz", description="How customer_return_percent is computed."
    )
    portfolio_start_value: Money | None = Field(
        default=None, description="The units held at start_date, valued then, base_currency."
    )
    portfolio_end_value: Money | None = Field(
        default=None, description="The units held at as_of, valued then, base_currency."
    )
    net_flows: Money | None = Field(
        default=None,
        description="Buys minus sells minus income paid out within the period, base_currency.",
    )


class Performance(BaseModel):
    as_of: date = Field(description="The last market date; every figure is as of this day.")
    periods: list[PeriodReturn] = Field(
        description="Performance of the current holdings (no cash, no trades in between)."
    )
    annualized_volatility_percent: Decimal8 | None = Field(
        description="Sample standard deviation of the daily returns of the current holdings' "
        "value over the last year of weekdays, times sqrt(252), in percent."
    )


class ExpiringPosition(BaseModel):
    id: int
    underlying_symbol: str
    instrument_type: str
    option_type: str | None
    side: str
    expiry_date: date
    days_to_expiry: int


class PositionValue(BaseModel):
    id: int
    underlying_symbol: str
    instrument_type: str
    option_type: str | None
    side: str
    contracts: int
    multiplier: int
    strike: Decimal8 | None
    expiry_date: date
    underlying_price: Decimal8 = Field(description="Latest close of the underlying.")
    unit_value: Decimal8 = Field(
        description="Options: Black-Scholes value of one unit from the underlying's volatility; "
        "futures: the latest close minus the trade price."
    )
    market_value: Money = Field(
        description="What the position is worth to the customer in base_currency: negative "
        "for a written option (a liability), the unrealized result for a future."
    )
    delta: Decimal8 = Field(description="Change in one unit's value per 1 of the underlying.")
    delta_units: Decimal8 = Field(
        description="Units of the underlying the position behaves like: delta x contracts x "
        "multiplier, negative when short."
    )
    method: str = Field(description="black_scholes or mark_to_market.")


class DerivativeExposure(BaseModel):
    open_positions: int = Field(description="Number of derivative positions with status open.")
    premium_paid: Money = Field(
        description="Premium paid for open long options: premium x contracts x multiplier."
    )
    premium_received: Money = Field(description="Premium received for open short options.")
    net_premium: Money = Field(description="premium_received - premium_paid.")
    total_premium: Money = Field(description="premium_paid + premium_received.")
    notional: Money = Field(
        description="Underlying exposure of the open positions: contracts x multiplier x latest "
        "close of the underlying, in base_currency."
    )
    nearest_expiry: date | None = Field(description="Earliest expiry among open positions.")
    expiring_within_30_days: list[ExpiringPosition] = Field(
        description="Open positions that expire within 30 days after as_of."
    )
    market_value: Money = Field(
        default=Decimal(0), description="Sum of the open positions' market_value, base_currency."
    )
    positions: list[PositionValue] = Field(
        default_factory=list, description="Each open position's current value and delta."
    )


class CategoryTotal(BaseModel):
    category: str
    total: Money = Field(description="All spending in the category, in base_currency.")
    percent: Decimal8 = Field(description="Share of total_spending; the categories add to 100.")


class MonthTotal(BaseModel):
    month: str = Field(description="YYYY-MM.")
    total: Money = Field(description="All spending that month, in base_currency.")


class SpendingInsight(BaseModel):
    by_category: list[CategoryTotal] = Field(description="Largest first.")
    by_month: list[MonthTotal] = Field(
        description="Every calendar month from the first with spending to the latest, oldest "
        "first (0 for a month without any)."
    )
    average_month: Money = Field(description="total_spending divided by the months in by_month.")
    latest_month: str | None = Field(description="The most recent month with spending.")
    latest_month_change: Money | None = Field(
        description="Latest month's total minus the month before's."
    )
    latest_month_change_percent: Decimal8 | None = Field(
        description="latest_month_change as a percentage of the month before."
    )


class PortfolioSummary(BaseModel):
    customer_oid: str
    base_currency: str = Field(description="Currency of every converted figure in this summary.")
    as_of: date = Field(description="The last market date; every valuation is as of this day.")
    total_cash_balance: Money = Field(
        description="All account balances converted into base_currency at the as_of rates."
    )
    total_spending: Money = Field(description="All recorded spending in base_currency.")
    total_assets: int = Field(description="Number of holdings.")
    total_accounts: int = Field(description="Number of bank accounts.")
    total_transactions: int = Field(description="Number of transactions.")
    total_spending_categories: int = Field(description="Number of distinct spending categories.")
    total_derivative_positions: int = Field(description="Number of derivative transactions.")
    has_data: HasData
    fx_rates: list[FxRateUsed] = Field(description="The rates used for every conversion.")
    cash_by_currency: list[CashBalance]
    holdings: list[Holding] = Field(description="Every holding valued, largest first.")
    totals: Totals
    allocation: Allocation
    concentration: Concentration
    performance: Performance
    derivatives: DerivativeExposure
    spending: SpendingInsight


class Portfolio(BaseModel):
    """A whole portfolio. With ``sections=``, the sections not asked for are left out."""

    customer_oid: str
    user: UserOut
    assets: list[AssetOut] = Field(default_factory=list)
    bank_accounts: list[BankAccountOut] = Field(default_factory=list)
    transactions: list[TransactionOut] = Field(
        default_factory=list,
        description="Newest first; all of them unless transactions_limit is given.",
    )
    spending: list[SpendingOut] = Field(default_factory=list)
    derivative_transactions: list[DerivativeOut] = Field(default_factory=list)
    portfolio_summary: PortfolioSummary | None = Field(
        default=None, description="Always present unless sections= leaves it out."
    )


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


class PriceChange(BaseModel):
    since: date = Field(description="Date of the earlier close compared with.")
    previous_close: Decimal8
    change: Decimal8 = Field(description="price - previous_close.")
    change_percent: Decimal8 | None = Field(description="change as a percentage.")


class Quote(BaseModel):
    symbol: str
    name: str
    asset_type: str
    currency: str = Field(description="ISO 4217 currency of the price.")
    price: Decimal8 = Field(description="Latest close.")
    price_date: date
    change_1d: PriceChange | None = Field(description="Against the previous close.")
    change_30d: PriceChange | None = Field(description="Against the close 30 days earlier.")
    change_1y: PriceChange | None = Field(description="Against the close one year earlier.")


class MarketDataResponse(BaseModel):
    as_of: date = Field(description="The last market date.")
    quotes: list[Quote]


class Close(BaseModel):
    date: date
    close: Decimal8


class PriceHistory(BaseModel):
    symbol: str
    name: str
    currency: str
    from_date: date = Field(description="First day asked for.")
    to_date: date = Field(description="Last day asked for.")
    closes: list[Close] = Field(description="Daily closes in the range, oldest first.")


class CustomersPage(BaseModel):
    customers: list[CustomerOut] = Field(description="This page, oldest registration first.")
    total: int = Field(description="How many customers match, on all pages.")
    remaining: int = Field(description="How many matching customers come after this page.")
    next_cursor: str | None = Field(
        description="Pass as cursor, with the same name filter, for the next page; null at the end."
    )


class ValuePoint(BaseModel):
    date: date
    value: Money = Field(description="The current holdings at that day's closes and FX rates.")


class HoldingsValueHistory(BaseModel):
    """What today's holdings were worth on each weekday of the last year (the explorer's line)."""

    customer_oid: str = Field(description=OID_DESCRIPTION)
    base_currency: str = Field(description="ISO 4217 currency of every value.")
    as_of: date = Field(description="The last market date, the end of the series.")
    points: list[ValuePoint] = Field(description="One point per weekday, oldest first.")
