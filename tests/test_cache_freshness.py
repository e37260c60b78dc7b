"""No cached answer outlives a write, whoever made it: the bank, the bulk loader, or another
program writing to the database file directly; nor a write that committed after a later one
had been read."""

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlmodel import Session

from api.cache import ResponseCache, _Entry
from core.settings import Settings
from db import begin_write, create_db_engine
from main import create_app
from services.changes import BOOKKEEPING, ChangeFeed, Changes, record_change
from synthetic.bulk_load import load_synthetic
from synthetic.seeding import prepare_database
from tests.helpers import JANE, JOHN, wait_until_blocked


def test_an_answer_read_before_a_direct_write_is_not_kept(tmp_path: Path) -> None:
    path = tmp_path / "bank.db"
    engine = create_db_engine(f"sqlite:///{path}")
    prepare_database(engine)
    cache = ResponseCache(ChangeFeed(engine), max_bytes=1 << 20)
    token = cache.poll()  # a request starts: its answer is read from here on...
    with sqlite3.connect(path) as outside:  # ...another program commits, logging nothing...
        outside.execute("UPDATE users SET name = name || ' Jr' WHERE id = 1")
    cache.poll()  # ...another request looks and forgets everything...
    cache.put(b"/customers", _Entry(200, [], b"[]", "*lists"), token)  # ...the first ends.
    assert cache.get(b"/customers") is None
    fresh = cache.poll()
    cache.put(b"/customers", _Entry(200, [], b"[]", "*lists"), fresh)
    assert cache.get(b"/customers") is not None


def test_a_bulk_load_into_a_running_banks_database_is_seen_at_once(database_url: str) -> None:
    app = create_app(Settings(database_url=database_url, cache_mb=16))
    with TestClient(app) as client:
        client.get("/customers")
        before = client.get("/customers")
        assert before.headers["X-Bank-Cache"] == "hit"
        load_synthetic(app.state.database.engine, 3, seed=11, batch_size=2, progress=False)
        after = client.get("/customers")
        assert after.headers["X-Bank-Cache"] == "miss"
        assert int(after.headers["X-Total-Count"]) == int(before.headers["X-Total-Count"]) + 3


class Watcher:
    """A worker's reader of the change log, and every customer it was told of."""

    def __init__(self, engine: Engine) -> None:
        self.feed = ChangeFeed(engine)
        self.told: list[Changes] = []
        self.feed.subscribe(self.told.append)

    def changed(self) -> set[str]:
        self.feed.poll()
        return {oid for changes in self.told for oid in changes.customers}


@pytest.fixture
def raw_engine(database_url: str) -> Iterator[Engine]:
    engine = create_db_engine(database_url)
    yield engine
    engine.dispose()


def test_a_change_numbered_first_and_committed_last_is_still_seen(
    postgres_url: str, raw_engine: Engine
) -> None:
    """One write holds its change uncommitted while a later one commits and a worker looks.
    Had the later write's number committed first (as a sequence lets it), the worker would
    move past the first number and keep the first customer's old answers for good."""
    watcher = Watcher(raw_engine)
    first = Session(raw_engine)
    begin_write(first)
    record_change(first, JANE)

    def later_writer() -> None:
        with Session(raw_engine) as session:
            begin_write(session)
            record_change(session, JOHN)
            session.commit()

    later = threading.Thread(target=later_writer)
    later.start()
    try:
        wait_until_blocked(raw_engine, later, "UPDATE bank_event_counter")
        looked_early = watcher.changed()  # whatever it finds now...
    finally:
        first.commit()
        first.close()
        later.join()
    # ...the first customer's change is not lost behind the later one.
    assert watcher.changed() == {JANE, JOHN}
    assert looked_early == set()  # the later write waited for the first to commit
    watcher.feed.close()


def test_the_banks_bookkeeping_never_waits_for_a_customers_write(
    postgres_url: str, raw_engine: Engine
) -> None:
    """A trace or registry write (bookkeeping) takes no number on PostgreSQL: it does not
    queue behind a write that holds the counter row (SQLite serialises writes anyway)."""
    watcher = Watcher(raw_engine)
    holding = Session(raw_engine)
    begin_write(holding)
    record_change(holding, JANE)
    try:
        with Session(raw_engine) as session:
            begin_write(session)
            # Would it wait for the row, it would fail here instead of hanging.
            session.execute(text("SET LOCAL lock_timeout = '5s'"))
            record_change(session, BOOKKEEPING + "test")
            session.commit()
        assert watcher.changed() == set()
    finally:
        holding.commit()
        holding.close()
    assert watcher.changed() == {JANE}
    watcher.feed.close()


def test_a_rolled_back_change_leaves_no_gap_and_takes_no_number(raw_engine: Engine) -> None:
    watcher = Watcher(raw_engine)
    with Session(raw_engine) as session:
        begin_write(session)
        record_change(session, JANE)
        session.rollback()
    with Session(raw_engine) as session:
        begin_write(session)
        record_change(session, JOHN)
        session.commit()
    assert watcher.changed() == {JOHN}
    with raw_engine.connect() as connection:
        numbers = connection.execute(text("SELECT seq FROM changes ORDER BY seq")).scalars().all()
    assert list(numbers) == list(range(numbers[0], numbers[0] + len(numbers)))
    watcher.feed.close()
