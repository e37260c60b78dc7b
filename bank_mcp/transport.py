"""``/mcp`` over streamable HTTP: stateless JSON by default, sessions for subscriptions.

A request without ``Mcp-Session-Id`` is answered statelessly, in JSON, by any worker, as
before sessions existed: no client has to change. An ``initialize`` without one opens a
session (when the bank runs one worker): its answer carries ``Mcp-Session-Id``, ``GET /mcp``
with it opens the event stream that carries ``notifications/resources/updated``, and
``DELETE /mcp`` ends it. The session's server advertises ``resources.subscribe``; the
stateless one does not, and refuses ``resources/subscribe``.

With several workers a session, kept in one worker's memory, cannot follow its client from
worker to worker: there everything stays stateless, and ``initialize`` advertises no
subscriptions (as with ``BANK_MCP_SESSIONS=false``, for servers behind a load balancer).

A session belongs to the sandbox (``X-Bank-Sandbox`` or a sandbox key) and the key it was
opened with: a request in it that names another sandbox, or comes with another key, is
refused (403) before the session sees it, so a session id alone reaches nothing.
"""

import hashlib
import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import anyio
from mcp.server.streamable_http import MCP_SESSION_ID_HEADER
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from starlette.datastructures import Headers
from starlette.types import Message, Receive, Scope, Send

from api.middleware import offered_key, send_error
from api.request_bodies import read_body
from bank_mcp.server import BankMcpServer
from bank_mcp.subscriptions import ResourceNotifier
from db import SANDBOX_DATABASE

SESSION_REFUSED = (
    "This MCP session was opened for another sandbox or with another key: send every request "
    "of a session with the X-Bank-Sandbox header and the key that initialize was sent with"
)
NO_STREAM_WITHOUT_SESSION = (
    "{method} /mcp needs the Mcp-Session-Id header: POST initialize without one to open a "
    "session, then GET /mcp with its id for the event stream and DELETE /mcp to end it"
)
NO_SESSIONS = (
    "{method} /mcp: MCP is stateless here (the bank runs several workers, or "
    "BANK_MCP_SESSIONS=false): POST only, JSON answers, no sessions and no subscriptions"
)


def http_manager(
    server: BankMcpServer, path: str, *, stateless: bool
) -> StreamableHTTPSessionManager:
    """The SDK's session manager of ``server`` at ``path``, answering in JSON."""
    server.streamable_http_app(
        streamable_http_path=path,
        stateless_http=stateless,
        json_response=True,
        # HostMiddleware checks the Host of every route, /mcp included, with the API's
        # error shape and the bank's own list of names.
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )
    return server.session_manager


def session_of(context: Any) -> str | None:
    """The session a request's context belongs to: the id its HTTP request came with."""
    request = getattr(context, "request", None)
    return None if request is None else request.headers.get(MCP_SESSION_ID_HEADER)


def open_sessions(manager: StreamableHTTPSessionManager) -> Mapping[str, Any]:
    """The sessions ``manager`` holds now, by id. The SDK keeps no public list of them: this
    is its own registry, read only."""
    return manager._server_instances


class McpTransport:
    """The ASGI app at ``/mcp``: each request to the stateless server or to its session."""

    def __init__(
        self,
        stateless: BankMcpServer,
        sessions: BankMcpServer | None,
        notifier: ResourceNotifier | None,
        path: str,
    ) -> None:
        self.stateless = http_manager(stateless, path, stateless=True)
        self.sessions = None if sessions is None else http_manager(sessions, path, stateless=False)
        self.notifier = notifier
        self.owners: dict[str, str] = {}
        """Each session's owner: the sandbox and the key it was opened with (hashed)."""
        if notifier is not None:
            notifier.alive = self.alive

    def alive(self, session_id: str) -> bool:
        return self.sessions is not None and session_id in open_sessions(self.sessions)

    @asynccontextmanager
    async def run(self) -> AsyncIterator[None]:
        """Both session managers, and the notifier's loop while there are sessions."""
        async with self.stateless.run():
            if self.sessions is None or self.notifier is None:
                yield
                return
            async with self.sessions.run(), anyio.create_task_group() as tasks:
                tasks.start_soon(self.notifier.run_forever)
                try:
                    yield
                finally:
                    tasks.cancel_scope.cancel()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope["method"]
        session_id = Headers(scope=scope).get(MCP_SESSION_ID_HEADER)
        if self.sessions is None:
            if method != "POST":
                await send_error(
                    send, scope, 405, NO_SESSIONS.format(method=method), [(b"allow", b"POST")]
                )
                return
            await self.stateless.handle_request(scope, receive, send)
            return
        if session_id is None:
            if method != "POST":
                # Without a session, only POST means anything: what answered before sessions.
                await send_error(
                    send,
                    scope,
                    405,
                    NO_STREAM_WITHOUT_SESSION.format(method=method),
                    [(b"allow", b"POST")],
                )
                return
            receive, opening = await _is_initialize(receive)
            room = self.sessions.max_sessions
            if opening and (room is None or len(open_sessions(self.sessions)) < room):
                # Past the limit an initialize still works, statelessly, as it did before.
                await self._open(scope, receive, send)
            else:
                await self.stateless.handle_request(scope, receive, send)
            return
        owner = self.owners.get(session_id)
        if owner != _owner(scope) and (owner is not None or self.alive(session_id)):
            await send_error(send, scope, 403, SESSION_REFUSED)
            return
        status = await _answered(self.sessions.handle_request, scope, receive, send)
        if not self.alive(session_id) and (method == "DELETE" or status == 404):
            self._ended(session_id)

    async def _open(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Open a session and note who owns it."""
        assert self.sessions is not None
        owner = _owner(scope)

        async def noting(message: Message) -> None:
            if message["type"] == "http.response.start":
                for name, value in message.get("headers", []):
                    if name.lower() == MCP_SESSION_ID_HEADER.encode():
                        self.owners[value.decode()] = owner
            await send(message)

        for session_id in [s for s in self.owners if not self.alive(s)]:
            self._ended(session_id)
        await self.sessions.handle_request(scope, receive, noting)

    def _ended(self, session_id: str) -> None:
        self.owners.pop(session_id, None)
        if self.notifier is not None:
            self.notifier.forget(session_id)


def _owner(scope: Scope) -> str:
    database = SANDBOX_DATABASE.get()
    sandbox = database.sandbox_id if database is not None else None
    key = hashlib.sha256(offered_key(scope).encode()).hexdigest()
    return f"{sandbox or ''} {key}"


async def _is_initialize(receive: Receive) -> tuple[Receive, bool]:
    """Whether a POST's body is an ``initialize`` request; a receive that gives it again."""
    body, replaying, _ = await read_body(receive)
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):
        return replaying, False
    return replaying, isinstance(parsed, dict) and parsed.get("method") == "initialize"


async def _answered(app: Any, scope: Scope, receive: Receive, send: Send) -> int | None:
    """Run ``app`` and return the status it answered with."""
    status: int | None = None

    async def watching(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        await send(message)

    await app(scope, receive, watching)
    return status
