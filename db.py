"""Database plumbing: the engine, its per-connection settings, sessions, first-run setup."""

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, SQLModel, create_engine

import models  # registers every table on SQLModel.metadata

SQLITE_POOL_SIZE = 40


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
    return create_engine(url, pool_pre_ping=True)


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


def create_schema(engine: Engine) -> bool:
    """Create missing tables; return True when the database had none of them before."""
    was_empty = not inspect(engine).has_table("users")
    SQLModel.metadata.create_all(engine)
    with engine.begin() as connection:
        # The kept customer count starts from the rows that are there.
        connection.execute(
            text(
                "INSERT INTO counters (name, value) SELECT :name, (SELECT count(*) FROM users) "
                "WHERE NOT EXISTS (SELECT 1 FROM counters WHERE name = :name)"
            ),
            {"name": models.CUSTOMER_COUNTER},
        )
    return was_empty


def drop_schema(engine: Engine) -> None:
    SQLModel.metadata.drop_all(engine)


def get_session(request: Request) -> Iterator[Session]:
    with Session(request.app.state.engine) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
