"""Customer profiles: what a customer declares at registration (``ProfileIn``), and the
profile the bank answers with (``CustomerProfileOut``): the declaration beside the income
and net worth read from the books."""

import datetime as dt
import re
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    model_validator,
)

from core.money import Money
from market.calendars import months_before
from models import (
    CommunicationMethod,
    InvestmentExperience,
    PortfolioStyle,
    ProfileKind,
    RiskTolerance,
    TimeHorizon,
)
from schemas.common import OID_DESCRIPTION, IsoDate

ADULT_AGE, OLDEST_AGE = 18, 120
MAX_EMAIL_LENGTH = 254
MAX_GOALS, MAX_GOAL_LENGTH = 10, 100
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
EMAIL_PATTERN = rf"^[A-Za-z0-9._%+-]{{1,64}}@{_LABEL}(?:\.{_LABEL})*\.[A-Za-z]{{2,63}}$"
"""A plausible address: a simple local part, an @, a domain with a dot and a top-level name."""
PHONE_PATTERN = r"^\+[1-9](?:[ -]?[0-9]){7,14}$"
"""E.164 (+, the country code, at most 15 digits in all), spaces or hyphens allowed between
digits."""

TIME_HORIZON_DESCRIPTION = (
    "How long the money may stay invested: short (under 3 years), medium (3 to 10 years) or "
    "long (over 10 years)."
)
GOALS_DESCRIPTION = "What the customer invests for, most important first (e.g. retirement)."


def _adult_birth_date(born: dt.date) -> dt.date:
    today = dt.date.today()
    if born >= today:
        raise ValueError("must be a date in the past")
    if born > months_before(today, 12 * ADULT_AGE):
        raise ValueError(f"gives an age under {ADULT_AGE}: only adults are registered")
    if born <= months_before(today, 12 * (OLDEST_AGE + 1)):
        raise ValueError(f"gives an age over {OLDEST_AGE}")
    return born


def _past(day: dt.date) -> dt.date:
    if day >= dt.date.today():
        raise ValueError("must be a date in the past")
    return day


def _email(address: str) -> str:
    if len(address) > MAX_EMAIL_LENGTH or not re.fullmatch(EMAIL_PATTERN, address):
        raise ValueError(
            f"must be an e-mail address such as name@example.com, at most {MAX_EMAIL_LENGTH} "
            "characters"
        )
    return address


def _e164(phone: str) -> str:
    if not re.fullmatch(PHONE_PATTERN, phone):
        raise ValueError(
            "must be an international number: +, the country code and the number, 8 to 15 "
            "digits in all (spaces or hyphens between them), such as +1 212-555-0123"
        )
    return re.sub(r"[ -]", "", phone)


Goal = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_GOAL_LENGTH, pattern=r"^[^\x00-\x1f\x7f]*$"),
]


class ProfileIn(BaseModel):
    """What a customer declares at registration; every field is optional."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "date_of_birth": "1988-04-21",
                    "email": "new.customer@example.com",
                    "phone": "+1 212-555-0123",
                    "risk_tolerance": "moderate",
                    "investment_experience": "beginner",
                    "investment_goals": ["retirement", "home_purchase"],
                    "time_horizon": "long",
                    "communication_method": "email",
                    "portfolio_style": "balanced",
                    "esg_investing": True,
                }
            ]
        },
    )

    kind: ProfileKind | None = Field(
        default=None,
        description="person or company; when absent, company if founded_on is given, else person.",
    )
    date_of_birth: Annotated[IsoDate, AfterValidator(_adult_birth_date)] | None = Field(
        default=None,
        description=f"A person's, YYYY-MM-DD: a past date giving an age of {ADULT_AGE} to "
        f"{OLDEST_AGE} today. Not with founded_on.",
    )
    founded_on: Annotated[IsoDate, AfterValidator(_past)] | None = Field(
        default=None, description="A company's founding date, YYYY-MM-DD, in the past."
    )
    email: Annotated[str, AfterValidator(_email)] | None = Field(
        default=None,
        description="An e-mail address (name@domain.tld, at most 254 characters).",
        json_schema_extra={"pattern": EMAIL_PATTERN, "maxLength": MAX_EMAIL_LENGTH},
    )
    phone: Annotated[str, AfterValidator(_e164)] | None = Field(
        default=None,
        description="International form: +, country code and number, 8 to 15 digits; spaces "
        "and hyphens between digits are allowed and dropped (stored as E.164, +12125550123).",
        json_schema_extra={"pattern": PHONE_PATTERN},
    )
    risk_tolerance: RiskTolerance | None = None
    investment_experience: InvestmentExperience | None = None
    investment_goals: Annotated[list[Goal], Field(max_length=MAX_GOALS)] | None = Field(
        default=None,
        description=f"{GOALS_DESCRIPTION} At most {MAX_GOALS}, each 1 to {MAX_GOAL_LENGTH} "
        "characters without control characters.",
    )
    time_horizon: TimeHorizon | None = Field(default=None, description=TIME_HORIZON_DESCRIPTION)
    communication_method: CommunicationMethod | None = None
    portfolio_style: PortfolioStyle | None = None
    esg_investing: StrictBool | None = Field(
        default=None, description="Whether the customer wants ESG investing: true or false."
    )

    @model_validator(mode="after")
    def _one_kind(self) -> "ProfileIn":
        if self.date_of_birth and self.founded_on:
            raise ValueError(
                "date_of_birth and founded_on: give one, a person's birth or a company's founding"
            )
        if self.kind == ProfileKind.company and self.date_of_birth:
            raise ValueError("date_of_birth: a company has no date of birth; give founded_on")
        if self.kind == ProfileKind.person and self.founded_on:
            raise ValueError("founded_on: a person has no founding date; give date_of_birth")
        return self

    @property
    def resolved_kind(self) -> ProfileKind:
        if self.kind is not None:
            return self.kind
        return ProfileKind.company if self.founded_on else ProfileKind.person


class CustomerProfileOut(BaseModel):
    """A customer's profile: what it declared (null where it declared nothing), and its income
    and net worth as the books show them on the market's last day."""

    customer_oid: str = Field(description=OID_DESCRIPTION)
    name: str = Field(description="The customer's full name or company name.")
    kind: ProfileKind | None = Field(
        description="person or company; null when the customer declared no profile."
    )
    date_of_birth: dt.date | None = Field(description="A person's; null for a company.")
    age: int | None = Field(description="A person's age in whole years on as_of.")
    founded_on: dt.date | None = Field(description="A company's founding date; null for a person.")
    email: str | None = Field(
        description="Contact address. Generated customers' are fake: @example.com, "
        "@example.org or @example.net (RFC 2606 reserved domains)."
    )
    phone: str | None = Field(
        description="E.164. Generated customers' are in fictional ranges: +1 NXX 555-0100 to "
        "0199, +44 7700 900000 to 900999, and the German regulator's drama numbers."
    )
    risk_tolerance: RiskTolerance | None = Field(
        description="conservative, moderate or aggressive: declared, or derived from the "
        "holdings when the customer declared none (see derived_from_books)."
    )
    investment_experience: InvestmentExperience | None = Field(
        description="none, beginner, intermediate or advanced: declared, or derived from the "
        "trades when the customer declared none (see derived_from_books)."
    )
    investment_goals: list[str] = Field(description=GOALS_DESCRIPTION + " Empty when none.")
    time_horizon: TimeHorizon | None = Field(description=TIME_HORIZON_DESCRIPTION)
    communication_method: CommunicationMethod | None = Field(
        description="How the customer prefers to be contacted: email, phone, sms or mail (post)."
    )
    portfolio_style: PortfolioStyle | None = Field(
        description="preservation, income, balanced or growth."
    )
    esg_investing: bool | None = Field(
        description="Whether the customer asked for environmental, social and governance "
        "criteria in its investing; null when it did not say."
    )
    annual_income: Money = Field(
        description="Pay, pension or business revenue booked over the twelve months to as_of "
        "(income_from to income_to): every credit of category income, each converted into "
        "base_currency at the rate of its own day, added up and rounded to the cent. "
        "Dividends, interest and transfers are not income here."
    )
    income_from: dt.date = Field(description="First day of the income window (included).")
    income_to: dt.date = Field(description="Last day of the income window: as_of (included).")
    net_worth: Money = Field(
        description="Cash and holdings at market value, base_currency: the summary's "
        "totals.net_worth."
    )
    base_currency: str = Field(description="Currency of annual_income and net_worth.")
    as_of: dt.date = Field(description="The last market date; every figure is as of this day.")
    persona: str | None = Field(
        description="Who a generated customer was drawn as (student, retiree, corporation...); "
        "null for a registered customer."
    )
    derived_from_books: list[str] = Field(
        description="The fields read from the books rather than declared: always "
        "annual_income and net_worth; risk_tolerance and investment_experience too when the "
        "customer declared none."
    )
