"""A customer's statement continued past its history, one day at a time.

``bookings_on`` draws one day of a customer from its ``Texture`` (``texture.py``):
the recurring series due that day on their calendar, then the irregular streams
(card spending, cash, receipts) at their weekday's rate. Each day draws from a
random stream of its own, keyed by the sandbox's seed, the customer and the day,
so a day's rows do not depend on the days around it, nor on how an advance was
split. Amounts are integers of cents; the few floats that shape a draw use only
additions, multiplications and ``round``, which every machine does alike.
"""

import random
import threading
from bisect import bisect_right
from collections import ChainMap, OrderedDict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from functools import cache

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from db import begin_write
from market.calendars import is_open, on_or_after
from models import BankAccount, StatementTexture
from services.clock import read_clock
from synthetic.book import Booking, iso
from synthetic.day_rules import calendar_of
from synthetic.texture import STATEMENT_ACCOUNTS, Leg, Series, Texture, learn_all
from synthetic.texture_store import dump_texture, load_texture

_ACCOUNTS = BankAccount.__table__  # type: ignore[attr-defined]
_TEXTURES = StatementTexture.__table__  # type: ignore[attr-defined]
MINIMUM_TICKET = 50
"""The smallest card payment drawn, in cents."""
SPENDING_KINDS = ("card_payment", "withdrawal")
"""Irregular outflows a customer chooses to make, declined when the balance cannot
cover them; bills and pay are booked whatever the balance."""


@dataclass
class DayDraw:
    """One customer's day: the rows to book, and the purchases declined for want of funds
    (as the rows they would have been)."""

    bookings: list[Booking] = field(default_factory=list)
    declined: list[Booking] = field(default_factory=list)


def day_stream(seed: int | str, customer_oid: str, day: date) -> random.Random:
    return random.Random(f"continuation:{seed}:{customer_oid}:{day.isoformat()}")


def bookings_on(
    texture: Texture, day: date, seed: int | str, balances: dict[int, int]
) -> list[Booking]:
    """The rows ``texture``'s customer books on ``day`` (see ``draw_day``)."""
    return draw_day(texture, day, seed, balances).bookings


def draw_day(texture: Texture, day: date, seed: int | str, balances: dict[int, int]) -> DayDraw:
    """``day``'s rows for a customer, given its accounts' balances at the start of the day
    (account id -> cents; an account not named holds nothing).

    Pay and other credits first, then bills, then what the customer spends: a purchase or
    a withdrawal the balance (with the day's earlier rows) cannot cover is declined.
    ``balances`` is not changed.
    """
    rng = day_stream(seed, texture.customer_oid, day)
    # The day's moves over the balances given (which hold every customer's accounts).
    running = ChainMap({}, balances)
    draw = DayDraw()
    due = [one for one in texture.series if one.rule.is_due(day)]
    for one in sorted(due, key=lambda s: s.level < 0):
        cents = _amount(one, rng, running)
        if cents == 0:
            continue
        lead = one.legs[0]
        if (
            lead.kind == "card_payment"
            and cents < 0
            and running.get(lead.account_id, 0) + cents < 0
        ):
            # A subscription the balance cannot cover is declined like any card payment.
            draw.declined.append(_booking(lead, day, cents, lead.booked_lag, 0))
            continue
        for leg in one.legs:
            booking = _booking(leg, day, leg.sign * cents, leg.booked_lag, 0)
            draw.bookings.append(booking)
            running[leg.account_id] = running.get(leg.account_id, 0) + leg.sign * cents
    # The streams' bookings of the day: how many in all, then whose each is (a sum of
    # Poisson counts is one, and each booking is a stream's in proportion to its rate).
    closed = not is_open(texture.calendar, day)
    total, running_rates = texture.daily[7 * closed + day.weekday()] if texture.streams else (0, ())
    for _ in range(_count(total, rng)):
        at = min(bisect_right(running_rates, rng.random() * total), len(running_rates) - 1)
        stream = texture.streams[at]
        description, cents, merchant, mcc, channel = stream.seen[
            int(rng.random() * len(stream.seen))
        ]
        if stream.jitter:
            cents = round(cents * (0.75 + 0.5 * rng.random()))
            if abs(cents) < MINIMUM_TICKET:
                cents = MINIMUM_TICKET if cents > 0 else -MINIMUM_TICKET
        if not (stream.on_closed_days or is_open(calendar_of(stream.currency), day)):
            continue
        leg = Leg(
            stream.account_id, stream.kind, description, stream.category,
            stream.currency, merchant, mcc, channel, 1, stream.booked_lag,
        )  # fmt: skip
        booking = _booking(leg, day, cents, stream.booked_lag, stream.value_lag)
        balance = running.get(stream.account_id, 0)
        if cents < 0 and stream.kind in SPENDING_KINDS and balance + cents < 0:
            draw.declined.append(booking)
            continue
        draw.bookings.append(booking)
        running[stream.account_id] = balance + cents
    return draw


def _amount(one: Series, rng: random.Random, balances: Mapping[int, int]) -> int:
    if one.rate_bp is not None:
        balance = balances.get(one.legs[0].account_id, 0)
        return balance * one.rate_bp // 120_000 if balance > 0 else 0
    if not one.spread:
        return one.level
    steps = round((2 * rng.random() - 1) * one.spread / one.step)
    cents = one.level + steps * one.step
    # A drawn sum never crosses zero: a bill stays a bill.
    return cents if cents * one.level > 0 else one.level


def _count(rate: float, rng: random.Random) -> int:
    """A Poisson-like count with mean ``rate``: that many trials of a small chance each
    (a binomial), which needs no ``exp`` and so draws alike everywhere."""
    if rate <= 0:
        return 0
    trials = 4 + int(4 * rate)
    chance = rate / trials
    draw = rng.random
    count = 0
    for _ in range(trials):
        if draw() < chance:
            count += 1
    return count


@cache
def _business_day_after(calendar: str, day: date, lag: int) -> date:
    for _ in range(lag):
        day = on_or_after(calendar, day + timedelta(1))
    return day


def _booking(leg: Leg, day: date, cents: int, lag: int, value_lag: int) -> Booking:
    """A row in ``Booking`` order, booked ``lag`` business days later on its account's
    calendar."""
    booked = _business_day_after(calendar_of(leg.currency), day, lag)
    return (
        iso(day), leg.kind, leg.description, leg.account_id, leg.category, cents, leg.currency,
        None, None, None, leg.merchant, leg.mcc, leg.channel, iso(booked),
        iso(day + timedelta(value_lag)),
    )  # fmt: skip


def is_pay(series: Series) -> bool:
    """A series of pay: credits to the statement in the ``income`` category."""
    return all(leg.kind == "deposit" and leg.category == "income" for leg in series.legs)


def with_pay(texture: Texture, cents: int | None) -> Texture:
    """``texture`` with each pay series paying ``cents`` (None: no pay any more)."""
    series = tuple(
        replace(one, level=cents, spread=0) if is_pay(one) and cents is not None else one
        for one in texture.series
        if cents is not None or not is_pay(one)
    )
    return replace(texture, series=series)


_LEARNED: "OrderedDict[tuple[str, date], dict[str, Texture]]" = OrderedDict()
_LEARNED_LOCK = threading.Lock()
KEPT_TEXTURES = 8
"""Databases whose textures a process keeps (a sandbox's copy each)."""


def textures_for(session: Session, until: date) -> dict[str, Texture]:
    """The texture of every customer with a statement account now, learned from the rows up
    to ``until``: held by this process, else read from ``statement_textures`` (where a
    sandbox's template keeps them), else learned and kept there, in the caller's write
    transaction. A texture reads only rows up to ``until``, which no later write can add
    to once a clock has moved past it; a customer registered since is learned then."""
    key = (session.get_bind().engine.url.render_as_string(hide_password=True), until)
    with _LEARNED_LOCK:
        held = dict(_LEARNED.get(key, {}))
    connection = session.connection()
    live = set(
        connection.execute(
            select(_ACCOUNTS.c.customer_oid)
            .where(_ACCOUNTS.c.account_type.in_(STATEMENT_ACCOUNTS))
            .distinct()
        ).scalars()
    )
    missing = live - set(held)
    if missing:
        held |= read_textures(session, until, None if held else missing)
        missing = live - set(held)
    if missing:
        learned = learn_all(session, until, None if len(missing) == len(live) else missing)
        keep_textures(session, learned)
        held |= learned
    with _LEARNED_LOCK:
        _LEARNED[key] = held
        _LEARNED.move_to_end(key)
        while len(_LEARNED) > KEPT_TEXTURES:
            _LEARNED.popitem(last=False)
    return {oid: texture for oid, texture in held.items() if oid in live}


def learn_textures(engine: Engine) -> int:
    """Learn and keep every customer's texture as of the clock's first day: what a sandbox's
    template does once it is filled. How many it kept."""
    with Session(engine) as session:
        begin_write(session)
        learned = textures_for(session, read_clock(session, 0).started_on)
        session.commit()
    return len(learned)


def read_textures(
    session: Session, until: date, only: Collection[str] | None = None
) -> dict[str, Texture]:
    """The textures kept for ``until`` (``only`` those customers')."""
    query = select(_TEXTURES.c.texture).where(_TEXTURES.c.until == until)
    if only is not None:
        query = query.where(_TEXTURES.c.customer_oid.in_(sorted(only)))
    found = (load_texture(kept) for kept in session.connection().execute(query).scalars())
    return {texture.customer_oid: texture for texture in found}


def keep_textures(session: Session, textures: Mapping[str, Texture]) -> None:
    """Keep ``textures`` in the caller's write transaction, replacing any kept before."""
    if not textures:
        return
    connection = session.connection()
    connection.execute(delete(_TEXTURES).where(_TEXTURES.c.customer_oid.in_(sorted(textures))))
    connection.execute(
        insert(_TEXTURES),
        [
            {"customer_oid": oid, "until": texture.until, "texture": dump_texture(texture)}
            for oid, texture in sorted(textures.items())
        ],
    )
