"""Shared fixtures: a fresh seeded database per test, clients, a live server."""

import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from db import create_db_engine, create_schema
from main import create_app
from scripts.stress import serve
from seed import seed_sample_data
from settings import Settings

JOHN = "550e8400-e29b-41d4-a716-446655440001"
JANE = "550e8400-e29b-41d4-a716-446655440002"
UNKNOWN = "550e8400-e29b-41d4-a716-446655440000"
PROJECT = Path(__file__).parent


def require_or_skip(what: str, reason: str) -> None:
    """Skip for want of ``what``, unless BANK_TEST_REQUIRE names it: then fail."""
    required = {part.strip() for part in os.environ.get("BANK_TEST_REQUIRE", "").split(",")}
    if what in required:
        pytest.fail(f"{reason} (BANK_TEST_REQUIRE={what} makes this a failure)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A seeded SQLite file built once; every test gets its own copy."""
    path = tmp_path_factory.mktemp("template") / "bank.db"
    engine = create_db_engine(f"sqlite:///{path}")
    create_schema(engine)
    seed_sample_data(engine)
    engine.dispose()
    return path


@pytest.fixture
def database_url(seeded_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "bank.db"
    shutil.copyfile(seeded_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    app = create_app(Settings(database_url=database_url))
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def engine(client: TestClient) -> Engine:
    """The engine of the app under test, for looking at rows directly."""
    app_engine: Engine = client.app.state.engine  # type: ignore[attr-defined]
    return app_engine


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real server on a new database, for the tests of one module."""
    with serve(tmp_path_factory.mktemp("live") / "bank.db") as base_url:
        yield base_url


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
