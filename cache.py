"""A per-worker cache of whole GET answers, dropped the moment the database changes.

Every answer of the read endpoints is a function of the database alone, so a
worker may answer a repeated request with the bytes it produced before, as
long as nothing has been committed since. Before each request the cache asks
the database for its change counter (SQLite's ``PRAGMA data_version``, which
moves on every commit by any connection of any process); when it moved, every
entry goes. An answer is stored under the counter read before it was
computed, so a write that lands while it is being computed never leaves a
stale answer behind.
"""

import re
import sqlite3
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi.routing import APIRoute
from sqlalchemy.engine import Engine
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_CACHEABLE = "_bank_cacheable"

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


def cacheable(endpoint: Endpoint) -> Endpoint:
    """Mark a GET route whose answer depends on the database and the URL alone."""
    setattr(endpoint, _CACHEABLE, True)
    return endpoint


def cacheable_paths(routes: Iterable[BaseRoute]) -> list[re.Pattern[str]]:
    """The path patterns of the routes marked ``cacheable``."""
    return [
        route.path_regex
        for route in routes
        if isinstance(route, APIRoute) and getattr(route.endpoint, _CACHEABLE, False)
    ]


# Headers that describe the request rather than the answer are never replayed.
_NOT_REPLAYED = {b"date", b"server", b"x-request-id", b"content-length"}


class SqliteChangeCounter:
    """``PRAGMA data_version`` on a connection of its own: it changes on any other commit."""

    def __init__(self, path: str) -> None:
        self.connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)

    def __call__(self) -> int:
        value: int = self.connection.execute("PRAGMA data_version").fetchone()[0]
        return value

    def close(self) -> None:
        self.connection.close()


@dataclass
class _Entry:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


class ResponseCache:
    """Least-recently-used answers within a byte budget."""

    def __init__(self, probe: SqliteChangeCounter, max_bytes: int) -> None:
        self.probe = probe
        self.max_bytes = max_bytes
        self.entries: OrderedDict[bytes, _Entry] = OrderedDict()
        self.size = 0
        self.token: object = None

    def refresh(self) -> object:
        """Drop everything if the database changed; return the current change token."""
        token = self.probe()
        if token != self.token:
            self.entries.clear()
            self.size = 0
            self.token = token
        return token

    def close(self) -> None:
        self.entries.clear()
        self.probe.close()

    def get(self, key: bytes) -> _Entry | None:
        entry = self.entries.get(key)
        if entry is not None:
            self.entries.move_to_end(key)
        return entry

    def put(self, key: bytes, entry: _Entry, token: object) -> None:
        if token != self.token or len(entry.body) > self.max_bytes // 8:
            return
        if key in self.entries:
            self.size -= len(self.entries.pop(key).body)
        self.entries[key] = entry
        self.size += len(entry.body)
        while self.size > self.max_bytes:
            _, evicted = self.entries.popitem(last=False)
            self.size -= len(evicted.body)


def open_cache(engine: Engine, max_mb: int) -> ResponseCache | None:
    """A cache for this database, or None where it has no cheap change counter (yet)."""
    database = engine.url.database
    if max_mb <= 0 or engine.url.get_backend_name() != "sqlite" or not database:
        return None
    if database == ":memory:":
        return None
    return ResponseCache(SqliteChangeCounter(database), max_mb * 2**20)


class CacheMiddleware:
    """Serves repeated GETs of the read endpoints from a ``ResponseCache``."""

    def __init__(
        self,
        app: ASGIApp,
        cache: Callable[[], ResponseCache | None],
        paths: list[re.Pattern[str]],
    ) -> None:
        self.app = app
        self.cache = cache
        self.paths = paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        cache = self.cache() if scope["type"] == "http" else None
        if (
            cache is None
            or scope["method"] != "GET"
            or not any(path.match(scope["path"]) for path in self.paths)
        ):
            await self.app(scope, receive, send)
            return
        token = cache.refresh()
        key = scope["path"].encode() + b"?" + scope["query_string"]
        entry = cache.get(key)
        if entry is not None:
            length = str(len(entry.body)).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": entry.status,
                    "headers": [*entry.headers, (b"content-length", length)],
                }
            )
            await send({"type": "http.response.body", "body": entry.body})
            return

        started: Message = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                started.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body") and started.get("status") == 200:
                    headers = [
                        (name, value)
                        for name, value in started.get("headers", [])
                        if name.lower() not in _NOT_REPLAYED
                    ]
                    cache.put(key, _Entry(200, headers, b"".join(chunks)), token)
            await send(message)

        await self.app(scope, receive, capture)
