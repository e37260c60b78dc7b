"""No cached answer outlives a write, whoever made it: the bank, the bulk loader, or another
program writing to the database file directly."""

import sqlite3
from pathlib import Path

from fastapi.testclient import TestClient

from api.cache import ResponseCache, _Entry
from core.settings import Settings
from db import create_db_engine
from main import create_app
from services.changes import ChangeFeed
from synthetic.bulk_load import load_synthetic
from synthetic.seeding import prepare_database


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
