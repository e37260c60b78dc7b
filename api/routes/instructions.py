"""Instruction routes: transfers, payments (with cancelling), orders, the customer's
instructions and payees. Each POST takes an optional ``Idempotency-Key`` header."""

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Path, Query, status

from api.http_errors import INVALID_OID, UNKNOWN_CUSTOMER, error_responses
from api.params import CustomerOid
from core.errors import Forbidden
from db import DatabaseDep
from schemas.instructions import (
    MAX_ID,
    InstructionOut,
    InstructionsPage,
    OrderIn,
    PayeesSection,
    PaymentIn,
    TransferIn,
)
from services import idempotency, instructions, orders, payees

WRITES_REFUSED = (
    'This sandbox was created without writes: create one with "allow_writes": true '
    "to give instructions in it"
)


def writes_allowed(database: DatabaseDep) -> None:
    """A sandbox takes instructions only if it was created to (``allow_writes``)."""
    if database.allow_writes is False:
        raise Forbidden(WRITES_REFUSED)


Limit = Annotated[
    int, Query(ge=1, le=1000, description="The newest this many (1 to 1000); total counts all.")
]

router = APIRouter(tags=["instructions"])
writing = APIRouter(tags=["instructions"], dependencies=[Depends(writes_allowed)])

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        json_schema_extra={"minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
        description="Any unique string up to 255 visible ASCII characters (a UUID, say): a "
        "retry with the same key and body gets the first answer back, and nothing happens "
        "twice; the same key with another body is refused (422). Kept 48 hours per customer.",
    ),
]

REFUSALS = (
    "A bank rule refused it, and nothing changed: `rule` names which (insufficient_funds, "
    "insufficient_holdings, daily_limit, unknown_account, account_closed, wrong_account_kind, "
    "date_in_past, market_closed, ...); or the Idempotency-Key was used for another "
    "instruction (idempotency_key_reused)."
)
WRITE_ERRORS = error_responses(
    e400="A malformed body, an unknown field, a bad amount, IBAN or routing number (detail "
    "names the field), or a malformed Idempotency-Key.",
    e403="A sandbox created without writes, or a read-only API key.",
    e404=UNKNOWN_CUSTOMER,
    e422=REFUSALS,
)


def _retry(
    key: str | None, action: str, oid: str, body: TransferIn | PaymentIn | OrderIn
) -> idempotency.Retry | None:
    checked = idempotency.checked_key(key)
    if checked is None:
        return None
    return idempotency.Retry(checked, idempotency.fingerprint(action, oid, body))


@writing.post(
    "/customer/{customer_oid}/transfers",
    summary="Move money between two of the customer's accounts",
    status_code=status.HTTP_201_CREATED,
    responses=WRITE_ERRORS,
)
async def create_transfer(
    customer_oid: CustomerOid,
    body: TransferIn,
    database: DatabaseDep,
    idempotency_key: IdempotencyKey = None,
) -> InstructionOut:
    """Executed at once on the bank's day. Across currencies the bank converts at its mid
    rate less its margin (`effects.conversion`), and books the margin as its income."""
    retry = _retry(idempotency_key, "transfer", customer_oid, body)
    return await database.run(
        lambda session: instructions.transfer(session, customer_oid, body, retry), write=True
    )


@writing.post(
    "/customer/{customer_oid}/payments",
    summary="Pay someone, today or on a later day",
    status_code=status.HTTP_201_CREATED,
    responses=WRITE_ERRORS,
)
async def create_payment(
    customer_oid: CustomerOid,
    body: PaymentIn,
    database: DatabaseDep,
    idempotency_key: IdempotencyKey = None,
) -> InstructionOut:
    """From a checking account, to a payee named with an IBAN or a US account and routing
    number (both checked by their check digits). Dated today it is executed at once;
    dated later it is `scheduled` and may be cancelled until then."""
    retry = _retry(idempotency_key, "payment", customer_oid, body)
    return await database.run(
        lambda session: instructions.pay(session, customer_oid, body, retry), write=True
    )


@router.get(
    "/customer/{customer_oid}/payments",
    summary="The customer's payments, newest first",
    responses=error_responses(e400=INVALID_OID, e404=UNKNOWN_CUSTOMER),
)
async def list_payments(
    customer_oid: CustomerOid,
    database: DatabaseDep,
    status: Annotated[
        Literal["executed", "scheduled", "cancelled", "refused"] | None,
        Query(description="Only payments in this state."),
    ] = None,
    limit: Limit = 100,
) -> InstructionsPage:
    return await database.run(
        lambda session: instructions.list_instructions(
            session, customer_oid, "payment", status, limit
        )
    )


@writing.delete(
    "/customer/{customer_oid}/payments/{payment_id}",
    summary="Cancel a scheduled payment",
    responses=error_responses(
        e400=INVALID_OID,
        e403="A sandbox created without writes, or a read-only API key.",
        e404="No such payment for this customer.",
        e422="The payment was already executed (rule already_executed).",
    ),
)
async def cancel_payment(
    customer_oid: CustomerOid,
    payment_id: Annotated[int, Path(ge=1, le=MAX_ID, description="The payment's instruction_id.")],
    database: DatabaseDep,
) -> InstructionOut:
    """A scheduled payment becomes `cancelled`; cancelling it again answers the same."""
    return await database.run(
        lambda session: instructions.cancel_payment(session, customer_oid, payment_id), write=True
    )


@writing.post(
    "/customer/{customer_oid}/orders",
    summary="Buy or sell an instrument, or close an option position",
    status_code=status.HTTP_201_CREATED,
    responses=WRITE_ERRORS,
)
async def create_order(
    customer_oid: CustomerOid,
    body: OrderIn,
    database: DatabaseDep,
    idempotency_key: IdempotencyKey = None,
) -> InstructionOut:
    """A market order filled at the bank's day's close plus (buying) or minus (selling) half
    the spread, with the broker's commission; cash moves in the brokerage account in the
    instrument's currency. `side: close` closes an open option at its model value less (or
    plus) half the option spread."""
    retry = _retry(idempotency_key, "order", customer_oid, body)
    return await database.run(
        lambda session: orders.place_order(session, customer_oid, body, retry), write=True
    )


@router.get(
    "/customer/{customer_oid}/instructions",
    summary="Everything the customer instructed, newest first",
    responses=error_responses(e400=INVALID_OID, e404=UNKNOWN_CUSTOMER),
)
async def list_instructions(
    customer_oid: CustomerOid,
    database: DatabaseDep,
    kind: Annotated[
        Literal["transfer", "payment", "order"] | None, Query(description="Only this kind.")
    ] = None,
    status: Annotated[
        Literal["executed", "scheduled", "cancelled", "refused"] | None,
        Query(description="Only this state."),
    ] = None,
    limit: Limit = 100,
) -> InstructionsPage:
    return await database.run(
        lambda session: instructions.list_instructions(session, customer_oid, kind, status, limit)
    )


@router.get(
    "/customer/{customer_oid}/instructions/{instruction_id}",
    summary="One instruction and its effects",
    responses=error_responses(e400=INVALID_OID, e404="No such instruction for this customer."),
)
async def read_instruction(
    customer_oid: CustomerOid,
    instruction_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    database: DatabaseDep,
) -> InstructionOut:
    return await database.run(
        lambda session: instructions.read_instruction(session, customer_oid, instruction_id)
    )


@router.get(
    "/customer/{customer_oid}/payees",
    summary="Whom the customer pays, with their accounts",
    responses=error_responses(e400=INVALID_OID, e404=UNKNOWN_CUSTOMER),
)
async def list_payees(customer_oid: CustomerOid, database: DatabaseDep) -> PayeesSection:
    """The billers, landlords and others the statement shows paid by ACH, wire or online
    transfer, and the payees of the customer's payments, with the account each is paid
    into: what a payment to them needs."""
    return await database.run(lambda session: payees.list_payees(session, customer_oid))
