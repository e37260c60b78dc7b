"""The calls that carry a task out: each written once, as the REST request beside the MCP
tool call that does the same (the write tools of ``bank_mcp/instruction_tools.py``)."""

from datetime import date
from decimal import Decimal
from typing import Any

from evals.tasks.schemas import Action
from schemas.instructions import Payee


def _text(value: Decimal) -> str:
    return f"{value.normalize():f}"


def payee_fields(payee: Payee) -> dict[str, str]:
    """The payee as a payment names it: the name and the account the payee list gives."""
    if payee.iban:
        return {"name": payee.name, "iban": payee.iban}
    return {
        "name": payee.name,
        "account_number": payee.account_number or "",
        "routing_number": payee.routing_number or "",
    }


def transfer(
    oid: str, source: int, target: int, amount: Decimal, refused_by: str | None = None
) -> Action:
    body = {"from_account_id": source, "to_account_id": target, "amount": _text(amount)}
    return Action(
        purpose=f"move {_text(amount)} from account {source} to account {target}",
        method="POST",
        path=f"/customer/{oid}/transfers",
        body=body,
        mcp_tool="bank_transfer",
        mcp_arguments={"customer_oid": oid, **body},
        refused_by=refused_by,
    )


def payment(
    oid: str, source: int, amount: Decimal, payee: Payee, execute_on: date | None = None
) -> Action:
    body: dict[str, Any] = {
        "from_account_id": source,
        "amount": _text(amount),
        "payee": payee_fields(payee),
    }
    if execute_on is not None:
        body["execute_on"] = execute_on.isoformat()
    when = f" on {execute_on}" if execute_on else " today"
    return Action(
        purpose=f"pay {_text(amount)} to {payee.name} from account {source}{when}",
        method="POST",
        path=f"/customer/{oid}/payments",
        body=body,
        mcp_tool="bank_pay",
        mcp_arguments={"customer_oid": oid, **body},
    )


def cancel(oid: str, instruction_id: int) -> Action:
    return Action(
        purpose=f"cancel the scheduled payment {instruction_id}",
        method="DELETE",
        path=f"/customer/{oid}/payments/{instruction_id}",
        mcp_tool="bank_cancel_payment",
        mcp_arguments={"customer_oid": oid, "payment_id": instruction_id},
    )


def order(
    oid: str,
    side: str,
    symbol: str,
    *,
    quantity: Decimal | None = None,
    amount: Decimal | None = None,
    refused_by: str | None = None,
) -> Action:
    body: dict[str, Any] = {"side": side, "symbol": symbol}
    if quantity is not None:
        body["quantity"] = _text(quantity)
    if amount is not None:
        body["amount"] = _text(amount)
    size = (
        f"{_text(quantity)} units"
        if quantity is not None
        else f"{_text(amount or Decimal(0))} worth"
    )
    return Action(
        purpose=f"{side} {size} of {symbol}",
        method="POST",
        path=f"/customer/{oid}/orders",
        body=body,
        mcp_tool="bank_order",
        mcp_arguments={"customer_oid": oid, **body},
        refused_by=refused_by,
    )


def close(oid: str, derivative_id: int) -> Action:
    body = {"side": "close", "derivative_id": derivative_id}
    return Action(
        purpose=f"close the option position {derivative_id}",
        method="POST",
        path=f"/customer/{oid}/orders",
        body=body,
        mcp_tool="bank_order",
        mcp_arguments={"customer_oid": oid, **body},
    )
