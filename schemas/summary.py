"""The portfolio summary's shapes: valuation, allocation, concentration, performance,
derivatives exposure and spending insight (what ``/customer/{id}/summary`` answers and
``/user-portfolio/{id}`` carries as ``portfolio_summary``)."""

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, Field

from core.money import Decimal8, Money
from schemas.risk import RiskHeadline


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
    period: str = Field(
        description="1d (since the previous day), mtd (since the last month's end), 1m, 3m, "
        "ytd (since the last year's end) or 1y."
    )
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
    risk: RiskHeadline = Field(
        description="The risk of today's book in headline figures: the risk section "
        "(/customer/{customer_oid}/risk) has the stress tests, the 10-day figures, the "
        "breakdowns and the option greeks."
    )
