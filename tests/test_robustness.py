"""Overload, hostile hosts and odd input: quick refusals, whole answers, nothing poisoned.

Admission control answers 503 with Retry-After at once instead of queueing without
end; a read racing a delete on PostgreSQL gets the whole portfolio or a 404; the
bank answers only to its own names; long URLs, deep JSON and hidden characters
are refused cleanly, over REST and MCP alike.
"""

import asyncio
import subprocess
import sys
import time
from collections import Counter
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient
from starlette.types import Message

from api.cache import ResponseCache, _Entry
from core.settings import Settings
from main import create_app
from scripts.stress import free_port, serve
from services import portfolio
from services.changes import feed_for
from tests.helpers import JANE, JOHN, PROJECT, first_answer

MCP_HEADERS = {
    "Accept": "application/json, text/event-stream",
    "Content-Type": "application/json",
    "MCP-Protocol-Version": "2025-11-25",
}


def mcp_call(client: TestClient, tool: str, **arguments: Any) -> dict[str, Any]:
    call = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": tool, "arguments": arguments},
    }
    response = client.post("/mcp", json=call, headers=MCP_HEADERS)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()["result"]
    return result


def test_a_full_queue_is_refused_at_once_with_retry_after(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = portfolio.read_portfolio

    def slow(*args: Any, **kwargs: Any) -> Any:
        time.sleep(0.3)
        return original(*args, **kwargs)

    monkeypatch.setattr(portfolio, "read_portfolio", slow)
    settings = Settings(
        database_url=database_url, cache_mb=0, db_threads=1, db_queue=2, db_queue_timeout=0.5
    )
    app = create_app(settings)

    async def crowd() -> tuple[list[httpx2.Response], float]:
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            started = time.monotonic()
            answers = await asyncio.gather(
                *(client.get(f"/user-portfolio/{JOHN}") for _ in range(12))
            )
            return answers, time.monotonic() - started

    with TestClient(app):
        answers, seconds = asyncio.run(crowd())
    statuses = Counter(answer.status_code for answer in answers)
    assert set(statuses) == {200, 503}, statuses
    # One runs, two wait; whoever would wait past half a second is refused too.
    assert 1 <= statuses[200] <= 3
    for refused in (a for a in answers if a.status_code == 503):
        assert refused.headers["Retry-After"] == "1"
        assert "busy" in refused.json()["detail"]
    assert seconds < 3


def test_a_read_racing_a_delete_is_whole_or_404(database_url: str) -> None:
    """On PostgreSQL the sections of one answer used to come from different moments: accounts
    from before a delete, transactions from after it."""
    sections = ("assets", "bank_accounts", "transactions", "spending")

    async def race(base: str, oid: str) -> Counter[str]:
        seen: Counter[str] = Counter()
        async with httpx2.AsyncClient(base_url=base, timeout=30) as client:

            async def reader() -> None:
                while True:
                    response = await client.get(f"/user-portfolio/{oid}")
                    if response.status_code == 404:
                        seen["404"] += 1
                        return
                    assert response.status_code == 200, response.text
                    answer = response.json()
                    whole = all(answer[section] for section in sections)
                    seen["whole" if whole else "torn"] += 1

            async def delete() -> None:
                await asyncio.sleep(0.3)
                assert (await client.delete(f"/customer/{oid}")).status_code == 200

            await asyncio.gather(*(reader() for _ in range(12)), delete())
        return seen

    seen: Counter[str] = Counter()
    with serve(database_url, BANK_CACHE_MB="0") as base:
        for oid in (JANE, JOHN):
            seen += asyncio.run(race(base, oid))
    assert seen["torn"] == 0, seen
    assert seen["404"] == 24 and seen["whole"] > 24, seen


def test_a_foreign_host_is_refused_with_the_error_shape_everywhere(client: TestClient) -> None:
    for method, path in (("GET", "/customers"), ("POST", "/mcp"), ("GET", "/health")):
        response = client.request(method, path, headers={"Host": "rebind.evil.example"})
        assert response.status_code == 421, path
        assert response.json()["detail"].startswith("Host 'rebind.evil.example' is not a name")
        assert response.json()["request_id"]


def test_dns_rebinding_cannot_write(client: TestClient) -> None:
    evil = {"Host": "rebind.evil.example:3000"}
    assert (
        client.post("/register-customer", json={"name": "Rebound"}, headers=evil).status_code == 421
    )
    assert client.delete(f"/customer/{JOHN}", headers=evil).status_code == 421
    assert client.get(f"/customer/{JOHN}/exists").json()["exists"] is True
    assert client.get("/customers").headers["X-Total-Count"] == "5"


def test_loopback_names_are_always_answered(client: TestClient) -> None:
    for host in ("localhost:3000", "127.0.0.1", "[::1]:3000"):
        assert client.get("/health", headers={"Host": host}).status_code == 200, host


def test_over_long_urls_are_414_before_any_work(client: TestClient) -> None:
    response = client.get(f"/customer/{JOHN}/exists?u=" + "x" * 17000)
    assert response.status_code == 414
    assert "URL too long" in response.json()["detail"]


def test_the_cache_budget_counts_keys_and_headers(database_url: str) -> None:
    app = create_app(Settings(database_url=database_url))
    with TestClient(app):
        cache = ResponseCache(feed_for(app.state.database.engine), max_bytes=64 * 1024)
        for n in range(200):
            key = f"/customer/x/exists?u={n}{'y' * 1000}".encode()
            cache.put(key, _Entry(200, [(b"x-h", b"v" * 100)], b"{}", "*lists"), cache.feed.epoch)
        assert cache.size <= cache.max_bytes
        assert len(cache.entries) < 200
        assert cache.size == sum(entry.size for entry in cache.entries.values())
        assert all(entry.size > 1000 for entry in cache.entries.values())


def test_deeply_nested_json_to_mcp_is_not_a_500(database_url: str) -> None:
    settings = Settings(database_url=database_url, api_key="full", read_api_key="read")
    nested = b"[" * 100_000 + b"]" * 100_000
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
        response = client.post("/mcp", content=nested, headers={**MCP_HEADERS, "X-API-Key": "read"})
    assert response.status_code < 500


def test_get_mcp_answers_at_once(client: TestClient) -> None:
    response = client.get("/mcp", headers={"Accept": "text/event-stream"})
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"
    assert "POST" in response.json()["detail"]


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("Bob\u2028Smith", "line or paragraph separators"),
        ("Bob\U000e0041\U000e0042", "tag characters"),
        ("\u3164\u3164", "at least 2 characters"),
    ],
)
def test_mcp_registration_follows_the_same_name_rules(
    database_url: str, name: str, rule: str
) -> None:
    settings = Settings(database_url=database_url, mcp_allow_writes=True)
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
        result = mcp_call(client, "bank_register_customer", name=name)
    assert result["isError"] is True
    assert rule in result["content"][0]["text"]


def test_mcp_refuses_unknown_arguments_and_speaks_plainly(database_url: str) -> None:
    settings = Settings(database_url=database_url, mcp_allow_writes=True)
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
        unknown = mcp_call(client, "bank_register_customer", name="Ann Lee", nickname="al")
        assert unknown["isError"] is True
        assert unknown["content"][0]["text"] == (
            "Invalid arguments: 'nickname': unknown argument, not allowed"
        )
        assert client.get("/customers").headers["X-Total-Count"] == "5"
        bad = mcp_call(client, "bank_transactions", customer_oid=JOHN, limit=0)
        text = bad["content"][0]["text"]
        assert bad["isError"] is True
        assert text.startswith("Invalid arguments: argument 'limit':")
        assert "Arguments" not in text and "http" not in text


def test_protected_mode_follows_the_socket_a_request_came_through(database_url: str) -> None:
    """Judged per request on scope["server"], so `uvicorn --host 0.0.0.0` cannot bypass it."""
    app = create_app(Settings(database_url=database_url))

    async def ask(server: tuple[str, int]) -> tuple[int, bytes]:
        sent: list[Message] = []

        async def receive() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: Message) -> None:
            sent.append(message)

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": "/customers",
            "raw_path": b"/customers",
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"127.0.0.1:3000")],
            "client": ("192.0.2.7", 50000),
            "server": server,
        }
        await app(scope, receive, send)
        body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
        return sent[0]["status"], body

    with TestClient(app):
        status, body = asyncio.run(ask(("192.0.2.10", 3000)))
        assert status == 403
        assert b"Refusing to listen on 192.0.2.10 without an API key" in body
        assert asyncio.run(ask(("127.0.0.1", 3000)))[0] == 200


def test_uvicorn_on_every_address_still_answers_loopback(tmp_path: Any) -> None:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "main:app", "--host", "0.0.0.0", "--port", str(port)],
        cwd=PROJECT,
        env={"BANK_DATABASE_URL": f"sqlite:///{tmp_path}/bank.db", "PATH": "/usr/bin:/bin"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert first_answer(server, f"http://127.0.0.1:{port}/customers").status_code == 200
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_openapi_documents_what_keys_would_answer(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    register = document["paths"]["/register-customer"]["post"]["responses"]
    assert {"401", "403"} <= set(register)
    assert "401" not in document["paths"]["/health"]["get"]["responses"]


def test_seed_adds_back_a_deleted_sample_customer(client: TestClient, database_url: str) -> None:
    assert client.delete(f"/customer/{JANE}").status_code == 200
    subprocess.run(
        [sys.executable, "seed.py", "--database-url", database_url],
        cwd=PROJECT,
        check=True,
        capture_output=True,
    )
    assert client.get(f"/customer/{JANE}/exists").json()["exists"] is True
    assert client.get(f"/user-portfolio/{JANE}").json()["bank_accounts"]
