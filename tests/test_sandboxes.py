"""Sandboxes: isolation from each other and from the bank, reset, limits, expiry, concurrency."""

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from fastapi.testclient import TestClient

from core.settings import Settings
from main import create_app
from tests.helpers import JOHN, PROJECT, post_tool_call

NEW = {"name": "Sandbox Person", "customer_oid": "6f1c2a9e-3b4d-4c5e-8f70-1a2b3c4d5e6f"}


@pytest.fixture
def bank(database_url: str) -> Iterator[TestClient]:
    app = create_app(Settings(database_url=database_url, sandbox_max=3))
    with TestClient(app) as test_client:
        yield test_client
        for sandbox in test_client.get("/sandboxes").json():
            test_client.delete(f"/sandboxes/{sandbox['sandbox_id']}")


def create(bank: TestClient, **body: Any) -> str:
    response = bank.post("/sandboxes", json=body)
    assert response.status_code == 201, response.text
    sandbox_id: str = response.json()["sandbox_id"]
    return sandbox_id


def inside(sandbox_id: str) -> dict[str, str]:
    return {"X-Bank-Sandbox": sandbox_id}


def test_create_answers_201_with_the_sandbox(bank: TestClient) -> None:
    response = bank.post("/sandboxes", json={"label": "episode 1"})
    assert response.status_code == 201
    body = response.json()
    assert re.fullmatch(r"sbx_[A-Z2-7]{20}", body["sandbox_id"])
    assert body["label"] == "episode 1"
    assert (body["seed"], body["customers"]) == (0, 0)
    assert body["expires_at"] > body["created_at"]
    assert body["sandbox_key"].startswith("sbk_")
    # The key is shown once: reading the sandbox never shows it again.
    del body["sandbox_key"]
    assert bank.get(f"/sandboxes/{body['sandbox_id']}").json() == body
    assert [s["sandbox_id"] for s in bank.get("/sandboxes").json()] == [body["sandbox_id"]]


def test_writes_stay_in_their_sandbox(bank: TestClient) -> None:
    first, second = create(bank), create(bank)
    assert bank.post("/register-customer", json=NEW, headers=inside(first)).status_code == 200
    assert len(bank.get("/customers", headers=inside(first)).json()) == 6
    assert len(bank.get("/customers", headers=inside(second)).json()) == 5
    assert len(bank.get("/customers").json()) == 5
    deleted = bank.delete(f"/customer/{JOHN}", headers=inside(second))
    assert deleted.status_code == 200
    assert bank.get(f"/user-portfolio/{JOHN}", headers=inside(second)).status_code == 404
    assert bank.get(f"/user-portfolio/{JOHN}", headers=inside(first)).status_code == 200
    assert bank.get(f"/user-portfolio/{JOHN}").status_code == 200
    # The bank's cache never answers for a sandbox, nor a sandbox's answer for the bank.
    assert bank.get(f"/customer/{JOHN}/exists").json()["exists"] is True
    assert bank.get(f"/customer/{JOHN}/exists", headers=inside(second)).json()["exists"] is False
    assert bank.get(f"/customer/{JOHN}/exists").json()["exists"] is True


def test_synthetic_customers_join_the_samples(bank: TestClient) -> None:
    sandbox_id = create(bank, seed=7, customers=20)
    listed = bank.get("/customers", headers=inside(sandbox_id))
    assert listed.headers["X-Total-Count"] == "25"


def test_reset_puts_back_the_sandbox_as_created(bank: TestClient) -> None:
    sandbox_id = create(bank)
    bank.post("/register-customer", json=NEW, headers=inside(sandbox_id))
    bank.delete(f"/customer/{JOHN}", headers=inside(sandbox_id))
    reset = bank.post(f"/sandboxes/{sandbox_id}/reset")
    assert reset.status_code == 200
    assert reset.json()["reset_at"] >= reset.json()["created_at"]
    names = {c["customer_oid"] for c in bank.get("/customers", headers=inside(sandbox_id)).json()}
    assert JOHN in names and NEW["customer_oid"] not in names


def test_deleted_sandbox_is_404_naming_it(bank: TestClient) -> None:
    sandbox_id = create(bank)
    assert bank.delete(f"/sandboxes/{sandbox_id}").status_code == 200
    for response in (
        bank.get("/customers", headers=inside(sandbox_id)),
        bank.get(f"/sandboxes/{sandbox_id}"),
        bank.delete(f"/sandboxes/{sandbox_id}"),
        bank.post(f"/sandboxes/{sandbox_id}/reset"),
    ):
        assert response.status_code == 404
        assert sandbox_id in response.json()["detail"]


def test_malformed_sandbox_id_is_400(bank: TestClient) -> None:
    for response in (
        bank.get("/customers", headers=inside("sbx_nope")),
        bank.get("/sandboxes/sbx_nope"),
    ):
        assert response.status_code == 400
        assert "Invalid sandbox id 'sbx_nope'" in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"customers": 1001}, "customers"),
        ({"customers": -1}, "customers"),
        ({"seed": "x"}, "seed"),
        ({"label": "x" * 101}, "label"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_creation_is_400_naming_the_field(
    bank: TestClient, body: dict[str, Any], field: str
) -> None:
    response = bank.post("/sandboxes", json=body)
    assert response.status_code == 400
    assert field in response.json()["detail"]


def test_a_full_house_is_429_with_retry_after(bank: TestClient) -> None:
    for _ in range(3):
        create(bank)
    refused = bank.post("/sandboxes", json={})
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert "BANK_SANDBOX_MAX" in refused.json()["detail"]


def test_idle_sandboxes_expire(database_url: str) -> None:
    app = create_app(Settings(database_url=database_url, sandbox_ttl_s=1.0, sandbox_max=1))
    with TestClient(app) as bank:
        sandbox_id = create(bank)
        time.sleep(1.2)
        gone = bank.get("/customers", headers=inside(sandbox_id))
        assert gone.status_code == 404
        assert sandbox_id in gone.json()["detail"]
        # An expired sandbox no longer counts against the limit, and is cleaned away.
        replacement = create(bank)
        assert bank.get("/sandboxes").json()[0]["sandbox_id"] == replacement
        bank.delete(f"/sandboxes/{replacement}")


def test_keys_guard_creating_resetting_and_deleting(database_url: str) -> None:
    settings = Settings(database_url=database_url, api_key="full", read_api_key="read")
    with TestClient(create_app(settings)) as bank:
        read, full = {"X-API-Key": "read"}, {"X-API-Key": "full"}
        assert bank.post("/sandboxes", json={}, headers=read).status_code == 403
        assert bank.post("/sandboxes", json={}).status_code == 401
        sandbox_id = bank.post("/sandboxes", json={}, headers=full).json()["sandbox_id"]
        assert bank.get("/customers", headers={**read, **inside(sandbox_id)}).status_code == 200
        assert bank.post(f"/sandboxes/{sandbox_id}/reset", headers=read).status_code == 403
        assert bank.delete(f"/sandboxes/{sandbox_id}", headers=read).status_code == 403
        assert bank.delete(f"/sandboxes/{sandbox_id}", headers=full).status_code == 200


def test_mcp_over_http_acts_on_the_sandbox(bank: TestClient) -> None:
    sandbox_id = create(bank)
    bank.delete(f"/customer/{JOHN}", headers=inside(sandbox_id))

    def exists(headers: dict[str, str]) -> str:
        response = post_tool_call(bank, "bank_customer_exists", {"customer_oid": JOHN}, headers)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()["result"]
        return str(result["structuredContent"]["exists"])

    assert exists(inside(sandbox_id)) == "False"
    assert exists({}) == "True"


@pytest.mark.slow
def test_concurrent_resets_and_requests_never_fail(bank: TestClient) -> None:
    sandbox_id = create(bank)

    def read(_: int) -> int:
        answer = bank.get(f"/user-portfolio/{JOHN}", headers=inside(sandbox_id))
        if answer.status_code == 200:
            # Whole: never a half-copied bank.
            assert answer.json()["portfolio_summary"]["has_data"]["assets"]
        if answer.status_code == 503:
            assert "Retry-After" in answer.headers
        return answer.status_code

    def reset(_: int) -> int:
        return bank.post(f"/sandboxes/{sandbox_id}/reset").status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda n: read(n) if n % 3 else reset(n), range(30)))
        # A busy machine may refuse a read at once with 503 (see "Overload"); never a 500.
        assert set(statuses) <= {200, 503}, statuses
        assert statuses.count(200) >= 20, statuses
        # Deleting while requests run ends them with 404, never a 500.
        racing = [pool.submit(read, n) for n in range(10)]
        assert bank.delete(f"/sandboxes/{sandbox_id}").status_code == 200
        assert {future.result() for future in racing} <= {200, 404}
    assert read(0) == 404


@pytest.mark.anyio
async def test_stdio_server_serves_the_sandbox_of_its_setting(
    bank: TestClient, database_url: str, tmp_path: Path
) -> None:
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    sandbox_id = create(bank)
    bank.delete(f"/customer/{JOHN}", headers=inside(sandbox_id))
    parameters = StdioServerParameters(
        command=str(PROJECT / ".venv" / "bin" / "python"),
        args=[str(PROJECT / "mcp_server.py")],
        env={"BANK_DATABASE_URL": database_url, "BANK_SANDBOX": sandbox_id},
        cwd=str(tmp_path),
    )
    async with stdio_client(parameters) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        result = await session.call_tool("bank_customer_exists", {"customer_oid": JOHN})
        assert result.structured_content is not None
        assert result.structured_content["exists"] is False


def sandboxes_page_fixture() -> str:
    text = (PROJECT / "docs" / "sandboxes.md").read_text()
    found = re.search(r"<!-- sandbox-fixture -->\n```python\n(.*?)```", text, re.DOTALL)
    assert found is not None, "the sandboxes page lost its sandbox fixture"
    return found.group(1)


def test_the_sandboxes_page_fixture_runs_as_written(live_server: str, tmp_path: Path) -> None:
    """Another project's suite: the sandboxes page's fixture verbatim, the bank's address aside."""
    fixture = sandboxes_page_fixture()
    assert 'BANK = "http://127.0.0.1:3000"' in fixture
    fixture = fixture.replace('"http://127.0.0.1:3000"', repr(live_server))
    (tmp_path / "conftest.py").write_text(fixture)
    (tmp_path / "test_episode.py").write_text(
        "from conftest import BANK\n\n\n"
        "def test_a_write(bank):\n"
        f"    assert bank.delete(f'{{BANK}}/customer/{JOHN}').status_code == 200\n"
        "    assert len(bank.get(f'{BANK}/customers').json()) == 4\n\n\n"
        "def test_the_next_test_starts_clean(bank):\n"
        "    assert len(bank.get(f'{BANK}/customers').json()) == 5\n"
    )
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "2 passed" in run.stdout
    # Each test's sandbox was deleted after it; the bank itself was never touched.
    assert requests.get(f"{live_server}/sandboxes", timeout=10).json() == []
    assert len(requests.get(f"{live_server}/customers", timeout=10).json()) == 5


PORTFOLIO_FAULT = {"match": "GET /user-portfolio/*", "rate": 0.5, "status": 503, "retry_after_s": 2}


def portfolio_statuses(bank: TestClient, sandbox_id: str, count: int) -> list[int]:
    return [
        bank.get(f"/user-portfolio/{JOHN}", headers=inside(sandbox_id)).status_code
        for _ in range(count)
    ]


def test_faults_are_deterministic_and_restart_at_reset(bank: TestClient) -> None:
    first, second = create(bank), create(bank)
    plan = {"seed": 7, "rules": [PORTFOLIO_FAULT]}
    for sandbox_id in (first, second):
        assert bank.put(f"/sandboxes/{sandbox_id}/faults", json=plan).status_code == 200
    sequence = portfolio_statuses(bank, first, 16)
    assert set(sequence) == {200, 503}
    assert portfolio_statuses(bank, second, 16) == sequence
    bank.post(f"/sandboxes/{first}/reset")
    assert portfolio_statuses(bank, first, 16) == sequence
    # Other routes and the bank itself are untouched.
    assert bank.get("/customers", headers=inside(first)).status_code == 200
    assert bank.get(f"/user-portfolio/{JOHN}").status_code == 200
    shown = bank.get(f"/sandboxes/{first}/faults").json()
    assert shown["seed"] == 7
    assert shown["rules"][0]["fired"] == sequence.count(503)
    assert bank.delete(f"/sandboxes/{first}/faults").json() == {"seed": 0, "rules": []}
    assert set(portfolio_statuses(bank, first, 8)) == {200}


def test_an_injected_fault_answers_like_the_bank(bank: TestClient) -> None:
    sandbox_id = create(bank)
    rule = {**PORTFOLIO_FAULT, "rate": 1.0}
    bank.put(f"/sandboxes/{sandbox_id}/faults", json={"rules": [rule]})
    failed = bank.get(f"/user-portfolio/{JOHN}", headers=inside(sandbox_id))
    assert failed.status_code == 503
    assert failed.headers["Retry-After"] == "2"
    assert failed.headers["X-Bank-Fault"] == "0 GET /user-portfolio/*"
    assert failed.json()["detail"] == (
        "Injected fault: rule 0 ('GET /user-portfolio/*') answered 503"
    )


def test_an_mcp_tool_call_fails_as_a_tool_error(bank: TestClient) -> None:
    sandbox_id = create(bank)
    rule = {"match": "mcp bank_customer_exists", "rate": 1.0, "status": 500}
    bank.put(f"/sandboxes/{sandbox_id}/faults", json={"rules": [rule]})
    arguments = {"customer_oid": JOHN}
    response = post_tool_call(bank, "bank_customer_exists", arguments, inside(sandbox_id))
    result = response.json()["result"]
    assert result["isError"] is True
    assert result["content"][0]["text"] == (
        "Injected fault: rule 0 ('mcp bank_customer_exists') answered 500"
    )
    assert response.headers["X-Bank-Fault"] == "0 mcp bank_customer_exists"
    traced = bank.get(f"/sandboxes/{sandbox_id}/requests").json()["requests"]
    assert traced[-1]["tool"] == "bank_customer_exists"
    assert traced[-1]["arguments"] == {"customer_oid": JOHN}
    assert traced[-1]["fault"] == "0 mcp bank_customer_exists"


@pytest.mark.parametrize(
    ("rules", "field"),
    [
        ([{"match": "GET /x", "rate": 1.5}], "rules.0.rate"),
        ([{"match": "GET /x", "rate": 0.5, "status": 404}], "rules.0.status"),
        ([{"match": "FETCH /x", "rate": 0.5}], "rules.0.match"),
        ([{"match": "GET /x", "rate": 0.5, "colour": 1}], "colour"),
        ([{"match": "GET /x", "rate": 0.5}] * 21, "rules"),
    ],
)
def test_bad_fault_rules_are_400_naming_the_field(
    bank: TestClient, rules: list[dict[str, Any]], field: str
) -> None:
    sandbox_id = create(bank)
    response = bank.put(f"/sandboxes/{sandbox_id}/faults", json={"rules": rules})
    assert response.status_code == 400
    assert field in response.json()["detail"]


def test_the_trace_lists_calls_oldest_first_in_pages(bank: TestClient) -> None:
    sandbox_id = create(bank)
    bank.get("/customers?limit=2", headers=inside(sandbox_id))
    bank.post("/register-customer", json=NEW, headers=inside(sandbox_id))
    bank.get(f"/user-portfolio/{JOHN}", headers=inside(sandbox_id))
    bank.get("/customers")  # the bank's own calls are not a sandbox's
    page = bank.get(f"/sandboxes/{sandbox_id}/requests?limit=2").json()
    assert [(c["number"], c["method"], c["path"], c["status"]) for c in page["requests"]] == [
        (1, "GET", "/customers?limit=2", 200),
        (2, "POST", "/register-customer", 200),
    ]
    assert all(c["latency_ms"] >= 0 and c["fault"] is None for c in page["requests"])
    rest = bank.get(f"/sandboxes/{sandbox_id}/requests?cursor={page['next_cursor']}").json()
    assert [c["path"] for c in rest["requests"]] == [f"/user-portfolio/{JOHN}"]
    assert rest["next_cursor"] is None
    bank.post(f"/sandboxes/{sandbox_id}/reset")
    assert bank.get(f"/sandboxes/{sandbox_id}/requests").json()["requests"] == []
    assert bank.get(f"/sandboxes/{sandbox_id}/requests?cursor=x").status_code == 400


@pytest.mark.slow
def test_a_hundred_sandboxes_live_at_once(database_url: str) -> None:
    app = create_app(Settings(database_url=database_url, sandbox_max=100))
    with TestClient(app) as bank:
        made = [create(bank, label=str(n)) for n in range(100)]
        try:
            for n, sandbox_id in enumerate(made):
                if n % 2:
                    bank.delete(f"/customer/{JOHN}", headers=inside(sandbox_id))
            # Each keeps its own state, though a worker keeps only a few open at a time.
            for n, sandbox_id in enumerate(made):
                exists = bank.get(f"/customer/{JOHN}/exists", headers=inside(sandbox_id))
                assert exists.status_code == 200
                assert exists.json()["exists"] is (n % 2 == 0)
            refused = bank.post("/sandboxes", json={})
            assert refused.status_code == 429
            assert "Retry-After" in refused.headers
        finally:
            for sandbox_id in made:
                bank.delete(f"/sandboxes/{sandbox_id}")


def test_the_trace_names_each_mcp_call_its_arguments_and_result(bank: TestClient) -> None:
    sandbox_id = create(bank)
    rule = {"match": "mcp bank_holdings", "rate": 1.0, "status": 503}
    bank.put(f"/sandboxes/{sandbox_id}/faults", json={"rules": [rule]})
    here = inside(sandbox_id)
    listed = bank.post(
        "/mcp",
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
        headers={**here, "Accept": "application/json, text/event-stream"},
    )
    assert listed.status_code == 200
    post_tool_call(bank, "bank_customer_exists", {"customer_oid": JOHN}, here)
    post_tool_call(bank, "bank_customer_exists", {"customer_oid": "nope"}, here)
    post_tool_call(bank, "bank_holdings", {"customer_oid": JOHN}, here)
    post_tool_call(bank, "bank_find_customers", {"name": "x" * 5000}, here)
    calls = bank.get(f"/sandboxes/{sandbox_id}/requests").json()["requests"]
    shown = [
        (c["mcp_method"], c["tool"], c["result_status"], c["fault"], c["status"]) for c in calls
    ]
    assert shown == [
        ("tools/list", None, "ok", None, 200),
        ("tools/call", "bank_customer_exists", "ok", None, 200),
        ("tools/call", "bank_customer_exists", "error", None, 200),
        ("tools/call", "bank_holdings", "error", "0 mcp bank_holdings", 200),
        ("tools/call", "bank_find_customers", "error", None, 200),
    ]
    assert calls[1]["arguments"] == {"customer_oid": JOHN}
    assert calls[2]["arguments"] == {"customer_oid": "nope"}
    # Arguments are kept to a bound: the start of their JSON, marked as cut.
    assert set(calls[4]["arguments"]) == {"truncated"}
    assert calls[4]["arguments"]["truncated"].startswith('{"name": "xxx')
    assert len(calls[4]["arguments"]["truncated"]) == 2000
    # A REST call is no MCP call.
    bank.get("/customers", headers=here)
    last = bank.get(f"/sandboxes/{sandbox_id}/requests").json()["requests"][-1]
    assert (last["mcp_method"], last["tool"], last["result_status"]) == (None, None, None)


@pytest.mark.anyio
async def test_an_mcp_client_over_http_is_traced_call_by_call(live_server: str) -> None:
    import httpx2
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    created = requests.post(f"{live_server}/sandboxes", json={}, timeout=60).json()
    sandbox_id = created["sandbox_id"]
    agent = {"Authorization": f"Bearer {created['sandbox_key']}"}
    try:
        async with (
            httpx2.AsyncClient(headers=agent, timeout=60) as http,
            streamable_http_client(f"{live_server}/mcp", http_client=http) as streams,
            ClientSession(*streams[:2]) as session,
        ):
            await session.initialize()
            found = await session.call_tool("bank_customer_exists", {"customer_oid": JOHN})
            refused = await session.call_tool("bank_customer_exists", {"customer_oid": "no"})
        assert not found.is_error and refused.is_error
        calls = requests.get(f"{live_server}/sandboxes/{sandbox_id}/requests", timeout=10).json()
        tool_calls = [c for c in calls["requests"] if c["mcp_method"] == "tools/call"]
        assert [(c["tool"], c["arguments"], c["result_status"]) for c in tool_calls] == [
            ("bank_customer_exists", {"customer_oid": JOHN}, "ok"),
            ("bank_customer_exists", {"customer_oid": "no"}, "error"),
        ]
        assert calls["requests"][0]["mcp_method"] == "initialize"
    finally:
        requests.delete(f"{live_server}/sandboxes/{sandbox_id}", timeout=30)


EPISODE_RULES = [
    {"match": "GET /user-portfolio/*", "rate": 0.5, "status": 503},
    {"match": "mcp bank_customer_exists", "rate": 0.5, "status": 500},
    {"match": "GET /customer/*/exists", "rate": 0.4, "status": 502},
]


def episode(bank: TestClient, sandbox_id: str, between: Any = None) -> list[tuple[int, str]]:
    """The same 30 calls in the same order; ``between(n)`` runs after the n-th call."""
    outcomes = []
    for n in range(30):
        if n % 3 == 0:
            response = bank.get(f"/user-portfolio/{JOHN}", headers=inside(sandbox_id))
        elif n % 3 == 1:
            response = post_tool_call(
                bank, "bank_customer_exists", {"customer_oid": JOHN}, inside(sandbox_id)
            )
        else:
            response = bank.get(f"/customer/{JOHN}/exists", headers=inside(sandbox_id))
        outcomes.append((response.status_code, response.headers.get("X-Bank-Fault", "")))
        if between is not None:
            between(n)
    return outcomes


def test_the_same_requests_meet_the_same_faults_whatever_else_runs(bank: TestClient) -> None:
    sandbox_id, busy_id = create(bank), create(bank)
    plan = {"seed": 11, "rules": EPISODE_RULES}
    assert bank.put(f"/sandboxes/{sandbox_id}/faults", json=plan).status_code == 200
    quiet = episode(bank, sandbox_id)
    assert {fault for _, fault in quiet} > {""}
    fired = [rule["fired"] for rule in bank.get(f"/sandboxes/{sandbox_id}/faults").json()["rules"]]
    assert sum(fired) == sum(1 for _, fault in quiet if fault)

    # Again from a reset, while other calls run in the same sandbox, in another one and in
    # the bank: between the episode's calls, and at the same time on other threads.
    bank.post(f"/sandboxes/{sandbox_id}/reset")
    stop = False

    def other_calls(_: int) -> None:
        bank.get("/customers", headers=inside(sandbox_id))
        bank.get("/market-data?symbols=AAPL", headers=inside(sandbox_id))
        post_tool_call(bank, "bank_find_customers", {"name": "Jane"}, inside(sandbox_id))

    def load(where: dict[str, str]) -> int:
        done = 0
        while not stop:
            bank.get("/customers", headers=where)
            post_tool_call(bank, "bank_find_customers", {"name": "Doe"}, where)
            done += 1
        return done

    with ThreadPoolExecutor(3) as pool:
        running = [pool.submit(load, where) for where in (inside(sandbox_id), inside(busy_id), {})]
        try:
            busy = episode(bank, sandbox_id, other_calls)
        finally:
            stop = True
        assert all(future.result() >= 0 for future in running)
    assert busy == quiet
    again = [rule["fired"] for rule in bank.get(f"/sandboxes/{sandbox_id}/faults").json()["rules"]]
    assert again == fired
