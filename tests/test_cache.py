"""Cached answers: served again while nothing they depend on changed, never once it did.

On both backends: a write forgets the written customer's answers and the lists,
and nothing else, in every worker; a write the change log cannot attribute (made
outside the bank) forgets everything; concurrent misses compute once; a link
built for one host is never sent to another.
"""

import asyncio
from collections.abc import Callable
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from core.settings import Settings
from main import create_app
from scripts.stress import serve
from services import portfolio
from tests.helpers import JANE, JOHN


@pytest.fixture
def portfolio_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records each time a portfolio is really computed."""
    calls: list[str] = []
    original: Callable[..., Any] = portfolio.read_portfolio

    def counting(session: Any, raw_oid: str, **options: Any) -> Any:
        calls.append(raw_oid)
        return original(session, raw_oid, **options)

    monkeypatch.setattr(portfolio, "read_portfolio", counting)
    return calls


def test_a_repeated_request_is_answered_from_the_cache(
    client: TestClient, portfolio_calls: list[str]
) -> None:
    first = client.get(f"/user-portfolio/{JOHN}")
    second = client.get(f"/user-portfolio/{JOHN}")
    assert (first.headers["X-Bank-Cache"], second.headers["X-Bank-Cache"]) == ("miss", "hit")
    assert second.content == first.content
    assert second.headers["content-type"] == "application/json"
    assert portfolio_calls == [JOHN]
    client.get(f"/user-portfolio/{JOHN}", params={"currency": "EUR"})
    assert portfolio_calls == [JOHN, JOHN]


def test_a_write_forgets_that_customer_and_the_lists_only(
    client: TestClient, portfolio_calls: list[str]
) -> None:
    client.get(f"/user-portfolio/{JOHN}")
    client.get(f"/user-portfolio/{JANE}")
    assert client.get("/customers").headers["X-Total-Count"] == "5"
    assert client.delete(f"/customer/{JANE}").status_code == 200
    assert client.get(f"/user-portfolio/{JOHN}").headers["X-Bank-Cache"] == "hit"
    assert client.get(f"/user-portfolio/{JANE}").status_code == 404
    assert client.get("/customers").headers["X-Total-Count"] == "4"
    assert portfolio_calls == [JOHN, JANE, JANE]


def test_a_write_outside_the_bank_forgets_everything(
    client: TestClient, engine: Engine, portfolio_calls: list[str]
) -> None:
    before = client.get(f"/user-portfolio/{JANE}").json()
    client.get(f"/user-portfolio/{JOHN}")
    # Another connection, as psql or another program would write.
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE bank_accounts SET balance = balance + 10000 WHERE customer_oid = :c"),
            {"c": JANE},
        )
    after = client.get(f"/user-portfolio/{JANE}").json()
    assert client.get(f"/user-portfolio/{JOHN}").headers["X-Bank-Cache"] == "miss"
    assert portfolio_calls == [JANE, JOHN, JANE, JOHN]
    gained = (
        after["portfolio_summary"]["total_cash_balance"]
        - before["portfolio_summary"]["total_cash_balance"]
    )
    assert round(gained, 2) == len(before["bank_accounts"]) * 100.0


def test_writes_through_the_api_are_seen_at_once(client: TestClient) -> None:
    assert client.get("/customers").headers["X-Total-Count"] == "5"
    oid = client.post("/register-customer", json={"name": "Fresh Face"}).json()["customer_oid"]
    listing = client.get("/customers")
    assert listing.headers["X-Total-Count"] == "6"
    assert listing.json()[-1]["name"] == "Fresh Face"
    assert client.get(f"/customer/{oid}/exists").json()["exists"] is True
    client.delete(f"/customer/{oid}")
    assert client.get(f"/customer/{oid}/exists").json()["exists"] is False
    assert len(client.get("/customers").json()) == 5


def test_errors_are_never_cached(client: TestClient) -> None:
    unknown = "550e8400-e29b-41d4-a716-446655449999"
    assert client.get(f"/user-portfolio/{unknown}").status_code == 404
    client.post("/register-customer", json={"name": "Late Comer", "customer_oid": unknown})
    assert client.get(f"/user-portfolio/{unknown}").status_code == 200


def test_concurrent_misses_of_one_answer_compute_it_once(
    database_url: str, portfolio_calls: list[str]
) -> None:
    app = create_app(Settings(database_url=database_url))

    async def many() -> list[httpx2.Response]:
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            return await asyncio.gather(*(client.get(f"/user-portfolio/{JOHN}") for _ in range(20)))

    with TestClient(app):  # runs the lifespan: the database and the cache
        answers = asyncio.run(many())
    assert {answer.status_code for answer in answers} == {200}
    assert len({answer.content for answer in answers}) == 1
    assert portfolio_calls == [JOHN]


def test_a_link_built_for_one_host_is_never_sent_to_another(client: TestClient) -> None:
    foreign = client.get(
        "/customers?limit=2", headers={"Host": "localhost:3000", "X-Forwarded-Proto": "https"}
    )
    assert foreign.headers["Link"].startswith("<http://localhost:3000/customers?")
    plain = client.get("/customers?limit=2")
    assert plain.headers["Link"].startswith("<http://testserver/customers?")
    page = client.get(f"/customer/{JOHN}/transactions?limit=2", headers={"Host": "localhost"})
    assert page.json()["next"].startswith("http://localhost/")
    assert (
        client.get(f"/customer/{JOHN}/transactions?limit=2")
        .json()["next"]
        .startswith("http://testserver/")
    )


def test_a_write_in_one_process_is_seen_by_another_at_once(database_url: str) -> None:
    """Two servers on one database, each with its own cache: invalidation crosses processes,
    per customer."""
    with serve(database_url) as first, serve(database_url) as second:
        assert httpx2.get(f"{second}/user-portfolio/{JOHN}").status_code == 200
        assert httpx2.get(f"{second}/user-portfolio/{JANE}").status_code == 200
        warm = httpx2.get(f"{second}/user-portfolio/{JOHN}")
        assert warm.headers["X-Bank-Cache"] == "hit"
        assert httpx2.delete(f"{first}/customer/{JANE}").status_code == 200
        assert httpx2.get(f"{second}/user-portfolio/{JANE}").status_code == 404
        assert httpx2.get(f"{second}/user-portfolio/{JOHN}").headers["X-Bank-Cache"] == "hit"
        oid = httpx2.post(f"{first}/register-customer", json={"name": "Cross Over"}).json()[
            "customer_oid"
        ]
        assert httpx2.get(f"{second}/customer/{oid}/exists").json()["exists"] is True
        assert httpx2.get(f"{second}/customers").headers["X-Total-Count"] == "5"


def test_the_banks_own_bookkeeping_forgets_nothing(client: TestClient, engine: Engine) -> None:
    """Registry and trace writes log themselves as bookkeeping: on SQLite an unlogged commit
    would otherwise read as "anything may have changed" and empty every cache."""
    from sqlmodel import Session

    from db import begin_write
    from services.changes import BOOKKEEPING, record_change

    client.get(f"/user-portfolio/{JOHN}")
    assert client.get("/customers").headers["X-Bank-Cache"] == "miss"
    with Session(engine) as session:
        begin_write(session)
        record_change(session, BOOKKEEPING + "test")
        session.commit()
    assert client.get(f"/user-portfolio/{JOHN}").headers["X-Bank-Cache"] == "hit"
    assert client.get("/customers").headers["X-Bank-Cache"] == "hit"
