"""Database plumbing: the engine, its per-connection settings, sessions, first-run setup,
and the signing secret the bank keeps with its data."""

import logging
import os
import secrets
import sqlite3
from collections.abc import Callable
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any, TypeVar, overload

import anyio
import anyio.to_thread
from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from fastapi import Depends, Request
from pydantic import SecretStr
from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, SQLModel, create_engine

import models  # registers every table on SQLModel.metadata
from core.errors import Overloaded, ServiceUnavailable
from core.paging import use_secret

log = logging.getLogger("dummy_bank")

PROJECT = Path(__file__).resolve().parent
SQLITE_POOL_SIZE = 40
POSTGRES_POOL_SIZE = 10
POSTGRES_POOL_OVERFLOW = 30
"""For scripts and tests that use an engine from many threads; the server sizes its pool to
its database threads instead (``open_database``)."""


def create_db_engine(url: str, *, pool_size: int | None = None, must_exist: bool = False) -> Engine:
    """An engine for ``url``; on SQLite every connection enforces foreign keys.

    ``pool_size`` sizes the pool for a known number of threads (see ``open_database``).
    ``must_exist`` (SQLite): a missing file is an error rather than a new empty database,
    for files that another worker may delete (a sandbox's, when it is reset or deleted).
    """
    if url.startswith("sqlite"):
        options: dict[str, Any] = {}
        if must_exist:
            path = make_url(url).database or ""
            options["creator"] = lambda: sqlite3.connect(
                f"file:{path}?mode=rw", uri=True, check_same_thread=False, timeout=30
            )
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=pool_size or SQLITE_POOL_SIZE,
            max_overflow=0,
            pool_timeout=30,
            **options,
        )
        event.listen(engine, "connect", _configure_sqlite)
        event.listen(engine, "begin", _begin_sqlite)
        return engine
    # A server database: a pool per worker, checked before use so that connections a
    # restart killed are replaced; when the server is down a request fails fast (503).
    return create_engine(
        url,
        pool_size=pool_size or POSTGRES_POOL_SIZE,
        max_overflow=0 if pool_size else POSTGRES_POOL_OVERFLOW,
        pool_timeout=10,
        pool_pre_ping=True,
        connect_args={"connect_timeout": 5},
    )


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # SQLAlchemy, not the driver, starts transactions (see _begin_sqlite).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA busy_timeout = 30000")
    # WAL lets readers go on while a writer works; NORMAL syncs at checkpoints, which keeps
    # every commit across a process crash (a power cut may lose the last few).
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()


def _begin_sqlite(connection: Connection) -> None:
    # A write takes the write lock when it starts: upgrading a read lock later can fail
    # with "database is locked" at once, whatever the busy timeout, when writers race.
    writing = connection.get_execution_options().get(WRITE_OPTION, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")


WRITE_OPTION = "bank_write"


def begin_write(session: Session) -> None:
    """Start the session's transaction as a write; call before its first statement.

    The write logs what it changes itself (``changes.record_change``); on PostgreSQL it
    says so, so that the triggers that log other writers' statements let it be.
    """
    connection = session.connection(execution_options={WRITE_OPTION: True})
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SELECT set_config('bank.change_logged', 'on', true)")


class SchemaOutOfDate(RuntimeError):
    """The database's schema is not the one this code needs; the message says what to run."""


def _alembic_config(connection: Connection | None = None) -> AlembicConfig:
    config = AlembicConfig(str(PROJECT / "alembic.ini"))
    config.attributes["connection"] = connection
    return config


def schema_head() -> str:
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def create_schema(engine: Engine) -> bool:
    """Bring a new database to the latest schema, or check an existing one is there.

    Returns True when the database was new. A database at an older revision is
    not changed behind anyone's back: ``SchemaOutOfDate`` says what to run.
    """
    head = schema_head()
    with engine.begin() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
        was_empty = current is None and not inspect(connection).has_table("users")
        if was_empty:
            command.upgrade(_alembic_config(connection), "head")
    if not was_empty and current != head:
        url = engine.url.render_as_string(hide_password=True)
        found = f"revision {current}" if current else "tables but no migration record"
        raise SchemaOutOfDate(
            f"The database {url} has {found}; this version of Dummy Bank needs revision {head}. "
            "Run `.venv/bin/alembic upgrade head` (with the same BANK_DATABASE_URL), "
            "or start again with `.venv/bin/python reset_database.py`."
        )
    with engine.begin() as connection:
        # The kept customer count starts from the rows that are there.
        connection.execute(
            text(
                "INSERT INTO counters (name, value) "
                "SELECT CAST(:name AS VARCHAR(64)), (SELECT count(*) FROM users) "
                "WHERE NOT EXISTS (SELECT 1 FROM counters WHERE name = :name)"
            ),
            {"name": models.CUSTOMER_COUNTER},
        )
    return was_empty


def drop_schema(engine: Engine) -> None:
    SQLModel.metadata.drop_all(engine)
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("DROP FUNCTION IF EXISTS bank_log_unlogged_write()")


def bank_secret(engine: Engine) -> str:
    """The secret this database's bank signs with, made at the first call and kept in it.

    Insert-if-absent, then read: workers that start at once on one database (SQLite or
    PostgreSQL) each offer a secret, one is kept, and all of them read that one back."""
    offered = secrets.token_urlsafe(32)
    writing = engine.connect().execution_options(**{WRITE_OPTION: True})
    with writing as connection, connection.begin():
        made = connection.execute(
            text(
                "INSERT INTO bank_secrets (name, value) VALUES (:name, :value) "
                "ON CONFLICT (name) DO NOTHING"
            ),
            {"name": models.SIGNING_SECRET, "value": offered},
        ).rowcount
        kept = connection.execute(
            text("SELECT value FROM bank_secrets WHERE name = :name"),
            {"name": models.SIGNING_SECRET},
        ).scalar_one()
    if made == 1:
        _owner_only(engine)
        log.info("made a new signing secret, kept in the database (bank_secrets)")
    return str(kept)


def _owner_only(engine: Engine) -> None:
    """A SQLite file now holds the secret: only its owner may read it (and its journals)."""
    path = engine.url.database if engine.url.get_backend_name() == "sqlite" else None
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    for name in (path, f"{path}-wal", f"{path}-shm"):
        if os.path.exists(name):
            os.chmod(name, 0o600)


def use_bank_secret(engine: Engine, configured: SecretStr | None) -> None:
    """Sign cursors and question ids with BANK_CURSOR_SECRET when it is set, else with the
    database's own secret. Sandboxes are signed with their bank's secret."""
    use_secret(configured.get_secret_value() if configured else bank_secret(engine))


T = TypeVar("T")
R = TypeVar("R")


class Database:
    """The engine, and the few threads that may use it at once.

    Every request's database work runs on one of ``threads`` worker threads, in a
    session of its own that is closed before the answer is serialised. A request
    that would wait behind more than ``queue`` others, or longer than
    ``queue_timeout`` seconds, is refused at once with 503 and Retry-After instead
    of joining a convoy: under any load an answer is either quick or a quick no.
    """

    allow_writes: bool | None = None
    """Whether agents may act here (instructions, MCP write tools): a sandbox says so itself;
    None for the bank, where the API keys and ``BANK_MCP_ALLOW_WRITES`` decide."""
    sandbox_id: str | None = None
    """The sandbox this database is, or None for the bank's own."""
    generation: int = 0
    """Which copy of its sandbox this is (each reset makes another); 0 for the bank's own."""

    def __init__(self, engine: Engine, *, threads: int, queue: int, queue_timeout: float) -> None:
        self.engine = engine
        self.threads = threads
        self.queue = queue
        self.queue_timeout = queue_timeout
        self._admitted = anyio.CapacityLimiter(threads)
        self._workers = anyio.CapacityLimiter(threads)

    def busy(self) -> bool:
        """Whether a request for a database thread now would be refused for the queue."""
        return self._admitted.statistics().tasks_waiting >= self.queue

    @property
    def postgres(self) -> bool:
        return self.engine.url.get_backend_name() == "postgresql"

    @property
    def reads_on_loop(self) -> bool:
        """Whether a one-row read may run on the event loop (a local file that stays put)."""
        return not self.postgres

    @overload
    async def run(
        self, work: Callable[[Session], T], then: None = None, *, write: bool = False
    ) -> T: ...

    @overload
    async def run(
        self, work: Callable[[Session], T], then: Callable[[T], R], *, write: bool = False
    ) -> R: ...

    async def run(
        self,
        work: Callable[[Session], T],
        then: Callable[[T], R] | None = None,
        *,
        write: bool = False,
    ) -> T | R:
        """``work`` in a fresh session on a database thread, then ``then`` on its result
        once the session is closed (in the same thread: serialising stays off the loop)."""
        if self.busy():
            raise Overloaded(Overloaded.busy)
        with anyio.move_on_after(self.queue_timeout) as waited:
            await self._admitted.acquire()
        if waited.cancelled_caught:
            raise Overloaded("The bank is busy: no database thread came free in time; retry")
        try:
            return await anyio.to_thread.run_sync(
                self._work, work, then, write, limiter=self._workers
            )
        finally:
            self._admitted.release()

    def run_here(self, work: Callable[[Session], T]) -> T:
        """``work`` on the calling thread: for a read of one indexed row on a local file,
        cheaper than the trip to a database thread and back."""
        result: T = self._work(work, None, False)
        return result

    def _work(
        self, work: Callable[[Session], T], then: Callable[[T], R] | None, write: bool
    ) -> Any:
        with Session(self.engine) as session:
            if self.postgres and not write:
                # One snapshot for every statement of an answer, as SQLite's transaction gives.
                # Writes stay at READ COMMITTED: their own locks order them.
                session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            result = work(session)
        return then(result) if then is not None else result


DEFAULT_THREADS = {"sqlite": 2, "postgresql": 4}


def open_database(
    url: str, *, threads: int | None = None, queue: int = 1024, queue_timeout: float = 2.0
) -> Database:
    """An engine whose pool holds a connection for each database thread, and the threads.

    Two more connections than threads: the event loop's own one-row reads on SQLite, and
    a health check that must not wait behind the queue."""
    backend = "sqlite" if url.startswith("sqlite") else "postgresql"
    threads = threads or DEFAULT_THREADS[backend]
    engine = create_db_engine(url, pool_size=threads + 2)
    return Database(engine, threads=threads, queue=queue, queue_timeout=queue_timeout)


SANDBOX_DATABASE: ContextVar[Database | None] = ContextVar("sandbox_database", default=None)
"""The sandbox a request acts on (set from its X-Bank-Sandbox header), or None: the bank."""


def current_database(default: Database) -> Database:
    """The request's sandbox, or ``default`` (the bank's own database)."""
    return SANDBOX_DATABASE.get() or default


async def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return current_database(database)


DatabaseDep = Annotated[Database, Depends(get_database)]


def check_database(session: Session) -> None:
    """Raise ``ServiceUnavailable`` unless the database answers a trivial query."""
    try:
        session.connection().exec_driver_sql("SELECT 1")
    except SQLAlchemyError:
        raise ServiceUnavailable(
            "Database unavailable: the bank cannot reach its database"
        ) from None
