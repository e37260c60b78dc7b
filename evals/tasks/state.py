"""The rows grading compares, read straight from the tables: the tasks' customers in full
(accounts, holdings, positions, instructions), and everyone else as a fingerprint cheap
enough to take of any bank (row counts, last ids, each customer's sums).

A task set keeps both as they were when it was drawn; grading reads them again and says
what moved.
"""

import json
from collections import defaultdict
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import Table, func, select
from sqlmodel import Session

from models import Asset, BankAccount, Customer, DerivativeTransaction, Instruction, Transaction


def table(model: type) -> Table:
    found: Table = model.__table__  # type: ignore[attr-defined]
    return found


class AccountState(BaseModel):
    currency: str
    balance: Decimal
    status: str


class CustomerState(BaseModel):
    """One customer's rows that an instruction can change."""

    accounts: dict[str, AccountState]
    holdings: dict[str, Decimal]
    """Quantity by symbol, over all the customer's accounts."""
    positions: dict[str, str]
    """Status by derivative id."""
    instructions: dict[str, str]
    """Status by instruction id."""
    transactions: int
    last_transaction: int


class CustomerSums(BaseModel):
    """One customer as the fingerprint sees it."""

    accounts: dict[str, Decimal] = Field(default_factory=dict)
    """Balance by account id."""
    holdings: dict[str, Decimal] = Field(default_factory=dict)
    """Quantity by symbol."""
    positions: str = ""
    """How many positions in each status."""
    instructions: str = ""
    """How many instructions in each status."""


class Fingerprint(BaseModel):
    """The whole bank, cheaply (two small tables in full, two counted, and the statement's
    size): enough to tell whether anyone else's rows moved, and whose."""

    transactions: int
    last_transaction: int
    customers: dict[str, CustomerSums]


class NewInstruction(BaseModel):
    id: int
    kind: str
    status: str
    details: dict[str, Any]


def read_customers(session: Session, oids: list[str]) -> dict[str, CustomerState]:
    """The state of each customer that is still there."""
    return {oid: found for oid in oids if (found := read_customer(session, oid)) is not None}


def read_customer(session: Session, oid: str) -> CustomerState | None:
    execute = session.execute
    users = table(Customer)
    if execute(select(users.c.id).where(users.c.customer_oid == oid)).first() is None:
        return None
    a = table(BankAccount)
    accounts = {
        str(row.id): AccountState(currency=row.currency, balance=row.balance, status=row.status)
        for row in execute(
            select(a.c.id, a.c.currency, a.c.balance, a.c.status).where(a.c.customer_oid == oid)
        )
    }
    s = table(Asset)
    holdings: dict[str, Decimal] = defaultdict(Decimal)
    for symbol, quantity in execute(
        select(s.c.symbol, s.c.quantity).where(s.c.customer_oid == oid)
    ):
        holdings[symbol] += quantity
    d = table(DerivativeTransaction)
    positions = {
        str(row.id): row.status
        for row in execute(select(d.c.id, d.c.status).where(d.c.customer_oid == oid))
    }
    i = table(Instruction)
    instructions = {
        str(row.id): row.status
        for row in execute(select(i.c.id, i.c.status).where(i.c.customer_oid == oid))
    }
    t = table(Transaction)
    count, last = execute(
        select(func.count(), func.coalesce(func.max(t.c.id), 0)).where(t.c.customer_oid == oid)
    ).one()
    return CustomerState(
        accounts=accounts,
        holdings={symbol: quantity for symbol, quantity in holdings.items() if quantity},
        positions=positions,
        instructions=instructions,
        transactions=count,
        last_transaction=last,
    )


def read_fingerprint(session: Session) -> Fingerprint:
    execute = session.execute
    users = table(Customer)
    customers = {
        oid: CustomerSums() for (oid,) in execute(select(users.c.customer_oid).order_by(users.c.id))
    }
    a = table(BankAccount)
    for account_id, oid, balance in execute(
        select(a.c.id, a.c.customer_oid, a.c.balance).order_by(a.c.id)
    ):
        customers.setdefault(oid, CustomerSums()).accounts[str(account_id)] = balance
    s = table(Asset)
    for oid, symbol, quantity in execute(
        select(s.c.customer_oid, s.c.symbol, s.c.quantity).order_by(s.c.id)
    ):
        held = customers.setdefault(oid, CustomerSums()).holdings
        held[symbol] = held.get(symbol, Decimal(0)) + quantity
    d, i = table(DerivativeTransaction), table(Instruction)
    for name, rows in (("positions", d), ("instructions", i)):
        counted: dict[str, list[str]] = defaultdict(list)
        for oid, status, count in execute(
            select(rows.c.customer_oid, rows.c.status, func.count())
            .group_by(rows.c.customer_oid, rows.c.status)
            .order_by(rows.c.customer_oid, rows.c.status)
        ):
            counted[oid].append(f"{count} {status}")
        for oid, parts in counted.items():
            setattr(customers.setdefault(oid, CustomerSums()), name, ", ".join(parts))
    t = table(Transaction)
    transactions, last_transaction = execute(
        select(func.count(), func.coalesce(func.max(t.c.id), 0)).select_from(t)
    ).one()
    return Fingerprint(
        transactions=transactions, last_transaction=last_transaction, customers=customers
    )


def read_new_instructions(session: Session, oid: str, known: set[str]) -> list[NewInstruction]:
    """The customer's instructions whose ids are not in ``known``, oldest first."""
    i = table(Instruction)
    rows = session.execute(
        select(i.c.id, i.c.kind, i.c.status, i.c.request)
        .where(i.c.customer_oid == oid)
        .order_by(i.c.id)
    )
    return [
        NewInstruction(id=row.id, kind=row.kind, status=row.status, details=json.loads(row.request))
        for row in rows
        if str(row.id) not in known
    ]


def rows_booked_since(session: Session, last_id: int) -> dict[str, int]:
    """Statement rows booked after ``last_id``, counted by customer."""
    t = table(Transaction)
    rows = session.execute(
        select(t.c.customer_oid, func.count()).where(t.c.id > last_id).group_by(t.c.customer_oid)
    )
    return {str(oid): int(count) for oid, count in rows}
