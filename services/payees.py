"""Whom a customer pays: the payees of the statement's ACH, wire and online withdrawals and
of its bills paid by card (the billers, landlords and suppliers of the generated history,
with the account the payee directory gives them), and the payees of the customer's own
payments (with the account the customer paid into)."""

import json

from sqlalchemy import and_, or_
from sqlalchemy import select as sql_select
from sqlmodel import Session, col, select

from core.errors import NotFound
from core.identifiers import parse_customer_oid
from market.payees import payee_account
from models import Customer, Instruction, InstructionKind, Transaction, TransactionType
from schemas.instructions import Payee, PayeesSection

PAID_CHANNELS = ("ach", "wire", "online")
BILLS = (
    "utilities",
    "phone",
    "insurance",
    "subscriptions",
    "rent",
    "mortgage",
    "education",
    "taxes",
)
"""Categories of a bill: a biller paid by card online is a payee too (it could be paid by
bank transfer), a shop is not."""


def bill_category(session: Session, oid: str, name: str) -> str:
    """What the customer paid ``name`` for, as the statement last says; ``transfer`` for a
    payee it never paid."""
    t = Transaction
    found = session.exec(
        select(t.category)
        .where(
            t.customer_oid == oid, t.merchant == name, col(t.category).is_not(None), t.amount < 0
        )
        .order_by(col(t.transaction_date).desc(), col(t.id).desc())
        .limit(1)
    ).first()
    return found or "transfer"


def list_payees(session: Session, raw_oid: str) -> PayeesSection:
    oid = parse_customer_oid(raw_oid)
    if session.exec(select(Customer.id).where(Customer.customer_oid == oid)).first() is None:
        raise NotFound(f"Customer with CustomerOID '{oid}' not found")
    t = Transaction.__table__.c  # type: ignore[attr-defined]
    rows = session.execute(
        sql_select(t.merchant, t.currency, t.transaction_date, t.amount, t.category, t.id)
        .where(
            t.customer_oid == oid,
            or_(
                and_(
                    t.transaction_type == TransactionType.withdrawal,
                    col(t.channel).in_(PAID_CHANNELS),
                ),
                and_(
                    t.transaction_type == TransactionType.card_payment, col(t.category).in_(BILLS)
                ),
            ),
            col(t.merchant).is_not(None),
            t.amount < 0,
        )
        .order_by(t.transaction_date, t.id)
    ).all()
    paid_into = _accounts_paid_by_instruction(session, oid)
    found: dict[tuple[str, str], Payee] = {}
    for merchant, currency, day, amount, category, _ in rows:
        key = (merchant, currency)
        seen = found.get(key)
        if seen is None:
            account = paid_into.get(key) or payee_account(merchant, currency).__dict__
            found[key] = Payee(
                name=merchant,
                category=category,
                currency=currency,
                iban=account.get("iban"),
                account_number=account.get("account_number"),
                routing_number=account.get("routing_number"),
                last_paid_on=day,
                last_amount=-amount,
                payments=1,
            )
        else:
            seen.last_paid_on, seen.last_amount = day, -amount
            seen.payments += 1
            seen.category = category or seen.category
    payees = sorted(found.values(), key=lambda p: (p.name.casefold(), p.currency))
    return PayeesSection(customer_oid=oid, payees=payees)


def _accounts_paid_by_instruction(
    session: Session, oid: str
) -> dict[tuple[str, str], dict[str, str | None]]:
    latest = session.exec(
        select(Instruction.request)
        .where(Instruction.customer_oid == oid, Instruction.kind == InstructionKind.payment)
        .order_by(col(Instruction.id))
    ).all()
    accounts: dict[tuple[str, str], dict[str, str | None]] = {}
    for text in latest:
        details = json.loads(text)
        payee = details.get("payee") or {}
        accounts[(str(payee.get("name", ""))[:100], str(details.get("currency", "")))] = payee
    return accounts
