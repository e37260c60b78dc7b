"""Cached answers: served again while nothing changed, never once something did."""

import sqlite3
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services import portfolio
from tests.helpers import JANE, JOHN

# The cache reads SQLite's data_version; on PostgreSQL it is off (see cache.open_cache).
pytestmark = pytest.mark.usefixtures("sqlite_only")


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
    assert second.content == first.content
    assert second.headers["content-type"] == "application/json"
    assert portfolio_calls == [JOHN]
    client.get(f"/user-portfolio/{JOHN}", params={"currency": "EUR"})
    assert portfolio_calls == [JOHN, JOHN]


def test_a_commit_by_another_process_drops_the_cache(
    client: TestClient, database_url: str, portfolio_calls: list[str]
) -> None:
    before = client.get(f"/user-portfolio/{JANE}").json()
    # Another connection, as another worker process would have.
    other = sqlite3.connect(database_url.removeprefix("sqlite:///"))
    with other:
        other.execute(
            "UPDATE bank_accounts SET balance = balance + 100 WHERE customer_oid = ?", (JANE,)
        )
    other.close()
    after = client.get(f"/user-portfolio/{JANE}").json()
    assert portfolio_calls == [JANE, JANE]
    gained = (
        after["portfolio_summary"]["total_cash_balance"]
        - before["portfolio_summary"]["total_cash_balance"]
    )
    assert round(gained, 2) == len(before["bank_accounts"]) * 1.0


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
