"""Advancing a sandbox through time: every day between its today and the day asked for.

Each day runs ``DAY_STEPS`` in order: the market's closes (``market/continuation.py``), the
dividends and coupons paid that day, the options and futures expiring, the scheduled
payments due, and the customers' statement flows. Every step books through the day's
``DayLedger`` and returns what it did as ``Effect``s; ``record_effects`` is the one place a
day's effects go (the change feed's events). The whole advance is one transaction: a
failure leaves the sandbox as it was. Two advances of one sandbox queue: the second waits
for the first (SQLite's write lock; on PostgreSQL a lock on ``users`` that instructions
queue behind too) and then runs from the day the first reached.

Every draw of the market is keyed by the sandbox's seed, the series and the day, and every
step reads only the rows the days before left: thirty days at once and one day thirty times
leave the same rows, byte for byte.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import text
from sqlmodel import Session

from db import begin_write
from market.continuation import HORIZON, MAX_DAYS_PER_ADVANCE
from models import Transaction
from schemas.clock import AdvanceOut, ClockOut, DayOut, RefusedPayment
from services.changes import record_change
from services.clock import days_to_run, read_clock
from services.day_ledger import DayLedger, keep, stale_books
from services.effects import (
    FUTURE_SETTLED,
    INSTRUCTION_EXECUTED,
    INSTRUCTION_REFUSED,
    MARKET_DAY_CLOSED,
    OPTION_EXPIRED,
    PAYOUT_PAID,
    TRANSACTION_ADDED,
    Effect,
)
from services.expiries import settle_expiries
from services.market_days import Last, close_market_day, last_closes
from services.payouts import pay_payouts
from services.scheduled import run_scheduled_payments


@dataclass
class Day:
    """One day being run: what each step is given."""

    session: Session
    seed: int
    day: date
    ledger: DayLedger
    """Where the day's bookings go (``services.day_ledger.apply_bookings`` for statement
    flows)."""
    prices: Last
    """Each instrument's newest close, this day's once the market step ran."""
    rates: Last


DayStep = Callable[[Day], list[Effect]]


def market_step(day: Day) -> list[Effect]:
    return close_market_day(day.session, day.seed, day.day, day.prices, day.rates)


def payouts_step(day: Day) -> list[Effect]:
    return pay_payouts(day.ledger)


def expiries_step(day: Day) -> list[Effect]:
    return settle_expiries(day.ledger)


def payments_step(day: Day) -> list[Effect]:
    return run_scheduled_payments(day.ledger)


def statement_step(day: Day) -> list[Effect]:
    """Each customer's statement flows of the day (pay, bills, card spending, interest,
    fees): the seam for ``synthetic.continuation``, which books each customer's booking
    tuples with ``services.day_ledger.apply_bookings(day.ledger, oid, bookings)``. Books
    nothing until it is plugged in."""
    return []


DAY_STEPS: tuple[DayStep, ...] = (
    market_step,
    payouts_step,
    expiries_step,
    payments_step,
    statement_step,
)
"""A day's steps, in the order they run."""


def record_effects(session: Session, day: date, effects: Sequence[Effect]) -> None:
    """Where a day's effects go, in the advance's transaction: the change feed records them
    as its events here. Nothing else reads them yet."""


def clock_out(sandbox_id: str, session: Session, seed: int) -> ClockOut:
    clock = read_clock(session, seed)
    return ClockOut(
        sandbox_id=sandbox_id,
        today=clock.today,
        started_on=clock.started_on,
        days_advanced=(clock.today - clock.started_on).days,
        max_days_per_advance=MAX_DAYS_PER_ADVANCE,
        horizon=HORIZON,
    )


def advance(
    session: Session,
    sandbox_id: str,
    seed: int,
    days: int | None,
    to: date | None,
    steps: Sequence[DayStep] = DAY_STEPS,
) -> AdvanceOut:
    """Run the days asked for, in one transaction, and say what they did."""
    begin_write(session)
    if session.get_bind().dialect.name == "postgresql":
        # Instructions lock their customer's row (FOR UPDATE): they and other advances
        # wait for this one, while reads go on.
        session.execute(text("LOCK TABLE users IN EXCLUSIVE MODE"))
    clock = read_clock(session, seed)
    started_from = clock.today
    run = days_to_run(clock.today, days, to)
    prices, rates = last_closes(session)
    stale = stale_books(session)
    booked: list[Transaction] = []
    touched: set[str] = set()
    summaries, refused = [], []
    for on in run:
        ledger = DayLedger(session, on)
        today = Day(session, seed, on, ledger, prices, rates)
        effects: list[Effect] = []
        for step in steps:
            effects += step(today)
        effects += ledger.close()
        booked += ledger.rows
        touched |= ledger.touched
        record_effects(session, on, effects)
        summaries.append(_day_out(on, effects))
        refused += [
            RefusedPayment(
                instruction_id=e.data["instruction_id"],
                customer_oid=e.customer_oid or "",
                rule=e.data["rule"],
                detail=e.data["detail"],
            )
            for e in effects
            if e.kind == INSTRUCTION_REFUSED
        ]
    keep(session, touched, booked, started_from, stale)
    clock.today = run[-1]
    session.add(clock)
    record_change(session, None)
    session.commit()
    return AdvanceOut(
        sandbox_id=sandbox_id,
        started_from=started_from,
        today=clock.today,
        days_run=len(run),
        closes_added=sum(d.closes for d in summaries),
        rates_added=sum(d.rates for d in summaries),
        payouts_paid=sum(d.payouts for d in summaries),
        expiries_settled=sum(d.expiries for d in summaries),
        payments_executed=sum(d.payments_executed for d in summaries),
        payments_refused=sum(d.payments_refused for d in summaries),
        transactions_added=sum(d.transactions for d in summaries),
        refused=refused,
        days=summaries,
    )


def _day_out(day: date, effects: Sequence[Effect]) -> DayOut:
    def count(*kinds: str) -> int:
        return sum(1 for e in effects if e.kind in kinds)

    closed = [e.data for e in effects if e.kind == MARKET_DAY_CLOSED]
    return DayOut(
        day=day,
        closes=sum(len(c["closes"]) for c in closed),
        rates=sum(len(c["usd_per_unit"]) for c in closed),
        payouts=count(PAYOUT_PAID),
        expiries=count(OPTION_EXPIRED, FUTURE_SETTLED),
        payments_executed=count(INSTRUCTION_EXECUTED),
        payments_refused=count(INSTRUCTION_REFUSED),
        transactions=count(TRANSACTION_ADDED),
    )
