"""When a recurring booking is due: day rules on a banking calendar, and reading one off
the days a series was booked on.

A rule is a day of the month (or the month's last) in some months, or every so many
days from a first one, moved off a closed day to the business day before, after, or
not at all. ``infer_rule`` finds the one that puts the most of a series' days where
they were; ``texture.py`` learns with it and ``continuation.py`` draws with it.
"""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

from market.calendars import BANKING_CALENDAR, is_open, month_end, on_or_after, on_or_before

BEFORE, AFTER, NONE = "before", "after", "none"
NEAR = 4
"""A monthly series' rows lie within this many days of its rule's day (transfers to
savings move about the first week)."""


@dataclass(frozen=True)
class DayRule:
    """When a series is due: day ``day`` (31 for the month's last) of each of ``months``,
    moved to an open day of ``calendar`` by ``roll``; or, when ``every`` is set, every
    ``every`` days from ``anchor``, rolled the same way."""

    calendar: str
    roll: str
    day: int = 0
    months: frozenset[int] = frozenset(range(1, 13))
    every: int = 0
    anchor: date | None = None

    def is_due(self, day: date) -> bool:
        if self.every and self.anchor is not None:
            # A roll moves a date by at most a long weekend with its holidays.
            return any(
                (day - self.anchor).days + shift >= 0
                and ((day - self.anchor).days + shift) % self.every == 0
                and _rolled(self.calendar, self.roll, day + timedelta(shift)) == day
                for shift in range(-6, 7)
            )
        return day in self.dues(day.year, day.month)

    def dues(self, year: int, month: int) -> frozenset[date]:
        """The due days the rule puts in a month (a monthly rule's own, or a neighbour's
        rolled in); cached by the fields, which hash faster than the rule."""
        return _month_dues(self.calendar, self.roll, self.day, self.months, year, month)


@cache
def _rolled(calendar: str, roll: str, day: date) -> date:
    if roll == BEFORE:
        return on_or_before(calendar, day)
    if roll == AFTER:
        return on_or_after(calendar, day)
    return day


def _nominal(year: int, month: int, day: int) -> date:
    first = date(year, month, 1)
    return min(first + timedelta(day - 1), month_end(first))


@cache
def _month_dues(
    calendar: str, roll: str, day: int, months: frozenset[int], year: int, month: int
) -> frozenset[date]:
    dues: set[date] = set()
    for offset in (-1, 0, 1):
        y, m = divmod(year * 12 + month - 1 + offset, 12)
        if m + 1 in months:
            due = _rolled(calendar, roll, _nominal(y, m + 1, day))
            if (due.year, due.month) == (year, month):
                dues.add(due)
    return frozenset(dues)


def calendar_of(currency: str) -> str:
    """The banking calendar an account in ``currency`` books on."""
    return BANKING_CALENDAR.get(currency, "US")


@cache
def business_lag(calendar: str, day: date, later: date) -> int:
    """Open days of ``calendar`` after ``day`` up to ``later``: 1 for the next business day."""
    lag, at = 0, day
    while at < later and lag < 10:
        at = on_or_after(calendar, at + timedelta(1))
        lag += 1
    return lag


def near(rule: DayRule, day: date) -> bool:
    """Whether ``day`` is within ``NEAR`` days of one the rule is due on."""
    dues: set[date] = set()
    for offset in (-1, 0, 1):
        y, m = divmod(day.year * 12 + day.month - 1 + offset, 12)
        dues |= rule.dues(y, m + 1)
    return any(abs((due - day).days) <= NEAR for due in dues)


def infer_rule(
    days: Sequence[date], calendar: str, roll: tuple[str, ...], months: frozenset[int] | None
) -> DayRule:
    """The day of the month and roll that put the most of ``days`` where they are; ``roll``
    orders the rolls to believe when the days never had to choose."""
    scores: Counter[tuple[int, str]] = Counter()
    exact: Counter[tuple[int, str]] = Counter()
    for day in days:
        for candidate, on_it in _candidates(calendar, day):
            scores[candidate] += 1
            exact[candidate] += on_it
    best = max(
        scores,
        key=lambda c: (scores[c], -roll.index(c[1]), exact[c], c[0]),
    )
    return DayRule(calendar, best[1], best[0], months or frozenset(range(1, 13)))


@cache
def _candidates(calendar: str, day: date) -> tuple[tuple[tuple[int, str], bool], ...]:
    """Every (day of the month, roll) that lands on ``day`` in its own month, and whether
    ``day`` is that day of the month itself (no roll was needed)."""

    def days_for(nominal: date) -> set[int]:
        last = month_end(nominal).day
        return set(range(nominal.day, 32)) if nominal.day == last else {nominal.day}

    found = {(n, NONE) for n in days_for(day)}
    if is_open(calendar, day):
        for step, how in ((1, BEFORE), (-1, AFTER)):
            at = day
            while at.month == day.month:
                found |= {(n, how) for n in days_for(at)}
                at += timedelta(step)
                if is_open(calendar, at):
                    break
    return tuple(
        (candidate, _nominal(day.year, day.month, candidate[0]) == day)
        for candidate in sorted(found)
    )
