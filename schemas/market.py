"""Market data as the API shows it: quotes, price changes and closing prices."""

from datetime import date

from pydantic import BaseModel, Field

from core.money import Decimal8, Money


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
    volume: int | None = Field(
        description="Units traded on price_date (shares, coins, contracts); null for bonds, "
        "which trade over the counter."
    )
    market_cap: Money | None = Field(
        description="price x shares outstanding (coins in circulation), in currency; null for "
        "ETFs, bonds and futures."
    )
    pe_ratio: Decimal8 | None = Field(
        description="price / trailing twelve months' earnings per share; stocks only."
    )
    dividend_yield: Decimal8 | None = Field(
        description="Dividends with an ex-date in the year to price_date, as a percentage of "
        "price; stocks and ETFs only."
    )


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
