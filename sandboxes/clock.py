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

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import text, update
from sqlmodel import Session, col, select

from core.money import MONEY_SCALE
from db import begin_write
from market.calendars import BANKING_CALENDAR, on_or_after
from market.continuation import HORIZON, MAX_DAYS_PER_ADVANCE
from market.merchants import CATEGORIES
from models import AccountType, BankAccount, BookKeeping
from sandboxes.scripts import (
    CardCharge,
    DeclinedPayments,
    DuplicateCharge,
    Fee,
    MarketShock,
    Script,
)
from schemas.changes import ChangeType
from schemas.clock import AdvanceOut, ClockOut, DayOut, RefusedPayment
from services.changes import record_change
from services.clock import days_to_run, read_clock
from services.day_ledger import (
    DayLedger,
    Posted,
    SpendingRows,
    add_spending,
    apply_bookings,
    keep,
    post_bookings,
    stale_books,
    statement_balances,
)
from services.effects import (
    BALANCE_CHANGED,
    FUTURE_SETTLED,
    HOLDING_CHANGED,
    INSTRUCTION_EXECUTED,
    INSTRUCTION_REFUSED,
    MARKET_DAY_CLOSED,
    OPTION_EXPIRED,
    PAYOUT_PAID,
    TRANSACTION_ADDED,
    Effect,
)
from services.events import Event, record_events
from services.expiries import settle_expiries
from services.market_days import Last, close_market_day, last_closes
from services.payouts import pay_payouts
from services.scheduled import DECLINED, run_scheduled_payments
from synthetic.continuation import bookings_on, textures_for, with_pay
from synthetic.texture import Texture

CARD_PAYMENT = "card_payment"
ADVANCE_CACHE_KIB = 256 * 1024
"""The page cache an advance's connection has on SQLite, while it runs (at most, in KiB)."""
SQLITE_DEFAULT_CACHE = -2000
"""SQLite's own default (about 2 MB), given back when the advance is done."""


def with_scripted_pay(texture: Texture, script: Script, day: date) -> Texture:
    """The customer's texture with the pay a scripted salary change set for ``day``."""
    changed, amount = script.pay_from(texture.customer_oid, day)
    if not changed:
        return texture
    return with_pay(texture, None if amount is None else int(amount.scaleb(MONEY_SCALE)))


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
    script: Script = field(default_factory=Script)
    """The sandbox's scripted events (``sandboxes/scripts.py``)."""
    textures: Mapping[str, Texture] = field(default_factory=dict)
    """Each customer's statement texture, learned from the history up to the clock's start."""
    spending: SpendingRows = field(default_factory=SpendingRows)
    """The monthly spending rows the advance adds to, read once."""
    labels: dict[tuple[str, int], str] = field(default_factory=dict)
    """What the script did today, for the feed: ("market", 0), ("instruction", id) or
    ("row", id(row)) -> the event's label."""


DayStep = Callable[[Day], list[Effect]]


def market_step(day: Day) -> list[Effect]:
    effects = close_market_day(
        day.session, day.seed, day.day, day.prices, day.rates, day.script.scripted_moves()
    )
    for event in day.script.on(day.day):
        if isinstance(event, MarketShock):
            day.labels[("market", 0)] = event.label
    return effects


def payouts_step(day: Day) -> list[Effect]:
    return pay_payouts(day.ledger)


def expiries_step(day: Day) -> list[Effect]:
    return settle_expiries(day.ledger)


def payments_step(day: Day) -> list[Effect]:
    declined = {
        event.customer_oid: event.label
        for event in day.script.on(day.day)
        if isinstance(event, DeclinedPayments)
    }
    effects = run_scheduled_payments(day.ledger, declined=set(declined))
    for effect in effects:
        if effect.kind == INSTRUCTION_REFUSED and effect.data["rule"] == DECLINED:
            day.labels[("instruction", effect.data["instruction_id"])] = declined[
                effect.customer_oid or ""
            ]
    return effects


def statement_step(day: Day) -> list[Effect]:
    """Each customer's statement flows of the day (pay, bills, card spending, interest,
    fees), drawn from their texture (``synthetic/continuation.py``) with the script's
    changes of pay, declined card payments and doubled charges; then the script's own
    charges and fees."""
    balances = statement_balances(day.ledger)
    today = day.script.on(day.day)
    declining = {e.customer_oid for e in today if isinstance(e, DeclinedPayments)}
    doubling = {e.customer_oid: e.label for e in today if isinstance(e, DuplicateCharge)}
    drawn: list[tuple[str, tuple[Any, ...]]] = []
    doubled: list[tuple[str, tuple[Any, ...]]] = []
    for oid in sorted(day.textures):
        texture = with_scripted_pay(day.textures[oid], day.script, day.day)
        bookings = bookings_on(texture, day.day, day.seed, balances)
        if oid in declining:
            bookings = [b for b in bookings if b[1] != CARD_PAYMENT]
        drawn += [(oid, booking) for booking in bookings]
        if oid in doubling:
            first = next((b for b in bookings if b[1] == CARD_PAYMENT), None)
            if first is not None:
                doubled.append((oid, first))
    booked = post_bookings(day.ledger, drawn)
    for oid, booking in doubled:
        (again,) = post_bookings(day.ledger, [(oid, booking)])
        booked.append(again)
        day.labels[("row", id(again))] = doubling[oid]
    add_spending(day.session, booked, day.spending)
    for event in today:
        if isinstance(event, CardCharge | Fee):
            _scripted_booking(day, event)
    return []


def _scripted_booking(day: Day, event: CardCharge | Fee) -> None:
    """A scripted charge or fee on the customer's current account (a charge the account
    cannot pay is declined: nothing is booked)."""
    account = day.session.exec(
        select(BankAccount)
        .where(
            BankAccount.customer_oid == event.customer_oid,
            BankAccount.account_type == AccountType.checking,
        )
        .order_by(col(BankAccount.id))
    ).first()
    if account is None:
        return
    cents = int(event.amount.scaleb(MONEY_SCALE))
    on, after = (
        day.day.isoformat(),
        on_or_after(
            BANKING_CALENDAR.get(account.currency, "weekdays"), day.day + timedelta(1)
        ).isoformat(),
    )
    booking: tuple[object, ...]
    if isinstance(event, CardCharge):
        if account.balance < event.amount:
            return
        booking = (
            on, CARD_PAYMENT, event.merchant.upper()[:100], account.id, event.category, -cents,
            account.currency, None, None, None, event.merchant, CATEGORIES[event.category].mcc,
            "online", after, on,
        )  # fmt: skip
    else:
        booking = (
            on, "fee", event.description.upper()[:100], account.id, "fees", -cents,
            account.currency, None, None, None, None, None, "internal", on, on,
        )  # fmt: skip
    (row,) = apply_bookings(day.ledger, event.customer_oid, [booking], day.spending)
    day.labels[("row", id(row))] = event.label


DAY_STEPS: tuple[DayStep, ...] = (
    market_step,
    payouts_step,
    expiries_step,
    payments_step,
    statement_step,
)
"""A day's steps, in the order they run."""


FEED_ORDER = {
    MARKET_DAY_CLOSED: 0,
    TRANSACTION_ADDED: 1,
    BALANCE_CHANGED: 2,
    HOLDING_CHANGED: 3,
    OPTION_EXPIRED: 4,
    INSTRUCTION_EXECUTED: 4,
    INSTRUCTION_REFUSED: 4,
}
"""The order a day's changes enter the feed: the market first, then each row, balance and
holding, then what they came of (an expiry, a payment), as an instruction's own changes
are. Dividends, coupons and futures settled reach it through the rows they book."""


def record_effects(
    session: Session, day: date, effects: Sequence[Effect], labels: Mapping[tuple[str, int], str]
) -> None:
    """A day's effects as the change feed's events, in the advance's transaction;
    ``labels`` names those a scripted event made (by "market", "instruction" or
    "transaction" and its id)."""
    # The ids as a mapping of ``ChangeIds``' fields: the day's own values need no model's
    # checking, and a day records tens of thousands.
    events = []
    for effect in sorted(
        (e for e in effects if e.kind in FEED_ORDER), key=lambda e: FEED_ORDER[e.kind]
    ):
        data, oid = effect.data, effect.customer_oid
        label = None
        if effect.kind == MARKET_DAY_CLOSED:
            ids, label = {}, labels.get(("market", 0))
        elif effect.kind == TRANSACTION_ADDED:
            ids = {
                "transaction_id": data["transaction_id"],
                "account_id": data["account_id"],
                "amount": Decimal(data["amount"]),
                "currency": data["currency"],
            }
            label = labels.get(("transaction", data["transaction_id"]))
        elif effect.kind == BALANCE_CHANGED:
            ids = {
                "account_id": data["account_id"],
                "balance": Decimal(data["balance"]),
                "currency": data["currency"],
            }
        elif effect.kind == HOLDING_CHANGED:
            ids = {"symbol": data["symbol"], "quantity": Decimal(data["quantity_after"])}
        elif effect.kind == OPTION_EXPIRED:
            ids = {"derivative_id": data["derivative_id"]}
        else:
            ids = {"instruction_id": data["instruction_id"], "kind": "payment"}
            label = labels.get(("instruction", data["instruction_id"]))
        events.append(Event(ChangeType(effect.kind), oid, ids, occurred_on=day, label=label))
    record_events(session, events)


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
    script: Script | None = None,
) -> AdvanceOut:
    """Run the days asked for, in one transaction, and say what they did; ``script`` is the
    sandbox's scripted events."""
    begin_write(session)
    if session.get_bind().dialect.name == "postgresql":
        # Instructions lock their customer's row (FOR UPDATE): they and other advances
        # wait for this one, while reads go on.
        session.execute(text("LOCK TABLE users IN EXCLUSIVE MODE"))
    with _page_cache(session):
        # The advance keeps the books of every customer it touches (``keep`` below): the
        # triggers that mark them stale row by row let its rows be (migration 0017).
        session.execute(update(BookKeeping).values(by_writer=True))
        clock = read_clock(session, seed)
        started_from = clock.today
        run = days_to_run(clock.today, days, to)
        prices, rates = last_closes(session)
        textures = textures_for(session, clock.started_on)
        spending = SpendingRows()
        accounts: dict[int, BankAccount] = {}
        stale = stale_books(session)
        booked: list[Posted] = []
        touched: set[str] = set()
        summaries, refused = [], []
        for on in run:
            ledger = DayLedger(session, on, accounts)
            today = Day(
                session, seed, on, ledger, prices, rates, script or Script(), textures, spending
            )
            effects: list[Effect] = []
            for step in steps:
                effects += step(today)
            effects += ledger.close()
            booked += ledger.rows
            touched |= ledger.touched
            labels = {
                (
                    "transaction" if kind == "row" else kind,
                    _row_id(ledger, key) if kind == "row" else key,
                ): label
                for (kind, key), label in today.labels.items()
            }
            record_effects(session, on, effects, labels)
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
        spending.write(session.connection())
        keep(session, touched, booked, started_from, stale)
        clock.today = run[-1]
        session.add(clock)
        record_change(session, None)
        session.execute(update(BookKeeping).values(by_writer=False))
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


@contextmanager
def _page_cache(session: Session) -> Iterator[None]:
    """On SQLite, a large page cache on the advance's connection while it writes (tens of
    thousands of rows into a few indexes: pages read once stay in memory), given back on
    the same connection before its transaction ends, however the advance ends."""
    if session.get_bind().dialect.name != "sqlite":
        yield
        return
    driver = session.connection().connection.dbapi_connection
    assert driver is not None
    driver.execute(f"PRAGMA cache_size = -{ADVANCE_CACHE_KIB}")
    try:
        yield
    finally:
        driver.execute(f"PRAGMA cache_size = {SQLITE_DEFAULT_CACHE}")


def _row_id(ledger: DayLedger, identity: int) -> int:
    """The id the ledger's row of Python ``identity`` got when the day was written."""
    return next((row.id or 0) for row in ledger.rows if id(row) == identity)


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
