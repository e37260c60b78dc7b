"""Customers as the API shows them: the list, registration (with an optional profile, see
``profiles``), deletion, existence."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from core.identifiers import CUSTOMER_OID_EXAMPLE, OID_PATTERN
from schemas.common import OID_DESCRIPTION
from schemas.profiles import ProfileIn


class CustomerOut(BaseModel):
    customer_oid: str = Field(description=OID_DESCRIPTION, examples=[CUSTOMER_OID_EXAMPLE])
    name: str = Field(description="The customer's full name or company name.")


class RegisterCustomerRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"name": "New Customer"}]},
    )

    name: str = Field(
        description="Full name or company name: 2 to 100 characters after trimming, counted "
        "as a reader sees them (a letter with its accents, or a whole emoji, is one); no "
        "control, invisible or bidirectional characters; each word in one script.",
        # Documented, not enforced here: the service's own check gives the clearer 400.
        json_schema_extra={"minLength": 2},
    )
    customer_oid: str | None = Field(
        default=None,
        description="Optional UUID for the new customer, in any common spelling; "
        "one is generated when it is absent.",
        json_schema_extra={"pattern": OID_PATTERN},
    )
    profile: ProfileIn | None = Field(
        default=None,
        description="Optional: what the customer declares about itself (date of birth or "
        "founding date, contact, risk tolerance, experience, goals, horizon, preferences). "
        "Each field is checked; one that breaks a rule is a 400 naming it, and nothing is "
        "registered.",
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


class UserOut(BaseModel):
    name: str
    customer_oid: str


class CustomersPage(BaseModel):
    customers: list[CustomerOut] = Field(description="This page, oldest registration first.")
    total: int = Field(description="How many customers match, on all pages.")
    remaining: int = Field(description="How many matching customers come after this page.")
    next_cursor: str | None = Field(
        description="Pass as cursor, with the same name filter, for the next page; null at the end."
    )
