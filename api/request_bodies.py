"""What a request body must be before any route or the MCP SDK reads it.

One pure-ASGI layer reads a JSON body once, checks it, and hands it on unchanged:

- a key named twice in one JSON object is a 400 naming the key, on every route, REST and
  ``/mcp`` alike (a parser keeps one of the two values, and which one is its own choice);
- on the MCP endpoint, a POST not sent as ``application/json`` is a 415 with the bank's error
  body (the SDK's own refusal is a plain-text 400), and a JSON-RPC message whose ``id`` is
  neither a string nor an integer is JSON-RPC's Invalid Request (-32600) with ``id`` null
  (the SDK would take it for a notification and answer 202 with no body).

A body that is not JSON at all goes on as it came: the route's own parsing says what is wrong
(and, for a body sent as a form or text, ``http_errors`` says to send it as JSON).
"""

import json
from typing import Any

from mcp.types import INVALID_REQUEST
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.http_errors import is_json, media_type
from api.middleware import send_error

MCP_PATH = "/mcp"
_WITH_BODY = {"POST", "PUT", "PATCH", "DELETE"}


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise _DuplicateKey(key)
        found[key] = value
    return found


def duplicate_key(body: bytes) -> tuple[str | None, Any]:
    """The first key named twice in one object of a JSON body, and the parsed body (None when
    the body is not JSON, or is nested too deep to parse: the route's own parsing says so)."""
    try:
        return None, json.loads(body, object_pairs_hook=_unique_keys)
    except _DuplicateKey as duplicate:
        return duplicate.key, None
    except (ValueError, RecursionError):
        return None, None


def valid_id(message: Any) -> bool:
    """Whether a JSON-RPC request's id, if it has one, is what MCP allows: a string or an
    integer (not null, not a fraction, not a boolean, an object or an array)."""
    if not isinstance(message, dict) or "method" not in message or "id" not in message:
        return True
    given = message["id"]
    return isinstance(given, str) or (isinstance(given, int) and not isinstance(given, bool))


async def send_invalid_request(send: Send, text: str) -> None:
    body = json.dumps(
        {"jsonrpc": "2.0", "id": None, "error": {"code": INVALID_REQUEST, "message": text}},
        separators=(",", ":"),
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 400,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class JsonBodyMiddleware:
    """Refuses a JSON body with a key named twice, and on ``mcp_path`` a message that is not
    JSON or whose id MCP does not allow; passes every other request on untouched."""

    def __init__(self, app: ASGIApp, mcp_path: str = MCP_PATH) -> None:
        self.app = app
        self.mcp_path = mcp_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _WITH_BODY:
            await self.app(scope, receive, send)
            return
        media = media_type(Headers(scope=scope))
        mcp = scope["path"] == self.mcp_path and scope["method"] == "POST"
        if mcp and media != "application/json":
            shown = media[:60]
            await send_error(
                send,
                scope,
                415,
                f"Content-Type '{shown}' is not accepted on {self.mcp_path}: "
                "send the JSON-RPC message as application/json",
                [(b"accept-post", b"application/json")],
            )
            return
        if not is_json(media):
            await self.app(scope, receive, send)
            return
        body, replaying, whole = await read_body(receive)
        if not whole:
            # The client is gone, or the body limit answered for it: nothing to check.
            await self.app(scope, replaying, send)
            return
        key, parsed = duplicate_key(body) if body else (None, None)
        if key is not None:
            shown = key if len(key) <= 40 else key[:40] + "..."
            await send_error(
                send,
                scope,
                400,
                f"Invalid request: request body: the key '{shown}' appears twice in one "
                "JSON object",
            )
            return
        if mcp and not valid_id(parsed):
            await send_invalid_request(
                send, "Invalid Request: id must be a string or an integer (JSON-RPC as MCP uses it)"
            )
            return
        await self.app(scope, replaying, send)


async def read_body(receive: Receive) -> tuple[bytes, Receive, bool]:
    """A request's whole body; a receive that gives the app the messages already read, then
    whatever comes next; and whether the body came whole (not when the client went, or the
    body limit answered for it)."""
    messages: list[Message] = []
    body = b""
    whole = False
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        body += message.get("body", b"")
        if not message.get("more_body"):
            whole = True
            break
    pending = iter(messages)

    async def replaying() -> Message:
        return next(pending, None) or await receive()

    return body, replaying, whole
