"""Scheduled payments on their day: made through the instruction machinery, or refused.

A payment dated after the bank's day waits as ``scheduled`` (``services/instructions.py``).
When a sandbox's clock reaches its day, the payment is made as an immediate one would be:
from the same checking account, in the category the customer pays this payee for, checked
against the account's rules and its money (with the overdraft limit) at that moment. If a
rule is broken (the account closed, not enough money), nothing is booked: the payment is
``refused`` and its ``effects.refusal`` names the rule and says why. Its amount already
counted against the daily limit of its day when it was scheduled.
"""

import json
from decimal import Decimal

from sqlmodel import col, select

from core.errors import Refused
from models import AccountType, Instruction, InstructionKind, InstructionStatus
from schemas.instructions import Effects, RefusalOut
from services.day_ledger import DayLedger
from services.effects import INSTRUCTION_EXECUTED, INSTRUCTION_REFUSED, Effect
from services.instructions import Booking, book_payment, own_account, require_funds, write_booking
from services.payees import bill_category

DECLINED = "declined"
"""The rule of a payment a sandbox's script declined (``sandboxes/scripts.py``)."""


def run_scheduled_payments(ledger: DayLedger, declined: set[str] | None = None) -> list[Effect]:
    """Every payment scheduled for the ledger's day (or before), in the order given; those
    of the customers in ``declined`` are refused with the rule ``declined``."""
    due = ledger.session.exec(
        select(Instruction)
        .where(
            Instruction.kind == InstructionKind.payment,
            Instruction.status == InstructionStatus.scheduled,
            Instruction.execute_on <= ledger.day,
        )
        .order_by(col(Instruction.id))
    ).all()
    return [_run(ledger, instruction, declined or set()) for instruction in due]


def _run(ledger: DayLedger, instruction: Instruction, declined: set[str]) -> Effect:
    session, oid = ledger.session, instruction.customer_oid
    details = json.loads(instruction.request)
    amount = Decimal(details["amount"])
    try:
        if oid in declined:
            raise Refused(DECLINED, "payment_id: the bank declined this payment on its day")
        source = own_account(
            session, oid, details["from_account_id"], "from_account_id", (AccountType.checking,)
        )
        require_funds(source, amount, "amount")
    except Refused as refusal:
        instruction.status = InstructionStatus.refused
        instruction.effects = Effects(
            refusal=RefusalOut(rule=refusal.rule, detail=refusal.detail, refused_on=ledger.day)
        ).model_dump_json()
        session.add(instruction)
        return Effect(
            INSTRUCTION_REFUSED,
            oid,
            {"instruction_id": instruction.id, "rule": refusal.rule, "detail": refusal.detail},
        )
    payee = details["payee"]
    booking = Booking(
        oid, InstructionKind.payment, ledger.day, details, execute_on=instruction.execute_on
    )
    category = bill_category(session, oid, payee["name"] or "")
    book_payment(booking, source, amount, payee, details.get("reference"), category)
    instruction.status = InstructionStatus.executed
    write_booking(session, booking, instruction)
    ledger.adopt(booking.rows, booking.touched.values())
    return Effect(
        INSTRUCTION_EXECUTED,
        oid,
        {"instruction_id": instruction.id, "amount": str(amount), "currency": source.currency},
    )
