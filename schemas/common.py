"""Shapes every part of the API shares: the error body, health, date and id patterns."""

import re
from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, Field

OID_DESCRIPTION = "Customer identifier: a lowercase hyphenated UUID (or a legacy upper-case id)."


MONTH_PATTERN = r"^(?!0000)[0-9]{4}-(0[1-9]|1[0-2])$"


AMOUNT_PATTERN = r"^-?[0-9]{1,15}(\.[0-9]{1,2})?$"
BLANK = r"\s\x1c-\x1f\x85"
"""What Python's ``str.strip`` removes beyond the JSON Schema's ``\\s``, written for a
character class: a symbol made of these alone is blank to the bank."""


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
    rule: str | None = Field(
        default=None,
        description="Only when one of the bank's rules refused an instruction (422): which, "
        "e.g. insufficient_funds.",
    )


class HealthResponse(BaseModel):
    status: Literal["healthy"]
    service: Literal["dummy-bank-api"]
