"""Scripted events: what will happen to a sandbox on a given day, named so that an evaluation
can refer to it.

A sandbox's script is a list of events, each on a day after the sandbox's clock, each with a
label unique in the sandbox: a market shock (a factor of the market model moves by a given
amount that day, and every instrument follows by its loading), a salary that stops or
changes, an unusual card charge, a charge booked twice, payments declined, a fee. The script
is kept with the sandbox's registration (like its fault rules), so a reset replays it; when
the clock runs an event's day, the event happens as part of that day, and what it did is
recorded in the sandbox's change feed under its label.

This module holds the events' shapes and rules, and what each day's part of a script is;
the clock (``sandboxes/clock.py``) applies them.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator
from sqlmodel import Session, col, select

from core.errors import InvalidInput
from market.calendars import is_open
from market.merchants import CATEGORIES
from market.model import FACTORS
from models import BankEvent, Customer
from services.clock import read_clock

MAX_EVENTS = 200
LABEL_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,63}$"
RATE_FACTORS = frozenset({"rates_level", "rates_slope", "credit"})
"""Factors that move yields, not prices: their shocks are changes of a rate."""
LARGEST_RATE_SHOCK = Decimal("0.05")
LARGEST_PRICE_SHOCK = Decimal("0.5")
_MONEY = Field(gt=0, le=Decimal("10000000"), decimal_places=2)


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str = Field(
        pattern=LABEL_PATTERN,
        description="Unique in the sandbox: what the change feed and the event list call it "
        "(lower-case letters, digits, '_', '.', '-'; at most 64).",
    )
    on: date = Field(description="The day it happens: after the sandbox's clock.")


class MarketShock(_Event):
    type: Literal["market_shock"]
    factor: str = Field(description="A factor of the market model: " + ", ".join(FACTORS) + ".")
    move: Decimal = Field(
        description="The factor's move that day, added to the model's own draw: a return for "
        "the price factors (-0.08 is 8% down, at most 0.5 either way), a change of yield for "
        f"{', '.join(sorted(RATE_FACTORS))} (0.01 is 100 basis points, at most 0.05)."
    )

    @model_validator(mode="after")
    def _bounded(self) -> "MarketShock":
        if self.factor not in FACTORS:
            raise ValueError(f"factor: one of {', '.join(FACTORS)}")
        largest = LARGEST_RATE_SHOCK if self.factor in RATE_FACTORS else LARGEST_PRICE_SHOCK
        if abs(self.move) > largest or self.move == 0:
            raise ValueError(f"move: not zero, and at most {largest} either way for {self.factor}")
        return self


class _CustomerEvent(_Event):
    customer_oid: str = Field(description="The customer it happens to.")


class SalaryChange(_CustomerEvent):
    type: Literal["salary_change"]
    amount: Decimal | None = Field(
        default=None,
        gt=0,
        le=Decimal("10000000"),
        decimal_places=2,
        description="From this day on, each pay is this amount in the account's currency; "
        "null: the pay stops.",
    )


class CardCharge(_CustomerEvent):
    type: Literal["card_charge"]
    amount: Decimal = _MONEY
    merchant: str = Field(min_length=2, max_length=100, description="The merchant's name.")
    category: str = Field(description="A spending category: " + ", ".join(CATEGORIES) + ".")

    @model_validator(mode="after")
    def _known_category(self) -> "CardCharge":
        if self.category not in CATEGORIES:
            raise ValueError(f"category: one of {', '.join(CATEGORIES)}")
        return self


class DuplicateCharge(_CustomerEvent):
    type: Literal["duplicate_charge"]


class DeclinedPayments(_CustomerEvent):
    type: Literal["declined_payments"]


class Fee(_CustomerEvent):
    type: Literal["fee"]
    amount: Decimal = _MONEY
    description: str = Field(default="Account fee", min_length=2, max_length=100)


ScriptedEvent = Annotated[
    MarketShock | SalaryChange | CardCharge | DuplicateCharge | DeclinedPayments | Fee,
    Field(discriminator="type"),
]
EVENT_TYPES = ("market_shock", "salary_change", "card_charge", "duplicate_charge",
               "declined_payments", "fee")  # fmt: skip
WHAT_EACH_DOES = {
    "market_shock": "the factor moves by `move` that day; every instrument follows by its "
    "loading, and the prices stay the model's from then on",
    "salary_change": "from that day, the customer's pay is `amount` each time it falls due, "
    "or stops (no amount)",
    "card_charge": "a card purchase of `amount` at `merchant`, booked like any other (and "
    "declined if the account cannot pay it)",
    "duplicate_charge": "the customer's first card purchase of the day is booked twice",
    "declined_payments": "the customer's payments due that day are refused, reason "
    "`declined`, and its card purchases that day are declined",
    "fee": "a fee of `amount` taken from the customer's current account",
}

_EVENTS: TypeAdapter[list[ScriptedEvent]] = TypeAdapter(list[ScriptedEvent])


class Script(BaseModel):
    """A sandbox's scripted events, ordered by day and then as given."""

    model_config = ConfigDict(extra="forbid")

    events: list[ScriptedEvent] = Field(default_factory=list, max_length=MAX_EVENTS)

    def on(self, day: date) -> list[ScriptedEvent]:
        """The events of ``day``, in the order they were given."""
        return [event for event in self.events if event.on == day]

    def shocks(self, day: date) -> dict[str, Decimal]:
        """Each factor's scripted move on ``day`` (two shocks of one factor add up)."""
        moves: dict[str, Decimal] = {}
        for event in self.on(day):
            if isinstance(event, MarketShock):
                moves[event.factor] = moves.get(event.factor, Decimal(0)) + event.move
        return moves

    def scripted_moves(self) -> tuple[tuple[str, date, float], ...]:
        """Every market shock as the continued market takes it: (series, day, move)."""
        return tuple(
            sorted(
                (f"factor:{factor}", day, float(move))
                for day in sorted({event.on for event in self.events})
                for factor, move in self.shocks(day).items()
            )
        )

    def pay_from(self, customer_oid: str, day: date) -> tuple[bool, Decimal | None]:
        """Whether a salary change holds for the customer on ``day``, and the pay it sets
        (None: the pay stopped); the latest change on or before ``day`` decides."""
        changed: tuple[bool, Decimal | None] = (False, None)
        for event in self.events:
            if (
                isinstance(event, SalaryChange)
                and event.customer_oid == customer_oid
                and event.on <= day
            ):
                changed = (True, event.amount)
        return changed

    def customers(self) -> set[str]:
        return {event.customer_oid for event in self.events if isinstance(event, _CustomerEvent)}


def parse_script(raw: str) -> Script:
    """The script kept with a sandbox ('' for none)."""
    return Script.model_validate_json(raw) if raw else Script()


def add_events(
    script: Script, new: Sequence[ScriptedEvent], today: date, known_customers: Iterable[str]
) -> Script:
    """``script`` with ``new`` added; ``InvalidInput`` naming the field when one cannot be.

    An event must fall after ``today`` (a script cannot change the past), name a customer of
    the sandbox, and carry a label no other event of the sandbox has.
    """
    labels = {event.label for event in script.events}
    customers = set(known_customers)
    for number, event in enumerate(new):
        where = f"events[{number}]"
        if event.on <= today:
            raise InvalidInput(
                f"{where}.on: {event.on} is not after the sandbox's day {today}: "
                "a scripted event must lie ahead of the clock"
            )
        calendar = FACTORS[event.factor].calendar if isinstance(event, MarketShock) else ""
        if isinstance(event, MarketShock) and not is_open(calendar, event.on):
            raise InvalidInput(
                f"{where}.on: the {event.factor} factor's market ({calendar}) is closed on "
                f"{event.on}: a shock needs a day it trades"
            )
        if event.label in labels:
            raise InvalidInput(f"{where}.label: '{event.label}' is already used in this sandbox")
        if isinstance(event, _CustomerEvent) and event.customer_oid not in customers:
            raise InvalidInput(
                f"{where}.customer_oid: no customer '{event.customer_oid}' in this sandbox"
            )
        labels.add(event.label)
    events = [*script.events, *new]
    if len(events) > MAX_EVENTS:
        raise InvalidInput(f"events: at most {MAX_EVENTS} scripted events in a sandbox")
    ordered = sorted(enumerate(events), key=lambda pair: (pair[1].on, pair[0]))
    return Script(events=[event for _, event in ordered])


def parse_events(raw: object) -> list[ScriptedEvent]:
    """Events as a request gives them (already JSON), checked."""
    return _EVENTS.validate_python(raw)


class ScriptRequest(BaseModel):
    """Events to add to a sandbox's script."""

    model_config = ConfigDict(extra="forbid")

    events: list[ScriptedEvent] = Field(min_length=1, max_length=MAX_EVENTS)


class ScriptedEventView(BaseModel):
    """One scripted event and what became of it."""

    event: ScriptedEvent
    happened: bool = Field(description="Whether the clock has run its day.")
    changes: list[int] = Field(
        description="The `seq` of each change it made in the sandbox's feed (`GET /changes` "
        "with the sandbox's header): rows booked, the market day it shocked, payments it "
        "refused. Empty before its day, and for a pay that stopped."
    )


class ScriptView(BaseModel):
    """A sandbox's script as its routes show it."""

    today: date = Field(description="The sandbox's day: events after it are still to come.")
    events: list[ScriptedEventView]


@dataclass(frozen=True)
class SandboxFacts:
    """What adding events checks against in the sandbox's own database, and what its feed
    says the events did."""

    today: date
    customers: frozenset[str]
    changes: dict[str, list[int]]
    """By label: the ``seq`` of the feed's changes recorded under it."""


def sandbox_facts(session: Session, oids: Iterable[str], seed: int) -> SandboxFacts:
    """The sandbox's day, which of ``oids`` are its customers, and its labelled changes."""
    wanted = sorted(set(oids))
    found = (
        session.exec(
            select(Customer.customer_oid).where(col(Customer.customer_oid).in_(wanted))
        ).all()
        if wanted
        else []
    )
    changes: dict[str, list[int]] = {}
    labelled = session.exec(
        select(BankEvent.label, BankEvent.seq)
        .where(col(BankEvent.label).is_not(None))
        .order_by(col(BankEvent.seq))
    )
    for label, seq in labelled:
        changes.setdefault(label or "", []).append(seq)
    return SandboxFacts(read_clock(session, seed).today, frozenset(found), changes)


def script_view(script: Script, facts: SandboxFacts) -> ScriptView:
    return ScriptView(
        today=facts.today,
        events=[
            ScriptedEventView(
                event=event,
                happened=event.on <= facts.today,
                changes=facts.changes.get(event.label, []),
            )
            for event in script.events
        ],
    )
