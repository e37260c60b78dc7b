"""Database plumbing: the engine, its per-connection settings, sessions, first-run setup."""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from fastapi import Depends, Request
from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, SQLModel, create_engine, select

import models  # registers every table on SQLModel.metadata
from errors import ServiceUnavailable

PROJECT = Path(__file__).resolve().parent
SQLITE_POOL_SIZE = 40
POSTGRES_POOL_SIZE = 10
POSTGRES_POOL_OVERFLOW = 30
"""Up to 40 connections per worker at a load peak (Starlette runs 40 request threads); 10
stay open. Mind PostgreSQL's max_connections (100 by default) times the workers."""


def create_db_engine(url: str) -> Engine:
    """An engine for ``url``; on SQLite every connection enforces foreign keys."""
    if url.startswith("sqlite"):
        # One connection for each thread that may run a request at once (Starlette's pool
        # has 40): a request never waits for another one's connection.
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=SQLITE_POOL_SIZE,
            max_overflow=0,
            pool_timeout=30,
        )
        event.listen(engine, "connect", _configure_sqlite)
        event.listen(engine, "begin", _begin_sqlite)
        return engine
    # A server database: a pool per worker, checked before use so that connections a
    # restart killed are replaced; when the server is down a request fails fast (503).
    return create_engine(
        url,
        pool_size=POSTGRES_POOL_SIZE,
        max_overflow=POSTGRES_POOL_OVERFLOW,
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
    """Start the session's transaction as a write; call before its first statement."""
    session.connection(execution_options={WRITE_OPTION: True})


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


async def get_session(request: Request) -> AsyncIterator[Session]:
    # Made and closed on the event loop (making one does no I/O) and used in the handler's
    # thread: one hop to the thread pool per request, where a sync generator costs three.
    session = Session(request.app.state.engine)
    try:
        yield session
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_session)]


def check_database(session: Session) -> None:
    """Raise ``ServiceUnavailable`` unless the database answers a trivial query."""
    try:
        session.exec(select(text("1")))
    except SQLAlchemyError:
        raise ServiceUnavailable(
            "Database unavailable: the bank cannot reach its database"
        ) from None
