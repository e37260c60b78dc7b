"""Instructions: transfers and payments, and what every instruction shares (the bank's day,
the customer's lock, the accounts' rules, the daily limit, booking, reading them back).

Every instruction is one transaction: it first checks every rule (``Refused`` names the one
broken, and nothing has been written), then books its statement rows, moves the balances
and holdings they belong to, records what the bank earned, and logs the change, so that a
reader sees all of it or none. Writers for one customer queue on the customer's row
(``SELECT ... FOR UPDATE`` on PostgreSQL, the write lock on SQLite): two instructions never
both spend the same money.

The ledger adds up: for every instruction, what left the customer's accounts equals what
reached them, plus what was sent on the customer's order (a payment, a fill valued at the
close), plus the bank's income (fees, its FX margin, its dealing spread).
"""

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_DOWN, Decimal
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from core.errors import InvalidInput, NotFound, Refused
from core.identifiers import is_valid_iban, is_valid_routing_number, parse_customer_oid
from core.money import CENT, CURRENCIES, PRICE_SCALE, to_cents
from core.names import clean_name
from db import begin_write
from market.trading import FX_MARGIN, customer_rate
from models import (
    AccountStatus,
    AccountType,
    BankAccount,
    BankIncome,
    Customer,
    CustomerProfile,
    Institution,
    Instruction,
    InstructionKind,
    InstructionStatus,
    Transaction,
    TransactionType,
)
from schemas.changes import ChangeIds, ChangeType
from schemas.instructions import (
    BalanceAfter,
    BookedRow,
    Conversion,
    Effects,
    IncomeOut,
    InstructionOut,
    InstructionsPage,
    PaymentIn,
    TransferIn,
)
from services.books import keep_book
from services.changes import record_change
from services.events import Event, record_events
from services.idempotency import Retry, keep, replay_if_known
from services.kept import keep_summary
from services.market import MarketSnapshot, market_snapshot
from services.payees import bill_category

DAILY_LIMIT_USD = {"person": Decimal(50_000), "company": Decimal(1_000_000)}
"""What transfers and payments of one customer may add up to on one day, in US dollars at
the mid rate: a person's and a company's (a customer without a profile is a person)."""

LONGEST_SCHEDULE = timedelta(days=366)
"""How far ahead a payment may be dated."""

TRANSFER_ACCOUNTS = (AccountType.checking, AccountType.savings, AccountType.brokerage)
PRICE_PLACES = Decimal(1).scaleb(-PRICE_SCALE)


@dataclass
class Booking:
    """What an instruction will write, built before anything is written."""

    customer_oid: str
    kind: InstructionKind
    day: date
    details: dict[str, object]
    execute_on: date | None = None
    counted_usd: Decimal = Decimal(0)
    rows: list[Transaction] = field(default_factory=list)
    income: list[BankIncome] = field(default_factory=list)
    effects: Effects = field(default_factory=Effects)
    touched: dict[int, BankAccount] = field(default_factory=dict)

    def post(self, account: BankAccount, amount: Decimal, **row: Any) -> None:
        """A statement row on ``account`` for the bank's day; the balance moves with it."""
        self.touched[account.id or 0] = account
        account.balance += amount
        self.rows.append(
            Transaction(
                customer_oid=self.customer_oid,
                account_id=account.id,
                transaction_date=self.day,
                amount=amount,
                currency=account.currency,
                booking_date=self.day,
                value_date=row.pop("value_date", self.day),
                **row,
            )
        )

    def earn(self, kind: str, amount: Decimal, currency: str) -> None:
        if amount:
            self.income.append(
                BankIncome(instruction_id=0, kind=kind, amount=amount, currency=currency)
            )


def bank_day(session: Session) -> date:
    """The bank's business day: the market's last close."""
    return market_snapshot(session).as_of


def lock_customer(session: Session, raw_oid: str) -> str:
    """Start the instruction's write and queue behind any other for this customer."""
    oid = parse_customer_oid(raw_oid)
    begin_write(session)
    users = Customer.__table__.c  # type: ignore[attr-defined]
    statement = select(users.id).where(users.customer_oid == oid)
    if session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update()
    if session.execute(statement).first() is None:
        session.rollback()
        raise NotFound(f"Customer with CustomerOID '{oid}' not found")
    return oid


def own_account(
    session: Session, oid: str, account_id: int, field_name: str, kinds: Sequence[str] | None = None
) -> BankAccount:
    """One of the customer's open accounts, of one of ``kinds``; ``Refused`` otherwise (an
    account of someone else is refused as one that does not exist: it tells nothing)."""
    account = session.get(BankAccount, account_id)
    if account is None or account.customer_oid != oid:
        raise Refused(
            "unknown_account",
            f"{field_name}: account {account_id} is not one of this customer's accounts",
        )
    if account.status != AccountStatus.open:
        raise Refused("account_closed", f"{field_name}: account {account_id} is closed")
    if kinds is not None and account.account_type not in kinds:
        allowed = ", ".join(kinds)
        raise Refused(
            "wrong_account_kind",
            f"{field_name}: account {account_id} is a {account.account_type} account; "
            f"this instruction needs a {allowed} account",
        )
    return account


def require_funds(account: BankAccount, debit: Decimal, field_name: str) -> None:
    """``debit`` may leave the account only down to minus its overdraft limit (a debit of
    zero or less takes nothing: it is never refused)."""
    available = account.balance + account.overdraft_limit
    if debit > 0 and debit > available:
        limit = (
            f" (with its overdraft limit of {account.overdraft_limit:,.2f})"
            if account.overdraft_limit
            else ""
        )
        raise Refused(
            "insufficient_funds",
            f"{field_name}: account {account.id} has {max(available, Decimal(0)):,.2f} "
            f"{account.currency} available{limit}; this needs {debit:,.2f}",
        )


def usd_value(market: MarketSnapshot, amount: Decimal, currency: str, day: date) -> Decimal:
    rate = market.usd_per_unit[currency].on_or_before(day) if currency != "USD" else Decimal(1)
    if rate is None:
        raise Refused("no_rate", f"currency: the bank has no {currency} rate on {day}")
    return to_cents(amount * rate)


def require_within_limit(session: Session, oid: str, day: date, counted: Decimal) -> None:
    kind = session.exec(
        select(CustomerProfile.kind).where(CustomerProfile.customer_oid == oid)
    ).first()
    limit = DAILY_LIMIT_USD.get(kind or "person", DAILY_LIMIT_USD["person"])
    used = session.exec(
        select(func.coalesce(func.sum(col(Instruction.counted_usd)), 0)).where(
            Instruction.customer_oid == oid,
            Instruction.execute_on == day,
            col(Instruction.status).not_in(
                (InstructionStatus.cancelled, InstructionStatus.refused)
            ),
        )
    ).one()
    used = Decimal(used)
    if used + counted > limit:
        raise Refused(
            "daily_limit",
            f"amount: transfers and payments on {day} would add up to {used + counted:,.2f} USD, "
            f"over the daily limit of {limit:,.2f} USD ({used:,.2f} already used)",
        )


def check_currency(
    given: str | None, allowed: Sequence[str], field_name: str = "currency"
) -> str | None:
    if given is None:
        return None
    code = given.strip().upper()
    if code not in CURRENCIES:
        raise InvalidInput(
            f"{field_name}: '{given[:10]}' is not a currency of the bank ({', '.join(CURRENCIES)})"
        )
    if code not in allowed:
        raise Refused(
            "wrong_currency",
            f"{field_name}: '{given}' is not {' or '.join(allowed)}, the currency of the accounts",
        )
    return code


Plan = Callable[[str], tuple[Booking, InstructionStatus]]
"""Checks every rule for the customer (``Refused`` names the first broken) and says what to
write, writing nothing itself."""


def run_instruction(
    session: Session, raw_oid: str, retry: Retry | None, plan: Plan
) -> InstructionOut:
    """One instruction, whole or not at all: the customer's lock, the idempotency key, the
    plan, then every row at once. A refusal sent with a key is kept as its answer."""
    oid = lock_customer(session, raw_oid)
    try:
        if retry is not None:
            replay_if_known(session, oid, retry)
        booking, status = plan(oid)
    except Refused as refusal:
        session.rollback()
        if retry is not None:
            keep_refusal(session, oid, retry, refusal)
        raise
    except BaseException:
        session.rollback()
        raise
    return finish(session, booking, status, retry)


def keep_refusal(session: Session, oid: str, retry: Retry, refusal: Refused) -> None:
    """Keep ``refusal`` as the answer to the key. The rollback let the customer's lock go,
    and a request racing with the same key may have kept its answer since: that first
    answer stands (``Replayed``), as it would for any later retry."""
    lock_customer(session, oid)
    replay_if_known(session, oid, retry)
    keep(session, oid, retry, refusal.status_code, {"detail": refusal.detail, "rule": refusal.rule})
    session.commit()


def finish(
    session: Session, booking: Booking, status: InstructionStatus, retry: Retry | None = None
) -> InstructionOut:
    """Write the instruction, its rows, balances and income; log the change; commit."""
    instruction = Instruction(
        customer_oid=booking.customer_oid,
        kind=booking.kind,
        status=status,
        booked_on=booking.day,
        execute_on=booking.execute_on or booking.day,
        counted_usd=booking.counted_usd,
        request=json.dumps(booking.details, default=str, sort_keys=True),
    )
    session.add(instruction)
    session.flush()
    write_booking(session, booking, instruction)
    keep_book(session, booking.customer_oid)
    keep_summary(session, booking.customer_oid)
    record_change(session, booking.customer_oid)
    answer = instruction_out(instruction)
    if retry is not None:
        keep(session, booking.customer_oid, retry, 201, answer.model_dump(mode="json"))
    record_events(session, booked_events(booking, instruction, status))
    session.commit()
    return answer


def write_booking(session: Session, booking: Booking, instruction: Instruction) -> None:
    """The booking's rows, balances and income for ``instruction`` (already flushed), and
    what they did as its ``effects``; the caller keeps the books and logs the change."""
    for row in booking.rows:
        row.instruction_id = instruction.id
        session.add(row)
    for earned in booking.income:
        earned.instruction_id = instruction.id or 0
        session.add(earned)
    for account in booking.touched.values():
        session.add(account)
    session.flush()
    effects = booking.effects
    effects.transactions = [
        BookedRow(
            transaction_id=row.id or 0,
            account_id=row.account_id or 0,
            transaction_type=row.transaction_type,
            description=row.description,
            amount=row.amount,
            currency=row.currency,
        )
        for row in booking.rows
    ]
    effects.balances = [
        BalanceAfter(account_id=a.id or 0, currency=a.currency, balance=a.balance)
        for a in sorted(booking.touched.values(), key=lambda a: a.id or 0)
    ]
    effects.bank_income = [
        IncomeOut(kind=i.kind, amount=i.amount, currency=i.currency) for i in booking.income
    ]
    instruction.effects = effects.model_dump_json()
    session.add(instruction)


INSTRUCTION_CHANGES = {
    InstructionStatus.executed: ChangeType.instruction_executed,
    InstructionStatus.scheduled: ChangeType.instruction_scheduled,
    InstructionStatus.cancelled: ChangeType.instruction_cancelled,
}


def booked_events(
    booking: Booking, instruction: Instruction, status: InstructionStatus
) -> list[Event]:
    """What an instruction changed, for the feed: each row booked, each balance and holding
    moved, then the instruction itself, so that a client reading the feed in order has seen
    all it did when it sees the instruction."""
    oid, day, effects = booking.customer_oid, booking.day, booking.effects
    made_by, kind = instruction.id, instruction.kind
    events = [
        Event(
            ChangeType.transaction_added,
            oid,
            ChangeIds(
                instruction_id=made_by,
                kind=kind,
                transaction_id=row.id,
                account_id=row.account_id,
                symbol=row.symbol,
                amount=row.amount,
                currency=row.currency,
            ),
            day,
        )
        for row in booking.rows
    ]
    events += [
        Event(
            ChangeType.balance_changed,
            oid,
            ChangeIds(
                instruction_id=made_by,
                kind=kind,
                account_id=after.account_id,
                balance=after.balance,
                currency=after.currency,
            ),
            day,
        )
        for after in effects.balances
    ]
    events += [
        Event(
            ChangeType.holding_changed,
            oid,
            ChangeIds(
                instruction_id=made_by,
                kind=kind,
                account_id=held.account_id,
                symbol=held.symbol,
                quantity=held.quantity_after,
            ),
            day,
        )
        for held in effects.holdings
    ]
    position = effects.position.derivative_id if effects.position is not None else None
    events.append(
        Event(
            INSTRUCTION_CHANGES[status],
            oid,
            ChangeIds(instruction_id=made_by, kind=kind, derivative_id=position),
            day,
        )
    )
    return events


def instruction_out(instruction: Instruction) -> InstructionOut:
    return InstructionOut(
        instruction_id=instruction.id or 0,
        customer_oid=instruction.customer_oid,
        kind=instruction.kind,
        status=instruction.status,
        created_at=aware(instruction.created_at),
        booked_on=instruction.booked_on,
        execute_on=instruction.execute_on,
        details=json.loads(instruction.request),
        effects=Effects.model_validate_json(instruction.effects or "{}"),
    )


def aware(moment: datetime) -> datetime:
    """A time read back from SQLite has lost its zone: it was UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def last_digits(account: BankAccount) -> str:
    return f"{account.account_type.upper()} ..{account.account_number[-4:]}"


# Transfers


def transfer(
    session: Session, raw_oid: str, order: TransferIn, retry: Retry | None = None
) -> InstructionOut:
    """Move money between two of the customer's accounts, converting across currencies."""
    return run_instruction(
        session,
        raw_oid,
        retry,
        lambda oid: (plan_transfer(session, oid, order), InstructionStatus.executed),
    )


def plan_transfer(session: Session, oid: str, order: TransferIn) -> Booking:
    if order.from_account_id == order.to_account_id:
        raise Refused("same_account", "to_account_id: a transfer needs two different accounts")
    source = own_account(session, oid, order.from_account_id, "from_account_id", TRANSFER_ACCOUNTS)
    target = own_account(session, oid, order.to_account_id, "to_account_id", TRANSFER_ACCOUNTS)
    currency = (
        check_currency(order.currency, sorted({source.currency, target.currency}))
        or source.currency
    )
    market = market_snapshot(session)
    day = market.as_of
    conversion = None
    if source.currency == target.currency:
        sent = received = order.amount
    else:
        mid = cross_rate(market, source.currency, target.currency, day)
        rate = customer_rate(mid)
        if currency == source.currency:
            sent = order.amount
            received = (sent * rate).quantize(CENT, rounding=ROUND_DOWN)
        else:
            received = order.amount
            sent = (received / rate).quantize(CENT, rounding=ROUND_CEILING)
        if received <= 0:
            raise Refused(
                "amount_too_small", f"amount: {order.amount} {currency} converts to nothing"
            )
        conversion = Conversion(
            from_currency=source.currency,
            to_currency=target.currency,
            mid_rate=mid,
            rate=rate,
            margin=FX_MARGIN,
            sent=sent,
            received=received,
        )
    counted = usd_value(market, sent, source.currency, day)
    require_within_limit(session, oid, day, counted)
    require_funds(source, sent, "amount")
    booking = Booking(
        oid,
        InstructionKind.transfer,
        day,
        details={
            "from_account_id": source.id,
            "to_account_id": target.id,
            "amount": f"{order.amount:f}",
            "currency": currency,
            "reference": order.reference,
        },
        counted_usd=counted,
    )
    memo = f" {order.reference}" if order.reference else ""
    fx = f" {sent:,.2f} {source.currency} @ {conversion.rate}" if conversion else ""
    booking.post(
        source,
        -sent,
        transaction_type=TransactionType.transfer,
        description=f"TRANSFER TO {last_digits(target)}{fx}{memo}"[:200],
        category="transfer",
        channel="transfer",
    )
    booking.post(
        target,
        received,
        transaction_type=TransactionType.transfer,
        description=f"TRANSFER FROM {last_digits(source)}{fx}{memo}"[:200],
        category="transfer",
        channel="transfer",
    )
    if conversion is not None:
        booking.earn("fx_spread", to_cents(sent * conversion.mid_rate) - received, target.currency)
        booking.effects.conversion = conversion
    return booking


def cross_rate(market: MarketSnapshot, source: str, target: str, day: date) -> Decimal:
    """Units of ``target`` per unit of ``source`` at the day's mid rates, to six places."""
    rates = []
    for code in (source, target):
        rate = Decimal(1) if code == "USD" else market.usd_per_unit[code].on_or_before(day)
        if rate is None:
            raise Refused("no_rate", f"currency: the bank has no {code} rate on {day}")
        rates.append(rate)
    return (rates[0] / rates[1]).quantize(PRICE_PLACES)


# Payments


def pay(
    session: Session, raw_oid: str, order: PaymentIn, retry: Retry | None = None
) -> InstructionOut:
    """Pay a payee from a checking account today, or schedule the payment for a later day."""
    payee = checked_payee(order)
    return run_instruction(
        session, raw_oid, retry, lambda oid: plan_payment(session, oid, order, payee)
    )


def checked_payee(order: PaymentIn) -> dict[str, str | None]:
    """The payee with its name cleaned and its account checked, or ``InvalidInput``."""
    given = order.payee
    name = clean_name(given.name, "payee.name", shortest=2, longest=70)
    if given.iban is not None:
        if given.account_number is not None or given.routing_number is not None:
            raise InvalidInput(
                "payee: give an iban, or an account_number with a routing_number, not both"
            )
        iban = given.iban.replace(" ", "").upper()
        if not is_valid_iban(iban):
            raise InvalidInput(
                f"payee.iban: '{given.iban[:40]}' is not a valid IBAN "
                "(its check digits do not match)"
            )
        return {"name": name, "iban": iban, "account_number": None, "routing_number": None}
    if given.account_number is None or given.routing_number is None:
        raise InvalidInput("payee: give an iban, or an account_number with a routing_number")
    account = given.account_number.strip()
    if not account.isascii() or not account.isdigit() or not 4 <= len(account) <= 17:
        raise InvalidInput("payee.account_number: 4 to 17 digits")
    routing = given.routing_number.strip()
    if not is_valid_routing_number(routing):
        raise InvalidInput(
            f"payee.routing_number: '{routing[:20]}' is not a valid ABA routing number "
            "(nine digits whose check digit matches)"
        )
    return {"name": name, "iban": None, "account_number": account, "routing_number": routing}


def plan_payment(
    session: Session, oid: str, order: PaymentIn, payee: dict[str, str | None]
) -> tuple[Booking, InstructionStatus]:
    source = own_account(
        session, oid, order.from_account_id, "from_account_id", (AccountType.checking,)
    )
    check_currency(order.currency, [source.currency])
    market = market_snapshot(session)
    day = market.as_of
    execute_on = order.execute_on or day
    if execute_on < day:
        raise Refused("date_in_past", f"execute_on: {execute_on} is before the bank's day {day}")
    if execute_on > day + LONGEST_SCHEDULE:
        raise Refused(
            "date_too_far", f"execute_on: at most {LONGEST_SCHEDULE.days} days after {day}"
        )
    counted = usd_value(market, order.amount, source.currency, day)
    require_within_limit(session, oid, execute_on, counted)
    booking = Booking(
        oid,
        InstructionKind.payment,
        day,
        details={
            "from_account_id": source.id,
            "amount": f"{order.amount:f}",
            "currency": source.currency,
            "payee": payee,
            "execute_on": execute_on.isoformat(),
            "reference": order.reference,
        },
        execute_on=execute_on,
        counted_usd=counted,
    )
    if execute_on > day:
        return booking, InstructionStatus.scheduled
    require_funds(source, order.amount, "amount")
    category = bill_category(session, oid, payee["name"] or "")
    book_payment(booking, source, order.amount, payee, order.reference, category)
    return booking, InstructionStatus.executed


def book_payment(
    booking: Booking,
    source: BankAccount,
    amount: Decimal,
    payee: dict[str, str | None],
    reference: str | None,
    category: str,
) -> None:
    """The statement row of a payment, in the category the customer pays this payee for."""
    name = payee["name"] or ""
    memo = f" {reference}" if reference else ""
    booking.post(
        source,
        -amount,
        transaction_type=TransactionType.withdrawal,
        description=f"PAYMENT TO {name.upper()}{memo}"[:200],
        category=category,
        merchant=name[:100],
        channel="ach" if payee.get("routing_number") else "online",
    )


def cancel_payment(session: Session, raw_oid: str, instruction_id: int) -> InstructionOut:
    """Cancel a scheduled payment; a cancelled one stays cancelled, an executed one cannot be."""
    oid = lock_customer(session, raw_oid)
    instruction = session.get(Instruction, instruction_id)
    if (
        instruction is None
        or instruction.customer_oid != oid
        or instruction.kind != InstructionKind.payment
    ):
        session.rollback()
        raise NotFound(f"Payment {instruction_id} not found for this customer")
    if instruction.status == InstructionStatus.executed:
        session.rollback()
        raise Refused(
            "already_executed",
            f"payment_id: payment {instruction_id} was executed on {instruction.execute_on}: "
            "it cannot be cancelled",
        )
    if instruction.status == InstructionStatus.scheduled:
        instruction.status = InstructionStatus.cancelled
        session.add(instruction)
        record_change(session, oid)
        ids = ChangeIds(instruction_id=instruction.id, kind=instruction.kind)
        record_events(session, [Event(ChangeType.instruction_cancelled, oid, ids)])
        session.commit()
    else:
        session.rollback()
    return instruction_out(instruction)


# Reading


def list_instructions(
    session: Session,
    raw_oid: str,
    kind: str | None = None,
    status: str | None = None,
    limit: int = 100,
) -> InstructionsPage:
    """The customer's newest ``limit`` instructions, newest first, and how many match."""
    oid = parse_customer_oid(raw_oid)
    if session.exec(select(Customer.id).where(Customer.customer_oid == oid)).first() is None:
        raise NotFound(f"Customer with CustomerOID '{oid}' not found")
    query = select(Instruction).where(Instruction.customer_oid == oid)
    if kind is not None:
        query = query.where(Instruction.kind == kind)
    if status is not None:
        query = query.where(Instruction.status == status)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = list(session.exec(query.order_by(col(Instruction.id).desc()).limit(limit)))
    return InstructionsPage(instructions=[instruction_out(i) for i in rows], total=total)


def read_instruction(session: Session, raw_oid: str, instruction_id: int) -> InstructionOut:
    oid = parse_customer_oid(raw_oid)
    instruction = session.get(Instruction, instruction_id)
    if instruction is None or instruction.customer_oid != oid:
        raise NotFound(f"Instruction {instruction_id} not found for this customer")
    return instruction_out(instruction)


def broker_country(session: Session, account: BankAccount) -> str:
    country = session.exec(
        select(Institution.country).where(Institution.id == account.institution_id)
    ).first()
    return country or "US"
