"""Points a request at the sandbox its ``X-Bank-Sandbox`` header names (REST and /mcp alike),
records it in the sandbox's trace, and applies the sandbox's fault rules to it (except for
the answer key's routes, which are the harness's, not the agent's)."""

import contextlib
import json
import time
from collections.abc import Callable
from typing import Any

import anyio
from sqlalchemy.exc import SQLAlchemyError
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.middleware import MCP_FAULT, send_error
from core.errors import BankError
from db import SANDBOX_DATABASE
from evals import ROUTE_PREFIX
from sandboxes import faults, trace
from sandboxes.manager import SandboxDatabase, SandboxManager

SANDBOX_HEADER = "x-bank-sandbox"
FAULT_HEADER = b"x-bank-fault"


class SandboxMiddleware:
    """Without the header nothing changes; with it, every database call of the request goes
    to that sandbox, and a malformed, unknown or expired one is refused before any work."""

    def __init__(self, app: ASGIApp, manager: Callable[[], SandboxManager | None]) -> None:
        self.app = app
        self.manager = manager

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        named = Headers(scope=scope).get(SANDBOX_HEADER) if scope["type"] == "http" else None
        manager = self.manager()
        # The sandboxes' own routes manage them from the bank; the header means nothing there.
        if named is None or manager is None or scope["path"].startswith("/sandboxes"):
            await self.app(scope, receive, send)
            return
        try:
            database = await manager.database_for(named.strip())
        except BankError as error:
            await _send_bank_error(send, scope, error)
            return
        token = SANDBOX_DATABASE.set(database)
        try:
            # The answer key's routes are the harness's calls: out of the agent's trace and faults.
            if scope["path"].startswith(f"{ROUTE_PREFIX}/"):
                await self.app(scope, receive, send)
            else:
                await self._recorded(database, scope, receive, send)
        finally:
            SANDBOX_DATABASE.reset(token)

    async def _recorded(
        self, database: SandboxDatabase, scope: Scope, receive: Receive, send: Send
    ) -> None:
        started = time.perf_counter()
        receive, tool, arguments = await _tool_call(scope, receive)
        path = scope["path"] + (
            f"?{scope['query_string'].decode()}" if scope["query_string"] else ""
        )
        try:
            number = await database.run(
                lambda s: trace.begin_call(s, scope["method"], path, tool, arguments), write=True
            )
        except BankError as error:
            await _send_bank_error(send, scope, error)
            return
        target = f"mcp {tool}" if tool is not None else f"{scope['method']} {scope['path']}"
        picked = faults.pick(database.faults, number, target)
        status = 500
        fault = f"{picked[0]} {picked[1].match}" if picked else None

        async def recording(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                if fault is not None:
                    message["headers"] = [
                        *message.get("headers", []),
                        (FAULT_HEADER, fault.encode()),
                    ]
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
            elif tool is not None:
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
            rule_index = picked[0] if picked else None
            await _end_call(database, number, status, latency, fault, rule_index)


async def _end_call(
    database: SandboxDatabase,
    number: int,
    status: int,
    latency: float,
    fault: str | None,
    rule_index: int | None,
) -> None:
    # On this very copy: after a reset, number names another call in the new one. If the
    # copy was reset or deleted meanwhile, its trace went with it.
    with contextlib.suppress(BankError, SQLAlchemyError):
        await database.run_on_copy(
            lambda s: trace.end_call(s, number, status, latency, fault, rule_index), write=True
        )


async def _tool_call(scope: Scope, receive: Receive) -> tuple[Receive, str | None, Any]:
    """For a POST to /mcp, the tool it calls and the arguments (the body is read, then given
    to the app as it came)."""
    if scope["path"] != "/mcp" or scope["method"] != "POST":
        return receive, None, None
    messages: list[Message] = []
    body = b""
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    replay = iter(messages)

    async def replaying() -> Message:
        return next(replay, None) or await receive()

    try:
        call = json.loads(body)
    except ValueError:
        return replaying, None, None
    if not isinstance(call, dict) or call.get("method") != "tools/call":
        return replaying, None, None
    params = call.get("params")
    name = params.get("name") if isinstance(params, dict) else None
    if not isinstance(name, str):
        return replaying, None, None
    return replaying, name[:100], params.get("arguments") if isinstance(params, dict) else None


async def _send_bank_error(send: Send, scope: Scope, error: BankError) -> None:
    headers = [(k.lower().encode(), v.encode()) for k, v in error.headers.items()]
    await send_error(send, scope, error.status_code, error.detail, headers)
