"""A continued statement looked at the way a bank's data engineer would: the three months
drawn after the history (92 days) against the history's last three, customer by customer.

The book (synthetic customers of a fixed seed) is built and continued once for the
module; every figure is read back from the rows.
"""

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise
from typing import Any

import pytest
from scipy import stats
from sqlalchemy import Engine, text
from sqlmodel import Session

from db import create_db_engine, create_schema
from market.calendars import BANKING_CALENDAR, is_open, month_end, on_or_after, on_or_before
from market.model import AS_OF
from synthetic.bulk_load import load_synthetic
from synthetic.continuation import draw_day
from synthetic.texture import learn_all

CUSTOMERS = 150
DAYS = 92
SEED = 77
FIRST = AS_OF + timedelta(1)


@dataclass(frozen=True)
class Line:
    day: date
    kind: str
    description: str
    account_id: int
    category: str | None
    cents: int
    channel: str | None
    booked: date


@dataclass
class Continued:
    history: dict[str, list[Line]]
    """Each customer's checking and savings rows of the last year of history."""
    drawn: dict[str, list[Line]]
    calendars: dict[int, str]
    """Each account's banking calendar."""
    card_breaches: int
    """Card payments booked that took a balance from zero or more to below zero."""


def _line(row: Sequence[Any]) -> Line:
    """A row of (day, type, description, account, category, cents, channel, booked)."""
    day, booked = (d if isinstance(d, date) else date.fromisoformat(d) for d in (row[0], row[7]))
    return Line(day, row[1], row[2], row[3], row[4], int(row[5]), row[6], booked)


@pytest.fixture(scope="module")
def continued(tmp_path_factory: pytest.TempPathFactory) -> Continued:
    engine = create_db_engine(f"sqlite:///{tmp_path_factory.mktemp('continued') / 'bank.db'}")
    create_schema(engine)
    load_synthetic(engine, CUSTOMERS, seed=13, batch_size=75, progress=False)
    with Session(engine) as session:
        textures = learn_all(session, AS_OF)
    history, balances, calendars = read_history(engine)
    drawn: dict[str, list[Line]] = defaultdict(list)
    breaches = 0
    for n in range(DAYS):
        day = FIRST + timedelta(n)
        for oid, texture in textures.items():
            for row in draw_day(texture, day, SEED, balances).bookings:
                before = balances.get(row[3], 0)
                balances[row[3]] = before + row[5]
                breaches += row[1] == "card_payment" and before >= 0 > before + row[5]
                drawn[oid].append(
                    _line((row[0], row[1], row[2], row[3], row[4], row[5], row[12], row[13]))
                )
    return Continued(history, drawn, calendars, breaches)


def read_history(engine: Engine) -> tuple[dict[str, list[Line]], dict[int, int], dict[int, str]]:
    history: dict[str, list[Line]] = defaultdict(list)
    calendars: dict[int, str] = {}
    with engine.connect() as connection:
        for oid, *row in connection.execute(
            text(
                "SELECT t.customer_oid, t.transaction_date, t.transaction_type, t.description,"
                " t.account_id, t.category, t.amount, t.channel, t.booking_date"
                " FROM transactions t JOIN bank_accounts a ON a.id = t.account_id"
                " WHERE a.account_type IN ('checking', 'savings')"
                " ORDER BY t.customer_oid, t.transaction_date, t.id"
            )
        ):
            history[oid].append(_line(tuple(row)))
        balances = {
            account_id: int(balance)
            for account_id, balance in connection.execute(
                text("SELECT id, balance FROM bank_accounts")
            )
        }
        for account_id, currency in connection.execute(
            text("SELECT id, currency FROM bank_accounts")
        ):
            calendars[account_id] = BANKING_CALENDAR[currency]
    return history, balances, calendars


def last_days(lines: list[Line]) -> list[Line]:
    return [line for line in lines if line.day > AS_OF - timedelta(DAYS)]


def spending(lines: list[Line]) -> list[Line]:
    return [line for line in lines if line.kind == "card_payment" and line.cents < 0]


def spenders(continued: Continued) -> list[str]:
    """Customers whose last 92 days show enough card payments to compare (20 or more),
    and whose statement covers those whole 92 days."""
    return sorted(
        oid
        for oid, lines in continued.history.items()
        if len(spending(last_days(lines))) >= 20 and lines[0].day <= AS_OF - timedelta(DAYS)
    )


def test_card_spending_per_customer_stays_at_its_level(continued: Continued) -> None:
    oids = spenders(continued)
    assert len(oids) > 100
    ratios = []
    for oid in oids:
        before = -sum(line.cents for line in spending(last_days(continued.history[oid])))
        after = -sum(line.cents for line in spending(continued.drawn[oid]))
        ratios.append(after / before)
    logs = [math.log(r) if r > 0 else -10.0 for r in ratios]
    # No drift in the level: the typical customer spends what it did, and the log ratios
    # are centred on zero (a signed-rank test would see a shift of a few per cent).
    assert 0.85 < statistics.median(ratios) < 1.15, statistics.median(ratios)
    assert stats.wilcoxon(logs).pvalue > 0.001
    # Each customer within a band a 92-day total of a few dozen purchases can keep.
    inside = sum(0.5 < ratio < 2.0 for ratio in ratios)
    assert inside >= 0.9 * len(ratios), sorted(ratios)


def test_monthly_card_spending_keeps_its_spread(continued: Continued) -> None:
    """Month to month, a customer's card spending varies about as much as it did."""
    before: list[float] = []
    after: list[float] = []
    for oid in spenders(continued):
        for lines, found, months in (
            (continued.history[oid], before, ((2026, 7), (2026, 8), (2026, 9))),
            (continued.drawn[oid], after, ((2026, 10), (2026, 11), (2026, 12))),
        ):
            totals = [
                -sum(row.cents for row in spending(lines) if (row.day.year, row.day.month) == month)
                for month in months
            ]
            if min(totals) > 0:
                found.append(statistics.pstdev(totals) / statistics.mean(totals))
    assert len(before) > 100 and len(after) > 100
    assert 0.6 < statistics.median(after) / statistics.median(before) < 1.6


def test_category_shares_stay_alike(continued: Continued) -> None:
    distances = []
    pooled: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for oid in spenders(continued):
        shares = []
        for side, lines in enumerate((last_days(continued.history[oid]), continued.drawn[oid])):
            counts = Counter(line.category for line in spending(lines))
            for category, count in counts.items():
                pooled[str(category)][side] += count
            total = sum(counts.values())
            shares.append({category: count / total for category, count in counts.items()})
        categories = set(shares[0]) | set(shares[1])
        distances.append(
            sum(abs(shares[0].get(c, 0) - shares[1].get(c, 0)) for c in categories) / 2
        )
    # Total variation distance between a customer's category mixes, before and after.
    assert statistics.median(distances) < 0.2, statistics.median(distances)
    table = [pooled[category] for category in sorted(pooled)]
    chi2, _, _, _ = stats.chi2_contingency(table)
    cramers_v = (chi2 / sum(map(sum, table))) ** 0.5
    assert cramers_v < 0.05, cramers_v


def test_the_weekday_profile_of_spending_stays(continued: Continued) -> None:
    table = [[0] * 7, [0] * 7]
    for oid in spenders(continued):
        for side, lines in enumerate((last_days(continued.history[oid]), continued.drawn[oid])):
            for line in spending(lines):
                table[side][line.day.weekday()] += 1
    chi2, _, _, _ = stats.chi2_contingency(table)
    assert (chi2 / sum(map(sum, table))) ** 0.5 < 0.03
    for counts in table:
        assert min(counts) > 0.08 * sum(counts)  # card spending happens on every weekday


def test_payroll_keeps_its_amount_and_its_day(continued: Continued) -> None:
    checked = 0
    for oid, lines in continued.history.items():
        payroll = [
            row
            for row in lines
            if row.description.startswith("PAYROLL") and row.day > AS_OF - timedelta(120)
        ]
        if not payroll:
            continue
        calendar = continued.calendars[payroll[0].account_id]
        drawn = [row for row in continued.drawn[oid] if row.description.startswith("PAYROLL")]
        assert {row.cents for row in drawn} == {row.cents for row in payroll}, oid
        assert all(is_open(calendar, row.day) for row in drawn)
        # As many pay days in each month drawn as in the history's months (two or three
        # for fortnightly pay).
        per_month = Counter((row.day.year, row.day.month) for row in drawn)
        seen = Counter((row.day.year, row.day.month) for row in payroll)
        assert set(per_month) == {(2026, 10), (2026, 11), (2026, 12)}
        assert min(per_month.values()) >= min(seen.values()) - 1
        assert max(per_month.values()) <= max(seen.values()) + 1
        last_business = {on_or_before(calendar, month_end(row.day)) for row in payroll}
        if {row.day for row in payroll} <= last_business:
            assert [row.day for row in drawn] == [
                on_or_before(calendar, month_end(date(2026, m, 1))) for m in (10, 11, 12)
            ]
        if all((b.day - a.day).days == 14 for a, b in pairwise(payroll)):
            days = [row.day for row in drawn]
            assert all(13 <= (b - a).days <= 15 for a, b in pairwise(days))
        checked += 1
    assert checked > 50


def test_bills_are_paid_on_their_days(continued: Continued) -> None:
    checked = 0
    for oid, lines in continued.history.items():
        bills: dict[str, list[date]] = defaultdict(list)
        accounts: dict[str, int] = {}
        for line in lines:
            if line.kind == "withdrawal" and line.category in (
                "utilities",
                "phone",
                "rent",
                "mortgage",
                "insurance",
            ):
                bills[line.description].append(line.day)
                accounts[line.description] = line.account_id
        for description, days in bills.items():
            if len(days) < 6 or days[-1] < AS_OF - timedelta(40):
                continue
            # The day the bill is due: the history's most common day of the month.
            due = Counter(day.day for day in days).most_common(1)[0][0]
            calendar = continued.calendars[accounts[description]]
            drawn = [row.day for row in continued.drawn[oid] if row.description == description]
            expected = [
                on_or_after(calendar, date(y, m, min(due, month_end(date(y, m, 1)).day)))
                for y, m in ((2026, 10), (2026, 11), (2026, 12))
            ]
            assert drawn == [day for day in expected if day < FIRST + timedelta(DAYS)], (
                description, days, drawn,
            )  # fmt: skip
            checked += 1
    assert checked > 150


def test_nothing_is_booked_on_a_closed_day_the_history_never_books_on(
    continued: Continued,
) -> None:
    checked = 0
    # By what a stream is: a kind of booking on one account in one category, one way (card
    # spending in shops and online alike), on the account's calendar.
    for oid, lines in continued.history.items():
        closed_ok, booked_closed_ok = set(), set()
        for line in lines:
            calendar = continued.calendars[line.account_id]
            key = (line.account_id, line.kind, line.category, line.cents > 0)
            if not is_open(calendar, line.day):
                closed_ok.add(key)
            if not is_open(calendar, line.booked):
                booked_closed_ok.add(key)
        for line in continued.drawn[oid]:
            calendar = continued.calendars[line.account_id]
            key = (line.account_id, line.kind, line.category, line.cents > 0)
            if not is_open(calendar, line.day):
                assert key in closed_ok, (oid, line)
                checked += 1
            if not is_open(calendar, line.booked):
                assert key in booked_closed_ok, (oid, line)
    assert checked > 100  # card spending does happen on weekends


def test_card_spending_never_overdraws(continued: Continued) -> None:
    assert continued.card_breaches == 0
