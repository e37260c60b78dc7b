"""PostgreSQL as a shared server: several API processes on one database, and restarts."""

import asyncio
from collections import Counter
from collections.abc import Iterator

import httpx2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from core.settings import Settings
from main import create_app
from scripts.stress import serve
from tests.helpers import JOHN, burst


@pytest.fixture
def two_servers(postgres_url: str) -> Iterator[tuple[str, str]]:
    with serve(postgres_url) as first, serve(postgres_url) as second:
        yield first, second


def test_a_write_through_one_process_is_seen_by_the_other_at_once(
    two_servers: tuple[str, str],
) -> None:
    first, second = two_servers
    oid = httpx2.post(f"{first}/register-customer", json={"name": "Shared Person"}).json()[
        "customer_oid"
    ]
    assert httpx2.get(f"{second}/customer/{oid}/exists").json()["exists"] is True
    assert httpx2.get(f"{second}/customers").headers["X-Total-Count"] == "6"
    assert httpx2.delete(f"{second}/customer/{oid}").status_code == 200
    assert httpx2.get(f"{first}/customer/{oid}/exists").json()["exists"] is False


@pytest.mark.slow
def test_racing_registrations_and_deletes_across_processes(two_servers: tuple[str, str]) -> None:
    oid = "7a1c2a9e-3b4d-4c5e-8f70-1a2b3c4d5e6f"
    statuses = asyncio.run(
        burst(
            two_servers,
            "POST",
            "/register-customer",
            50,
            json={"name": "Racer", "customer_oid": oid},
        )
    )
    assert statuses == Counter({200: 1, 409: 49}), statuses
    statuses = asyncio.run(burst(two_servers, "DELETE", f"/customer/{oid}", 20))
    assert statuses == Counter({200: 1, 404: 19}), statuses


def test_connections_killed_by_a_restart_are_replaced(postgres_url: str) -> None:
    with TestClient(create_app(Settings(database_url=postgres_url))) as client:
        assert client.app.state.cache is not None  # type: ignore[attr-defined]
        assert client.get(f"/user-portfolio/{JOHN}").status_code == 200
        engine = client.app.state.engine  # type: ignore[attr-defined]
        with engine.connect() as connection:
            # What a server restart does to every open connection.
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
        for _ in range(3):
            assert client.get(f"/user-portfolio/{JOHN}").status_code == 200


def test_a_database_that_is_down_gives_503_fast(postgres_url: str) -> None:
    with TestClient(create_app(Settings(database_url=postgres_url))) as client:
        from db import create_db_engine

        client.app.state.database.engine = create_db_engine(  # type: ignore[attr-defined]
            "postgresql+psycopg://postgres@127.0.0.1:1/nowhere"
        )
        for path in ("/health", f"/user-portfolio/{JOHN}", "/customers"):
            response = client.get(path)
            assert response.status_code == 503, path
            assert "database" in response.json()["detail"].lower()


def test_bulk_load_uses_copy_and_leaves_ids_in_order(postgres_url: str) -> None:
    from db import create_db_engine
    from synthetic.bulk_load import load_synthetic

    engine = create_db_engine(postgres_url)
    report = load_synthetic(engine, 60, seed=3, batch_size=25, progress=False)
    engine.dispose()
    assert report.customers == 60 and report.rows > 600
    assert report.database_bytes and report.database_bytes > 0
    with TestClient(create_app(Settings(database_url=postgres_url))) as client:
        # New rows after a COPY with explicit ids: the id sequences were moved past them.
        created = client.post("/register-customer", json={"name": "After The Load"})
        assert created.status_code == 200
        assert client.get("/customers").headers["X-Total-Count"] == "66"
        last = client.get("/customers", params={"limit": 1000}).json()[-1]
        assert last["name"] == "After The Load"
        some = client.get("/customers", params={"limit": 1000}).json()[30]
        assert client.get(f"/user-portfolio/{some['customer_oid']}").status_code == 200
