"""The worst day: concurrency, crashes, oversized bodies, keys, CORS, request ids, logs."""

import asyncio
import json
import logging
import os
import socket
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from fastapi.testclient import TestClient
from mcp.types import ToolAnnotations
from starlette.types import Message, Receive, Scope, Send

from api.middleware import BodyLimitMiddleware
from core.settings import Settings
from main import create_app
from scripts.stress import register_storm, run_crash, serve
from tests.helpers import JOHN, PROJECT, burst

SAME_ID = "6f1c2a9e-3b4d-4c5e-8f70-1a2b3c4d5e6f"


@pytest.fixture(scope="module", params=[1, 2], ids=["one worker", "two workers"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    database = tmp_path_factory.mktemp("hard") / "bank.db"
    with serve(f"sqlite:///{database}", BANK_WORKERS=str(request.param)) as base_url:
        yield base_url


@pytest.mark.slow
def test_concurrent_registrations_of_one_id_give_one_200(server: str) -> None:
    for round_number in range(10):
        oid = SAME_ID[:-2] + f"{round_number:02d}"
        statuses = asyncio.run(
            burst(
                server,
                "POST",
                "/register-customer",
                50,
                json={"name": "Racer", "customer_oid": oid},
            )
        )
        assert statuses == Counter({200: 1, 409: 49}), statuses
        assert httpx2.get(f"{server}/customer/{oid}/exists").json()["exists"] is True


def test_concurrent_deletes_of_one_customer_give_one_200(server: str) -> None:
    oid = httpx2.post(f"{server}/register-customer", json={"name": "Doomed"}).json()["customer_oid"]
    statuses = asyncio.run(burst(server, "DELETE", f"/customer/{oid}", 20))
    assert statuses == Counter({200: 1, 404: 19}), statuses


@pytest.mark.slow
def test_a_write_storm_loses_nothing_and_reads_go_on(server: str) -> None:
    async def storm_and_read() -> tuple[int, list[int]]:
        storm = asyncio.create_task(register_storm(server, 300, 100, tag="storm"))
        reads = []
        async with httpx2.AsyncClient(base_url=server, timeout=10) as client:
            while not storm.done():
                reads.append((await client.get(f"/customer/{JOHN}/summary")).status_code)
        result = await storm
        assert not result.timeouts and not result.failures
        assert all(status < 500 for status in result.statuses), result.statuses
        return len(result.acknowledged), reads

    acknowledged, reads = asyncio.run(storm_and_read())
    assert acknowledged == 300
    assert reads and set(reads) == {200}
    names = {
        c["name"]
        for c in httpx2.get(f"{server}/customers", params={"name": "storm", "limit": 1000}).json()
    }
    assert len(names) == 300


@pytest.mark.slow
def test_acknowledged_writes_survive_sigkill(tmp_path: Path) -> None:
    assert run_crash(cycles=2, directory=tmp_path, seed=7)


# --- Hostile input ---------------------------------------------------------------------------


def test_a_body_over_64_kib_is_413(client: TestClient) -> None:
    response = client.post(
        "/register-customer", content=b"{" + b" " * (64 * 1024) + b"}",
        headers={"content-type": "application/json"},
    )  # fmt: skip
    assert response.status_code == 413
    assert response.json()["detail"] == "Request body too large: at most 65536 bytes are accepted"


def test_a_streamed_body_over_64_kib_is_413_without_reading_it_all() -> None:
    chunks_read = 0
    app_saw: list[str] = []
    sent: list[Message] = []

    async def endless_body() -> Message:
        nonlocal chunks_read
        chunks_read += 1
        return {"type": "http.request", "body": b" " * 1024, "more_body": True}

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        while (message := await receive())["type"] == "http.request":
            pass
        app_saw.append(message["type"])

    async def record(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/register-customer", "headers": []}
    asyncio.run(BodyLimitMiddleware(app)(scope, endless_body, record))
    assert sent[0]["status"] == 413
    assert chunks_read == 65
    assert app_saw == ["http.disconnect"]


def test_a_declared_length_over_64_kib_is_refused_before_the_body(live_server: str) -> None:
    host, port = live_server.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(
            b"POST /register-customer HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: 10000000\r\n\r\n{"
        )
        answer = b""
        while b"}" not in answer and (chunk := connection.recv(4096)):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 413")
    assert b"at most 65536 bytes" in answer


def test_long_names_are_refused_and_never_served(client: TestClient) -> None:
    response = client.post("/register-customer", json={"name": "x" * 60_000})
    assert response.status_code == 400
    assert response.json()["detail"] == "name: must be at most 100 characters"
    assert all(len(c["name"]) <= 100 for c in client.get("/customers").json())


def test_rejected_input_is_not_echoed_at_length(client: TestClient) -> None:
    response = client.get(f"/customer/{'A' * 5000}/exists")
    assert response.status_code == 400
    assert len(response.text) < 500


# --- Access --------------------------------------------------------------------------------------


@pytest.fixture
def keyed(database_url: str) -> Iterator[TestClient]:
    settings = Settings(
        database_url=database_url, api_key="full-secret", read_api_key="read-secret"
    )
    with TestClient(create_app(settings)) as client:
        yield client


def test_without_a_key_it_is_401_with_www_authenticate(keyed: TestClient) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"X-API-Key": "wrong"}):
        response = keyed.get("/customers", headers=headers)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="dummy-bank"'
        assert "API key" in response.json()["detail"]
    assert keyed.delete(f"/customer/{JOHN}").status_code == 401
    assert keyed.get(f"/customer/{JOHN}/exists").json()["detail"].startswith("Missing or invalid")


def test_health_and_docs_stay_open(keyed: TestClient) -> None:
    for path in ("/health", "/docs", "/redoc", "/openapi.json"):
        assert keyed.get(path).status_code == 200, path


def test_a_read_key_reads_but_may_not_write(keyed: TestClient) -> None:
    for headers in ({"Authorization": "Bearer read-secret"}, {"X-API-Key": "read-secret"}):
        assert keyed.get("/customers", headers=headers).status_code == 200
        response = keyed.post("/register-customer", json={"name": "Nope"}, headers=headers)
        assert response.status_code == 403
        assert keyed.delete(f"/customer/{JOHN}", headers=headers).status_code == 403
    assert keyed.get(f"/customer/{JOHN}/exists", headers={"X-API-Key": "read-secret"}).json()[
        "exists"
    ]


def test_the_full_key_does_everything(keyed: TestClient) -> None:
    headers = {"Authorization": "Bearer full-secret"}
    oid = keyed.post("/register-customer", json={"name": "Keyed In"}, headers=headers).json()[
        "customer_oid"
    ]
    assert keyed.delete(f"/customer/{oid}", headers=headers).status_code == 200


def test_a_read_key_may_call_mcp_read_tools_only(database_url: str) -> None:
    settings = Settings(
        database_url=database_url,
        api_key="full-secret",
        read_api_key="read-secret",
        mcp_allow_writes=True,
    )
    call = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": "bank_delete_customer", "arguments": {"customer_oid": JOHN}},
    }
    headers = {
        "X-API-Key": "read-secret",
        "Accept": "application/json, text/event-stream",
        "Content-Type": "application/json",
        "MCP-Protocol-Version": "2025-11-25",
    }
    with TestClient(create_app(settings), base_url="http://127.0.0.1:3000") as client:
        refused = client.post("/mcp", json=call, headers=headers)
        # A tool error the agent can read, not a transport failure.
        assert refused.status_code == 200
        assert refused.json()["result"]["isError"] is True
        assert refused.json()["result"]["content"][0]["text"] == (
            "This API key may only call read tools"
        )
        listing = {"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}}
        listed = client.post("/mcp", json=listing, headers=headers).json()["result"]["tools"]
        assert {tool["name"] for tool in listed} >= {"bank_customer_exists"}
        assert not {tool["name"] for tool in listed} & {
            "bank_register_customer",
            "bank_delete_customer",
        }
        full = {**headers, "X-API-Key": "full-secret"}
        every = client.post("/mcp", json=listing, headers=full).json()["result"]["tools"]
        assert "bank_delete_customer" in {tool["name"] for tool in every}
        read = {
            **call,
            "params": {"name": "bank_customer_exists", "arguments": {"customer_oid": JOHN}},
        }
        answered = client.post("/mcp", json=read, headers=headers)
        assert answered.status_code == 200
        assert answered.json()["result"]["structuredContent"]["exists"] is True
        assert client.get(f"/customer/{JOHN}/exists", headers=headers).json()["exists"] is True


def test_a_new_write_tool_is_gated_for_the_read_key_by_its_own_annotations(
    database_url: str,
) -> None:
    """No list of write tools to keep in step: a tool that does not declare itself
    read-only is refused to the read key the moment it is registered."""
    settings = Settings(
        database_url=database_url,
        api_key="full-secret",
        read_api_key="read-secret",
        mcp_allow_writes=True,
    )
    app = create_app(settings)
    touched: list[str] = []

    def bank_touch(customer_oid: str) -> str:
        touched.append(customer_oid)
        return "touched"

    app.state.mcp.add_tool(
        bank_touch, annotations=ToolAnnotations(read_only_hint=False, destructive_hint=False)
    )
    call = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": "bank_touch", "arguments": {"customer_oid": JOHN}},
    }
    headers = {
        "Accept": "application/json, text/event-stream",
        "Content-Type": "application/json",
        "MCP-Protocol-Version": "2025-11-25",
    }
    with TestClient(app, base_url="http://127.0.0.1:3000") as client:
        refused = client.post("/mcp", json=call, headers={**headers, "X-API-Key": "read-secret"})
        assert refused.json()["result"]["isError"] is True
        assert touched == []
        allowed = client.post("/mcp", json=call, headers={**headers, "X-API-Key": "full-secret"})
        assert allowed.json()["result"]["isError"] is False
        assert touched == [JOHN]


@pytest.mark.parametrize(
    ("env", "refused"),
    [
        ({"BANK_HOST": "0.0.0.0"}, True),
        ({"BANK_HOST": "192.0.2.10"}, True),
        ({"BANK_HOST": "0.0.0.0", "BANK_API_KEY": "k"}, False),
        ({"BANK_HOST": "0.0.0.0", "BANK_ALLOW_OPEN_REMOTE": "true"}, False),
        ({"BANK_HOST": "::1"}, False),
    ],
)
def test_protected_mode(
    env: dict[str, str], refused: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert (Settings().refusal_to_listen() is not None) == refused
    if refused:
        result = subprocess.run(
            [sys.executable, "main.py"],
            cwd=PROJECT,
            env={**os.environ, "BANK_DATABASE_URL": f"sqlite:///{tmp_path}/x.db", **env},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode != 0
        assert "BANK_API_KEY" in result.stderr and "127.0.0.1" in result.stderr


def test_uvicorn_started_app_refuses_too(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "uvicorn", "main:app", "--port", "0"],
        cwd=PROJECT,
        env={
            **os.environ,
            "BANK_DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
            "BANK_HOST": "0.0.0.0",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "Refusing to listen on 0.0.0.0" in result.stderr


def test_cors_allows_local_pages_only(client: TestClient) -> None:
    preflight = {"Access-Control-Request-Method": "GET"}
    local = client.options("/customers", headers={**preflight, "Origin": "http://localhost:5173"})
    assert local.headers["access-control-allow-origin"] == "http://localhost:5173"
    foreign = client.options("/customers", headers={**preflight, "Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in foreign.headers
    simple = client.get("/customers", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in simple.headers


# --- Observability ---------------------------------------------------------------------------


def test_every_response_carries_a_request_id(client: TestClient) -> None:
    generated = client.get("/customers").headers["X-Request-ID"]
    assert len(generated) == 32
    assert client.get("/customers").headers["X-Request-ID"] != generated
    given = client.get("/health", headers={"X-Request-ID": "trace-42"})
    assert given.headers["X-Request-ID"] == "trace-42"
    error = client.get("/user-portfolio/invalid-oid", headers={"X-Request-ID": "trace-43"})
    assert error.headers["X-Request-ID"] == "trace-43"
    assert error.json()["request_id"] == "trace-43"
    for hostile in ("x" * 500, "a b", "bad\r\nid"[:3] + "<script>"):
        answered = client.get("/health", headers={"X-Request-ID": hostile})
        assert answered.headers["X-Request-ID"] != hostile
        assert len(answered.headers["X-Request-ID"]) == 32


def test_one_access_log_line_per_request_without_names_or_keys(
    keyed: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    bank_log = logging.getLogger("dummy_bank")
    bank_log.addHandler(caplog.handler)  # the bank's logger does not propagate to the root
    with caplog.at_level(logging.INFO, logger="dummy_bank.access"):
        keyed.get(
            "/customers",
            params={"name": "Smith"},
            headers={"Authorization": "Bearer full-secret", "X-Request-ID": "log-1"},
        )
        keyed.post(
            "/register-customer", json={"name": "Secret Name"}, headers={"X-API-Key": "full-secret"}
        )
    bank_log.removeHandler(caplog.handler)
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "dummy_bank.access"]
    assert [line["path"] for line in lines] == ["/customers", "/register-customer"]
    first = lines[0]
    assert first["method"] == "GET" and first["status"] == 200 and first["request_id"] == "log-1"
    assert isinstance(first["duration_ms"], float)
    everything = caplog.text
    for secret in ("Smith", "Secret Name", "full-secret"):
        assert secret not in everything
