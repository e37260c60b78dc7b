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
from collections.abc import Awaitable, Callable, Iterable

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api_errors import error_body

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
    """Refuses request bodies over ``MAX_BODY_BYTES`` with a 413, without reading them whole."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_large = f"Request body too large: at most {self.max_bytes} bytes are accepted"
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
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
                if received > self.max_bytes:
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


class ApiKeyMiddleware:
    """Optional API keys: a full key may do everything, a read key may only read.

    Keys come as ``Authorization: Bearer <key>`` or ``X-API-Key: <key>`` and are
    compared in constant time. With no key configured the API is open (it then
    listens on loopback only, see settings). /health and the docs stay open.
    """

    def __init__(
        self,
        app: ASGIApp,
        full_key: str | None,
        read_key: str | None,
        write_tools: Callable[[], Awaitable[set[str]]],
    ) -> None:
        self.app = app
        self.write_tools = write_tools
        self.full_key = full_key.encode() if full_key else None
        self.read_key = read_key.encode() if read_key else None

    def _access(self, scope: Scope) -> str | None:
        headers = Headers(scope=scope)
        given = headers.get("x-api-key", "")
        authorization = headers.get("authorization", "")
        if not given and authorization[:7].lower() == "bearer ":
            given = authorization[7:].strip()
        offered = given.encode()
        # Both comparisons always run, so timing tells nothing about which key matched.
        full = bool(self.full_key) and hmac.compare_digest(offered, self.full_key or b"")
        read = bool(self.read_key) and hmac.compare_digest(offered, self.read_key or b"")
        return "full" if full else "read" if read else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or not (self.full_key or self.read_key)
            or scope["method"] == "OPTIONS"
            or _OPEN_PATHS.match(scope["path"])
        ):
            await self.app(scope, receive, send)
            return
        access = self._access(scope)
        if access is None:
            await send_error(
                send,
                scope,
                401,
                "Missing or invalid API key: send Authorization: Bearer <key> or X-API-Key: <key>",
                [(b"www-authenticate", b'Bearer realm="dummy-bank"')],
            )
            return
        if access == "read" and scope["method"] not in _READ_METHODS:
            if scope["path"] != "/mcp":
                await send_error(send, scope, 403, "This API key may only read: use the full key")
                return
            replayed = await self._refuse_mcp_writes(scope, receive, send)
            if replayed is None:
                return
            receive = replayed
        await self.app(scope, receive, send)

    async def _refuse_mcp_writes(
        self, scope: Scope, receive: Receive, send: Send
    ) -> Receive | None:
        """Let a read key call MCP read tools only; the body is read (it is small) and replayed."""
        chunks, more = [], True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        try:
            calls = json.loads(body)
        except ValueError:
            calls = None
        write_tools = await self.write_tools()
        for call in calls if isinstance(calls, list) else [calls]:
            if (
                isinstance(call, dict)
                and call.get("method") == "tools/call"
                and isinstance(call.get("params"), dict)
                and call["params"].get("name") in write_tools
            ):
                await send_error(send, scope, 403, "This API key may only call read tools")
                return None
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        return replay
