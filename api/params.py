"""Request parameters that REST routes and MCP tools share: one declaration, one default.

REST reads them from the path and query string, MCP from tool arguments; the
descriptions, bounds and defaults below are what both document and enforce.
"""

from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import Path, Query
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from core.identifiers import OID_PATTERN
from core.money import CURRENCIES
from models import TransactionType
from schemas.common import AMOUNT_PATTERN, BLANK, IsoDate
from services.records import TransactionFilter

CURRENCY_DESCRIPTION = (
    "Base currency (ISO 4217) for converted figures: "
    f"{CURRENCIES[0]} (default), {', '.join(CURRENCIES[1:-1])}"
    f"{' or ' if len(CURRENCIES) > 2 else ''}{CURRENCIES[-1]}."
)
CURRENCY_PATTERN = (
    r"^\s*("
    + "|".join("".join(f"[{c.lower()}{c}]" for c in code) for code in CURRENCIES)
    + r")\s*$"
)
"""The codes in any case, around spaces: what the service accepts, for the schema."""

Currency = Annotated[
    str | None,
    Query(
        max_length=10,
        description=CURRENCY_DESCRIPTION,
        json_schema_extra={"pattern": CURRENCY_PATTERN},
    ),
]
CurrencyArg = Annotated[
    str | None,
    Field(
        max_length=10,
        description=CURRENCY_DESCRIPTION,
        # The codes as a model writes them; the service also takes them in any case.
        json_schema_extra={"enum": list(CURRENCIES)},
    ),
]

Symbols = Annotated[
    str | None,
    Query(
        max_length=1000,
        description="Comma-separated symbols, e.g. AAPL,BTC; every instrument when absent.",
        # At least one symbol: empty items are skipped, none at all is a 400.
        json_schema_extra={"pattern": f"^[{BLANK},]*[^{BLANK},]"},
    ),
]

OID_PARAMETER_DESCRIPTION = (
    "The customer's id (CustomerOID). Accepted forms, all naming the same customer:\n\n"
    "- a UUID, canonically lowercase and hyphenated: `550e8400-e29b-41d4-a716-446655440001`;\n"
    "- the same UUID in upper case, without hyphens, in braces (`{...}`) or as "
    "`urn:uuid:...`;\n"
    "- a legacy id of 8 to 36 upper-case letters, digits and hyphens: `CUST0001`.\n\n"
    "Spaces around it are ignored; answers carry the canonical form. Anything else is a 400 "
    "that shows the expected format. (The pattern below says the same as a regular expression.)"
)
"""The rule in words: ReDoc shows the pattern as it is, which nobody reads."""

CustomerOid = Annotated[
    str,
    Path(
        description=OID_PARAMETER_DESCRIPTION,
        examples=["550e8400-e29b-41d4-a716-446655440001"],  # John Doe, a sample customer
        # Documented, not enforced here: the service's own check gives the clearer 400.
        json_schema_extra={"pattern": OID_PATTERN},
    ),
]


CURSOR_SCHEMA = {"pattern": r"^[A-Za-z0-9_-]+$", "minLength": 20}
"""What a cursor looks like (URL-safe base64 of a signed position); only a cursor this API
issued is accepted, which no schema can say."""


def _amount_text(value: object) -> object:
    # MCP clients send amounts as JSON numbers; the query string sends text. Both end as text
    # checked against one pattern, so 1e-5 or 0.001 is refused the same way everywhere.
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    return value


AmountText = Annotated[
    str, StringConstraints(pattern=AMOUNT_PATTERN), BeforeValidator(_amount_text)
]


DateFrom = Annotated[IsoDate | None, Field(description="First date included (YYYY-MM-DD).")]
DateTo = Annotated[IsoDate | None, Field(description="Last date included (YYYY-MM-DD).")]
TypeFilter = Annotated[TransactionType | None, Field(description="Only this type.")]
SymbolFilter = Annotated[
    str | None, Field(max_length=16, description="Only trades of this symbol.")
]
MinAmount = Annotated[
    AmountText | None,
    Field(description="Smallest signed amount included (negative for outflows), e.g. -100.50."),
]
MaxAmount = Annotated[AmountText | None, Field(description="Largest signed amount included.")]
Order = Annotated[
    Literal["desc", "asc"], Field(description="desc: newest first; asc: oldest first.")
]


class TransactionQuery(BaseModel):
    """Which of a customer's transactions to list; every field narrows the result.

    REST reads it from the query string (``from``, ``to``, ``type``); the MCP tool
    takes the same fields as arguments under their own names.
    """

    model_config = ConfigDict(populate_by_name=True)

    date_from: DateFrom = Field(default=None, alias="from")
    date_to: DateTo = Field(default=None, alias="to")
    transaction_type: TypeFilter = Field(default=None, alias="type")
    symbol: SymbolFilter = None
    min_amount: MinAmount = None
    max_amount: MaxAmount = None
    order: Order = "desc"

    def to_filter(self) -> TransactionFilter:
        return TransactionFilter(
            date_from=self.date_from,
            date_to=self.date_to,
            transaction_type=self.transaction_type.value if self.transaction_type else None,
            symbol=self.symbol,
            min_amount=Decimal(self.min_amount) if self.min_amount is not None else None,
            max_amount=Decimal(self.max_amount) if self.max_amount is not None else None,
        )


def plain_parameters(document: dict[str, Any]) -> None:
    """Each parameter's schema in ``document`` as a reader wants it: an optional parameter
    is one schema and not required (a query string has no null), without pydantic's title or
    a copy of the parameter's description.
    ReDoc showed ``anyOf [string, null]`` as "Cursor (string) or Cursor (null) (Cursor)"."""
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                schema = dict(parameter.get("schema", {}))
                schema.pop("title", None)
                if "description" in schema and schema["description"] == parameter.get(
                    "description"
                ):
                    del schema["description"]  # the parameter's own, shown once
                if schema.get("default", ...) is None:
                    del schema["default"]
                options = schema.get("anyOf")
                if isinstance(options, list) and {"type": "null"} in options:
                    rest = [option for option in options if option != {"type": "null"}]
                    del schema["anyOf"]
                    schema = {**rest[0], **schema} if len(rest) == 1 else {"anyOf": rest, **schema}
                parameter["schema"] = schema
