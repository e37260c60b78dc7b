"""Idempotent instructions: a retry with the same ``Idempotency-Key`` and body gets the first
answer and nothing happens twice, also when the retries race; the same key with another body
is refused; a refusal is kept as the answer; keys are per customer and kept at least 24 h."""

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from tests.bank_book import balance, book
from tests.helpers import JANE, JOHN

CHECKING, BROKERAGE = 1, 3
JANE_CHECKING, JANE_BROKERAGE = 6, 7
KEY = "6f1c2a9e-retry-me"


def send(
    client: TestClient,
    body: dict[str, Any],
    key: str | None = KEY,
    oid: str = JOHN,
    what: str = "transfers",
) -> Any:
    headers = {"Idempotency-Key": key} if key is not None else {}
    return client.post(f"/customer/{oid}/{what}", json=body, headers=headers)


def moving(amount: object, source: int = CHECKING, target: int = BROKERAGE) -> dict[str, Any]:
    return {"from_account_id": source, "to_account_id": target, "amount": amount}


def instruction_rows(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        return [
            tuple(row)
            for row in connection.execute(
                text("SELECT customer_oid, kind, status FROM instructions ORDER BY id")
            )
        ]


def test_a_retry_gets_the_first_answer_and_books_once(client: TestClient, engine: Engine) -> None:
    first = send(client, moving("125.50"))
    assert first.status_code == 201, first.text
    assert "Idempotent-Replayed" not in first.headers
    after_first = book(engine)
    again = send(client, moving("125.50"))
    assert again.status_code == 201, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert book(engine) == after_first
    assert balance(engine, BROKERAGE) == Decimal(
        str(first.json()["effects"]["balances"][1]["balance"])
    )


def test_a_retry_written_another_way_is_the_same_instruction(
    client: TestClient, engine: Engine
) -> None:
    """Field order and spacing do not make another instruction."""
    first = send(client, moving(40))
    raw = b'{ "amount" : 40 ,"to_account_id":3, "from_account_id":1 }'
    again = client.post(
        f"/customer/{JOHN}/transfers",
        content=raw,
        headers={"Idempotency-Key": KEY, "Content-Type": "application/json"},
    )
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["instruction_id"] == first.json()["instruction_id"]


@pytest.mark.parametrize(
    ("what", "body"),
    [
        ("transfers", moving(41)),
        ("transfers", moving(40, CHECKING, 2)),
        ("orders", {"side": "buy", "symbol": "AAPL", "quantity": 1}),
    ],
    ids=["another amount", "another account", "another kind of instruction"],
)
def test_the_same_key_with_another_instruction_is_refused_and_changes_nothing(
    client: TestClient, engine: Engine, what: str, body: dict[str, Any]
) -> None:
    assert send(client, moving(40)).status_code == 201
    before = book(engine)
    reused = send(client, body, what=what)
    assert reused.status_code == 422, reused.text
    assert reused.json()["rule"] == "idempotency_key_reused"
    assert "Idempotency-Key" in reused.json()["detail"]
    assert book(engine) == before


def test_a_refusal_sent_with_a_key_is_the_answer_to_its_retries(
    client: TestClient, engine: Engine
) -> None:
    """The first answer stands, even once the account could pay: a retry is not a new try."""
    too_much = moving(str(balance(engine, BROKERAGE) + 100), BROKERAGE, CHECKING)
    first = send(client, too_much)
    assert first.status_code == 422 and first.json()["rule"] == "insufficient_funds"
    assert send(client, moving(500), key=None).status_code == 201  # now it could pay
    before = book(engine)
    again = send(client, too_much)
    assert again.status_code == 422, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["rule"] == first.json()["rule"]
    assert again.json()["detail"] == first.json()["detail"]
    assert again.json()["request_id"] == again.headers["X-Request-ID"]
    assert book(engine) == before
    assert send(client, too_much, key="a-new-key").status_code == 201


def test_a_malformed_request_with_a_key_keeps_nothing(client: TestClient, engine: Engine) -> None:
    """Malformed input is refused before the key is looked at: the key is still free."""
    assert send(client, moving("1.001")).status_code == 400
    assert send(client, moving(1)).status_code == 201


def test_keys_belong_to_one_customer(client: TestClient, engine: Engine) -> None:
    john = send(client, moving(10))
    jane = send(client, moving(10, JANE_CHECKING, JANE_BROKERAGE), oid=JANE)
    assert john.status_code == jane.status_code == 201
    assert "Idempotent-Replayed" not in jane.headers
    assert john.json()["instruction_id"] != jane.json()["instruction_id"]
    assert [row[0] for row in instruction_rows(engine)] == [JOHN, JANE]


@pytest.mark.parametrize(("hours", "replayed"), [(23, True), (49, False)])
def test_keys_are_kept_at_least_a_day(
    client: TestClient, engine: Engine, hours: int, replayed: bool
) -> None:
    first = send(client, moving(10))
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE idempotency_keys SET created_at = :at"),
            {"at": datetime.now(UTC) - timedelta(hours=hours)},
        )
    again = send(client, moving(10))
    assert again.status_code == 201
    assert (again.json()["instruction_id"] == first.json()["instruction_id"]) is replayed
    assert len(instruction_rows(engine)) == (1 if replayed else 2)


def race(
    client: TestClient, count: int, body: dict[str, Any], what: str = "transfers"
) -> list[Any]:
    """``count`` requests with one key at once, from as many threads."""
    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(lambda _: send(client, body, what=what), range(count)))


@pytest.mark.parametrize("what", ["transfers", "orders"])
def test_racing_retries_make_one_instruction(client: TestClient, engine: Engine, what: str) -> None:
    body = (
        moving("33.33") if what == "transfers" else {"side": "buy", "symbol": "AAPL", "quantity": 2}
    )
    answers = race(client, 6, body, what)
    assert [a.status_code for a in answers] == [201] * 6, [a.text for a in answers]
    assert len({a.json()["instruction_id"] for a in answers}) == 1
    assert sum("Idempotent-Replayed" in a.headers for a in answers) == 5
    assert len(instruction_rows(engine)) == 1
    with engine.connect() as connection:
        booked = connection.execute(
            text("SELECT COUNT(*) FROM transactions WHERE instruction_id IS NOT NULL")
        ).scalar_one()
    assert booked == 2


def test_racing_retries_of_a_refusal_all_get_it(client: TestClient, engine: Engine) -> None:
    before = book(engine)
    answers = race(client, 6, moving(str(balance(engine, BROKERAGE) + 1), BROKERAGE, CHECKING))
    assert [a.status_code for a in answers] == [422] * 6, [a.text for a in answers]
    assert {a.json()["rule"] for a in answers} == {"insufficient_funds"}
    assert book(engine) == before
    with engine.connect() as connection:
        kept = connection.execute(text("SELECT COUNT(*) FROM idempotency_keys")).scalar_one()
    assert kept == 1
