"""What every kind of task is made of: the ``TaskKind`` classes and the registry ``@task_kind``
fills, the draft a kind makes for one customer, and the rehearsal that works a draft's gold
end state out with the bank's own planning functions, rolled back.

A draft names what it touches (its footprint: accounts, symbols, payees, positions, the
customer's daily limit); a set never holds two drafts whose footprints meet, so each row
that changes belongs to one task, and the tasks can be done in any order.
"""

import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import ClassVar, TypeVar

from sqlmodel import Session

from core.errors import Refused
from evals.tasks.schemas import (
    AccountChange,
    Action,
    HoldingChange,
    InstructionMatch,
    StatusChange,
    TaskDifficulty,
)
from evals.tasks.views import NICE_AMOUNTS, AccountInfo, CustomerView
from models import InstructionStatus
from schemas.instructions import Conversion, Fill, PaymentIn, PositionClosed
from services.instructions import Booking
from services.market import MarketSnapshot


@dataclass
class Rehearsal:
    """What an instruction would do, read off its plan before the plan was rolled back."""

    status: InstructionStatus
    deltas: dict[int, Decimal]
    """The change of each account it books on."""
    position: PositionClosed | None
    conversion: Conversion | None
    fill: Fill | None


Planned = Booking | tuple[Booking, InstructionStatus]


def rehearse(session: Session, plan: Callable[[], Planned]) -> Rehearsal | Refused:
    """Run ``plan`` (a service's ``plan_*``, which checks every rule and changes the rows in
    the session without committing) inside a savepoint, and roll it back."""
    savepoint = session.begin_nested()
    try:
        planned = plan()
        booking, status = (
            planned if isinstance(planned, tuple) else (planned, InstructionStatus.executed)
        )
        deltas: dict[int, Decimal] = defaultdict(Decimal)
        for row in booking.rows:
            deltas[row.account_id or 0] += row.amount
        return Rehearsal(
            status=status,
            deltas=dict(deltas),
            position=booking.effects.position,
            conversion=booking.effects.conversion,
            fill=booking.effects.fill,
        )
    except Refused as refusal:
        return refusal
    finally:
        savepoint.rollback()


@dataclass
class Draft:
    """One task for one customer, before the set gives it an id."""

    kind: "TaskKind"
    customer_oid: str
    text: str
    explanation: str
    gold_calls: list[Action]
    footprint: set[str]
    accounts: list[AccountChange] = field(default_factory=list)
    holdings: list[HoldingChange] = field(default_factory=list)
    statuses: list[StatusChange] = field(default_factory=list)
    instructions: list[InstructionMatch] = field(default_factory=list)
    refused: bool = False
    rule: str | None = None
    setup: PaymentIn | None = None
    """A payment to schedule before the baseline is taken; ``after_setup`` gets its id."""
    after_setup: Callable[["Draft", int], None] | None = None


class Drawing:
    """What the kinds draw from: the bank's day and market, its customers, the seed's random
    numbers, and a session in a write transaction that every rehearsal rolls back."""

    def __init__(self, session: Session, rng: random.Random, market: MarketSnapshot) -> None:
        self.session = session
        self.rng = rng
        self.market = market
        self.as_of: date = market.as_of
        self._views: dict[str, CustomerView] = {}

    def view(self, oid: str, name: str) -> CustomerView:
        if oid not in self._views:
            self._views[oid] = CustomerView(self.session, oid, name)
        return self._views[oid]

    def rehearse(self, plan: Callable[[], Planned]) -> Rehearsal | Refused:
        return rehearse(self.session, plan)

    def tradable(self, symbol: str) -> bool:
        """Whether the instrument has a close on the bank's day (else orders are refused)."""
        prices = self.market.prices.get(symbol)
        return prices is not None and prices.dates[-1] == self.as_of

    def nice_amount(self, most: Decimal, least: Decimal = Decimal(0)) -> Decimal | None:
        fitting = [n for n in NICE_AMOUNTS if least < n <= most]
        return self.rng.choice(fitting) if fitting else None


class TaskKind:
    """One kind of task. Subclasses set the class variables and ``draft``."""

    name: ClassVar[str]
    difficulty: ClassVar[TaskDifficulty]
    summary: ClassVar[str]

    def draft(self, drawing: Drawing, view: CustomerView) -> Draft | None:
        """A task for this customer, or None when the customer's state has none (or none
        that only one reading fits)."""
        raise NotImplementedError


TASK_KINDS: dict[str, TaskKind] = {}

K = TypeVar("K", bound=type[TaskKind])


def task_kind(cls: K) -> K:
    TASK_KINDS[cls.name] = cls()
    return cls


# Building the expected change.


def exact_changes(view: CustomerView, rehearsal: Rehearsal) -> list[AccountChange]:
    """Every account the rehearsed instruction books on, moved by exactly what it books."""
    by_id = {a.id: a for a in view.accounts}
    return [
        AccountChange(
            account_id=account_id,
            currency=by_id[account_id].currency,
            balance_before=by_id[account_id].balance,
            delta=delta,
            low=delta,
            high=delta,
        )
        for account_id, delta in sorted(rehearsal.deltas.items())
    ]


def stays(*accounts: AccountInfo) -> list[AccountChange]:
    zero = Decimal(0)
    return [
        AccountChange(
            account_id=a.id,
            currency=a.currency,
            balance_before=a.balance,
            delta=zero,
            low=zero,
            high=zero,
        )
        for a in accounts
    ]


def held(view: CustomerView, symbol: str) -> Decimal:
    return next((h.quantity for h in view.holdings if h.symbol == symbol), Decimal(0))


def holding_stays(view: CustomerView, symbol: str) -> HoldingChange:
    quantity = held(view, symbol)
    return HoldingChange(
        symbol=symbol,
        quantity_before=quantity,
        quantity_after=quantity,
        low=quantity,
        high=quantity,
    )


def account_token(account_id: int) -> str:
    return f"account:{account_id}"


def today_token(oid: str) -> str:
    """Money moved today: one such task per customer, so the daily limit binds none but
    the task drawn to meet it."""
    return f"today:{oid}"
