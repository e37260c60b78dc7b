"""The ASGI layers around the app: request ids and access log, body limit, API keys.

Each is a small pure-ASGI middleware, so it also covers the MCP endpoint and
answers served from the cache. Their own refusals use the API's error shape.
"""

import hmac
import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.http_errors import error_body
from core.errors import Overloaded, ServiceUnavailable
from db import Database
from sandboxes.registry import SANDBOX_KEY_PREFIX
from services.changes import feed_for

access_log = logging.getLogger("dummy_bank.access")


def configure_logging() -> None:
    """Send the bank's own log lines (access log, server errors) to stderr, one per line.

    Whatever else configured logging (the MCP SDK calls basicConfig at WARNING, uvicorn sets
    up its own loggers), these lines are printed, once, however the app was started.
    """
    logger = logging.getLogger("dummy_bank")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False


MAX_BODY_BYTES = 64 * 1024
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,100}")
_OPEN_PATHS = re.compile(
    r"^/(health|docs|redoc|openapi\.json|static-offline-docs/.*|docs/oauth2-redirect)$"
)
_READ_METHODS = {"GET", "HEAD", "OPTIONS"}


def request_id_of(scope: Scope) -> str:
    return str(scope.get("state", {}).get("request_id", ""))


async def send_error(
    send: Send, scope: Scope, status: int, detail: str, headers: Iterable[tuple[bytes, bytes]] = ()
) -> None:
    body = error_body(detail, request_id_of(scope))
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


TOO_MANY_CONNECTIONS = "The bank is busy: too many open connections; retry shortly"


async def refuse_connection(scope: Scope, receive: Receive, send: Send) -> None:
    """The answer to a request on a connection past the server's limit: the usual error body,
    Retry-After, and the connection closed, so that the client opens one again later."""
    await send_error(
        send, scope, 503, TOO_MANY_CONNECTIONS, [(b"retry-after", b"1"), (b"connection", b"close")]
    )


class RequestContextMiddleware:
    """Gives every request an id (the client's X-Request-ID when it is sane), returns it
    on the response, and logs one line per request: method, path, status, duration, id.

    The query string is not logged: it can hold a customer's name.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = Headers(scope=scope).get("x-request-id", "")
        request_id = given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if access_log.isEnabledFor(logging.INFO):
                access_log.info(
                    json.dumps(
                        {
                            "method": scope["method"],
                            "path": scope["path"],
                            "status": status,
                            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                            "request_id": request_id,
                        }
                    )
                )


class BodyLimitMiddleware:
    """Refuses request bodies over ``MAX_BODY_BYTES`` (or the path's own limit in ``larger``)
    with a 413, without reading them whole."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int = MAX_BODY_BYTES,
        larger: Mapping[str, int] | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = dict(larger or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.larger.get(scope["path"], self.max_bytes)
        too_large = f"Request body too large: at most {limit} bytes are accepted"
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await send_error(send, scope, 413, too_large)
            return
        received = 0
        responded = refused = False

        async def counting_receive() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # Answer now and tell the app the client is gone: the rest is never read.
                    refused = True
                    if not responded:
                        await send_error(send, scope, 413, too_large)
                    return {"type": "http.disconnect"}
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal responded
            if refused:
                return
            if message["type"] == "http.response.start":
                responded = True
            await send(message)

        await self.app(scope, counting_receive, tracking_send)


MCP_ACCESS: ContextVar[str] = ContextVar("mcp_access", default="full")
"""What the request's key allows, for the MCP server: "full" or "read" (read tools only)."""

MCP_FAULT: ContextVar[str | None] = ContextVar("mcp_fault", default=None)
"""A fault a sandbox's rules injected into this MCP tool call: the tool error's text."""

SANDBOX_KEY: ContextVar[str | None] = ContextVar("sandbox_key", default=None)
"""The sandbox key the request came with, if any: ``SandboxMiddleware`` checks it and holds
the request to that sandbox; routes for the full key alone refuse it."""


class ApiKeyMiddleware:
    """Optional API keys: a full key may do everything, a read key may only read, a sandbox
    key may act only inside its own sandbox.

    Keys come as ``Authorization: Bearer <key>`` or ``X-API-Key: <key>`` and are
    compared in constant time. With no key configured the API is open (it then
    answers on loopback only, see ``ProtectedModeMiddleware``). /health and the docs
    stay open. On ``/mcp`` a read key may post: the MCP server itself lists and runs
    only the read tools for it (``MCP_ACCESS``), as tool errors an agent can read.
    A sandbox key (``sbk_...``) is held to its sandbox whether or not the bank has keys:
    ``SandboxMiddleware``, which knows the sandboxes, checks it (``SANDBOX_KEY``).
    """

    def __init__(self, app: ASGIApp, full_key: str | None, read_key: str | None) -> None:
        self.app = app
        self.full_key = full_key.encode() if full_key else None
        self.read_key = read_key.encode() if read_key else None

    def _access(self, offered: bytes) -> str | None:
        # Both comparisons always run, so timing tells nothing about which key matched.
        full = bool(self.full_key) and hmac.compare_digest(offered, self.full_key or b"")
        read = bool(self.read_key) and hmac.compare_digest(offered, self.read_key or b"")
        return "full" if full else "read" if read else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] == "OPTIONS"
            or _OPEN_PATHS.match(scope["path"])
        ):
            await self.app(scope, receive, send)
            return
        offered = offered_key(scope)
        access = self._access(offered.encode())
        if access is None and offered.startswith(SANDBOX_KEY_PREFIX):
            # Tools for reading only, until SandboxMiddleware has checked the key.
            tokens = (SANDBOX_KEY.set(offered), MCP_ACCESS.set("read"))
            try:
                await self.app(scope, receive, send)
            finally:
                SANDBOX_KEY.reset(tokens[0])
                MCP_ACCESS.reset(tokens[1])
            return
        if not (self.full_key or self.read_key):
            await self.app(scope, receive, send)
            return
        if access is None:
            await send_error(
                send,
                scope,
                401,
                "Missing or invalid API key: send Authorization: Bearer <key> or X-API-Key: <key>",
                [(b"www-authenticate", b'Bearer realm="dummy-bank"')],
            )
            return
        if access == "read" and scope["method"] not in _READ_METHODS and scope["path"] != "/mcp":
            await send_error(send, scope, 403, "This API key may only read: use the full key")
            return
        token = MCP_ACCESS.set(access)
        try:
            await self.app(scope, receive, send)
        finally:
            MCP_ACCESS.reset(token)


def offered_key(scope: Scope) -> str:
    """The key a request carries, as X-API-Key or as a bearer token; empty for none."""
    headers = Headers(scope=scope)
    given = headers.get("x-api-key", "")
    authorization = headers.get("authorization", "")
    if not given and authorization[:7].lower() == "bearer ":
        given = authorization[7:].strip()
    return given


MAX_URL_BYTES = 16 * 1024
"""Longer than any request the API documents (1,000 symbols' worth of percent-encoded
four-byte characters fit), short enough that nobody fills memory with keys."""


class HostMiddleware:
    """Answers only requests addressed to this bank, and refuses what no route could use.

    A web page can make a browser send requests to 127.0.0.1 under a name it controls
    (DNS rebinding); checking ``Host`` against the names the bank is known by stops it,
    for the REST routes and ``/mcp`` alike (``GET /mcp``, a session's event stream,
    included). Over-long URLs are refused before any work.
    """

    def __init__(self, app: ASGIApp, allowed_hosts: Callable[[], frozenset[str] | None]) -> None:
        self.app = app
        self.allowed_hosts = allowed_hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if len(scope.get("raw_path", b"")) + len(scope["query_string"]) > MAX_URL_BYTES:
            await send_error(send, scope, 414, f"URL too long: at most {MAX_URL_BYTES} bytes")
            return
        allowed = self.allowed_hosts()
        if allowed is not None:
            host = host_name(Headers(scope=scope).get("host", ""))
            if host not in allowed:
                shown = host[:60] or "(none)"
                await send_error(
                    send,
                    scope,
                    421,
                    f"Host '{shown}' is not a name of this bank: add it to BANK_ALLOWED_HOSTS "
                    "if it should be",
                )
                return
        await self.app(scope, receive, send)


def host_name(header: str) -> str:
    """The host part of a Host header, lower case, without the port or IPv6 brackets."""
    host = header.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class ProtectedModeMiddleware:
    """Without an API key, answer only on loopback, whatever address the server listens on.

    Judged on the socket each request arrived through (``scope["server"]``), so a server
    started by any means (``uvicorn main:app --host 0.0.0.0`` included) keeps the rule.
    """

    def __init__(self, app: ASGIApp, refusal: Callable[[str], str | None]) -> None:
        self.app = app
        self.refusal = refusal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        server = scope.get("server") if scope["type"] == "http" else None
        refusal = self.refusal(str(server[0])) if server else None
        if refusal is not None:
            await send_error(send, scope, 403, refusal)
            return
        await self.app(scope, receive, send)


_NO_DATABASE_THREAD = re.compile(
    r"^/(docs|redoc|openapi\.json|static-offline-docs/.*|docs/oauth2-redirect"
    r"|explorer(/(?!data/).*)?|static/.*)?$"
)
_ONE_ROW_READS = re.compile(r"^/(health|customer/[^/]+/exists)$")


class AdmissionMiddleware:
    """Refuses, before any routing or validation, what the database queue would refuse.

    Under a flood of clients that do not wait as Retry-After asks, a refusal must cost
    next to nothing, or refusing alone eats the time the admitted requests need. Runs
    inside the cache, so a cached answer is still served while the bank is busy.
    """

    def __init__(self, app: ASGIApp, database: Callable[[], Database | None]) -> None:
        self.app = app
        self.database = database

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        database = self.database() if scope["type"] == "http" else None
        if (
            database is not None
            and not _NO_DATABASE_THREAD.match(scope["path"])
            and (database.postgres or not _ONE_ROW_READS.match(scope["path"]))
            and database.busy()
        ):
            await send_error(send, scope, 503, Overloaded.busy, [(b"retry-after", b"1")])
            return
        await self.app(scope, receive, send)


class HealthMiddleware:
    """``GET /health`` of the bank on SQLite, answered here: the database's check on the
    event loop and the route's own bytes, without the layers and the routing that have
    nothing to do with it (keys, bodies, the explorer, the cache). The check reads the
    schema's version on the connection this worker's change-log reader keeps open: a read
    of the database, where a session's ``SELECT 1`` costs more and reads nothing. Monitors
    call it often, and it should cost what the simplest server's health check costs. Inside
    the host check and CORS, so those hold for it as for every route; a request through a
    sandbox, or to a bank on a server database, goes the route's way."""

    def __init__(
        self, app: ASGIApp, database: Callable[[], Database | None], healthy: bytes
    ) -> None:
        self.app = app
        self.database = database
        self.healthy = healthy
        self.headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(healthy)).encode()),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        database = self.database()
        if (
            scope["type"] != "http"
            or scope["path"] != "/health"
            or scope["method"] != "GET"
            or database is None
            or not database.reads_on_loop
            or any(name == b"x-bank-sandbox" for name, _ in scope["headers"])
        ):
            await self.app(scope, receive, send)
            return
        try:
            feed_for(database.engine).check()
        except ServiceUnavailable as error:
            await send_error(send, scope, error.status_code, error.detail)
            return
        await send({"type": "http.response.start", "status": 200, "headers": self.headers})
        await send({"type": "http.response.body", "body": self.healthy})
