"""The risk section: how much today's book could lose, and why.

Every figure is computed on today's holdings and open derivatives, over the last 252
daily returns of the bank's own closes, in the base currency (see ``analysis/risk.py``
for the conventions). Losses are negative amounts.
"""

from datetime import date

from pydantic import BaseModel, Field

from core.money import Decimal8, Money
from schemas.common import OID_DESCRIPTION


class RiskWindow(BaseModel):
    start_date: date = Field(description="The close the first daily return is measured from.")
    end_date: date = Field(description="The last close (as_of).")
    observations: int = Field(description="Daily returns in the window (252 when complete).")
    calendar: str = Field(
        description="The days returns are measured on: New York Stock Exchange trading days; "
        "an instrument on another calendar (crypto, Xetra) is taken at its last close on or "
        "before each of them."
    )
    periods_per_year: int = Field(description="What daily figures are annualised with.")


class Drawdown(BaseModel):
    max_drawdown_percent: Decimal8 | None = Field(
        description="The largest fall from a peak of the book's value over the window, as a "
        "negative percentage of the peak; 0 when it never fell."
    )
    peak_date: date | None = Field(description="The close the fall started from.")
    trough_date: date | None = Field(description="The lowest close after that peak.")
    recovery_date: date | None = Field(
        description="The first close back at the peak's value; null when not yet recovered."
    )


class ValueAtRisk(BaseModel):
    confidence_percent: int = Field(description="95 or 99.")
    horizon_days: int = Field(description="1 or 10 trading days.")
    historical_var: Money = Field(
        description="Historical simulation: the loss today's book would have had on the "
        "(100 - confidence)% quantile day of the window (linear interpolation between order "
        "statistics), negative; for 10 days, the 1-day figure times sqrt(10)."
    )
    historical_expected_shortfall: Money = Field(
        description="The average loss on the days at or beyond that quantile (the worst "
        "floor((n - 1) x (100 - confidence)%) + 1 of n days), negative; times sqrt(10) for 10 "
        "days."
    )
    parametric_var: Money = Field(
        description="Variance-covariance: z x the standard deviation of the book's daily P&L, "
        "from the sample covariance of its instruments' returns and each one's delta-adjusted "
        "exposure, mean zero, normal; negative; times sqrt(10) for 10 days."
    )
    parametric_expected_shortfall: Money = Field(
        description="The normal expected shortfall: standard deviation x pdf(z) / (1 - "
        "confidence), negative; times sqrt(10) for 10 days."
    )
    historical_var_percent: Decimal8 | None = Field(
        description="historical_var as a percentage of the holdings' value."
    )


class StressHolding(BaseModel):
    symbol: str
    return_percent: Decimal8 = Field(
        description="The holding's move in the scenario, in the base currency (the price's "
        "move and, for a holding in another currency, the currency's)."
    )
    pnl: Money = Field(description="Profit (positive) or loss, base currency.")


class StressDerivative(BaseModel):
    id: int = Field(description="The derivative position's id.")
    underlying_symbol: str
    pnl: Money = Field(
        description="Revalued at the shocked underlying price (options by Black-Scholes, with "
        "the same volatility and time to expiry), base currency."
    )


class StressTest(BaseModel):
    name: str = Field(description="e.g. market_crash_2008.")
    title: str
    period: str = Field(description="The real episode it replays, peak to trough.")
    shocks: dict[str, Decimal8] = Field(
        description="The factors' moves: returns for equity, crypto and gold factors; yield "
        "and spread changes for rates_level, rates_slope and credit (0.01 = 100 basis "
        "points); the dollar's move against other currencies for usd."
    )
    pnl: Money = Field(description="The book's profit or loss, base currency.")
    pnl_percent: Decimal8 | None = Field(description="pnl as a percentage of the holdings' value.")
    holdings: list[StressHolding]
    derivatives: list[StressDerivative]


class Slice(BaseModel):
    key: str = Field(description="A sector, or an ISO 3166 country code (none: coins, gold).")
    percent: Decimal8 = Field(description="Share of the holdings' value, looked through ETFs.")


class Diversification(BaseModel):
    holdings: int = Field(description="Number of holdings.")
    effective_holdings: Decimal8 | None = Field(
        description="1 / the Herfindahl index of the holdings' weights: how many equal "
        "holdings would be as concentrated."
    )
    holdings_concentration: Decimal8 | None = Field(
        description="Herfindahl index of the holdings' weights (sum of squares), 0 to 1."
    )
    sector_concentration: Decimal8 | None = Field(
        description="Herfindahl index of the value by sector (ETFs looked through), 0 to 1."
    )
    geographic_concentration: Decimal8 | None = Field(
        description="Herfindahl index of the value by country of domicile, 0 to 1."
    )
    correlation_risk: Decimal8 | None = Field(
        description="The weighted average pairwise correlation of the holdings' daily returns "
        "(weights w_i x w_j over pairs), -1 to 1; null with fewer than two holdings."
    )
    sectors: list[Slice] = Field(description="Largest first.")
    countries: list[Slice] = Field(description="Largest first.")


class OptionRisk(BaseModel):
    id: int
    underlying_symbol: str
    option_type: str
    side: str
    contracts: int
    multiplier: int
    strike: Decimal8
    expiry_date: date
    delta: Decimal8 = Field(
        description="The position's delta in units of the underlying (negative when short a "
        "call or long a put)."
    )
    gamma: Decimal8 = Field(description="Change in the position's delta per 1 of the underlying.")
    vega: Money = Field(description="Change in value per volatility point, base currency.")
    theta: Money = Field(description="Change in value per calendar day, base currency.")
    delta_exposure: Money = Field(
        description="delta x the underlying's price: the equivalent holding, base currency."
    )


class UnderlyingExposure(BaseModel):
    underlying_symbol: str
    holdings_value: Money = Field(description="What is held of it outright, base currency.")
    derivatives_delta_exposure: Money = Field(
        description="The open options' delta exposures and the futures' notional, signed."
    )
    net_exposure: Money = Field(description="The two added: what the book moves with.")


class OptionsRisk(BaseModel):
    positions: list[OptionRisk] = Field(description="Open options, by expiry.")
    by_underlying: list[UnderlyingExposure] = Field(
        description="Every underlying of an open option or future."
    )


class RiskReport(BaseModel):
    base_currency: str = Field(description="Currency of every amount here.")
    as_of: date = Field(description="The last market date: today's holdings and prices.")
    reason: str | None = Field(
        description="Why the statistics are null (nothing invested, too short a history); "
        "null when every figure could be computed."
    )
    holdings_value: Money = Field(description="What the holdings are worth, base currency.")
    derivatives_value: Money = Field(description="The open derivatives' value, base currency.")
    window: RiskWindow
    risk_score: Decimal8 = Field(
        description="0 to 10, one decimal: the mean of min(10, volatility_percent / 4) and "
        "min(10, the worst stress test's loss in percent / 8); 0 when there are no statistics."
    )
    risk_category: str = Field(
        description="From risk_score: none (no statistics), conservative (below 2.5), "
        "moderate (2.5 to 5), aggressive (5 to 7.5), speculative (7.5 and above)."
    )
    volatility_percent: Decimal8 | None = Field(
        description="Sample standard deviation of the daily returns times sqrt(252)."
    )
    annualized_return_percent: Decimal8 | None = Field(
        description="The window's compounded return, annualised over 252 days."
    )
    benchmark: str = Field(description="The index beta is measured against.")
    beta: Decimal8 | None = Field(
        description="Covariance of the book's daily returns with the benchmark's (both in the "
        "base currency) over the benchmark's variance."
    )
    risk_free_rate_percent: Decimal8 = Field(
        description="The annual rate excess returns are measured against (per day: /252)."
    )
    risk_free_rate_source: str
    sharpe_ratio: Decimal8 | None = Field(
        description="Mean daily excess return over its sample standard deviation, times sqrt(252)."
    )
    sortino_ratio: Decimal8 | None = Field(
        description="Mean daily excess return times 252 over the downside deviation (root "
        "mean square of the negative excess returns, over all days) times sqrt(252)."
    )
    drawdown: Drawdown
    value_at_risk: list[ValueAtRisk] = Field(description="95% and 99%, 1 and 10 days.")
    stress_tests: list[StressTest]
    worst_scenario: str | None = Field(description="The stress test with the largest loss.")
    diversification: Diversification
    options: OptionsRisk


class RiskSection(RiskReport):
    customer_oid: str = Field(description=OID_DESCRIPTION)


class RiskHeadline(BaseModel):
    """The risk section's headline figures, as the portfolio summary carries them; the
    section (``/customer/{customer_oid}/risk``) has the detail and every convention."""

    reason: str | None = Field(description="Why the statistics are null, when they are.")
    risk_score: Decimal8 = Field(description="0 to 10.")
    risk_category: str
    volatility_percent: Decimal8 | None = Field(description="Annualised, last 252 days.")
    beta: Decimal8 | None = Field(description="Against SPY.")
    sharpe_ratio: Decimal8 | None
    sortino_ratio: Decimal8 | None
    max_drawdown_percent: Decimal8 | None
    value_at_risk_1d_95: Money = Field(description="Historical, a negative amount.")
    value_at_risk_1d_99: Money = Field(description="Historical, a negative amount.")
    expected_shortfall_1d_99: Money = Field(description="Historical, a negative amount.")
    worst_scenario: str | None = Field(description="The stress test with the largest loss.")
    worst_scenario_pnl: Money | None
    sector_concentration: Decimal8 | None
    geographic_concentration: Decimal8 | None
    correlation_risk: Decimal8 | None
