"""MCP resource subscriptions over streamable HTTP: a session subscribes to a customer's
resources, the sandbox's clock or an instruction moves them, and the session hears of it."""

import json
import os
import re
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from unittest.mock import AsyncMock, patch

import anyio
import httpx2
import pytest
from fastapi.testclient import TestClient
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.client.session import IncomingMessage
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS, ResourceUpdatedNotification

from bank_mcp.subscriptions import (
    MAX_PER_SESSION,
    Feed,
    ResourceNotifier,
    Subscriber,
    Watched,
    updated_uris,
)
from core.settings import Settings
from db import Database
from main import create_app
from schemas.changes import ChangeOut, ChangesPage, ChangeType
from tests.helpers import JANE, JOHN, PROJECT, UNKNOWN

pytestmark = [
    pytest.mark.anyio,
    # The SDK's client warns that the 2026-07-28 protocol replaces these with
    # subscriptions/listen; the sessions of 2025-11-25, which the bank speaks, have them.
    pytest.mark.filterwarnings("ignore:resources/(un)?subscribe is removed"),
]

WAIT_S = 120
"""How long a notification may take on a busy machine: a bound on a hang, not a timing."""

MCP_HEADERS = {
    "Accept": "application/json, text/event-stream",
    "Content-Type": "application/json",
}
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "test", "version": "1"},
    },
}


PAYMENT = {
    "from_account_id": 1,
    "amount": "12.34",
    "payee": {"name": "Northwind Utilities", "iban": "DE89370400440532013000"},
}


def uri(customer_oid: str, kind: str) -> str:
    return f"bank://customers/{customer_oid}/{kind}"


class Inbox:
    """The resources a session was told changed, in the order it was told."""

    def __init__(self) -> None:
        self.updated: list[str] = []
        self._arrived = anyio.Event()

    async def handle(self, message: IncomingMessage) -> None:
        if isinstance(message, ResourceUpdatedNotification):
            self.updated.append(message.params.uri)
            self.arrived()

    def arrived(self) -> None:
        self._arrived.set()
        self._arrived = anyio.Event()

    async def wait_for(self, *uris: str, times: int = 1) -> None:
        """Until each of ``uris`` was reported ``times`` times."""
        with anyio.fail_after(WAIT_S):
            while any(self.updated.count(each) < times for each in uris):
                await self._arrived.wait()


@asynccontextmanager
async def session_in(
    base_url: str, headers: dict[str, str]
) -> AsyncIterator[tuple[ClientSession, Inbox]]:
    inbox = Inbox()
    async with (
        httpx2.AsyncClient(headers=headers, timeout=WAIT_S) as http,
        streamable_http_client(f"{base_url}/mcp", http_client=http) as (read, write),
        ClientSession(read, write, message_handler=inbox.handle) as session,
    ):
        initialized = await session.initialize()
        resources = initialized.capabilities.resources
        assert resources is not None and resources.subscribe is True
        yield session, inbox


async def read_json(session: ClientSession, resource: str) -> dict[str, Any]:
    contents = (await session.read_resource(resource)).contents[0]
    found: dict[str, Any] = json.loads(contents.text, parse_float=Decimal)  # type: ignore[union-attr]
    return found


@pytest.fixture
async def sandbox(live_server: str) -> AsyncIterator[str]:
    async with httpx2.AsyncClient(base_url=live_server, timeout=WAIT_S) as http:
        made = await http.post("/sandboxes", json={"seed": 5, "allow_writes": True})
        assert made.status_code == 201, made.text
        sandbox_id: str = made.json()["sandbox_id"]
        yield sandbox_id
        await http.delete(f"/sandboxes/{sandbox_id}")


async def test_the_clock_and_an_instruction_notify_the_subscribed_resources(
    live_server: str, sandbox: str
) -> None:
    inside = {"X-Bank-Sandbox": sandbox}
    async with (
        session_in(live_server, inside) as (session, inbox),
        httpx2.AsyncClient(base_url=live_server, timeout=WAIT_S) as http,
    ):
        before = await read_json(session, uri(JOHN, "portfolio"))
        rows_before = await read_json(session, uri(JOHN, "transactions"))
        for kind in ("transactions", "portfolio", "summary"):
            await session.subscribe_resource(uri(JOHN, kind))
        await session.unsubscribe_resource(uri(JOHN, "summary"))

        advanced = await http.post(f"/sandboxes/{sandbox}/clock/advance", json={"days": 3})
        assert advanced.status_code == 200, advanced.text
        await inbox.wait_for(uri(JOHN, "transactions"), uri(JOHN, "portfolio"))

        after = await read_json(session, uri(JOHN, "portfolio"))
        assert after["portfolio_summary"]["as_of"] > before["portfolio_summary"]["as_of"]
        rows_after = await read_json(session, uri(JOHN, "transactions"))
        assert rows_after["total"] > rows_before["total"]
        assert rows_after["transactions"][0] != rows_before["transactions"][0]

        # Jane's transactions, subscribed now, hear nothing of what came before, nor of
        # John's payment. A second payment is the marker: a session's notifications come in
        # order on its stream, so whatever the first caused has come before the second's.
        await session.subscribe_resource(uri(JANE, "transactions"))
        for times in (1, 2):
            paid = await http.post(f"/customer/{JOHN}/payments", json=PAYMENT, headers=inside)
            assert paid.status_code == 201, paid.text
            await inbox.wait_for(uri(JOHN, "transactions"), uri(JOHN, "portfolio"), times=times + 1)
        paid_rows = await read_json(session, uri(JOHN, "transactions"))
        assert paid_rows["total"] == rows_after["total"] + 2
        assert paid_rows["transactions"][0]["amount"] == Decimal("-12.34")

    assert uri(JANE, "transactions") not in inbox.updated
    assert uri(JOHN, "summary") not in inbox.updated


async def test_a_session_hears_nothing_of_another_sandbox_or_the_bank(
    live_server: str, sandbox: str
) -> None:
    async with (
        session_in(live_server, {}) as (in_bank, bank_inbox),
        session_in(live_server, {"X-Bank-Sandbox": sandbox}) as (in_sandbox, sandbox_inbox),
        httpx2.AsyncClient(base_url=live_server, timeout=WAIT_S) as http,
    ):
        await in_bank.subscribe_resource(uri(JOHN, "portfolio"))
        await in_sandbox.subscribe_resource(uri(JOHN, "portfolio"))
        advanced = await http.post(f"/sandboxes/{sandbox}/clock/advance", json={"days": 1})
        assert advanced.status_code == 200, advanced.text
        await sandbox_inbox.wait_for(uri(JOHN, "portfolio"))
    assert bank_inbox.updated == []


async def test_subscribing_to_an_unknown_customer_or_resource_names_it(
    live_server: str,
) -> None:
    async with session_in(live_server, {}) as (session, _):
        for wrong in (
            uri(UNKNOWN, "portfolio"),
            uri(JOHN, "holdings"),
            "bank://customers",
            uri("not-an-id!", "transactions"),
        ):
            with pytest.raises(MCPError) as refused:
                await session.subscribe_resource(wrong)
            assert refused.value.error.code == INVALID_PARAMS
            assert f"'{wrong}'" in refused.value.error.message
        with pytest.raises(MCPError) as unknown:
            await session.subscribe_resource(uri(UNKNOWN, "portfolio"))
        assert UNKNOWN in unknown.value.error.message and "not found" in unknown.value.error.message


async def test_a_session_id_cannot_reach_another_sandbox(live_server: str, sandbox: str) -> None:
    async with httpx2.AsyncClient(base_url=live_server, timeout=WAIT_S) as http:
        other = await http.post("/sandboxes", json={"seed": 6})
        assert other.status_code == 201
        other_id = other.json()["sandbox_id"]
        other_key = other.json()["sandbox_key"]
        try:
            opened = await http.post(
                "/mcp", json=INITIALIZE, headers={**MCP_HEADERS, "X-Bank-Sandbox": sandbox}
            )
            assert opened.status_code == 200, opened.text
            session_id = opened.headers["mcp-session-id"]
            read = {
                "jsonrpc": "2.0",
                "id": 2,
                "method": "resources/read",
                "params": {"uri": uri(JOHN, "summary")},
            }
            in_session = {**MCP_HEADERS, "Mcp-Session-Id": session_id}
            for elsewhere in (
                {"X-Bank-Sandbox": other_id},
                {"X-API-Key": other_key},
                {},
            ):
                refused = await http.post("/mcp", json=read, headers={**in_session, **elsewhere})
                assert refused.status_code == 403, refused.text
                assert "another sandbox or with another key" in refused.json()["detail"]
                stream = await http.get("/mcp", headers={**in_session, **elsewhere})
                assert stream.status_code == 403
            ended = await http.delete("/mcp", headers=in_session)
            assert ended.status_code == 403
            ended = await http.delete("/mcp", headers={**in_session, "X-Bank-Sandbox": sandbox})
            assert ended.status_code == 200
            gone = await http.post(
                "/mcp", json=read, headers={**in_session, "X-Bank-Sandbox": sandbox}
            )
            assert gone.status_code == 404
        finally:
            await http.delete(f"/sandboxes/{other_id}")


def test_posts_without_a_session_stay_stateless(client: TestClient) -> None:
    call = {
        "jsonrpc": "2.0",
        "id": 7,
        "method": "tools/call",
        "params": {"name": "bank_customer_exists", "arguments": {"customer_oid": JOHN}},
    }
    answered = client.post("/mcp", json=call, headers=MCP_HEADERS)
    assert answered.status_code == 200
    assert "mcp-session-id" not in answered.headers
    assert answered.json()["result"]["structuredContent"]["exists"] is True
    subscribe = {
        "jsonrpc": "2.0",
        "id": 8,
        "method": "resources/subscribe",
        "params": {"uri": uri(JOHN, "portfolio")},
    }
    refused = client.post("/mcp", json=subscribe, headers=MCP_HEADERS)
    assert refused.json()["error"]["code"] == -32601  # not served without a session
    opened = client.post("/mcp", json=INITIALIZE, headers=MCP_HEADERS)
    assert opened.headers["mcp-session-id"]
    assert opened.json()["result"]["capabilities"]["resources"]["subscribe"] is True
    stream = client.get("/mcp", headers={"Accept": "text/event-stream"})
    assert stream.status_code == 405 and stream.headers["Allow"] == "POST"


@pytest.mark.parametrize(
    "settings", [{"workers": 2}, {"mcp_sessions": False}], ids=["workers", "turned-off"]
)
def test_several_workers_keep_mcp_stateless_and_offer_no_subscriptions(
    database_url: str, settings: dict[str, Any]
) -> None:
    app = create_app(Settings(database_url=database_url, **settings))
    with TestClient(app) as client:
        opened = client.post("/mcp", json=INITIALIZE, headers=MCP_HEADERS)
        assert opened.status_code == 200
        assert "mcp-session-id" not in opened.headers
        resources = opened.json()["result"]["capabilities"]["resources"]
        assert not resources.get("subscribe")
        stream = client.get("/mcp", headers={"Accept": "text/event-stream", "Mcp-Session-Id": "x"})
        assert stream.status_code == 405
        assert "several workers" in stream.json()["detail"]


class _Untouchable(Database):
    def __init__(self) -> None:
        pass

    async def run(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the notifier read a database nobody subscribes to")


class _Silent:
    async def send_resource_updated(self, uri: str) -> None:
        raise AssertionError("a notification to a session that ended")


async def test_the_notifier_reads_nothing_without_subscriptions() -> None:
    notifier = ResourceNotifier(0.5, alive=lambda session_id: False)
    await notifier.look()
    # A session that ended: its subscriptions go, and the feed is no longer read.
    feed = Feed(_Untouchable(), after=10)
    watched = Watched(uri(JOHN, "portfolio"), JOHN, "portfolio", since=10)
    feed.subscribers["gone"] = Subscriber(_Silent(), {watched.uri: watched})
    notifier.feeds["bank"] = feed
    await notifier.look()
    assert notifier.feeds == {}


def change(seq: int, type: ChangeType, customer_oid: str | None) -> ChangeOut:
    return ChangeOut(
        seq=seq,
        type=type,
        occurred_on=date(2026, 10, 1),
        recorded_at=datetime(2026, 10, 1, tzinfo=UTC),
        customer_oid=customer_oid,
    )


def test_a_look_reports_each_resource_once_and_only_what_moved_it() -> None:
    feed = Feed(_Untouchable(), after=0)
    watching = [
        Watched(uri(JOHN, "transactions"), JOHN, "transactions", since=0),
        Watched(uri(JOHN, "summary"), JOHN, "summary", since=0),
        Watched(uri(JANE, "portfolio"), JANE, "portfolio", since=5),
        Watched(uri(JANE, "transactions"), JANE, "transactions", since=0),
    ]
    feed.subscribers["s"] = Subscriber(_Silent(), {w.uri: w for w in watching})
    changes = [
        change(1, ChangeType.transaction_added, JOHN),
        change(2, ChangeType.transaction_added, JOHN),
        change(3, ChangeType.balance_changed, JOHN),
        change(4, ChangeType.market_day_closed, None),
        change(5, ChangeType.customer_registered, JANE),
    ]
    assert updated_uris(feed, changes) == {"s": {uri(JOHN, "transactions"), uri(JOHN, "summary")}}
    # A day closing moves every portfolio, no statement; Jane's since 5 hears of it at 6.
    later = [change(6, ChangeType.market_day_closed, None)]
    assert updated_uris(feed, later) == {"s": {uri(JOHN, "summary"), uri(JANE, "portfolio")}}
    assert updated_uris(feed, [change(7, ChangeType.holding_changed, JANE)]) == {
        "s": {uri(JANE, "portfolio")}
    }


async def test_the_time_pages_snippet_hears_a_clock_advance(live_server: str, sandbox: str) -> None:
    (snippet,) = [
        block
        for block in re.findall(
            r"```python\n(.*?)```", (PROJECT / "docs/time.md").read_text(), re.S
        )
        if "subscribe_resource" in block
    ]
    heard = Inbox()

    def collect(*parts: object) -> None:
        if parts[0] == "moved:":
            heard.updated.append(str(parts[1]))
            heard.arrived()

    async def meanwhile() -> None:
        async with httpx2.AsyncClient(base_url=live_server, timeout=WAIT_S) as http:
            advanced = await http.post(f"/sandboxes/{sandbox}/clock/advance", json={"days": 1})
            assert advanced.status_code == 200, advanced.text
        await heard.wait_for(uri(JOHN, "portfolio"), uri(JOHN, "transactions"))

    source = snippet.replace("http://127.0.0.1:3000", live_server)
    source = re.sub(r"await anyio\.sleep\(60\).*", "await meanwhile()", source)
    assert "await meanwhile()" in source
    namespace: dict[str, Any] = {"print": collect, "meanwhile": meanwhile}
    exec(compile(source, "docs/time.md", "exec"), namespace)
    await namespace["watch"](sandbox)


async def test_subscriptions_over_stdio(database_url: str) -> None:
    parameters = StdioServerParameters(
        command=sys.executable,
        args=["mcp_server.py"],
        cwd=str(PROJECT),
        env={**os.environ, "BANK_DATABASE_URL": database_url, "BANK_MCP_ALLOW_WRITES": "true"},
    )
    inbox = Inbox()
    async with (
        stdio_client(parameters) as (read, write),
        ClientSession(read, write, message_handler=inbox.handle) as session,
    ):
        initialized = await session.initialize()
        assert initialized.capabilities.resources is not None
        assert initialized.capabilities.resources.subscribe is True
        await session.subscribe_resource(uri(JOHN, "transactions"))
        await session.subscribe_resource(uri(JANE, "transactions"))
        # The second transfer is the marker: the first one's notifications came before it.
        for times in (1, 2):
            moved = await session.call_tool(
                "bank_transfer",
                {"customer_oid": JOHN, "from_account_id": 1, "to_account_id": 3, "amount": "2.50"},
            )
            assert not moved.is_error, moved.content
            await inbox.wait_for(uri(JOHN, "transactions"), times=times)
        await session.unsubscribe_resource(uri(JOHN, "transactions"))
        with pytest.raises(MCPError) as refused:
            await session.subscribe_resource(uri(UNKNOWN, "summary"))
        assert UNKNOWN in refused.value.error.message
    assert uri(JANE, "transactions") not in inbox.updated


async def test_a_sessions_calls_keep_their_own_requests_faults(
    live_server: str, sandbox: str
) -> None:
    # A session's messages are handled in the session's own task: each call must still
    # carry its own request's values (here, the fault its sandbox's rules injected), as the
    # SDK passes each message's context on.
    async with (
        session_in(live_server, {"X-Bank-Sandbox": sandbox}) as (session, _),
        httpx2.AsyncClient(base_url=live_server, timeout=WAIT_S) as http,
    ):
        before = await session.call_tool("bank_customer_exists", {"customer_oid": JOHN})
        assert not before.is_error
        rule = {"match": "mcp bank_customer_exists", "rate": 1.0, "status": 500}
        planned = await http.put(f"/sandboxes/{sandbox}/faults", json={"rules": [rule]})
        assert planned.status_code == 200, planned.text
        failed = await session.call_tool("bank_customer_exists", {"customer_oid": JOHN})
        assert failed.is_error
        assert failed.content[0].text == (  # type: ignore[union-attr]
            "Injected fault: rule 0 ('mcp bank_customer_exists') answered 500"
        )
        traced = (await http.get(f"/sandboxes/{sandbox}/requests")).json()["requests"]
        assert [t["tool"] for t in traced if t["tool"]][-2:] == ["bank_customer_exists"] * 2


async def test_a_reset_notifies_every_resource_and_the_new_copy_is_followed(
    live_server: str,
) -> None:
    async with httpx2.AsyncClient(base_url=live_server, timeout=WAIT_S) as http:
        made = await http.post("/sandboxes", json={"seed": 7})
        assert made.status_code == 201
        sandbox_id = made.json()["sandbox_id"]
        async with session_in(live_server, {"X-Bank-Sandbox": sandbox_id}) as (session, inbox):
            await session.subscribe_resource(uri(JOHN, "transactions"))
            await session.subscribe_resource(uri(JANE, "summary"))
            reset = await http.post(f"/sandboxes/{sandbox_id}/reset")
            assert reset.status_code == 200, reset.text
            await inbox.wait_for(uri(JOHN, "transactions"), uri(JANE, "summary"))
            # The new copy's feed starts again; its clock still notifies.
            advanced = await http.post(f"/sandboxes/{sandbox_id}/clock/advance", json={"days": 1})
            assert advanced.status_code == 200, advanced.text
            await inbox.wait_for(uri(JOHN, "transactions"), uri(JANE, "summary"), times=2)
            deleted = await http.delete(f"/sandboxes/{sandbox_id}")
            assert deleted.status_code == 200
            await inbox.wait_for(uri(JOHN, "transactions"), uri(JANE, "summary"), times=3)


def test_a_read_key_may_subscribe_and_its_session_refuses_the_full_key(
    database_url: str,
) -> None:
    settings = Settings(database_url=database_url, api_key="full-key", read_api_key="read-key")
    with TestClient(create_app(settings)) as client:
        read = {**MCP_HEADERS, "X-API-Key": "read-key"}
        opened = client.post("/mcp", json=INITIALIZE, headers=read)
        assert opened.status_code == 200, opened.text
        in_session = {
            **read,
            "Mcp-Session-Id": opened.headers["mcp-session-id"],
            "MCP-Protocol-Version": "2025-11-25",
        }
        ready = {"jsonrpc": "2.0", "method": "notifications/initialized"}
        assert client.post("/mcp", json=ready, headers=in_session).status_code == 202
        subscribe = {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "resources/subscribe",
            "params": {"uri": uri(JOHN, "transactions")},
        }
        subscribed = client.post("/mcp", json=subscribe, headers=in_session)
        assert subscribed.status_code == 200, subscribed.text
        assert subscribed.json()["result"] == {}
        with_full = client.post(
            "/mcp", json=subscribe, headers={**in_session, "X-API-Key": "full-key"}
        )
        assert with_full.status_code == 403
        notifier = client.app.state.mcp_transport.notifier  # type: ignore[attr-defined]
        assert notifier.subscribed(opened.headers["mcp-session-id"]) == {uri(JOHN, "transactions")}


def test_a_browser_client_may_send_and_read_the_session_id(client: TestClient) -> None:
    origin = {"Origin": "http://localhost:5173"}
    asked = client.options(
        "/mcp",
        headers={
            **origin,
            "Access-Control-Request-Method": "DELETE",
            "Access-Control-Request-Headers": "mcp-session-id, mcp-protocol-version",
        },
    )
    assert asked.status_code == 200
    allowed = asked.headers["access-control-allow-headers"].lower()
    assert "mcp-session-id" in allowed and "mcp-protocol-version" in allowed
    opened = client.post("/mcp", json=INITIALIZE, headers={**MCP_HEADERS, **origin})
    exposed = opened.headers["access-control-expose-headers"].lower()
    assert "mcp-session-id" in exposed and opened.headers["mcp-session-id"]


class _Feed(Database):
    """A database whose feed holds ``changes``, all after any position."""

    def __init__(self, changes: list[ChangeOut]) -> None:
        self.changes = changes

    async def run(self, *args: Any, **kwargs: Any) -> Any:
        return ChangesPage(changes=self.changes, next_cursor="-", has_more=False)


class _Listening:
    def __init__(self) -> None:
        self.heard: list[str] = []

    async def send_resource_updated(self, uri: str) -> None:
        self.heard.append(uri)


class _Stuck:
    async def send_resource_updated(self, uri: str) -> None:
        await anyio.sleep_forever()  # a client that stopped reading its stream


async def test_a_session_that_takes_no_notification_holds_up_nobody_else() -> None:
    notifier = ResourceNotifier(0.5, send_timeout_s=0.2)
    watched = Watched(uri(JOHN, "transactions"), JOHN, "transactions")
    listening = _Listening()
    feed = Feed(_Feed([change(1, ChangeType.transaction_added, JOHN)]), after=0)
    feed.subscribers["stuck"] = Subscriber(_Stuck(), {watched.uri: watched})
    feed.subscribers["listening"] = Subscriber(listening, {watched.uri: watched})
    notifier.feeds["bank"] = feed
    with anyio.fail_after(WAIT_S):
        await notifier.look()
    assert listening.heard == [uri(JOHN, "transactions")]
    assert notifier.subscribed("stuck") == set()
    assert notifier.subscribed("listening") == {uri(JOHN, "transactions")}


async def test_a_session_holds_at_most_so_many_subscriptions() -> None:
    notifier = ResourceNotifier(0.5)
    database = _Feed([])
    database.run = AsyncMock(return_value=0)  # type: ignore[method-assign]
    for n in range(MAX_PER_SESSION):
        await notifier.subscribe("s", _Listening(), database, Watched(f"u{n}", JOHN, "summary"))
    await notifier.subscribe("s", _Listening(), database, Watched("u0", JOHN, "summary"))
    with pytest.raises(MCPError) as refused:
        await notifier.subscribe("s", _Listening(), database, Watched("u-last", JOHN, "summary"))
    assert refused.value.error.code == INVALID_PARAMS
    assert "'u-last'" in refused.value.error.message
    assert f"at most {MAX_PER_SESSION}" in refused.value.error.message
    await notifier.subscribe("other", _Listening(), database, Watched("u-last", JOHN, "summary"))


async def test_a_subscription_made_while_a_look_read_on_misses_nothing() -> None:
    notifier = ResourceNotifier(0.5)
    database = _Feed([change(9, ChangeType.transaction_added, JOHN)])
    # The feed was read up to 10 by a look that ran while the subscription read its place, 7.
    notifier.feeds["bank"] = Feed(database, after=10)
    with patch.object(database, "run", AsyncMock(return_value=7)):
        listening = _Listening()
        await notifier.subscribe(
            "s", listening, database, Watched(uri(JOHN, "summary"), JOHN, "summary")
        )
    assert notifier.feeds["bank"].after == 7
    await notifier.look()
    assert listening.heard == [uri(JOHN, "summary")]
