"""When markets trade and banks book: exchange and business-day calendars, expiry dates.

Holidays come from the ``holidays`` package, which derives them by rule
(Good Friday from Easter, Thanksgiving as the fourth Thursday, observed days
when a holiday falls on a weekend) for any year, so nothing here lists dates.
"""

from collections.abc import Iterator
from contextlib import suppress
from datetime import date, timedelta
from functools import cache

import holidays

FIRST_YEAR, LAST_YEAR = 2009, 2028
"""The years the calendars are built for: the oldest sample account to the end of the
sandbox clock's horizon (``market/continuation.py``)."""


@cache
def _closed(calendar: str) -> frozenset[date]:
    years = range(FIRST_YEAR, LAST_YEAR + 1)
    if calendar == "NYSE":
        days = holidays.financial_holidays("NYSE", years=years)
    elif calendar == "XETR":
        days = holidays.financial_holidays("XETR", years=years)
    elif calendar == "US":
        # The Federal Reserve's holidays: no ACH or wire settles on them.
        days = holidays.country_holidays("US", years=years, categories=("public",))
    elif calendar == "DE":
        days = holidays.financial_holidays("ECB", years=years)
    elif calendar == "GB":
        days = holidays.country_holidays("GB", years=years)
    else:
        raise ValueError(f"unknown calendar {calendar}")
    return frozenset(days)


BANKING_CALENDAR = {"USD": "US", "EUR": "DE", "GBP": "GB"}
"""The calendar an account's payments settle on, by the account's currency."""


def is_open(calendar: str, day: date) -> bool:
    """True on a weekday the calendar does not close for; ``every_day`` is always open."""
    if calendar == "every_day":
        return True
    if calendar == "weekdays":
        return day.weekday() < 5
    return day.weekday() < 5 and day not in _closed(calendar)


def open_days(calendar: str, start: date, end: date) -> list[date]:
    return [day for day in _days(start, end) if is_open(calendar, day)]


def _days(start: date, end: date) -> Iterator[date]:
    for n in range((end - start).days + 1):
        yield start + timedelta(n)


def on_or_after(calendar: str, day: date) -> date:
    """The first open day from ``day`` on: a payment due on a holiday settles the next day."""
    while not is_open(calendar, day):
        day += timedelta(1)
    return day


def on_or_before(calendar: str, day: date) -> date:
    while not is_open(calendar, day):
        day -= timedelta(1)
    return day


TRADING_DAYS_PER_YEAR = 252
"""Trading days in a year, by the market convention that annualises daily figures."""


@cache
def month_end(day: date) -> date:
    """The last day of ``day``'s month."""
    return date(day.year + day.month // 12, day.month % 12 + 1, 1) - timedelta(1)


def months_before(day: date, months: int) -> date:
    """The same day ``months`` calendar months earlier, clamped to the month's end
    (and to the first day the calendar has)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    if year < 1:
        return date.min
    for last_day in (day.day, 30, 29):
        with suppress(ValueError):
            return date(year, month + 1, min(day.day, last_day))
    return date(year, month + 1, 28)


def third_friday(year: int, month: int) -> date:
    first = date(year, month, 1)
    return first + timedelta((4 - first.weekday()) % 7 + 14)


def option_expiry(year: int, month: int) -> date:
    """Monthly equity options expire on the third Friday, or the day before when it is a holiday."""
    return on_or_before("NYSE", third_friday(year, month))


def futures_expiry(year: int, month: int) -> date:
    """A COMEX gold contract's last trading day: the third-last business day of its month."""
    day = month_end(date(year, month, 1))
    for _ in range(2):
        day = on_or_before("NYSE", day) - timedelta(1)
    return on_or_before("NYSE", day)
