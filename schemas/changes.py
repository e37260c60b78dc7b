"""The change feed's shapes: the kinds of change, one change, and a page of them.

A change carries ids, not copies: what a client needs to fetch the rows it names (the
transaction, the account, the instruction, the holding's symbol), and the one figure that
says what moved (an amount, a balance, a quantity). Fields that do not apply are null.
"""

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from core.money import Decimal8, Money


class ChangeType(StrEnum):
    """Every kind of change the feed reports. Some are written by parts of the bank still to
    come (a scheduled payment refused on its day, an option expiring, a market day closing,
    a row corrected or taken back); a client should ignore a type it does not know."""

    transaction_added = "transaction.added"
    transaction_modified = "transaction.modified"
    transaction_removed = "transaction.removed"
    balance_changed = "balance.changed"
    holding_changed = "holding.changed"
    instruction_executed = "instruction.executed"
    instruction_scheduled = "instruction.scheduled"
    instruction_refused = "instruction.refused"
    instruction_cancelled = "instruction.cancelled"
    market_day_closed = "market.day_closed"
    option_expired = "option.expired"
    customer_registered = "customer.registered"
    customer_deleted = "customer.deleted"


class ChangeIds(BaseModel):
    """What a change names besides its customer; each write fills in what applies."""

    kind: str | None = Field(
        default=None, description="The instruction's kind: transfer, payment or order."
    )
    instruction_id: int | None = Field(
        default=None,
        description="The instruction that made the change: GET "
        "/customer/{customer_oid}/instructions/{instruction_id}.",
    )
    transaction_id: int | None = Field(
        default=None, description="A statement row, in /customer/{customer_oid}/transactions."
    )
    account_id: int | None = Field(
        default=None, description="An account, in /customer/{customer_oid}/accounts."
    )
    derivative_id: int | None = Field(
        default=None, description="An option or futures position, in .../derivatives."
    )
    symbol: str | None = Field(default=None, description="The instrument of a holding or a row.")
    amount: Money | None = Field(default=None, description="A row's signed amount.")
    balance: Money | None = Field(default=None, description="An account's balance after it.")
    quantity: Decimal8 | None = Field(
        default=None, description="A holding's quantity after it (0: sold out)."
    )
    currency: str | None = Field(default=None, description="Of the amount or the balance.")


class ChangeHead(BaseModel):
    """What every change has."""

    seq: int = Field(
        description="The change's place in the feed: every change has a larger one than all "
        "before it, in the order they were committed."
    )
    type: ChangeType
    occurred_on: date = Field(description="The bank's day it happened on.")
    recorded_at: datetime = Field(description="When it was committed, UTC.")
    customer_oid: str | None = Field(
        description="The customer it concerns; null for a change of the whole bank."
    )
    label: str | None = Field(
        default=None, description="The label of a scripted change; null for the bank's own."
    )


class ChangeOut(ChangeIds, ChangeHead):
    """One change: what every change has, then the ids and figures of its type."""


class ChangesPage(BaseModel):
    changes: list[ChangeOut] = Field(description="Oldest first.")
    next_cursor: str = Field(
        description="Where to read on from: always given, also after an empty page, so a "
        "client polls with it. Pass it back unchanged."
    )
    has_more: bool = Field(
        description="Whether more changes were already there: read on at once if true, "
        "later if false."
    )
