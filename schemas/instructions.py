"""Instructions a customer gives the bank (transfers, payments, orders) and what they did.

Amounts are exact decimals with at most two places, sent as JSON numbers or strings; every
body refuses unknown fields. What an instruction did (``effects``) names every statement
row it booked, every balance and holding it left, and what the bank earned on it.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)

from core.money import CURRENCIES, Decimal8, Money

MAX_AMOUNT = Decimal(1_000_000_000)


def _not_a_boolean(value: Any) -> Any:
    if isinstance(value, bool | str):
        raise ValueError("must be a JSON number, not true, false or text")
    return value


NOT_A_BOOLEAN = BeforeValidator(_not_a_boolean)
MAX_ID = 2**53 - 1
"""The largest id the API takes: exact as a JSON number in every client."""

DECIMAL_TEXT = r"^[0-9]{1,10}(\.[0-9]{1,8})?$"
"""An amount or a quantity may come as a JSON string too (exact whatever the client's JSON
library does with numbers): digits, then at most eight decimals."""


def _number_or_text(minimum: str, maximum: int) -> WithJsonSchema:
    return WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "exclusiveMinimum": 0, "maximum": maximum},
                {"type": "string", "pattern": DECIMAL_TEXT},
            ],
            "description": f"A positive number ({minimum}), as a JSON number or string.",
        }
    )


Amount = Annotated[
    Decimal,
    _number_or_text("at most two decimal places, at most 1,000,000,000", 1_000_000_000),
    Field(
        gt=0,
        le=MAX_AMOUNT,
        decimal_places=2,
        allow_inf_nan=False,
        description="A positive amount with at most two decimal places (every currency of "
        "the bank has cents), at most 1,000,000,000.",
        examples=[500],
    ),
]
Quantity = Annotated[
    Decimal,
    _number_or_text("units; decimals as the instrument allows", 1_000_000_000),
    Field(
        gt=0,
        le=Decimal(1_000_000_000),
        decimal_places=8,
        allow_inf_nan=False,
        description="Units of the instrument: whole units for a bond, up to four decimal "
        "places for shares, ETFs and commodities, up to eight for crypto.",
        examples=[10],
    ),
]
AccountId = Annotated[
    int, Field(ge=1, le=MAX_ID, description="One of the customer's accounts."), NOT_A_BOOLEAN
]
"""A JSON ``true`` is no account 1 (a whole number written 2.0 is 2, as JSON Schema says)."""
CurrencyCode = Annotated[
    str,
    StringConstraints(max_length=10),
    Field(
        description=f"ISO 4217 code: {', '.join(CURRENCIES)} (in any case).",
        examples=["EUR"],
        # Documented for clients; checked by the service, which says which codes there are.
        json_schema_extra={
            "pattern": "^("
            + "|".join("".join(f"[{c}{c.lower()}]" for c in code) for code in CURRENCIES)
            + ")$"
        },
    ),
]
Reference = Annotated[
    str,
    StringConstraints(max_length=140),
    Field(description="Free text for the statement, up to 140 visible characters."),
]


class TransferIn(BaseModel):
    """Move money between two of the customer's own accounts (checking, savings, brokerage).

    Across currencies the bank converts at its mid rate of the day less its margin
    (``effects.conversion`` shows both rates). ``amount`` is in ``currency``: the source
    account's (what leaves, the default) or the destination's (what arrives).
    """

    model_config = ConfigDict(extra="forbid")

    from_account_id: AccountId
    to_account_id: AccountId
    amount: Amount
    currency: CurrencyCode | None = None
    reference: Reference | None = None


class PayeeIn(BaseModel):
    """Who is paid: a name and either an IBAN or a US account number with its routing number."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(max_length=200, description="The payee's name, 2 to 70 characters.")]
    iban: Annotated[
        str | None,
        Field(default=None, max_length=50,
              description="An IBAN (spaces allowed), checked by its check digits.",
              examples=["DE89370400440532013000"],
              json_schema_extra={"pattern": r"^[A-Za-z]{2}[0-9]{2}[A-Za-z0-9 ]{10,40}$"}),
    ] = None  # fmt: skip
    account_number: Annotated[
        str | None,
        Field(
            default=None,
            max_length=50,
            description="A US account number, 4 to 17 digits.",
            json_schema_extra={"pattern": r"^\s*[0-9]{4,17}\s*$"},
        ),
    ] = None
    routing_number: Annotated[
        str | None,
        Field(default=None, max_length=50, description="Its ABA routing number (9 digits, "
              "checked by its check digit).", examples=["021000021"],
              json_schema_extra={"pattern": r"^\s*[0-9]{9}\s*$"}),
    ] = None  # fmt: skip


class PaymentIn(BaseModel):
    """Pay someone from a checking account, today or on a later day (then it is scheduled
    and may be cancelled until it runs)."""

    model_config = ConfigDict(extra="forbid")

    from_account_id: AccountId
    amount: Amount
    currency: CurrencyCode | None = Field(
        default=None, description="The account's currency, if given (payments do not convert)."
    )
    payee: PayeeIn
    execute_on: date | None = Field(
        default=None, description="The day to pay: the bank's day (the default) or up to a "
        "year later; never a day already past."
    )  # fmt: skip
    reference: Reference | None = None


class OrderIn(BaseModel):
    """A market order: buy or sell an instrument by quantity or by amount, or close an open
    option position. It fills at the day's close plus (buying) or minus (selling) half the
    spread, with the broker's commission, settled in the brokerage account in the
    instrument's currency (the crypto account for crypto)."""

    model_config = ConfigDict(extra="forbid")

    side: Literal["buy", "sell", "close"] = Field(
        description="buy or sell an instrument; close an open option position."
    )
    symbol: Annotated[str | None, Field(default=None, max_length=16, examples=["AAPL"])] = None
    quantity: Quantity | None = None
    amount: Amount | None = Field(
        default=None, description="Instead of quantity: how much to trade for, in the "
        "instrument's currency, before commission; the quantity is rounded down to what "
        "the instrument allows."
    )  # fmt: skip
    account_id: AccountId | None = Field(
        default=None, description="The brokerage account to settle in; by default the one "
        "holding the instrument, or the customer's in the instrument's currency."
    )  # fmt: skip
    derivative_id: Annotated[
        int | None,
        Field(default=None, ge=1, le=MAX_ID, description="For close: the open position's id."),
        NOT_A_BOOLEAN,
    ] = None

    @model_validator(mode="after")
    def _one_shape(self) -> "OrderIn":
        if self.side == "close":
            given = [n for n in ("symbol", "quantity", "amount", "account_id") if getattr(self, n)]
            if self.derivative_id is None:
                raise ValueError("derivative_id: required to close a position")
            if given:
                raise ValueError(f"{given[0]}: not allowed when closing a position")
            return self
        if self.derivative_id is not None:
            raise ValueError("derivative_id: only for side 'close'")
        if not self.symbol:
            raise ValueError("symbol: required to buy or sell")
        if (self.quantity is None) == (self.amount is None):
            raise ValueError("quantity, amount: give exactly one of them")
        return self


class BookedRow(BaseModel):
    transaction_id: int
    account_id: int
    transaction_type: str
    description: str
    amount: Money
    currency: str


class BalanceAfter(BaseModel):
    account_id: int
    currency: str
    balance: Money = Field(description="The account's balance after the instruction.")


class HoldingAfter(BaseModel):
    symbol: str
    account_id: int
    quantity_before: Decimal8
    quantity_after: Decimal8 = Field(description="0 when the position was sold out.")


class IncomeOut(BaseModel):
    kind: str = Field(description="fee, fx_spread or dealing_spread.")
    amount: Money
    currency: str


class Conversion(BaseModel):
    from_currency: str
    to_currency: str
    mid_rate: Decimal8 = Field(description="Units of to_currency per unit of from_currency.")
    rate: Decimal8 = Field(description="The customer's rate: the mid rate less the margin.")
    margin: Decimal8
    sent: Money
    received: Money


class Fill(BaseModel):
    symbol: str
    side: str
    quantity: Decimal8
    close: Decimal8 = Field(description="The day's close the fill is measured against.")
    price: Decimal8 = Field(description="The fill: the close plus or minus half the spread.")
    gross: Money
    commission: Money
    currency: str


class PositionClosed(BaseModel):
    derivative_id: int
    units: int
    model_value: Decimal8 = Field(description="One unit's Black-Scholes value at the close.")
    price: Decimal8 = Field(description="One unit's fill: the model value less (or plus) half "
                            "the option spread.")  # fmt: skip
    commission: Money
    currency: str


class RefusalOut(BaseModel):
    """Why a scheduled payment was not made on its day."""

    rule: str = Field(description="The rule it broke, e.g. insufficient_funds.")
    detail: str
    refused_on: date


class Effects(BaseModel):
    transactions: list[BookedRow] = Field(default_factory=list)
    balances: list[BalanceAfter] = Field(default_factory=list)
    holdings: list[HoldingAfter] = Field(default_factory=list)
    bank_income: list[IncomeOut] = Field(default_factory=list)
    conversion: Conversion | None = None
    fill: Fill | None = None
    position: PositionClosed | None = None
    refusal: RefusalOut | None = None


class InstructionOut(BaseModel):
    instruction_id: int
    customer_oid: str
    kind: Literal["transfer", "payment", "order"]
    status: Literal["executed", "scheduled", "cancelled", "refused"] = Field(
        description="refused: a scheduled payment the bank could not make on its day "
        "(effects.refusal says why; nothing was booked)."
    )
    created_at: datetime
    booked_on: date = Field(description="The bank's day when it was accepted.")
    execute_on: date
    details: dict[str, Any] = Field(description="The instruction as accepted, every field "
                                    "resolved (accounts, currency, payee).")  # fmt: skip
    effects: Effects = Field(description="What it did; empty while scheduled or cancelled.")


class InstructionsPage(BaseModel):
    instructions: list[InstructionOut] = Field(description="Newest first, at most limit.")
    total: int = Field(description="How many match, shown or not.")


class Payee(BaseModel):
    name: str
    category: str | None = Field(description="What the customer pays them for, e.g. utilities.")
    currency: str
    iban: str | None
    account_number: str | None
    routing_number: str | None
    last_paid_on: date
    last_amount: Money
    payments: int = Field(description="How many times the statement shows them paid.")


class PayeesSection(BaseModel):
    customer_oid: str
    payees: list[Payee]
