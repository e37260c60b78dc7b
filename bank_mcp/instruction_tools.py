"""The MCP tools that act: transfer, pay, cancel a payment, place an order; and the two that
read what an agent needs to act (payees, instructions). They call the services the REST
routes call, with the same rules, refusals and idempotency keys.

The write tools are listed and callable where writes are allowed: in a sandbox created with
``allow_writes``, or in the bank when it serves MCP writes (``BANK_MCP_ALLOW_WRITES``).
"""

from datetime import date
from typing import Annotated, Literal

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import Field, Strict, ValidationError

from bank_mcp.tools import (
    READ_ONLY,
    CustomerOidArg,
    ServesBank,
    _money,
    answer,
    describe_argument_errors,
    tool,
    tool_error,
)
from core.errors import BankError
from core.identifiers import parse_customer_oid
from schemas.instructions import (
    MAX_ID,
    NOT_A_BOOLEAN,
    InstructionOut,
    InstructionsPage,
    OrderIn,
    PayeeIn,
    PayeesSection,
    PaymentIn,
    TransferIn,
)
from services import idempotency, instructions, orders, payees
from services.idempotency import Replayed

ACTS = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=False
)

IdempotencyKeyArg = Annotated[
    str | None,
    Field(
        max_length=255,
        description="Optional: any unique string. Send the same key when you retry after an "
        "error or a timeout: the bank then answers as the first time and does nothing twice.",
    ),
]
Number = str | Annotated[float, Strict()]
"""A number or its text; strict, so that ``true`` is not taken for 1."""
Id = Annotated[int, Field(ge=1, le=MAX_ID), NOT_A_BOOLEAN]
AmountArg = Annotated[
    Number,
    Field(description="A positive amount with at most two decimals, e.g. 500 or '1250.50'."),
]


def render(result: InstructionOut) -> str:
    """One line for the instruction, then one per statement row it booked."""
    effects = result.effects
    lines = [f"{result.kind} {result.instruction_id}: {result.status} ({result.execute_on})"]
    for row in effects.transactions:
        lines.append(f"  {row.description}: {_money(row.amount, row.currency)}")
    for balance in effects.balances:
        lines.append(
            f"  account {balance.account_id} now {_money(balance.balance, balance.currency)}"
        )
    for holding in effects.holdings:
        lines.append(f"  {holding.symbol} now {holding.quantity_after.normalize():f}")
    return "\n".join(lines)


async def act(
    ctx: Context,
    action: str,
    customer_oid: str,
    body: TransferIn | PaymentIn | OrderIn,
    key: str | None,
) -> CallToolResult:
    """Run one instruction as REST does; a refusal is a tool error naming its rule, a retry
    with a known key the first answer again."""
    try:
        oid = parse_customer_oid(customer_oid)
        retry = None
        checked = idempotency.checked_key(key)
        if checked is not None:
            retry = idempotency.Retry(checked, idempotency.fingerprint(action, oid, body))
    except BankError as error:
        return tool_error(error.detail)

    def run(session: object) -> InstructionOut:
        if isinstance(body, TransferIn):
            return instructions.transfer(session, oid, body, retry)  # type: ignore[arg-type]
        if isinstance(body, PaymentIn):
            return instructions.pay(session, oid, body, retry)  # type: ignore[arg-type]
        return orders.place_order(session, oid, body, retry)  # type: ignore[arg-type]

    server: ServesBank = ctx.mcp_server  # type: ignore[assignment]
    try:
        result = await server.database().run(run, write=True)
    except Replayed as replay:
        if replay.status_code >= 400:
            return tool_error(
                _refusal_text(str(replay.body.get("detail")), replay.body.get("rule"))
            )
        result = InstructionOut.model_validate(replay.body)
    except BankError as error:
        return tool_error(_refusal_text(error.detail, getattr(error, "rule", None)))
    return CallToolResult(
        content=[TextContent(type="text", text=render(result))],
        structured_content=result.model_dump(mode="json"),
    )


def _refusal_text(detail: str, rule: object) -> str:
    return f"Refused ({rule}): {detail}" if rule else detail


def _body(
    model: type[TransferIn] | type[PaymentIn] | type[OrderIn], **fields: object
) -> TransferIn | PaymentIn | OrderIn | str:
    """The instruction, or the tool error's text naming each bad argument."""
    try:
        return model.model_validate({k: v for k, v in fields.items() if v is not None})
    except ValidationError as error:
        return describe_argument_errors(error)


@tool(
    name="bank_transfer",
    title="Transfer between own accounts",
    annotations=ACTS,
    description="Move money between two of the customer's own accounts (ids from "
    "bank_accounts), at once; across currencies at the mid rate less 0.5%. amount is in the "
    "source account's currency unless currency names the destination's. Refused, the rule "
    "named and nothing changed, when funds or the daily limit do not allow it. Answers the "
    "instruction and its effects, about 1 KB.",
)
async def transfer(
    ctx: Context,
    customer_oid: CustomerOidArg,
    from_account_id: Annotated[Id, Field(description="Account the money leaves.")],
    to_account_id: Annotated[Id, Field(description="Account the money reaches.")],
    amount: AmountArg,
    currency: Annotated[str | None, Field(max_length=3, description="Optional ISO code.")] = None,
    reference: Annotated[str | None, Field(max_length=140)] = None,
    idempotency_key: IdempotencyKeyArg = None,
) -> Annotated[CallToolResult, InstructionOut]:
    body = _body(
        TransferIn,
        from_account_id=from_account_id,
        to_account_id=to_account_id,
        amount=amount,
        currency=currency,
        reference=reference,
    )
    if isinstance(body, str):
        return tool_error(body)
    return await act(ctx, "transfer", customer_oid, body, idempotency_key)


@tool(
    name="bank_pay",
    title="Pay someone",
    annotations=ACTS,
    description="Pay a payee from a checking account: today (executed at once) or on a later "
    "execute_on date (scheduled; cancel with bank_cancel_payment). The payee needs a name and "
    "an iban, or an account_number with a routing_number; bank_payees lists the customer's "
    "payees with theirs. Do not invent account details. About 1 KB.",
)
async def pay(
    ctx: Context,
    customer_oid: CustomerOidArg,
    from_account_id: Annotated[Id, Field(description="A checking account's id.")],
    amount: AmountArg,
    payee: PayeeIn,
    execute_on: Annotated[date | None, Field(description="YYYY-MM-DD; today by default.")] = None,
    reference: Annotated[str | None, Field(max_length=140)] = None,
    idempotency_key: IdempotencyKeyArg = None,
) -> Annotated[CallToolResult, InstructionOut]:
    body = _body(
        PaymentIn,
        from_account_id=from_account_id,
        amount=amount,
        payee=payee.model_dump(exclude_none=True),
        execute_on=execute_on,
        reference=reference,
    )
    if isinstance(body, str):
        return tool_error(body)
    return await act(ctx, "payment", customer_oid, body, idempotency_key)


@tool(
    name="bank_cancel_payment",
    title="Cancel a scheduled payment",
    annotations=ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=True),
    description="Cancel a scheduled payment (payment_id is its instruction_id). An executed "
    "payment cannot be cancelled; a cancelled one stays cancelled.",
)
async def cancel_payment(
    ctx: Context,
    customer_oid: CustomerOidArg,
    payment_id: Id,
) -> Annotated[CallToolResult, InstructionOut]:
    return await answer(
        ctx,
        lambda s: instructions.cancel_payment(s, customer_oid, payment_id),
        render,
        write=True,
    )


@tool(
    name="bank_order",
    title="Buy, sell or close a position",
    annotations=ACTS,
    description="A market order filled at the day's close plus (buy) or minus (sell) half "
    "the spread, with the broker's commission, settled in the brokerage account in the "
    "instrument's currency. Give symbol and either quantity or amount; or side='close' with "
    "derivative_id (from bank_derivatives) to close an open option. About 1 KB.",
)
async def order(
    ctx: Context,
    customer_oid: CustomerOidArg,
    side: Literal["buy", "sell", "close"],
    symbol: Annotated[str | None, Field(max_length=16)] = None,
    quantity: Annotated[Number | None, Field(description="Units, e.g. 10.")] = None,
    amount: Annotated[Number | None, Field(description="Or: how much to trade for.")] = None,
    derivative_id: Id | None = None,
    account_id: Id | None = None,
    idempotency_key: IdempotencyKeyArg = None,
) -> Annotated[CallToolResult, InstructionOut]:
    body = _body(
        OrderIn,
        side=side,
        symbol=symbol,
        quantity=quantity,
        amount=amount,
        derivative_id=derivative_id,
        account_id=account_id,
    )
    if isinstance(body, str):
        return tool_error(body)
    return await act(ctx, "order", customer_oid, body, idempotency_key)


@tool(
    name="bank_payees",
    title="Payees",
    annotations=READ_ONLY,
    description="Whom the customer pays (billers, landlords, suppliers, earlier payments' "
    "payees): category, last amount and date, and the account each is paid into, which is "
    "what bank_pay needs. A payee not listed has no known account. About 0.2 KB a payee.",
)
async def list_payees(
    ctx: Context, customer_oid: CustomerOidArg
) -> Annotated[CallToolResult, PayeesSection]:
    def text(section: PayeesSection) -> str:
        return (
            "\n".join(
                f"{p.name} ({p.category}): last {_money(p.last_amount, p.currency)} "
                f"on {p.last_paid_on}; "
                + (
                    f"IBAN {p.iban}"
                    if p.iban
                    else f"account {p.account_number} routing {p.routing_number}"
                )
                for p in section.payees
            )
            or "No payees."
        )

    return await answer(ctx, lambda s: payees.list_payees(s, customer_oid), text)


@tool(
    name="bank_instructions",
    title="Instructions given",
    annotations=READ_ONLY,
    description="The customer's transfers, payments and orders, newest first, each with its "
    "status and effects (rows booked, balances and holdings after); filter by kind or "
    "status. About 1 KB an instruction.",
)
async def list_instructions(
    ctx: Context,
    customer_oid: CustomerOidArg,
    kind: Literal["transfer", "payment", "order"] | None = None,
    status: Literal["executed", "scheduled", "cancelled", "refused"] | None = None,
) -> Annotated[CallToolResult, InstructionsPage]:
    def text(page: InstructionsPage) -> str:
        if not page.instructions:
            return "No instructions."
        return "\n".join(render(i).splitlines()[0] for i in page.instructions)

    return await answer(
        ctx, lambda s: instructions.list_instructions(s, customer_oid, kind, status), text
    )
