"""A sandbox's clock: where it stands, an advance asked for, and what the advance did."""

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from market.continuation import HORIZON, MAX_DAYS_PER_ADVANCE


class ClockOut(BaseModel):
    sandbox_id: str
    today: date = Field(
        description="The sandbox's current day: the last day run, and the as_of of its answers."
    )
    started_on: date = Field(description="The history's last day, where every clock starts.")
    days_advanced: int = Field(description="Calendar days from started_on to today.")
    max_days_per_advance: int = Field(description="The most days one advance may run.")
    horizon: date = Field(description="The last day the clock may reach.")


class AdvanceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    days: int | None = Field(
        default=None,
        description=f"Calendar days to run, 1 to {MAX_DAYS_PER_ADVANCE}. Give days or to, "
        "not both.",
    )
    to: date | None = Field(
        default=None,
        description=f"The day to run to (YYYY-MM-DD), after today and at most "
        f"{MAX_DAYS_PER_ADVANCE} days after it, up to {HORIZON}.",
    )


class RefusedPayment(BaseModel):
    instruction_id: int
    customer_oid: str
    rule: str
    detail: str


class DayOut(BaseModel):
    """What one day did, counted."""

    day: date
    closes: int = Field(description="Instrument closes added (crypto trades every day).")
    rates: int = Field(description="FX rates added (weekdays).")
    payouts: int = Field(description="Dividends and coupons paid, one per holder.")
    expiries: int = Field(description="Options and futures settled at their expiry.")
    payments_executed: int
    payments_refused: int
    transactions: int = Field(description="Statement rows booked, all customers together.")


class AdvanceOut(BaseModel):
    sandbox_id: str
    started_from: date = Field(description="Today before the advance.")
    today: date = Field(description="Today after it: the last day run.")
    days_run: int
    closes_added: int
    rates_added: int
    payouts_paid: int
    expiries_settled: int
    payments_executed: int
    payments_refused: int
    transactions_added: int
    refused: list[RefusedPayment] = Field(description="Each refused payment and why.")
    days: list[DayOut] = Field(description="Day by day, oldest first.")
