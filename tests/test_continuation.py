"""A statement continued past its history: learned once, drawn a day at a time, the same
however the days are split.

The book (the five samples and some synthetic customers of a fixed seed) is
built once for the module; the day rules are also checked on hand-made rows.
"""

from collections.abc import Iterable
from datetime import date, timedelta
from itertools import pairwise

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session

from db import create_db_engine
from market.calendars import is_open, month_end, on_or_after, on_or_before
from market.model import AS_OF
from synthetic.book import Booking, iso
from synthetic.bulk_load import load_synthetic
from synthetic.continuation import bookings_on, draw_day
from synthetic.day_rules import AFTER, BEFORE, NONE, DayRule
from synthetic.samples import SAMPLE_CUSTOMERS
from synthetic.seeding import prepare_database
from synthetic.texture import Texture, learn, learn_all
from synthetic.texture_store import dump_texture, load_texture

CUSTOMERS = 40
SEED = 2024


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    engine = create_db_engine(f"sqlite:///{tmp_path_factory.mktemp('texture') / 'bank.db'}")
    prepare_database(engine)
    load_synthetic(engine, CUSTOMERS, seed=5, batch_size=50, progress=False)
    return engine


def textures_of(engine: Engine, until: date = AS_OF) -> dict[str, Texture]:
    with Session(engine) as session:
        return learn_all(session, until)


def balances_of(engine: Engine) -> dict[int, int]:
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT id, balance FROM bank_accounts"))
        return {account_id: int(balance) for account_id, balance in rows}


def advance(
    textures: dict[str, Texture],
    days: Iterable[date],
    seed: int,
    balances: dict[int, int],
) -> dict[str, list[Booking]]:
    """What a clock would book: each day of each customer, applied to the balances."""
    booked: dict[str, list[Booking]] = {oid: [] for oid in textures}
    for day in days:
        for oid in sorted(textures):
            for row in bookings_on(textures[oid], day, seed, balances):
                booked[oid].append(row)
                balances[row[3]] = balances.get(row[3], 0) + row[5]
    return booked


def days_from(first: date, count: int) -> list[date]:
    return [first + timedelta(n) for n in range(count)]


def chosen(textures: dict[str, Texture]) -> list[str]:
    samples = [sample.customer_oid for sample in SAMPLE_CUSTOMERS]
    synthetic = sorted(oid for oid in textures if oid not in samples)
    return samples + synthetic[:12]


def test_thirty_days_at_once_equal_thirty_single_days(book: Engine) -> None:
    textures = textures_of(book)
    oids = chosen(textures)
    assert len(oids) == 17 and all(oid in textures for oid in oids)
    days = days_from(AS_OF + timedelta(1), 30)
    at_once = advance({oid: textures[oid] for oid in oids}, days, SEED, balances_of(book))
    # Day by day, as separate advances would: textures learned afresh each time.
    balances = balances_of(book)
    one_by_one: dict[str, list[Booking]] = {oid: [] for oid in oids}
    for day in days:
        fresh = textures_of(book)
        for oid, rows in advance({oid: fresh[oid] for oid in oids}, [day], SEED, balances).items():
            one_by_one[oid] += rows
    assert one_by_one == at_once
    assert sum(len(rows) for rows in at_once.values()) > 17 * 20
    # Every customer chosen books something in a month, the samples included.
    assert all(at_once[oid] for oid in oids)


def test_a_day_is_drawn_alone(book: Engine) -> None:
    textures = textures_of(book)
    oid = chosen(textures)[6]
    balances = balances_of(book)
    day = AS_OF + timedelta(17)
    alone = bookings_on(textures[oid], day, SEED, dict(balances))
    after_others = advance({oid: textures[oid]}, days_from(AS_OF + timedelta(1), 18), SEED, {})
    # The same day with the same balances gives the same rows whatever was drawn before it.
    rich = dict.fromkeys(balances, 10**12)
    assert bookings_on(textures[oid], day, SEED, rich) == bookings_on(
        textures[oid], day, SEED, dict(rich)
    )
    assert alone == bookings_on(textures[oid], day, SEED, dict(balances))
    assert after_others[oid]


def test_learning_twice_gives_the_same_texture_and_rows(book: Engine) -> None:
    first, second = textures_of(book), textures_of(book)
    assert first == second
    oids = chosen(first)
    days = days_from(AS_OF + timedelta(1), 10)
    assert advance({o: first[o] for o in oids}, days, SEED, balances_of(book)) == advance(
        {o: second[o] for o in oids}, days, SEED, balances_of(book)
    )


def test_another_seed_draws_other_days(book: Engine) -> None:
    textures = textures_of(book)
    oids = chosen(textures)
    days = days_from(AS_OF + timedelta(1), 10)
    one = advance({o: textures[o] for o in oids}, days, SEED, balances_of(book))
    other = advance({o: textures[o] for o in oids}, days, SEED + 1, balances_of(book))
    assert one != other


def test_rows_booked_after_the_history_do_not_change_what_is_learned(
    book: Engine, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A clock that already advanced has rows after ``until`` and balances that moved:
    learning from the same ``until`` must give the same texture."""
    before = textures_of(book)
    oid = chosen(before)[0]
    with book.begin() as connection:
        accounts = list(
            connection.execute(
                text("SELECT id FROM bank_accounts WHERE customer_oid = :oid"), {"oid": oid}
            ).scalars()
        )
        for account_id in accounts:
            for offset, cents in ((3, -123456), (9, 987654)):
                connection.execute(
                    text(
                        "INSERT INTO transactions (customer_oid, account_id, transaction_date,"
                        " transaction_type, description, category, amount, currency, channel)"
                        " VALUES (:oid, :account, :day, 'card_payment', 'LATER SHOP',"
                        " 'groceries', :cents, 'USD', 'card')"
                    ),
                    {"oid": oid, "account": account_id, "day": iso(AS_OF + timedelta(offset)),
                     "cents": cents},
                )  # fmt: skip
                connection.execute(
                    text("UPDATE bank_accounts SET balance = balance + :cents WHERE id = :id"),
                    {"cents": cents, "id": account_id},
                )
    try:
        assert textures_of(book) == before
        # Learning up to a later day does see them.
        assert textures_of(book, AS_OF + timedelta(10))[oid] != before[oid]
    finally:
        with book.begin() as connection:
            connection.execute(text("DELETE FROM transactions WHERE description = 'LATER SHOP'"))
            for account_id, cents in ((a, c) for a in accounts for c in (123456, -987654)):
                connection.execute(
                    text("UPDATE bank_accounts SET balance = balance + :cents WHERE id = :id"),
                    {"cents": cents, "id": account_id},
                )


def test_learn_reads_no_row_after_until_nor_investing(book: Engine) -> None:
    textures = textures_of(book)
    oid = chosen(textures)[0]
    with book.connect() as connection:
        accounts = {
            account_id: (kind, int(balance))
            for account_id, kind, balance in connection.execute(
                text(
                    "SELECT id, account_type, balance FROM bank_accounts WHERE customer_oid = :oid"
                ),
                {"oid": oid},
            )
        }
        rows: list[Booking] = [
            tuple(row)
            for row in connection.execute(
                text(
                    "SELECT transaction_date, transaction_type, description, account_id,"
                    " category, amount, currency, symbol, quantity, price, merchant,"
                    " merchant_category_code, channel, booking_date, value_date"
                    " FROM transactions WHERE customer_oid = :oid ORDER BY transaction_date, id"
                ),
                {"oid": oid},
            )
        ]
    assert learn(oid, rows, accounts, AS_OF) == textures[oid]
    checking = next(a for a, (kind, _) in accounts.items() if kind == "checking")
    later = (iso(AS_OF + timedelta(2)), "withdrawal", "LATER RENT", checking, "rent", -5000,
             "USD", None, None, None, None, None, "ach", iso(AS_OF + timedelta(2)),
             iso(AS_OF + timedelta(2)))  # fmt: skip
    assert learn(oid, [*rows, later], accounts, AS_OF) == textures[oid]
    # Rows on an account the statement does not show (a brokerage) are left out too.
    assert learn(oid, rows, {**accounts, 10**9: ("brokerage", 0)}, AS_OF) == textures[oid]


def test_a_customer_without_rows_books_nothing() -> None:
    empty = learn("nobody", [], {}, AS_OF)
    assert empty.series == () and empty.streams == ()
    assert draw_day(empty, AS_OF + timedelta(1), SEED, {}).bookings == []


# --- day rules, on rows made by hand ----------------------------------------------------


def monthly(
    days: Iterable[date], cents: int, description: str, channel: str = "ach"
) -> list[Booking]:
    return [
        (iso(day), "deposit" if cents > 0 else "withdrawal", description, 1,
         "income" if cents > 0 else "utilities", cents, "USD", None, None, None, description,
         None, channel, iso(day), iso(day))
        for day in days
    ]  # fmt: skip


def months_of_history() -> list[date]:
    return [date(2025, 10, 1) + timedelta(31 * n) for n in range(12)]


def test_last_business_day_pay_is_learned_and_paid_early_on_a_weekend() -> None:
    paid = [on_or_before("US", month_end(m.replace(day=1))) for m in months_of_history()]
    texture = learn("c", monthly(paid, 500000, "PAYROLL X"), {1: ("checking", 0)}, AS_OF)
    (series,) = texture.series
    assert (series.rule.roll, series.rule.day, series.level) == (BEFORE, 31, 500000)
    # October 2026 ends on a Saturday: paid on Friday the 30th, not on Monday.
    assert month_end(date(2026, 10, 1)).weekday() == 5
    for day in days_from(date(2026, 10, 1), 31):
        rows = bookings_on(texture, day, SEED, {1: 0})
        assert (day == date(2026, 10, 30)) == bool(rows), day
        assert all(row[5] == 500000 and row[2] == "PAYROLL X" for row in rows)


def test_a_bill_on_the_fifth_rolls_to_the_next_business_day() -> None:
    due = [on_or_after("US", m.replace(day=5)) for m in months_of_history()]
    amounts = [-9000 - 137 * (n % 5) for n in range(12)]
    rows = [
        row
        for day, cents in zip(due, amounts, strict=True)
        for row in monthly([day], cents, "POWER")
    ]
    texture = learn("c", rows, {1: ("checking", 0)}, AS_OF)
    (series,) = texture.series
    assert (series.rule.roll, series.rule.day) == (AFTER, 5)
    assert series.spread > 0 and series.level < 0
    # 5 December 2026 is a Saturday: debited Monday the 7th, between the amounts seen.
    found = [
        row
        for day in days_from(date(2026, 12, 1), 31)
        for row in bookings_on(texture, day, SEED, {1: 0})
    ]
    assert [row[0] for row in found] == ["2026-12-07"]
    assert min(amounts) - 1 <= found[0][5] <= max(amounts) + 1


def test_biweekly_pay_and_semimonthly_pay_keep_their_rhythm() -> None:
    fridays = [date(2025, 10, 3) + timedelta(14 * n) for n in range(26)]
    texture = learn(
        "c", monthly([on_or_before("US", f) for f in fridays], 210000, "PAY"),
        {1: ("checking", 0)}, AS_OF,
    )  # fmt: skip
    (series,) = texture.series
    assert series.rule.every == 14
    paid = [d for d in days_from(date(2026, 10, 1), 60) if bookings_on(texture, d, 1, {})]
    assert [(b - a).days for a, b in pairwise(paid)] == [14] * (len(paid) - 1)
    assert all(day.weekday() == 4 for day in paid) and len(paid) == 5

    halves = [
        on_or_before("US", day)
        for m in months_of_history()
        for day in (m.replace(day=15), month_end(m))
    ]
    texture = learn("c", monthly(halves, 150000, "HALF"), {1: ("checking", 0)}, AS_OF)
    assert sorted(s.rule.day for s in texture.series) == [15, 31]
    paid = [d for d in days_from(date(2026, 10, 1), 92) if bookings_on(texture, d, 1, {})]
    assert len(paid) == 6
    assert all(is_open("US", day) for day in paid)


def test_quarterly_taxes_keep_their_months() -> None:
    due = [
        on_or_after("US", date(y, m, 15))
        for y, m in ((2025, 9), (2026, 1), (2026, 4), (2026, 6), (2026, 9))
    ]
    texture = learn("c", monthly(due, -300000, "IRS TAX"), {1: ("checking", 0)}, AS_OF)
    (series,) = texture.series
    assert series.rule.months == frozenset({1, 4, 6, 9}) and series.rule.day == 15
    paid = [d for d in days_from(date(2026, 10, 1), 365) if bookings_on(texture, d, 1, {})]
    assert paid == [date(2027, 1, 15), date(2027, 4, 15), date(2027, 6, 15), date(2027, 9, 15)]


def test_a_day_rule_on_a_day_the_bank_keeps_open() -> None:
    rule = DayRule("US", NONE, 31)
    assert rule.is_due(date(2026, 10, 31)) and not rule.is_due(date(2026, 10, 30))
    assert DayRule("US", BEFORE, 31).is_due(date(2026, 10, 30))
    # Rolled forward across a month's end: due 31 January 2027 (a Sunday), paid 1 February.
    assert DayRule("US", AFTER, 31).is_due(date(2027, 2, 1))
    assert not DayRule("US", AFTER, 31, months=frozenset({3})).is_due(date(2027, 2, 1))


def test_a_purchase_the_balance_cannot_cover_is_declined(book: Engine) -> None:
    textures = textures_of(book)
    oid = next(
        o for o in chosen(textures) if any(s.kind == "card_payment" for s in textures[o].streams)
    )
    texture = textures[oid]
    days = days_from(AS_OF + timedelta(1), 30)
    broke = [draw_day(texture, day, SEED, {}) for day in days]
    rich = [draw_day(texture, day, SEED, dict.fromkeys(range(10**6), 10**12)) for day in days]
    spent = [
        row for draw in rich for row in draw.bookings if row[1] == "card_payment" and row[5] < 0
    ]
    assert spent and not any(draw.declined for draw in rich)
    declined = [row for draw in broke for row in draw.declined]
    assert set(declined) <= set(spent)
    assert all(row[1] in ("card_payment", "withdrawal") for row in declined)
    # With nothing on the account, a card payment is booked only after money came in that day.
    for draw in broke:
        running = 0
        for row in draw.bookings:
            if row[1] == "card_payment" and row[5] < 0:
                assert running + row[5] >= 0
            running += row[5]


def test_interest_is_the_learned_rate_on_the_balance_of_the_day(book: Engine) -> None:
    textures = textures_of(book)
    found = [
        (texture, series)
        for texture in textures.values()
        for series in texture.series
        if series.rate_bp is not None
    ]
    assert found
    for texture, series in found:
        # The history's own description states the rate: the learned one is it.
        stated = series.legs[0].description.split()[2].rstrip("%")
        assert series.rate_bp == round(float(stated) * 100)
        account = series.legs[0].account_id
        end = date(2026, 10, 31)
        rows = [
            r for r in bookings_on(texture, end, SEED, {account: 12_000_000}) if r[1] == "interest"
        ]
        assert [r[5] for r in rows] == [12_000_000 * series.rate_bp // 120_000]
        assert not [r for r in bookings_on(texture, end, SEED, {account: -5}) if r[1] == "interest"]


def test_learn_all_reads_alike_on_each_backend(engine: Engine) -> None:
    """The samples' textures from the seeded bank on SQLite and on PostgreSQL: the rows come
    straight from each driver (dates as text or as dates, amounts as integers)."""
    textures = textures_of(engine)
    for sample in SAMPLE_CUSTOMERS:
        texture = textures[sample.customer_oid]
        assert texture.series and texture.streams
        assert all(isinstance(cents, int) for s in texture.streams for _, cents, *_ in s.seen)
    john = textures[SAMPLE_CUSTOMERS[0].customer_oid]
    assert {s.rule.day for s in john.series if s.legs[0].category == "income"} == {15, 31}
    assert [s.rate_bp for s in john.series if s.rate_bp is not None] == [350]
    # A textual day or a date bound the same way on either driver: nothing after ``until``.
    until = AS_OF - timedelta(20)
    with engine.connect() as connection:
        dated = connection.execute(
            text(
                "SELECT transaction_date, description, amount FROM transactions"
                " WHERE customer_oid = :oid AND transaction_type = 'card_payment'"
            ),
            {"oid": john.customer_oid},
        ).all()
    before = {(d, int(c)) for day, d, c in dated if str(day) <= until.isoformat()}
    only_after = {(d, int(c)) for day, d, c in dated if str(day) > until.isoformat()} - before
    assert only_after
    earlier = textures_of(engine, until)[john.customer_oid]
    tickets = {(d, c) for s in earlier.streams for d, c, *_ in s.seen}
    assert tickets and not tickets & only_after
    with engine.connect() as connection:
        dialect = connection.dialect.name
    day = AS_OF + timedelta(15)
    rows = bookings_on(john, day, SEED, dict.fromkeys(range(1, 50), 10**9))
    assert rows, dialect


def test_learning_before_any_history_gives_empty_textures(book: Engine) -> None:
    textures = textures_of(book, date(2000, 1, 1))
    assert textures and all(not t.series and not t.streams for t in textures.values())
    day = AS_OF + timedelta(1)
    assert all(not bookings_on(t, day, SEED, {}) for t in textures.values())


def test_balances_of_other_accounts_change_nothing(book: Engine) -> None:
    """The balances passed in may name any account: only the customer's own are read."""
    textures = textures_of(book)
    oid = chosen(textures)[7]
    day = AS_OF + timedelta(4)
    mine = balances_of(book)
    strangers = dict.fromkeys(range(10**6, 10**6 + 50), -(10**12))
    assert bookings_on(textures[oid], day, SEED, {**mine, **strangers}) == bookings_on(
        textures[oid], day, SEED, mine
    )


def test_a_kept_texture_reads_back_equal_and_draws_alike(book: Engine) -> None:
    """Kept and read back, every texture is the one learned, field for field (floats
    included), and draws the same rows."""
    textures = textures_of(book)
    assert textures
    for oid, texture in textures.items():
        back = load_texture(dump_texture(texture))
        assert back == texture, oid
    oid = chosen(textures)[3]
    day = AS_OF + timedelta(9)
    balances = balances_of(book)
    back = load_texture(dump_texture(textures[oid]))
    assert bookings_on(back, day, SEED, balances) == bookings_on(textures[oid], day, SEED, balances)
