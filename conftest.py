"""Shared fixtures: a fresh seeded database per test on each backend, clients, a live server.

Every test that takes ``database_url`` (or ``client``, ``engine``) runs twice:
on SQLite and on PostgreSQL. Each run gets its own database: a copy of a
seeded SQLite file, or a PostgreSQL database made from a seeded template
(``CREATE DATABASE ... TEMPLATE``), dropped afterwards. Where no PostgreSQL
answers at BANK_TEST_POSTGRES_URL, the PostgreSQL half is skipped, saying so,
unless BANK_TEST_REQUIRE names postgresql (as CI does): then it fails.
"""

import itertools
import os

# The in-process test client addresses the app as "testserver"; let the bank answer to it.
os.environ.setdefault("BANK_ALLOWED_HOSTS", '["testserver"]')
# The servers tests start (in process and as subprocesses) admit the tests' own requests: on
# a busy machine one may wait for a database thread longer than production's 2 s, which is a
# limit for a flood of clients, not for one test. The admission tests set their own limits.
os.environ.setdefault("BANK_DB_QUEUE_TIMEOUT", "120")
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from core.settings import Settings
from db import create_db_engine
from main import create_app
from scripts.stress import serve
from synthetic.seeding import prepare_database
from tests.helpers import require_or_skip

POSTGRES_URL = os.environ.get(
    "BANK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
_RUN = f"dbtest_{os.getpid()}"
_numbers = itertools.count()


@contextmanager
def _admin() -> Iterator[Connection]:
    """A short-lived connection to the server's maintenance database, for CREATE DATABASE."""
    engine = create_engine(
        POSTGRES_URL,
        isolation_level="AUTOCOMMIT",
        poolclass=NullPool,
        connect_args={"connect_timeout": 5},
    )
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def _database_url(name: str) -> str:
    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql":
        try:
            with _admin() as connection:
                connection.execute(text("SELECT 1"))
        except OperationalError as error:
            require_or_skip(
                "postgresql", f"no PostgreSQL at {POSTGRES_URL}: {str(error.orig).strip()[:200]}"
            )
    return str(request.param)


@pytest.fixture(scope="session")
def seeded_template(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A seeded database built once per backend; every test gets a copy of it."""
    if backend == "sqlite":
        path = tmp_path_factory.mktemp("template") / "bank.db"
        url = f"sqlite:///{path}"
    else:
        name = f"{_RUN}_template"
        with _admin() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = _database_url(name)
    engine = create_db_engine(url)
    prepare_database(engine)
    engine.dispose()
    yield url
    if backend == "postgresql":
        with _admin() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def database_url(backend: str, seeded_template: str, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        path = tmp_path / "bank.db"
        shutil.copyfile(make_url(seeded_template).database or "", path)
        yield f"sqlite:///{path}"
        return
    name = f"{_RUN}_{next(_numbers)}"
    template = make_url(seeded_template).database
    with _admin() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    try:
        yield _database_url(name)
    finally:
        with _admin() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


class FreshDatabases:
    """More copies of the seeded bank, for a test that needs several (a property test wants
    one per example); each is dropped when asked, and whatever is left after the test."""

    def __init__(self, backend: str, template: str, folder: Path) -> None:
        self.backend, self.template, self.folder = backend, template, folder
        self.made: list[str] = []

    def make(self) -> str:
        number = next(_numbers)
        if self.backend == "sqlite":
            path = self.folder / f"bank-{number}.db"
            shutil.copyfile(make_url(self.template).database or "", path)
            url = f"sqlite:///{path}"
        else:
            name = f"{_RUN}_{number}"
            template = make_url(self.template).database
            with _admin() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
            url = _database_url(name)
        self.made.append(url)
        return url

    def drop(self, url: str) -> None:
        self.made.remove(url)
        if self.backend == "sqlite":
            Path(make_url(url).database or "").unlink(missing_ok=True)
            return
        with _admin() as connection:
            connection.execute(
                text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
            )


@pytest.fixture
def fresh_databases(backend: str, seeded_template: str, tmp_path: Path) -> Iterator[FreshDatabases]:
    made = FreshDatabases(backend, seeded_template, tmp_path)
    yield made
    for url in list(made.made):
        made.drop(url)


@pytest.fixture
def sqlite_only(backend: str) -> None:
    """For tests of something SQLite has and PostgreSQL does not (a file, PRAGMAs)."""
    if backend != "sqlite":
        pytest.skip("SQLite-specific: tested on the SQLite run")


@pytest.fixture
def postgres_url(backend: str, database_url: str) -> str:
    """For what only PostgreSQL has: a shared server, writers racing (on SQLite a writer holds
    the whole database)."""
    if backend != "postgresql":
        pytest.skip("PostgreSQL-specific: tested on the PostgreSQL run")
    return database_url


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


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real server on a new SQLite database, for the tests of one module."""
    database = tmp_path_factory.mktemp("live") / "bank.db"
    with serve(f"sqlite:///{database}") as base_url:
        yield base_url


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Files with slow tests first: run in parallel a file per worker, the longest files
    start at once instead of leaving one worker busy at the end while the other idles."""
    slow_files = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow_files)
