"""The kept figures (``services/books.py``) and summaries (``services/kept.py``) never
disagree with the raw rows: after every kind of write, after a bulk load, and after rows
changed behind the bank's back once the books are rebuilt. And the fast read paths send
exactly what the models would."""

import subprocess
import sys
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from pydantic import TypeAdapter
from sqlalchemy import Engine, select, text, update
from sqlmodel import Session

from models import KeptBook
from schemas.original import OriginalTransaction
from schemas.portfolio import SpendingOut
from services.books import disagreements, rebuild_books, summary_key
from services.kept import fill_summaries, stale_summaries
from services.market import load_snapshot
from services.records import (
    list_spending,
    newest_transaction_values,
    query_transactions,
    spending_json,
)
from synthetic.bulk_load import load_synthetic
from synthetic.samples import SAMPLE_CUSTOMERS
from tests.helpers import JOHN, PROJECT

CHECKING, EUR_SAVINGS, BROKERAGE = 1, 2, 3
SHORT_CALL = 1
PAYEE = {"name": "Northwind Utilities", "iban": "DE89370400440532013000"}
KEPT = KeptBook.__table__  # type: ignore[attr-defined]


def check_kept(engine: Engine) -> None:
    with engine.connect() as connection:
        assert disagreements(connection) == []
    assert stale_summaries(engine) == []


def kept(engine: Engine, oid: str) -> Any:
    with engine.connect() as connection:
        return connection.execute(select(KEPT).where(KEPT.c.customer_oid == oid)).one_or_none()


def current_key(engine: Engine) -> str:
    with Session(engine) as session:
        return summary_key(load_snapshot(session))


def act(client: TestClient, what: str, body: dict[str, Any], **headers: str) -> Any:
    response = client.post(f"/customer/{JOHN}/{what}", json=body, headers=headers)
    assert response.status_code in (200, 201), response.text
    return response.json()


def test_kept_figures_agree_with_the_rows_after_every_kind_of_write(
    client: TestClient, engine: Engine
) -> None:
    check_kept(engine)
    key = current_key(engine)
    for sample in SAMPLE_CUSTOMERS:  # seeding keeps every sample's summary
        assert kept(engine, sample.customer_oid).summary_key == key

    made = client.post(
        "/register-customer",
        json={"name": "Kept Figures", "profile": {"email": "kept@example.com"}},
    )
    assert made.status_code == 200, made.text
    new = made.json()["customer_oid"]
    assert kept(engine, new).transaction_count == 0
    check_kept(engine)

    writes: list[tuple[str, dict[str, Any]]] = [
        ("transfers", {"from_account_id": CHECKING, "to_account_id": BROKERAGE, "amount": 250}),
        ("transfers", {"from_account_id": CHECKING, "to_account_id": EUR_SAVINGS, "amount": 99}),
        ("payments", {"from_account_id": CHECKING, "amount": "89.90", "payee": PAYEE}),
        ("orders", {"side": "buy", "symbol": "AAPL", "quantity": 3}),
        ("orders", {"side": "buy", "symbol": "MSFT", "amount": 1500}),
        ("orders", {"side": "sell", "symbol": "AAPL", "quantity": 1}),
        ("orders", {"side": "close", "derivative_id": SHORT_CALL}),
    ]
    for what, body in writes:
        before = kept(engine, JOHN).transaction_count
        act(client, what, body)
        row = kept(engine, JOHN)
        assert row.transaction_count > before, what
        assert row.summary_key == key, f"{what}: the write keeps the summary again"
        check_kept(engine)

    scheduled = act(
        client,
        "payments",
        {"from_account_id": CHECKING, "amount": 40, "payee": PAYEE, "execute_on": "2026-10-15"},
    )
    check_kept(engine)
    cancelled = client.delete(f"/customer/{JOHN}/payments/{scheduled['instruction_id']}")
    assert cancelled.status_code == 200, cancelled.text
    check_kept(engine)

    # A refusal changes nothing, kept figures included; a replay books nothing again.
    before = kept(engine, JOHN)
    refused = client.post(
        f"/customer/{JOHN}/transfers",
        json={"from_account_id": CHECKING, "to_account_id": BROKERAGE, "amount": 900_000_000},
    )
    assert refused.status_code == 422 and refused.json()["rule"] == "daily_limit"
    assert kept(engine, JOHN) == before
    body = {"from_account_id": CHECKING, "to_account_id": BROKERAGE, "amount": 10}
    act(client, "transfers", body, **{"Idempotency-Key": "kept-1"})
    once = kept(engine, JOHN)
    act(client, "transfers", body, **{"Idempotency-Key": "kept-1"})
    assert kept(engine, JOHN) == once
    check_kept(engine)

    assert client.delete(f"/customer/{new}").status_code == 200
    assert kept(engine, new) is None
    check_kept(engine)


def test_the_bulk_loader_writes_the_books_its_rows_make(engine: Engine) -> None:
    load_synthetic(engine, 24, seed=5, batch_size=10, progress=False)
    with engine.connect() as connection:
        users = connection.execute(text("SELECT count(*) FROM users")).scalar_one()
        books = connection.execute(text("SELECT count(*) FROM kept_books")).scalar_one()
        counted = connection.execute(
            text("SELECT count(*) FROM kept_books WHERE transaction_count > 0")
        ).scalar_one()
    assert books == users and counted > 20
    check_kept(engine)
    assert fill_summaries(engine) == 24
    assert fill_summaries(engine) == 0  # nothing is left to compute
    check_kept(engine)


def test_transactions_sent_as_json_values_are_the_models_json(engine: Engine) -> None:
    load_synthetic(engine, 3, seed=11, progress=False)
    shape = TypeAdapter(list[OriginalTransaction])
    with Session(engine) as session:
        oids = list(session.connection().execute(text("SELECT customer_oid FROM users")).scalars())
        for oid in oids:
            rows = query_transactions(session, oid, shape=OriginalTransaction).transactions
            assert rows or oid not in (s.customer_oid for s in SAMPLE_CUSTOMERS)
            fast = newest_transaction_values(session, oid)
            assert orjson.dumps(fast) == shape.dump_json(rows)  # type: ignore[arg-type]
            few = newest_transaction_values(session, oid, 7)
            assert orjson.dumps(few) == shape.dump_json(rows[:7])  # type: ignore[arg-type]
            spent = list_spending(session, oid)
            assert spending_json(session, oid) == TypeAdapter(list[SpendingOut]).dump_json(spent)


def test_a_kept_summary_is_used_only_under_its_own_key(client: TestClient, engine: Engine) -> None:
    truth = client.get(f"/customer/{JOHN}/summary").content
    key = current_key(engine)
    marker = b'{"marker":"kept"}'

    def keep(summary: bytes, with_key: str) -> None:
        with engine.begin() as connection:
            connection.execute(
                update(KEPT)
                .where(KEPT.c.customer_oid == JOHN)
                .values(summary=summary.decode(), summary_key=with_key)
            )

    # Kept for other market data, another version or another base: not used.
    for other in ("0" * 32 + key[32:], key[:33] + "0" * 16 + key[49:], key[:-3] + "EUR"):
        keep(marker, other)
        assert client.get(f"/customer/{JOHN}/summary").content == truth
        assert client.get(f"/user-portfolio/{JOHN}").json()["portfolio_summary"] != {
            "marker": "kept"
        }
    # Under its key it is what the bank answers (which is why a hand-edited one is found).
    keep(marker, key)
    assert client.get(f"/customer/{JOHN}/summary").content == marker
    assert client.get(f"/user-portfolio/{JOHN}").json()["portfolio_summary"] == {"marker": "kept"}
    assert stale_summaries(engine) == [f"{JOHN}: the kept summary differs from the rows'"]


def test_books_rebuilt_after_rows_changed_behind_the_banks_back(
    client: TestClient, engine: Engine, database_url: str
) -> None:
    before = client.get(f"/user-portfolio/{JOHN}").content
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM kept_books"))
    with engine.connect() as connection:
        missing = disagreements(connection)
    assert len(missing) == len(SAMPLE_CUSTOMERS)
    assert all(line.endswith("no book is kept") for line in missing)

    command = [sys.executable, "-m", "scripts.books", "--database-url", database_url, "--quiet"]
    checked = subprocess.run(command, cwd=PROJECT, capture_output=True, text=True, timeout=300)
    assert checked.returncode == 1 and f"{JOHN}: no book is kept" in checked.stdout
    rebuilt = subprocess.run(
        [*command, "--rebuild"], cwd=PROJECT, capture_output=True, text=True, timeout=300
    )
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert f"Books rebuilt: {len(SAMPLE_CUSTOMERS)} customers" in rebuilt.stdout
    again = subprocess.run(command, cwd=PROJECT, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and "0 disagreements" in again.stdout
    check_kept(engine)
    assert kept(engine, JOHN).summary_key == current_key(engine)
    assert client.get(f"/user-portfolio/{JOHN}").content == before


@pytest.mark.parametrize("sections", ["assets,portfolio_summary", "transactions", "spending"])
def test_sections_left_out_are_left_out_with_a_kept_summary(
    client: TestClient, sections: str
) -> None:
    body = client.get(f"/user-portfolio/{JOHN}", params={"sections": sections}).json()
    wanted = set(sections.split(","))
    assert ("portfolio_summary" in body) == ("portfolio_summary" in wanted)
    assert ("transactions" in body) == ("transactions" in wanted)


def test_rebuild_is_idempotent_and_leaves_summaries_to_be_filled(engine: Engine) -> None:
    with engine.begin() as connection:
        assert rebuild_books(connection) == len(SAMPLE_CUSTOMERS)
    assert kept(engine, JOHN).summary is None
    assert fill_summaries(engine) == len(SAMPLE_CUSTOMERS)
    check_kept(engine)


def test_rows_changed_outside_the_bank_are_read_from_the_rows_until_rebuilt(
    client: TestClient, engine: Engine
) -> None:
    before = client.get(f"/customer/{JOHN}/summary").json()
    with engine.begin() as connection:  # as psql would: no bank code, no kept figures
        connection.execute(
            text(
                "DELETE FROM transactions WHERE id = (SELECT min(id) FROM transactions "
                "WHERE customer_oid = :c AND transaction_type = 'card_payment')"
            ),
            {"c": JOHN},
        )
        connection.execute(
            text("UPDATE bank_accounts SET balance = balance + 100000 WHERE id = :a"),  # cents
            {"a": CHECKING},
        )
    row = kept(engine, JOHN)
    assert row.book_stale and row.summary_key is None
    after = client.get(f"/customer/{JOHN}/summary").json()
    assert after["total_cash_balance"] == pytest.approx(before["total_cash_balance"] + 1000)
    assert after["total_transactions"] == before["total_transactions"] - 1
    with engine.connect() as connection:
        assert disagreements(connection) == [
            f"{JOHN}: rows changed outside the bank's writes (book stale)"
        ]
        assert disagreements(connection, stale_ok=True) == []
    with engine.begin() as connection:
        rebuild_books(connection)
    fill_summaries(engine)
    check_kept(engine)
    assert client.get(f"/customer/{JOHN}/summary").json() == after


def test_filling_in_processes_keeps_every_summary_but_never_a_stale_books(
    engine: Engine,
) -> None:
    load_synthetic(engine, 6, seed=13, progress=False)
    with engine.begin() as connection:  # as a trigger leaves a book written behind our back
        connection.execute(update(KEPT).where(KEPT.c.customer_oid == JOHN).values(book_stale=True))
        connection.execute(update(KEPT).values(summary_key=None))
    assert fill_summaries(engine, workers=2, batch=2) == 6 + len(SAMPLE_CUSTOMERS) - 1
    assert kept(engine, JOHN).summary_key is None  # computed on each read until rebuilt
    with engine.connect() as connection:
        assert disagreements(connection, stale_ok=True) == []
    assert stale_summaries(engine) == []
