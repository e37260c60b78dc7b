"""A sandbox's clock: the day it has reached, and which days an advance asks to run.

The clock's row lives in the sandbox's own copy (``SandboxClock``), made by the first
advance; before that the clock stands on the history's last day. An advance runs whole
calendar days forward only: ``days`` (1 to ``MAX_DAYS_PER_ADVANCE``) or ``to`` (a day after
today, as far), never both, never past ``HORIZON``. A request that breaks a rule is
``InvalidInput`` naming the field, before anything is written.
"""

from datetime import date, timedelta

from sqlalchemy import func, select
from sqlmodel import Session

from core.errors import InvalidInput
from market.continuation import HORIZON, MAX_DAYS_PER_ADVANCE
from models import InstrumentPrice, SandboxClock

_P = InstrumentPrice.__table__.c  # type: ignore[attr-defined]


def read_clock(session: Session, seed: int) -> SandboxClock:
    """The clock's row, or (before the first advance) the clock on the market's last day."""
    found = session.get(SandboxClock, 1)
    if found is not None:
        return found
    last = session.connection().execute(select(func.max(_P.price_date))).scalar()
    if last is None:
        raise InvalidInput("sandbox: it holds no market data to continue")
    return SandboxClock(id=1, seed=seed, started_on=last, today=last)


def days_to_run(today: date, days: int | None, to: date | None) -> list[date]:
    """The days an advance from ``today`` runs, oldest first; ``InvalidInput`` naming the
    field for a request that breaks a rule."""
    if days is not None and to is not None:
        raise InvalidInput("days, to: give one of them, not both")
    if days is None and to is None:
        raise InvalidInput("days, to: give one of them (days: a number; to: YYYY-MM-DD)")
    if to is not None:
        if to <= today:
            raise InvalidInput(
                f"to: {to} is not after today, {today}: the clock only moves forward"
            )
        days = (to - today).days
        if days > MAX_DAYS_PER_ADVANCE:
            raise InvalidInput(
                f"to: {to} is {days} days after today, {today}; one advance runs at most "
                f"{MAX_DAYS_PER_ADVANCE} days"
            )
        field = "to"
    else:
        assert days is not None
        if days < 1:
            raise InvalidInput(f"days: {days} is not a day forward; give 1 or more")
        if days > MAX_DAYS_PER_ADVANCE:
            raise InvalidInput(
                f"days: {days} is more than one advance runs (at most {MAX_DAYS_PER_ADVANCE})"
            )
        field = "days"
    last = today + timedelta(days)
    if last > HORIZON:
        raise InvalidInput(
            f"{field}: {last} is past the clock's horizon, {HORIZON} "
            f"({(HORIZON - today).days} days after today)"
        )
    return [today + timedelta(n) for n in range(1, days + 1)]
