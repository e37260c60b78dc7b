"""The change log: every write records what it changed, every worker reads what it missed.

A write through the bank inserts a ``changes`` row in its own transaction: the
customer whose answers changed, or NULL when anything may have (market data, a
bulk load). Each worker keeps the newest number it has seen and, when asked,
reads the rows after it and tells its listeners (the answer cache, the market
snapshot). That is only right if no smaller number can appear later: numbers
must become visible in commit order, with no gaps. SQLite serialises writes, so
its row numbers do. On PostgreSQL a sequence would not (it hands out numbers at
insert: a worker could read 8 while 7 was uncommitted, and never see 7), so the
numbers come from the writes' counter row (``changes_last``, beside the public
feed's), which a writer holds from its number to its commit. On SQLite a change
counter (``PRAGMA data_version``) says for free whether anything was committed
at all, so a quiet database costs no query; a commit that logged nothing
(someone wrote to the file directly) counts as "anything". On PostgreSQL each
look is one indexed query.
"""

import sqlite3
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, insert, literal, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.errors import ServiceUnavailable
from models import BankEventCounter, Change

BOOKKEEPING = "*"
"""Subjects starting with this are the bank's own bookkeeping (the sandbox registry): logged
on SQLite so that a worker knows the write was the bank's, while no answer depends on them."""
RETRY_AFTER_FAILURE_S = 1.0
BATCH = 1000
"""Rows read at one look; a worker further behind than that forgets everything instead."""
COUNTER_ROW = 1
"""The id of the writes' counter row (``BankEventCounter``), made by the migrations."""

_CHANGES = Change.__table__  # type: ignore[attr-defined]
_COUNTER = BankEventCounter.__table__  # type: ignore[attr-defined]
_TAKEN = (
    update(_COUNTER)
    .where(_COUNTER.c.id == COUNTER_ROW)
    .values(changes_last=_COUNTER.c.changes_last + 1)
    .returning(_COUNTER.c.changes_last)
    .cte("taken")
)
UNATTRIBUTED_CHANGE_POSTGRESQL = (
    "WITH taken AS (UPDATE bank_event_counter SET changes_last = changes_last + 1 "
    f"WHERE id = {COUNTER_ROW} RETURNING changes_last) "
    "INSERT INTO changes (seq, subject_oid) SELECT changes_last, NULL FROM taken"
)
""""Anything may have changed" on PostgreSQL, for a writer on a plain DB-API cursor (the
bulk load): numbered as ``record_change`` numbers, in one statement."""


@dataclass(frozen=True)
class Changes:
    """What a look at the log found: the customers whose answers changed, or everything."""

    epoch: int
    """This worker's count of looks that found something: it moves on every change seen,
    also on a commit that logged nothing (the log's own number stays put then)."""
    customers: frozenset[str]
    everything: bool


Listener = Callable[[Changes], None]


def record_change(session: Session, customer_oid: str | None) -> None:
    """Log a change inside the caller's write transaction; NULL means anything may have
    changed.

    Call it last, just before the commit: on PostgreSQL the writer holds the counter row
    from here, and every other writer waits for this one to commit or roll back (a write
    that also records public changes, ``events.record_events``, takes the same row: it
    waits once). The bank's own bookkeeping is not logged there: no answer depends on it,
    only SQLite's change counter needs telling that the commit was the bank's, and every
    trace write would queue for the row."""
    if session.get_bind().dialect.name != "postgresql":
        session.execute(insert(_CHANGES).values(subject_oid=customer_oid))
        return
    if customer_oid is not None and customer_oid.startswith(BOOKKEEPING):
        return
    session.execute(
        insert(_CHANGES).from_select(
            ["seq", "subject_oid"],
            select(_TAKEN.c.changes_last, literal(customer_oid, String())),
        )
    )


class ChangeFeed:
    """One worker's reader of the change log."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.listeners: list[Listener] = []
        self._lock = threading.Lock()
        self._sqlite = engine.url.get_backend_name() == "sqlite"
        self._connection: Any = None
        self._version: int | None = None
        self._down_until = 0.0
        self.seq = self._read_newest()
        """The newest row of the log this worker has read."""
        self.epoch = 0
        """Moves by one whenever a look finds any change: what answers are stamped with."""

    def subscribe(self, listener: Listener) -> None:
        self.listeners.append(listener)

    def poll(self) -> int:
        """Tell the listeners what changed since the last look; the epoch after it.

        An answer computed after a look that returned epoch E reflects at least every change
        seen by then; one stamped with E is out of date once the epoch has moved past E.
        """
        with self._lock:
            if self._sqlite:
                version = self._data_version()
                if version == self._version:
                    return self.epoch
                self._version = version
            rows = self._rows_after(self.seq)
            if not rows and not self._sqlite:
                return self.epoch
            newest = rows[-1][0] if rows else self.seq
            everything = (
                not rows  # a commit that logged nothing
                or len(rows) >= BATCH
                or any(customer is None for _, customer in rows)
            )
            if len(rows) >= BATCH:
                newest = self._read_newest()
            self.epoch += 1
            found = Changes(
                epoch=self.epoch,
                customers=frozenset(
                    c for _, c in rows if c is not None and not c.startswith(BOOKKEEPING)
                ),
                everything=everything,
            )
            self.seq = newest
            for listener in self.listeners:
                listener(found)
            return self.epoch

    def check(self) -> None:
        """Raise ``ServiceUnavailable`` unless the database answers, on this reader's own
        connection: on SQLite the schema's version, a read transaction on the database (where
        ``SELECT 1`` would not open one); on PostgreSQL a trivial query."""
        self._query("PRAGMA schema_version" if self._sqlite else "SELECT 1")

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _cursor(self) -> Any:
        if self._connection is None:
            if self._sqlite:
                self._connection = sqlite3.connect(
                    self.engine.url.database or ":memory:",
                    check_same_thread=False,
                    isolation_level=None,
                )
            else:
                # A connection of its own, outside the pool, that sees every commit at once.
                args, options = self.engine.dialect.create_connect_args(self.engine.url)
                self._connection = self.engine.dialect.connect(*args, **options)
                self._connection.autocommit = True
        return self._connection.cursor()

    def _query(self, sql: str, *params: object) -> list[tuple[Any, ...]]:
        driver_error = self.engine.dialect.loaded_dbapi.Error
        if time.monotonic() < self._down_until:
            # Just failed: say so at once rather than make every request wait for a timeout.
            raise ServiceUnavailable("Database unavailable: the bank cannot reach its database")
        try:
            if self._sqlite:
                return list(self._cursor().execute(sql.replace("%s", "?"), params).fetchall())
            try:
                cursor = self._cursor()
                cursor.execute(sql, params)
            except driver_error:
                # The server may have restarted since the last look: one new connection, once.
                self.close()
                cursor = self._cursor()
                cursor.execute(sql, params)
            return list(cursor.fetchall())
        except driver_error:
            self.close()
            self._down_until = time.monotonic() + RETRY_AFTER_FAILURE_S
            raise ServiceUnavailable(
                "Database unavailable: the bank cannot reach its database"
            ) from None

    def _data_version(self) -> int:
        return int(self._query("PRAGMA data_version")[0][0])

    def _read_newest(self) -> int:
        if self._sqlite:
            self._version = self._data_version()
        return int(self._query("SELECT coalesce(max(seq), 0) FROM changes")[0][0])

    def _rows_after(self, seq: int) -> list[tuple[int, str | None]]:
        rows = self._query(
            "SELECT seq, subject_oid FROM changes WHERE seq > %s ORDER BY seq LIMIT %s",
            seq,
            BATCH,
        )
        return [(int(s), c) for s, c in rows]


_FEEDS: "weakref.WeakKeyDictionary[Engine, ChangeFeed]" = weakref.WeakKeyDictionary()
_FEEDS_LOCK = threading.Lock()


def feed_for(engine: Engine) -> ChangeFeed:
    """This worker's feed for the database behind ``engine`` (made on first use)."""
    with _FEEDS_LOCK:
        feed = _FEEDS.get(engine)
        if feed is None:
            feed = _FEEDS[engine] = ChangeFeed(engine)
        return feed


def close_feed(engine: Engine) -> None:
    with _FEEDS_LOCK:
        feed = _FEEDS.pop(engine, None)
    if feed is not None:
        feed.close()
