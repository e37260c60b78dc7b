"""Who may give instructions where: a sandbox created with ``allow_writes`` takes them from its
own key (REST and MCP), lands them in itself alone and traces them; one created without, the
read key, and an MCP server without writes refuse them and do not offer the write tools."""

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from core.settings import Settings
from main import create_app
from sandboxes.manager import SandboxManager
from tests.bank_book import book
from tests.helpers import JOHN, post_tool_call

FULL = {"X-API-Key": "full-key"}
READ = {"X-API-Key": "read-key"}
WRITE_TOOLS = {"bank_transfer", "bank_pay", "bank_cancel_payment", "bank_order"}
REST_MOVE = {"from_account_id": 1, "to_account_id": 3, "amount": "250.00"}
MOVE: dict[str, object] = {"customer_oid": JOHN, **REST_MOVE}
"""The same transfer as the arguments of the MCP tool."""


@pytest.fixture
def bank(database_url: str) -> Iterator[TestClient]:
    settings = Settings(database_url=database_url, api_key="full-key", read_api_key="read-key")
    with TestClient(create_app(settings), headers=FULL) as test_client:
        yield test_client
        for sandbox in test_client.get("/sandboxes").json():
            test_client.delete(f"/sandboxes/{sandbox['sandbox_id']}")


def sandbox(bank: TestClient, *, allow_writes: bool) -> tuple[str, dict[str, str]]:
    """A new sandbox's id and the headers of an agent that holds only its key."""
    made = bank.post("/sandboxes", json={"allow_writes": allow_writes})
    assert made.status_code == 201, made.text
    assert made.json()["allow_writes"] is allow_writes
    return made.json()["sandbox_id"], {"X-API-Key": made.json()["sandbox_key"]}


def engine_of(bank: TestClient, sandbox_id: str) -> Engine:
    manager: SandboxManager = bank.app.state.sandboxes  # type: ignore[attr-defined]
    return manager.database_for_here(sandbox_id).engine


def main_engine(bank: TestClient) -> Engine:
    engine: Engine = bank.app.state.database.engine  # type: ignore[attr-defined]
    return engine


def tools(bank: TestClient, headers: dict[str, str]) -> set[str]:
    listed = bank.post(
        "/mcp",
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
        headers={**headers, "Accept": "application/json, text/event-stream"},
    )
    assert listed.status_code == 200, listed.text
    return {tool["name"] for tool in listed.json()["result"]["tools"]}


def tool_result(
    bank: TestClient, name: str, arguments: dict[str, Any], headers: dict[str, str]
) -> dict[str, Any]:
    response = post_tool_call(bank, name, arguments, headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()["result"]
    return result


def test_a_sandbox_without_writes_refuses_instructions_and_hides_the_write_tools(
    bank: TestClient,
) -> None:
    sandbox_id, agent = sandbox(bank, allow_writes=False)
    before = book(engine_of(bank, sandbox_id))
    refused = bank.post(f"/customer/{JOHN}/transfers", json=REST_MOVE, headers=agent)
    assert refused.status_code == 403, refused.text
    assert "allow_writes" in refused.json()["detail"]
    cancel = bank.delete(f"/customer/{JOHN}/payments/1", headers=agent)
    assert cancel.status_code == 403
    offered = tools(bank, agent)
    assert not offered & WRITE_TOOLS
    assert {"bank_payees", "bank_instructions"} <= offered
    called = tool_result(bank, "bank_transfer", MOVE, agent)
    assert called["isError"] is True
    assert book(engine_of(bank, sandbox_id)) == before


def test_a_sandbox_with_writes_takes_instructions_from_its_key_and_keeps_them_to_itself(
    bank: TestClient,
) -> None:
    sandbox_id, agent = sandbox(bank, allow_writes=True)
    other_id, _ = sandbox(bank, allow_writes=True)
    bank_before, other_before = book(main_engine(bank)), book(engine_of(bank, other_id))
    assert tools(bank, agent) >= WRITE_TOOLS

    moved = tool_result(bank, "bank_transfer", MOVE | {"idempotency_key": "t-1"}, agent)
    assert moved.get("isError") is not True, moved
    instruction = moved["structuredContent"]
    assert instruction["kind"] == "transfer" and instruction["status"] == "executed"
    retried = tool_result(bank, "bank_transfer", MOVE | {"idempotency_key": "t-1"}, agent)
    assert retried["structuredContent"]["instruction_id"] == instruction["instruction_id"]
    ordered = bank.post(
        f"/customer/{JOHN}/orders",
        json={"side": "buy", "symbol": "AAPL", "quantity": 1},
        headers=agent,
    )
    assert ordered.status_code == 201, ordered.text

    listed = bank.get(f"/customer/{JOHN}/instructions", headers=agent).json()
    assert [i["kind"] for i in listed["instructions"]] == ["order", "transfer"]
    assert book(main_engine(bank)) == bank_before
    assert book(engine_of(bank, other_id)) == other_before
    assert bank.get(f"/customer/{JOHN}/instructions").json()["total"] == 0

    calls = bank.get(f"/sandboxes/{sandbox_id}/requests").json()["requests"]
    transfers = [c for c in calls if c["tool"] == "bank_transfer"]
    assert [c["result_status"] for c in transfers] == ["ok", "ok"]
    assert transfers[0]["arguments"] == MOVE | {"idempotency_key": "t-1"}
    assert any(c["method"] == "POST" and c["path"] == f"/customer/{JOHN}/orders" for c in calls)


def test_a_refusal_over_mcp_names_its_rule_and_changes_nothing(bank: TestClient) -> None:
    sandbox_id, agent = sandbox(bank, allow_writes=True)
    before = book(engine_of(bank, sandbox_id))
    cases = {
        "insufficient_funds": MOVE
        | {"amount": "30000.00", "from_account_id": 3, "to_account_id": 1},
        "same_account": MOVE | {"to_account_id": 1},
    }
    for rule, arguments in cases.items():
        refused = tool_result(bank, "bank_transfer", arguments, agent)
        assert refused["isError"] is True
        assert f"Refused ({rule})" in refused["content"][0]["text"]
    bad_arguments: list[tuple[dict[str, object], str]] = [
        ({"amount": "NaN"}, "amount"),
        ({"amount": True}, "amount"),
        ({"from_account_id": True}, "from_account_id"),
        ({"amount": "1.001"}, "amount"),
    ]
    for bad, named in bad_arguments:
        called = tool_result(bank, "bank_transfer", MOVE | bad, agent)
        assert called["isError"] is True, (bad, called)
        assert named in called["content"][0]["text"], (bad, called)
    sold = tool_result(
        bank,
        "bank_order",
        {"customer_oid": JOHN, "side": "sell", "symbol": "AAPL", "quantity": 1000},
        agent,
    )
    assert "Refused (insufficient_holdings)" in sold["content"][0]["text"]
    assert book(engine_of(bank, sandbox_id)) == before


def test_the_read_key_gives_no_instruction(bank: TestClient) -> None:
    before = book(main_engine(bank))
    refused = bank.post(f"/customer/{JOHN}/transfers", json=REST_MOVE, headers=READ)
    assert refused.status_code == 403, refused.text
    assert not tools(bank, READ) & WRITE_TOOLS
    assert book(main_engine(bank)) == before


def test_the_bank_offers_mcp_write_tools_only_when_told_to(database_url: str) -> None:
    for allowed in (False, True):
        settings = Settings(database_url=database_url, mcp_allow_writes=allowed)
        with TestClient(create_app(settings)) as client:
            assert bool(tools(client, {}) & WRITE_TOOLS) is allowed
            if allowed:
                assert tools(client, {}) >= WRITE_TOOLS
                done = tool_result(client, "bank_transfer", MOVE, {})
                assert done["structuredContent"]["status"] == "executed"
