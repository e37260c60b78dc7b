"""A sandbox's clock: advancing runs every day as the generator would have, deterministically
(thirty days at once or one at a time leave the same bank, byte for byte), all or nothing,
forward only, for the full key alone; the bank's own day never moves."""

from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, text
from sqlmodel import Session, select

from core.settings import Settings
from main import create_app
from market.continuation import HORIZON, MAX_DAYS_PER_ADVANCE
from market.model import AS_OF, SPECS
from models import (
    BankAccount,
    DerivativeTransaction,
    InstrumentPrice,
    SandboxClock,
    Spending,
    Transaction,
)
from sandboxes import clock
from services.books import disagreements
from services.day_ledger import DayLedger, apply_bookings
from services.effects import MARKET_DAY_CLOSED, OPTION_EXPIRED, TRANSACTION_ADDED, Effect
from services.expiries import close_on
from tests.helpers import JANE, JOHN

CHECKING = 1
PAYEE = {"name": "Northwind Utilities", "iban": "DE89370400440532013000"}
FULL = {"X-API-Key": "full-key"}


@pytest.fixture
def bank(database_url: str) -> Iterator[TestClient]:
    settings = Settings(database_url=database_url, api_key="full-key", read_api_key="read-key")
    with TestClient(create_app(settings), headers=FULL) as test_client:
        yield test_client
        for sandbox in test_client.get("/sandboxes").json():
            test_client.delete(f"/sandboxes/{sandbox['sandbox_id']}")


def create(bank: TestClient, **body: Any) -> tuple[str, str]:
    response = bank.post("/sandboxes", json={"seed": 5, "allow_writes": True, **body})
    assert response.status_code == 201, response.text
    return response.json()["sandbox_id"], response.json()["sandbox_key"]


def inside(sandbox_id: str) -> dict[str, str]:
    return {**FULL, "X-Bank-Sandbox": sandbox_id}


def advance(bank: TestClient, sandbox_id: str, **body: Any) -> dict[str, Any]:
    response = bank.post(f"/sandboxes/{sandbox_id}/clock/advance", json=body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def sandbox_engine(bank: TestClient, sandbox_id: str) -> Engine:
    bank.get(f"/sandboxes/{sandbox_id}/clock")  # opens it
    engine: Engine = bank.app.state.sandboxes.open[sandbox_id].engine  # type: ignore[attr-defined]
    return engine


def answers(bank: TestClient, sandbox_id: str) -> dict[str, bytes]:
    """Every answer the advance must move, as the bytes sent."""
    headers = inside(sandbox_id)
    paths = ["/customers?limit=1000", "/market-data", "/market-data/AAPL/history"]
    paths.append("/eval/questions?count=40&seed=3")
    paths.append(f"/sandboxes/{sandbox_id}/clock")
    for customer in bank.get("/customers?limit=1000", headers=headers).json():
        oid = customer["customer_oid"]
        paths += [
            f"/user-portfolio/{oid}",
            f"/customer/{oid}/summary",
            f"/customer/{oid}/risk",
            f"/customer/{oid}/derivatives",
            f"/customer/{oid}/instructions",
            f"/api/risk/{oid}",
        ]
    found = {}
    for path in paths:
        response = bank.get(path, headers=headers)
        assert response.status_code == 200, (path, response.text)
        shown = path.replace(sandbox_id, "<sandbox>")
        found[shown] = response.content.replace(sandbox_id.encode(), b"<sandbox>")
        if path.endswith("/instructions"):
            # When each was given (not what it did) differs between the two sandboxes.
            instructions = response.json()
            for instruction in instructions["instructions"]:
                del instruction["created_at"]
            found[shown] = orjson.dumps(instructions)
    return found


def schedule(bank: TestClient, sandbox_id: str, amount: str, day: date) -> int:
    body = {
        "from_account_id": CHECKING,
        "amount": amount,
        "payee": PAYEE,
        "execute_on": day.isoformat(),
    }
    response = bank.post(f"/customer/{JOHN}/payments", json=body, headers=inside(sandbox_id))
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "scheduled"
    instruction_id: int = response.json()["instruction_id"]
    return instruction_id


def test_thirty_days_at_once_or_one_at_a_time_answer_byte_for_byte_alike(
    bank: TestClient,
) -> None:
    at_once, day_by_day = create(bank, customers=8)[0], create(bank, customers=8)[0]
    for sandbox_id in (at_once, day_by_day):
        schedule(bank, sandbox_id, "40.00", AS_OF + timedelta(6))
    before = answers(bank, at_once)
    done = advance(bank, at_once, days=30)
    assert (done["started_from"], done["today"], done["days_run"]) == (
        "2026-09-30",
        "2026-10-30",
        30,
    )
    for _ in range(29):
        advance(bank, day_by_day, days=1)
    advance(bank, day_by_day, to="2026-10-30")
    after = answers(bank, at_once)
    assert after == answers(bank, day_by_day)
    # Everything moved: the market, the customers' valuations, the clock.
    assert after["/sandboxes/<sandbox>/clock"] != before["/sandboxes/<sandbox>/clock"]
    assert after["/market-data"] != before["/market-data"]
    assert after["/eval/questions?count=40&seed=3"] != before["/eval/questions?count=40&seed=3"]
    assert after[f"/customer/{JOHN}/summary"] != before[f"/customer/{JOHN}/summary"]
    for sandbox_id in (at_once, day_by_day):
        with sandbox_engine(bank, sandbox_id).connect() as connection:
            assert disagreements(connection) == []
    # The other sandbox of another seed moved elsewhere.
    other = create(bank, seed=6)[0]
    advance(bank, other, days=30)
    quotes = bank.get("/market-data?symbols=AAPL", headers=inside(other)).json()
    assert quotes != bank.get("/market-data?symbols=AAPL", headers=inside(at_once)).json()


def test_as_of_moves_in_the_sandbox_and_never_in_the_bank(bank: TestClient) -> None:
    sandbox_id = create(bank)[0]
    clock_before = bank.get(f"/sandboxes/{sandbox_id}/clock").json()
    assert clock_before == {
        "sandbox_id": sandbox_id,
        "today": "2026-09-30",
        "started_on": "2026-09-30",
        "days_advanced": 0,
        "max_days_per_advance": MAX_DAYS_PER_ADVANCE,
        "horizon": HORIZON.isoformat(),
    }
    done = advance(bank, sandbox_id, to="2026-10-10")
    # Crypto trades every day, so every day adds closes; FX only on weekdays.
    assert [d["closes"] > 0 for d in done["days"]] == [True] * 10
    assert [d["rates"] for d in done["days"]] == [
        2 if (AS_OF + timedelta(n)).weekday() < 5 else 0 for n in range(1, 11)
    ]
    assert bank.get(f"/sandboxes/{sandbox_id}/clock").json()["days_advanced"] == 10
    headers = inside(sandbox_id)
    assert bank.get(f"/customer/{JOHN}/summary", headers=headers).json()["as_of"] == "2026-10-10"
    assert bank.get("/market-data", headers=headers).json()["as_of"] == "2026-10-10"
    key = bank.get("/eval/questions?count=5", headers=headers).json()
    assert key["as_of"] == "2026-10-10"
    history = bank.get("/market-data/SPY/history", headers=headers).json()["closes"]
    # 2026-10-10 is a Saturday: the stock market's last close is Friday's.
    assert history[-1]["date"] == "2026-10-09"
    assert bank.get(f"/customer/{JOHN}/summary").json()["as_of"] == "2026-09-30"
    assert bank.get("/market-data").json()["as_of"] == "2026-09-30"
    # A reset puts the clock back with everything else.
    assert bank.post(f"/sandboxes/{sandbox_id}/reset").status_code == 200
    assert bank.get(f"/sandboxes/{sandbox_id}/clock").json() == clock_before
    assert bank.get("/market-data", headers=headers).json()["as_of"] == "2026-09-30"
    # The bank has no clock route: its day never moves.
    assert bank.get("/clock").status_code == 404
    assert bank.post("/clock/advance", json={"days": 1}).status_code == 404


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"days": 0}, "days: 0 is not a day forward"),
        ({"days": -3}, "days: -3 is not a day forward"),
        ({"days": MAX_DAYS_PER_ADVANCE + 1}, f"days: {MAX_DAYS_PER_ADVANCE + 1} is more"),
        ({"to": "2026-09-30"}, "to: 2026-09-30 is not after today, 2026-09-30"),
        ({"to": "2025-01-01"}, "to: 2025-01-01 is not after today"),
        ({"to": "2027-12-31"}, f"one advance runs at most {MAX_DAYS_PER_ADVANCE} days"),
        ({"days": 1, "to": "2026-10-02"}, "days, to: give one of them, not both"),
        ({}, "days, to: give one of them"),
        ({"to": "2026-13-01"}, "'to'"),
        ({"to": "next week"}, "'to'"),
        ({"days": "many"}, "'days'"),
        ({"days": 1, "hours": 3}, "hours"),
    ],
)
def test_a_bad_advance_is_400_naming_the_field_and_changes_nothing(
    bank: TestClient, body: dict[str, Any], says: str
) -> None:
    sandbox_id = create(bank)[0]
    response = bank.post(f"/sandboxes/{sandbox_id}/clock/advance", json=body)
    assert response.status_code == 400, response.text
    assert says in response.json()["detail"]
    assert bank.get(f"/sandboxes/{sandbox_id}/clock").json()["today"] == "2026-09-30"
    assert bank.get("/market-data", headers=inside(sandbox_id)).json()["as_of"] == "2026-09-30"


def test_past_the_horizon_is_400_and_the_unknown_sandbox_404(bank: TestClient) -> None:
    sandbox_id = create(bank)[0]
    advance(bank, sandbox_id, days=MAX_DAYS_PER_ADVANCE)
    advance(bank, sandbox_id, days=MAX_DAYS_PER_ADVANCE)
    today = date.fromisoformat(bank.get(f"/sandboxes/{sandbox_id}/clock").json()["today"])
    left = (HORIZON - today).days
    response = bank.post(f"/sandboxes/{sandbox_id}/clock/advance", json={"days": left + 1})
    assert response.status_code == 400
    assert f"past the clock's horizon, {HORIZON}" in response.json()["detail"]
    unknown = "sbx_AAAAAAAAAAAAAAAAAAAA"
    assert bank.post(f"/sandboxes/{unknown}/clock/advance", json={"days": 1}).status_code == 404
    assert bank.get(f"/sandboxes/{unknown}/clock").status_code == 404


def test_only_the_full_key_moves_time(bank: TestClient) -> None:
    sandbox_id, key = create(bank)
    for headers in ({"X-API-Key": key}, {"X-API-Key": "read-key"}):
        path = f"/sandboxes/{sandbox_id}/clock/advance"
        assert bank.post(path, json={"days": 1}, headers=headers).status_code == 403
        assert bank.get(f"/sandboxes/{sandbox_id}/clock", headers=headers).status_code == 403
    assert bank.get(f"/sandboxes/{sandbox_id}/clock").json()["today"] == "2026-09-30"


def test_scheduled_payments_are_made_on_their_day_or_refused_for_lack_of_money(
    bank: TestClient,
) -> None:
    sandbox_id = create(bank)[0]
    headers = inside(sandbox_id)
    accounts = bank.get(f"/customer/{JOHN}/accounts", headers=headers).json()["bank_accounts"]
    balance = Decimal(str(next(a for a in accounts if a["id"] == CHECKING)["balance"]))
    paid = schedule(bank, sandbox_id, "25.00", AS_OF + timedelta(3))
    # Both within the daily limit, together more than the account holds.
    half = (balance / 2 + 10).quantize(Decimal("0.01"))
    assert half < 50_000 < balance
    drained = schedule(bank, sandbox_id, f"{half}", AS_OF + timedelta(4))
    too_much = schedule(bank, sandbox_id, f"{half}", AS_OF + timedelta(5))
    later = schedule(bank, sandbox_id, "10.00", AS_OF + timedelta(40))
    done = advance(bank, sandbox_id, days=30)
    assert (done["payments_executed"], done["payments_refused"]) == (2, 1)
    assert done["days"][2]["payments_executed"] == 1 and done["days"][4]["payments_refused"] == 1
    (refusal,) = done["refused"]
    assert (refusal["instruction_id"], refusal["rule"]) == (too_much, "insufficient_funds")
    assert refusal["detail"].startswith("amount: account 1 has ")

    def read(instruction_id: int) -> dict[str, Any]:
        path = f"/customer/{JOHN}/instructions/{instruction_id}"
        found: dict[str, Any] = bank.get(path, headers=headers).json()
        return found

    executed = read(paid)
    assert executed["status"] == "executed"
    (row,) = executed["effects"]["transactions"]
    assert (row["amount"], row["account_id"]) == (-25.0, CHECKING)
    # The statement's own flows moved the account on the days before: the balance after the
    # payment is the one before it, all rows since the clock's start counted, less 25.
    rows = bank.get(
        f"/customer/{JOHN}/transactions?from=2026-10-01&limit=500", headers=headers
    ).json()["transactions"]
    before = balance + sum(
        Decimal(str(r["amount"]))
        for r in rows
        if r["account_id"] == CHECKING and r["id"] < row["transaction_id"]
    )
    assert executed["effects"]["balances"] == [
        {"account_id": CHECKING, "currency": "USD", "balance": float(before - Decimal(25))}
    ]
    assert read(drained)["status"] == "executed"
    refused = read(too_much)
    assert refused["status"] == "refused"
    assert refused["effects"]["transactions"] == []
    assert refused["effects"]["refusal"]["rule"] == "insufficient_funds"
    assert refused["effects"]["refusal"]["refused_on"] == "2026-10-05"
    assert read(later)["status"] == "scheduled"
    listed = bank.get(f"/customer/{JOHN}/instructions?status=refused", headers=headers).json()
    assert [i["instruction_id"] for i in listed["instructions"]] == [too_much]
    drained_rows = read(drained)["effects"]["transactions"]
    assert [r["id"] for r in rows if r["transaction_date"] == "2026-10-04"].count(
        drained_rows[0]["transaction_id"]
    ) == 1
    assert bank.get(f"/customer/{JOHN}/instructions/{paid}").status_code == 404


def held_at(engine: Engine, oid: str, symbol: str) -> Decimal:
    with engine.connect() as connection:
        found = connection.execute(
            text("SELECT quantity FROM assets WHERE customer_oid = :o AND symbol = :s"),
            {"o": oid, "s": symbol},
        ).scalar()
    return Decimal(0) if found is None else Decimal(found) / 10**8


def test_dividends_and_coupons_reach_the_holders_with_exact_amounts(bank: TestClient) -> None:
    sandbox_id = create(bank, customers=12)[0]
    engine = sandbox_engine(bank, sandbox_id)
    with Session(engine) as session:
        holdings = {
            (oid, symbol): Decimal(quantity) / 10**8
            for oid, symbol, quantity in session.connection().execute(
                text("SELECT customer_oid, symbol, quantity FROM assets")
            )
        }
    done = advance(bank, sandbox_id, days=120)
    with Session(engine) as session:
        paid = session.exec(
            select(Transaction).where(
                Transaction.transaction_date > AS_OF,
                Transaction.transaction_type.in_(("dividend", "interest")),  # type: ignore[attr-defined]
                # A security's income; a savings account's interest has no symbol.
                Transaction.symbol.is_not(None),  # type: ignore[union-attr]
            )
        ).all()
    assert len(paid) == done["payouts_paid"] > 0
    kinds = set()
    for row in paid:
        assert row.symbol is not None
        kinds.add(row.transaction_type)
        held = holdings[(row.customer_oid, row.symbol)]
        per_unit = Decimal(row.description.split()[2])
        assert row.amount == (held * per_unit).quantize(Decimal("0.01"), ROUND_HALF_EVEN)
        assert row.currency == SPECS[row.symbol].currency
        assert row.description.split()[:2] == [
            "COUPON" if row.transaction_type == "interest" else "DIVIDEND",
            row.symbol,
        ]
    assert kinds == {"dividend", "interest"}
    # No one was paid twice for one payout, and each got it on a pay day after the history.
    keys = [(r.customer_oid, r.symbol, r.transaction_date) for r in paid]
    assert len(keys) == len(set(keys))
    with engine.connect() as connection:
        assert disagreements(connection) == []


def add_option(engine: Engine, **fields: Any) -> int:
    given: dict[str, Any] = {
        "customer_oid": JOHN,
        "account_id": 3,
        "instrument_type": "option",
        "underlying_symbol": "SPY",
        "strategy": "test",
        "contracts": 1,
        "multiplier": 100,
        "premium": Decimal("1"),
        "currency": "USD",
        "trade_date": date(2026, 9, 1),
        "expiry_date": date(2026, 10, 16),
        "status": "open",
    }
    position = DerivativeTransaction(**{**given, **fields})
    with Session(engine) as session:
        session.add(position)
        session.commit()
        assert position.id is not None
        return position.id


def test_options_expire_exercised_assigned_or_worthless(bank: TestClient) -> None:
    sandbox_id = create(bank)[0]
    engine = sandbox_engine(bank, sandbox_id)
    spy_before = held_at(engine, JOHN, "SPY")
    long_call = add_option(engine, option_type="call", side="long", strike=Decimal("10"))
    worthless = add_option(engine, option_type="put", side="long", strike=Decimal("10"))
    short_put = add_option(engine, option_type="put", side="short", strike=Decimal("5000"))
    uncovered = add_option(
        engine, option_type="call", side="short", strike=Decimal("10"), contracts=50
    )
    done = advance(bank, sandbox_id, to="2026-10-15")
    assert done["expiries_settled"] == 0
    done = advance(bank, sandbox_id, days=1)
    assert done["days"][0]["expiries"] >= 4
    with Session(engine) as session:
        status = {
            p.id: (p.status, p.closed_on) for p in session.exec(select(DerivativeTransaction))
        }
        rows = {
            r.description: r
            for r in session.exec(
                select(Transaction).where(Transaction.transaction_date == date(2026, 10, 16))
            )
        }
        spy = close_on(session, "SPY", date(2026, 10, 16))
    assert spy is not None
    expiry = date(2026, 10, 16)
    assert status[long_call] == ("exercised", expiry)
    assert status[short_put] == ("exercised", expiry)
    assert status[uncovered] == ("exercised", expiry)
    assert status[worthless] == ("expired", expiry)
    bought = rows["BUY (EXERCISED SPY 16OCT26 10 C) 100 SPY @ 10.00"]
    assert (bought.amount, bought.quantity, bought.price) == (
        Decimal("-1000.00"),
        Decimal(100),
        Decimal(10),
    )
    assigned = rows["BUY (ASSIGNED SPY 16OCT26 5000 P) 100 SPY @ 5000.00"]
    assert assigned.amount == Decimal("-500000.00")
    # 5,000 shares the customer does not hold: the writer pays the intrinsic value instead.
    settled = next(r for d, r in rows.items() if d.startswith("ASSIGNED 50 SPY 16OCT26 10 C"))
    assert settled.amount == -((spy - 10) * 5000).quantize(Decimal("0.01"))
    assert held_at(engine, JOHN, "SPY") == spy_before + 200
    with engine.connect() as connection:
        assert disagreements(connection) == []


def test_concurrent_advances_of_one_sandbox_run_one_after_the_other(bank: TestClient) -> None:
    sandbox_id = create(bank)[0]
    with ThreadPoolExecutor(2) as pool:
        done = list(pool.map(lambda _: advance(bank, sandbox_id, days=3), range(2)))
    assert sorted(d["started_from"] for d in done) == ["2026-09-30", "2026-10-03"]
    assert bank.get(f"/sandboxes/{sandbox_id}/clock").json()["today"] == "2026-10-06"
    engine = sandbox_engine(bank, sandbox_id)
    with Session(engine) as session:
        btc = [
            price.price_date
            for price in session.exec(
                select(InstrumentPrice).where(
                    InstrumentPrice.symbol == "BTC", InstrumentPrice.price_date > AS_OF
                )
            )
        ]
    # Each day once: the second advance ran from where the first stopped.
    assert sorted(btc) == [AS_OF + timedelta(n) for n in range(1, 7)]


def test_a_failing_day_leaves_nothing_changed(engine: Engine) -> None:
    def boom(day: clock.Day) -> list[Any]:
        if day.day == AS_OF + timedelta(3):
            raise RuntimeError("a step failed")
        return []

    with engine.connect() as connection:
        closes = connection.execute(select(func.count()).select_from(InstrumentPrice)).scalar()
    with Session(engine) as session, pytest.raises(RuntimeError):
        clock.advance(session, "sbx_test", 1, 5, None, steps=(clock.market_step, boom))
    with Session(engine) as session:
        assert session.get(SandboxClock, 1) is None
        counted = session.connection().execute(select(func.count()).select_from(InstrumentPrice))
        assert counted.scalar() == closes
    with Session(engine) as session:
        done = clock.advance(session, "sbx_test", 1, 5, None)
    assert done.today == AS_OF + timedelta(5)


def test_each_days_effects_reach_the_one_place_that_records_them(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorded: dict[date, list[Effect]] = {}

    def record(session: Session, day: date, effects: Sequence[Effect], labels: object) -> None:
        recorded[day] = list(effects)

    monkeypatch.setattr(clock, "record_effects", record)
    with Session(engine) as session:
        clock.advance(session, "sbx_test", 1, None, date(2026, 10, 16))
    assert sorted(recorded) == [AS_OF + timedelta(n) for n in range(1, 17)]
    for effects in recorded.values():
        assert effects[0].kind == MARKET_DAY_CLOSED
    expired = [e for e in recorded[date(2026, 10, 16)] if e.kind == OPTION_EXPIRED]
    # John's covered call on AAPL, among others, expires on the third Friday of October.
    assert 1 in [e.data["derivative_id"] for e in expired]
    with Session(engine) as session:
        for effect in expired:
            position = session.get(DerivativeTransaction, effect.data["derivative_id"])
            assert position is not None and position.expiry_date == date(2026, 10, 16)
            assert position.status == effect.data["status"] != "open"
    added = [e for day in recorded.values() for e in day if e.kind == TRANSACTION_ADDED]
    with Session(engine) as session:
        for effect in added:
            row = session.get(Transaction, effect.data["transaction_id"])
            assert row is not None and str(row.amount) == effect.data["amount"]


def test_statement_bookings_plugged_into_a_day_move_balances_spending_and_books(
    engine: Engine,
) -> None:
    """The seam of the statement flows: a step that books the generator's tuples."""

    def statements(day: clock.Day) -> list[Effect]:
        shown = day.day.isoformat()
        apply_bookings(
            day.ledger,
            JOHN,
            [
                (shown, "card_payment", "GROCER 42", CHECKING, "groceries", -1234, "USD",
                 None, None, None, "Grocer", "5411", "card", shown, shown),
                (shown, "deposit", "PAYROLL", CHECKING, "income", 250000, "USD",
                 None, None, None, "Employer", None, "ach", shown, shown),
            ],
        )  # fmt: skip
        return []

    def spent(session: Session, month: str) -> tuple[Decimal, int]:
        found = session.exec(
            select(Spending).where(
                Spending.customer_oid == JOHN,
                Spending.month == month,
                Spending.category == "groceries",
                Spending.currency == "USD",
            )
        ).first()
        return (found.amount, found.transaction_count) if found else (Decimal(0), 0)

    with Session(engine) as session:
        balance = session.get(BankAccount, CHECKING).balance  # type: ignore[union-attr]
    steps = (*clock.DAY_STEPS[:-1], statements)
    with Session(engine) as session:
        done = clock.advance(session, "sbx_test", 1, 3, None, steps=steps)
    assert done.transactions_added >= 6
    with Session(engine) as session:
        after = session.get(BankAccount, CHECKING)
        assert after is not None
        assert after.balance == balance + 3 * (Decimal("2500.00") - Decimal("12.34"))
        assert spent(session, "2026-10") == (Decimal("37.02"), 3)
    with engine.connect() as connection:
        assert disagreements(connection) == []
    with Session(engine) as session, pytest.raises(ValueError, match="not theirs"):
        other = session.exec(select(BankAccount).where(BankAccount.customer_oid != JOHN)).first()
        assert other is not None
        shown = AS_OF.isoformat()
        foreign = (shown, "deposit", "X", other.id, None, 1, "USD", *[None] * 6, shown, shown)
        apply_bookings(DayLedger(session, AS_OF), JOHN, [foreign])


def test_textures_are_kept_with_the_template_and_follow_the_customers(bank: TestClient) -> None:
    """Every customer with a statement account has a texture kept from the template on; a
    customer deleted after an advance books nothing at the next (their texture goes with
    them), where a texture held from before would have named accounts no longer there."""
    sandbox_id = create(bank, customers=6)[0]
    engine = sandbox_engine(bank, sandbox_id)
    statement_holders = text(
        "SELECT COUNT(DISTINCT customer_oid) FROM bank_accounts"
        " WHERE account_type IN ('checking', 'savings')"
    )
    with engine.connect() as connection:
        kept = connection.execute(text("SELECT COUNT(*) FROM statement_textures")).scalar()
        assert kept == connection.execute(statement_holders).scalar() == 11
    advance(bank, sandbox_id, days=3)
    assert bank.delete(f"/customer/{JANE}", headers=inside(sandbox_id)).status_code == 200
    later = advance(bank, sandbox_id, days=3)
    assert later["transactions_added"] > 0
    with engine.connect() as connection:
        held = connection.execute(text("SELECT customer_oid FROM statement_textures")).scalars()
        assert JANE not in set(held)


def test_an_advance_keeps_its_books_itself_and_leaves_the_stale_marks_on(
    bank: TestClient,
) -> None:
    """The advance's rows mark no book stale (it keeps every book it touched, and they
    agree with the rows); a write from outside the bank afterwards still marks its
    customer's book stale, row by row, as before."""
    sandbox_id = create(bank)[0]
    advance(bank, sandbox_id, days=5)
    engine = sandbox_engine(bank, sandbox_id)
    stale = text("SELECT customer_oid FROM kept_books WHERE book_stale = :yes")
    with engine.begin() as connection:
        assert connection.execute(text("SELECT by_writer FROM book_keeping")).scalar() in (0, False)
        assert list(connection.execute(stale, {"yes": True})) == []
        assert disagreements(connection) == []
        connection.execute(
            text("UPDATE transactions SET description = 'EDITED BY HAND' WHERE id = "
                 "(SELECT MAX(id) FROM transactions WHERE customer_oid = :oid)"),
            {"oid": JOHN},
        )  # fmt: skip
    with engine.connect() as connection:
        assert list(connection.execute(stale, {"yes": True}).scalars()) == [JOHN]
