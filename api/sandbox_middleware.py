"""Points a request at the sandbox its ``X-Bank-Sandbox`` header names, or its sandbox key
was issued for (REST and /mcp alike), records it in the sandbox's trace, and applies the
sandbox's fault rules to it (except for the answer key's routes, which are the harness's, not
the agent's). For a call to /mcp the trace names the JSON-RPC method, the tool and its
arguments, and whether the agent got an error back."""

import contextlib
import dataclasses
import json
import time
from collections.abc import Callable

import anyio
from sqlalchemy.exc import SQLAlchemyError
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.middleware import MCP_ACCESS, MCP_FAULT, SANDBOX_KEY, send_error
from api.request_bodies import read_body
from core.errors import BankError, Forbidden, Unauthorized
from db import SANDBOX_DATABASE
from evals import ROUTE_PREFIX
from sandboxes import faults, trace
from sandboxes.manager import SandboxDatabase, SandboxManager
from sandboxes.registry import KEY_REFUSED

SANDBOX_HEADER = "x-bank-sandbox"
FAULT_HEADER = b"x-bank-fault"
MAX_MCP_ANSWER_BYTES = 16 * 1024 * 1024
"""An MCP answer read for its result status only up to this size (a tool's answer is paged
far below it); past it the status stays unknown."""


class SandboxMiddleware:
    """Without the header nothing changes; with it, every database call of the request goes
    to that sandbox, and a malformed, unknown or expired one is refused before any work."""

    def __init__(self, app: ASGIApp, manager: Callable[[], SandboxManager | None]) -> None:
        self.app = app
        self.manager = manager

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        named = Headers(scope=scope).get(SANDBOX_HEADER) if scope["type"] == "http" else None
        key = SANDBOX_KEY.get() if scope["type"] == "http" else None
        manager = self.manager()
        # The sandboxes' own routes manage them from the bank; the header means nothing there
        # (and a sandbox key is refused by the routes themselves).
        if scope["type"] != "http" or scope["path"].startswith("/sandboxes"):
            await self.app(scope, receive, send)
            return
        if key is None and (named is None or manager is None):
            await self.app(scope, receive, send)
            return
        try:
            database = await self._database(manager, named, key)
        except BankError as error:
            await _send_bank_error(send, scope, error)
            return
        token = SANDBOX_DATABASE.set(database)
        # A sandbox key checked: inside its sandbox it may do what the full key may.
        access = MCP_ACCESS.set("full") if key is not None else None
        try:
            # The answer key's routes are the harness's calls: out of the agent's trace and faults.
            if scope["path"].startswith(f"{ROUTE_PREFIX}/"):
                await self.app(scope, receive, send)
            else:
                await self._recorded(database, scope, receive, send)
        finally:
            if access is not None:
                MCP_ACCESS.reset(access)
            SANDBOX_DATABASE.reset(token)

    @staticmethod
    async def _database(
        manager: SandboxManager | None, named: str | None, key: str | None
    ) -> SandboxDatabase:
        """The sandbox the header names, or the one the key was issued for (which the header,
        if sent, must name)."""
        if key is None:
            assert manager is not None and named is not None
            return await manager.database_for(named.strip())
        if manager is None:
            raise Unauthorized(KEY_REFUSED)
        database = await manager.database_for("", key=key)
        if named is not None and named.strip() != database.sandbox_id:
            raise Forbidden(
                f"This sandbox key acts only in its own sandbox, not in '{named.strip()[:40]}'"
            )
        return database

    async def _recorded(
        self, database: SandboxDatabase, scope: Scope, receive: Receive, send: Send
    ) -> None:
        started = time.perf_counter()
        receive, call = await _call_of(scope, receive)
        try:
            number, picked = await database.run(
                lambda s: trace.begin_call(s, call, database.faults), write=True
            )
        except BankError as error:
            await _send_bank_error(send, scope, error)
            return
        status = 500
        fault = faults.label(*picked) if picked else None
        answer = _McpAnswer() if call.mcp_method is not None else None

        async def recording(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                if fault is not None:
                    message["headers"] = [
                        *message.get("headers", []),
                        (FAULT_HEADER, fault.encode()),
                    ]
            elif answer is not None and message["type"] == "http.response.body":
                answer.add(message.get("body", b""))
            await send(message)

        try:
            if picked is None:
                await self.app(scope, receive, recording)
                return
            index, rule = picked
            if rule.delay_ms:
                await anyio.sleep(rule.delay_ms / 1000)
            if rule.status is None:
                await self.app(scope, receive, recording)
            elif call.tool is not None:
                # A tool call fails as tools do: an isError result the agent can read.
                fault_token = MCP_FAULT.set(faults.describe(index, rule))
                try:
                    await self.app(scope, receive, recording)
                finally:
                    MCP_FAULT.reset(fault_token)
            else:
                headers = [(FAULT_HEADER, fault.encode())] if fault else []
                if rule.status in (429, 503):
                    headers.append((b"retry-after", str(rule.retry_after_s).encode()))
                status = rule.status
                await send_error(send, scope, rule.status, faults.describe(index, rule), headers)
        finally:
            latency = (time.perf_counter() - started) * 1000
            result = answer.result_status(status) if answer is not None else None
            await _end_call(database, number, status, latency, result)


class _McpAnswer:
    """The body of an MCP answer, kept to tell whether the agent got an error back."""

    def __init__(self) -> None:
        self.body = bytearray()
        self.overflowed = False

    def add(self, chunk: bytes) -> None:
        if len(self.body) + len(chunk) > MAX_MCP_ANSWER_BYTES:
            self.overflowed = True
        elif not self.overflowed:
            self.body += chunk

    def result_status(self, status: int) -> str | None:
        if status >= 400:
            return "error"
        if self.overflowed or not self.body:
            return "ok" if status == 202 else None  # a notification, acknowledged
        try:
            answer = json.loads(self.body)
        except ValueError:
            return None
        if not isinstance(answer, dict):
            return None
        result = answer.get("result")
        failed = "error" in answer or (isinstance(result, dict) and result.get("isError"))
        return "error" if failed else "ok"


async def _end_call(
    database: SandboxDatabase,
    number: int,
    status: int,
    latency: float,
    result_status: str | None,
) -> None:
    # On this very copy: after a reset, number names another call in the new one. If the
    # copy was reset or deleted meanwhile, its trace went with it.
    with contextlib.suppress(BankError, SQLAlchemyError):
        await database.run_on_copy(
            lambda s: trace.end_call(s, number, status, latency, result_status), write=True
        )


async def _call_of(scope: Scope, receive: Receive) -> tuple[Receive, trace.CallStart]:
    """What the trace records of a call before it runs; for a POST to /mcp, the JSON-RPC
    method and, for a tool call, the tool and its arguments (the body is read, then given to
    the app as it came)."""
    query = f"?{scope['query_string'].decode()}" if scope["query_string"] else ""
    plain = trace.CallStart(
        method=scope["method"],
        path=scope["path"] + query,
        target=f"{scope['method']} {scope['path']}",
    )
    if scope["path"] != "/mcp" or scope["method"] != "POST":
        return receive, plain
    body, replaying, _ = await read_body(receive)
    try:
        request = json.loads(body)
    except ValueError:
        return replaying, plain
    method = request.get("method") if isinstance(request, dict) else None
    if not isinstance(method, str):
        return replaying, plain
    params = request.get("params")
    name = params.get("name") if isinstance(params, dict) else None
    if method != "tools/call" or not isinstance(name, str):
        return replaying, dataclasses.replace(plain, mcp_method=method[:100])
    tool = name[:100]
    arguments = params.get("arguments") if isinstance(params, dict) else None
    return replaying, dataclasses.replace(
        plain, target=f"mcp {tool}", mcp_method=method, tool=tool, arguments=arguments
    )


async def _send_bank_error(send: Send, scope: Scope, error: BankError) -> None:
    headers = [(k.lower().encode(), v.encode()) for k, v in error.headers.items()]
    await send_error(send, scope, error.status_code, error.detail, headers)
