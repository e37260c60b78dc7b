"""A per-worker cache of whole GET answers that forgets exactly what a write changed.

Every answer of a route marked ``cacheable`` is a function of the database and
the request line alone, so a worker may send again the bytes it produced
before. What it must forget comes from the change log (``services/changes.py``): a write
to one customer drops that customer's answers and the customer lists; a change
of market data or a write the log cannot attribute drops everything. Before
each request the cache reads the log (on SQLite nearly free); an answer is
stored only if nothing it depends on changed while it was being computed.

The key is the whole request line and the host it was sent to, so a ``Link`` or
``next`` URL built for one host is never sent to another. Concurrent misses of
one key compute it once: the others wait for that answer. The budget counts
keys and headers as well as bodies.
"""

import asyncio
import re
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from fastapi.routing import APIRoute
from sqlalchemy.engine import Engine
from starlette.datastructures import Headers
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.middleware import send_error
from core.errors import BankError
from core.identifiers import parse_customer_oid
from db import SANDBOX_DATABASE
from services.changes import ChangeFeed, Changes, feed_for


class DependsOn(StrEnum):
    """What a cacheable answer is computed from, besides market data."""

    CUSTOMER = "customer"
    """One customer's rows: the route has a ``{customer_oid}`` parameter."""
    CUSTOMERS = "customers"
    """The list of customers: any registration or deletion changes it."""
    MARKET = "market"
    """Market data alone."""


_MARK = "_bank_cacheable"
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


def cacheable(depends_on: DependsOn) -> Callable[[Endpoint], Endpoint]:
    """Mark a GET route whose answer depends on the database and the URL alone."""

    def mark(endpoint: Endpoint) -> Endpoint:
        setattr(endpoint, _MARK, depends_on)
        return endpoint

    return mark


@dataclass(frozen=True)
class CacheableRoute:
    path: re.Pattern[str]
    depends_on: DependsOn


def cacheable_routes(routes: Iterable[BaseRoute]) -> list[CacheableRoute]:
    """The routes marked ``cacheable``, with what their answers depend on."""
    return [
        CacheableRoute(route.path_regex, getattr(route.endpoint, _MARK))
        for route in routes
        if isinstance(route, APIRoute) and hasattr(route.endpoint, _MARK)
    ]


# Headers that describe the request rather than the answer are never replayed.
CACHE_HEADER = b"x-bank-cache"
"""``hit`` or ``miss`` on every answer of a cacheable route, while the cache is on."""
_NOT_REPLAYED = {b"date", b"server", b"x-request-id", b"content-length", CACHE_HEADER}
ENTRY_OVERHEAD = 256
"""Bytes counted for each entry beyond its key, headers and body (the objects around them)."""
MAX_REMEMBERED_CHANGES = 100_000
_EVERY_LIST = "*lists"
_MARKET = "*market"


@dataclass
class _Entry:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    tag: str
    size: int = 0


class ResponseCache:
    """Least-recently-used answers within a byte budget, grouped by what they depend on."""

    def __init__(self, feed: ChangeFeed, max_bytes: int) -> None:
        self.feed = feed
        self.max_bytes = max_bytes
        self.entries: OrderedDict[bytes, _Entry] = OrderedDict()
        self.by_tag: dict[str, set[bytes]] = defaultdict(set)
        self.size = 0
        self.changed_at: dict[str, int] = {}
        self.everything_at = feed.epoch
        self.computing: dict[bytes, asyncio.Future[_Entry | None]] = {}
        feed.subscribe(self.forget)

    def poll(self) -> int:
        """Read the change log (forgetting what it names); the token to store answers under."""
        return self.feed.poll()

    def forget(self, changes: Changes) -> None:
        if changes.everything or len(self.changed_at) > MAX_REMEMBERED_CHANGES:
            self.entries.clear()
            self.by_tag.clear()
            self.changed_at.clear()
            self.size = 0
            self.everything_at = changes.epoch
            return
        tags = (*changes.customers, _EVERY_LIST) if changes.customers else ()
        for tag in tags:
            self.changed_at[tag] = changes.epoch
            for key in self.by_tag.pop(tag, ()):
                self._drop(key)

    def get(self, key: bytes) -> _Entry | None:
        entry = self.entries.get(key)
        if entry is not None:
            self.entries.move_to_end(key)
        return entry

    def put(self, key: bytes, entry: _Entry, token: int) -> None:
        """Keep ``entry`` unless what it depends on changed after ``token``."""
        if self.everything_at > token or self.changed_at.get(entry.tag, 0) > token:
            return
        entry.size = (
            ENTRY_OVERHEAD
            + len(key)
            + len(entry.body)
            + sum(len(name) + len(value) for name, value in entry.headers)
        )
        if entry.size > self.max_bytes // 8:
            return
        if key in self.entries:
            self._drop(key)
        self.entries[key] = entry
        self.by_tag[entry.tag].add(key)
        self.size += entry.size
        while self.size > self.max_bytes:
            oldest = next(iter(self.entries))
            self._drop(oldest)

    def _drop(self, key: bytes) -> None:
        entry = self.entries.pop(key, None)
        if entry is None:
            return
        self.size -= entry.size
        keys = self.by_tag.get(entry.tag)
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self.by_tag[entry.tag]

    def close(self) -> None:
        self.entries.clear()
        self.by_tag.clear()
        if self.forget in self.feed.listeners:
            self.feed.listeners.remove(self.forget)


def open_cache(engine: Engine, max_mb: int) -> ResponseCache | None:
    """A cache for this database, or None when it is turned off (or the database lives in
    one connection's memory, where no other process could change it anyway)."""
    if max_mb <= 0 or engine.url.database in (None, "", ":memory:"):
        return None
    return ResponseCache(feed_for(engine), max_mb * 2**20)


def _tag(route: CacheableRoute, path: str) -> str | None:
    if route.depends_on is DependsOn.MARKET:
        return _MARKET
    if route.depends_on is DependsOn.CUSTOMERS:
        return _EVERY_LIST
    match = route.path.match(path)
    if match is None:
        return None
    try:
        return parse_customer_oid(match.group("customer_oid"))
    except BankError:
        return None  # a malformed id: the answer is a 400, which is never stored anyway


def _key(scope: Scope) -> bytes:
    headers = Headers(scope=scope)
    return b"|".join(
        (
            scope.get("scheme", "http").encode(),
            headers.get("host", "").lower().encode(),
            scope["path"].encode(),
            scope["query_string"],
        )
    )


class CacheMiddleware:
    """Serves repeated GETs of the cacheable routes from a ``ResponseCache``."""

    def __init__(
        self,
        app: ASGIApp,
        cache: Callable[[], ResponseCache | None],
        routes: list[CacheableRoute],
    ) -> None:
        self.app = app
        self.cache = cache
        self.routes = routes

    def _route(self, path: str) -> CacheableRoute | None:
        return next((route for route in self.routes if route.path.match(path)), None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # A sandbox's answers are not kept: its data is small, short-lived and reset at will.
        sandboxed = SANDBOX_DATABASE.get() is not None
        cache = self.cache() if scope["type"] == "http" and not sandboxed else None
        route = self._route(scope["path"]) if cache is not None else None
        tag = _tag(route, scope["path"]) if route is not None else None
        if cache is None or scope["method"] != "GET" or tag is None:
            await self.app(scope, receive, send)
            return
        try:
            token = cache.poll()
        except BankError as error:
            await send_error(send, scope, error.status_code, error.detail)
            return
        key = _key(scope)
        entry = cache.get(key)
        if entry is None and key in cache.computing:
            # Another request is computing this very answer: wait for it rather than repeat it.
            entry = await asyncio.shield(cache.computing[key])
        if entry is not None:
            await _replay(entry, send)
            return
        send = _marked(send, b"miss")
        computed: asyncio.Future[_Entry | None] = asyncio.get_running_loop().create_future()
        cache.computing[key] = computed
        started: Message = {}
        chunks: list[bytes] = []
        stored: _Entry | None = None

        async def capture(message: Message) -> None:
            nonlocal stored
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
                    stored = _Entry(200, headers, b"".join(chunks), tag)
                    cache.put(key, stored, token)
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            cache.computing.pop(key, None)
            computed.set_result(stored)


def _marked(send: Send, how: bytes) -> Send:
    async def marking(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", []), (CACHE_HEADER, how)]
        await send(message)

    return marking


async def _replay(entry: _Entry, send: Send) -> None:
    length = str(len(entry.body)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": entry.status,
            "headers": [*entry.headers, (b"content-length", length), (CACHE_HEADER, b"hit")],
        }
    )
    await send({"type": "http.response.body", "body": entry.body})
