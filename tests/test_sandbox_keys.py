"""Who may do what with sandboxes: the sandbox key an agent under test is given, the read key
and the full key, over REST and MCP, with keys configured and without."""

import hashlib
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from core.settings import Settings
from main import create_app
from tests.helpers import JOHN, post_tool_call

FULL = {"X-API-Key": "full-key"}
READ = {"X-API-Key": "read-key"}


@pytest.fixture(params=["keyed", "open"])
def bank(request: pytest.FixtureRequest, database_url: str) -> Iterator[TestClient]:
    """A bank with a full and a read key, and one with no key at all: a sandbox key is held
    to its sandbox in both."""
    keyed = request.param == "keyed"
    settings = Settings(database_url=database_url)
    if keyed:
        settings = Settings(database_url=database_url, api_key="full-key", read_api_key="read-key")
    with TestClient(create_app(settings), headers=FULL if keyed else {}) as test_client:
        yield test_client
        for sandbox in test_client.get("/sandboxes").json():
            test_client.delete(f"/sandboxes/{sandbox['sandbox_id']}")


def create(bank: TestClient) -> tuple[str, str]:
    response = bank.post("/sandboxes", json={"label": "episode"})
    assert response.status_code == 201, response.text
    body = response.json()
    return body["sandbox_id"], body["sandbox_key"]


def as_agent(key: str, **headers: str) -> dict[str, str]:
    """The headers of a client that holds only the sandbox key (the test client's own full
    key is replaced, not added to)."""
    return {"X-API-Key": key, **headers}


def test_creating_a_sandbox_returns_its_key_once_and_stores_only_a_hash(bank: TestClient) -> None:
    sandbox_id, key = create(bank)
    assert key.startswith(f"sbk_{sandbox_id[4:]}_") and len(key) > 60
    shown = bank.get(f"/sandboxes/{sandbox_id}").json()
    assert "sandbox_key" not in shown
    assert all("sandbox_key" not in listed for listed in bank.get("/sandboxes").json())
    engine = bank.app.state.database.engine  # type: ignore[attr-defined]
    with engine.connect() as connection:
        row = connection.execute(
            text("SELECT * FROM sandboxes WHERE sandbox_id = :id"), {"id": sandbox_id}
        ).one()
    assert hashlib.sha256(key.encode()).hexdigest() in row
    assert not any(key in str(value) or key[-20:] in str(value) for value in row)


def test_the_sandbox_key_reads_and_writes_in_its_sandbox_without_the_header(
    bank: TestClient,
) -> None:
    sandbox_id, key = create(bank)
    deleted = bank.delete(f"/customer/{JOHN}", headers=as_agent(key))
    assert deleted.status_code == 200, deleted.text
    exists = bank.get(f"/customer/{JOHN}/exists", headers=as_agent(key))
    assert exists.status_code == 200 and exists.json()["exists"] is False
    named = bank.get(
        f"/customer/{JOHN}/exists", headers=as_agent(key, **{"X-Bank-Sandbox": sandbox_id})
    )
    assert named.status_code == 200 and named.json()["exists"] is False
    # The bank itself and the trace (read by the harness with its own key) saw it so.
    assert bank.get(f"/customer/{JOHN}/exists").json()["exists"] is True
    traced = bank.get(f"/sandboxes/{sandbox_id}/requests").json()["requests"]
    assert [call["method"] for call in traced] == ["DELETE", "GET", "GET"]


def test_the_sandbox_key_calls_mcp_tools_in_its_sandbox(bank: TestClient) -> None:
    sandbox_id, key = create(bank)
    bank.delete(f"/customer/{JOHN}", headers={"X-Bank-Sandbox": sandbox_id})
    response = post_tool_call(bank, "bank_customer_exists", {"customer_oid": JOHN}, as_agent(key))
    assert response.status_code == 200, response.text
    assert response.json()["result"]["structuredContent"]["exists"] is False
    traced = bank.get(f"/sandboxes/{sandbox_id}/requests").json()["requests"]
    assert traced[-1]["tool"] == "bank_customer_exists"


def refusals(bank: TestClient, sandbox_id: str, other_id: str) -> dict[str, tuple[str, str, Any]]:
    """Every call a sandbox key must not make: (method, path, extra headers or body)."""
    plan = {"seed": 1, "rules": []}
    return {
        "list sandboxes": ("GET", "/sandboxes", None),
        "create a sandbox": ("POST", "/sandboxes", {}),
        "read its sandbox": ("GET", f"/sandboxes/{sandbox_id}", None),
        "read its faults and seed": ("GET", f"/sandboxes/{sandbox_id}/faults", None),
        "change its faults": ("PUT", f"/sandboxes/{sandbox_id}/faults", plan),
        "clear its faults": ("DELETE", f"/sandboxes/{sandbox_id}/faults", None),
        "read its trace": ("GET", f"/sandboxes/{sandbox_id}/requests", None),
        "reset it": ("POST", f"/sandboxes/{sandbox_id}/reset", None),
        "delete it": ("DELETE", f"/sandboxes/{sandbox_id}", None),
        "read another sandbox's faults": ("GET", f"/sandboxes/{other_id}/faults", None),
        "fetch the answer key": ("GET", "/eval/questions?count=1", None),
        "grade": ("POST", "/eval/grade", {"answers": []}),
    }


def test_the_sandbox_key_is_refused_everything_but_the_bank_in_its_sandbox(
    bank: TestClient,
) -> None:
    sandbox_id, key = create(bank)
    other_id, _ = create(bank)
    for what, (method, path, body) in refusals(bank, sandbox_id, other_id).items():
        response = bank.request(method, path, json=body, headers=as_agent(key))
        assert response.status_code == 403, (what, response.status_code, response.text)
        assert "sandbox key" in response.json()["detail"], what
    # Another sandbox, named in the header: refused, over REST and MCP alike.
    elsewhere = as_agent(key, **{"X-Bank-Sandbox": other_id})
    response = bank.get("/customers", headers=elsewhere)
    assert response.status_code == 403
    assert response.json()["detail"] == (
        f"This sandbox key acts only in its own sandbox, not in '{other_id}'"
    )
    assert post_tool_call(bank, "bank_find_customers", {}, elsewhere).status_code == 403
    # Still a sandbox there, untouched by the attempt.
    assert bank.get(f"/sandboxes/{sandbox_id}").status_code == 200


def test_a_sandbox_key_never_reaches_the_default_bank(bank: TestClient) -> None:
    sandbox_id, key = create(bank)
    forged = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")
    unknown = "sbk_" + "A" * 20 + key[24:]
    assert bank.delete(f"/sandboxes/{sandbox_id}").status_code == 200
    for offered in (key, forged, unknown):
        for response in (
            bank.get("/customers", headers=as_agent(offered)),
            bank.delete(f"/customer/{JOHN}", headers=as_agent(offered)),
            post_tool_call(bank, "bank_find_customers", {}, as_agent(offered)),
        ):
            assert response.status_code == 401, response.text
            assert response.json()["detail"] == (
                "Invalid sandbox key: its sandbox was deleted, or the key is not one this "
                "bank issued"
            )
    assert bank.get(f"/customer/{JOHN}/exists").json()["exists"] is True


def test_a_wrong_secret_is_refused_in_a_live_sandbox(bank: TestClient) -> None:
    _, key = create(bank)
    forged = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")
    assert bank.get("/customers", headers=as_agent(forged)).status_code == 401
    assert bank.get("/customers", headers=as_agent(key)).status_code == 200


def test_the_read_key_reads_in_a_sandbox_but_sees_no_sandbox_management(
    database_url: str,
) -> None:
    settings = Settings(database_url=database_url, api_key="full-key", read_api_key="read-key")
    with TestClient(create_app(settings), headers=FULL) as bank:
        sandbox_id, _ = create(bank)
        plan = {"seed": 99, "rules": [{"match": "GET /x", "rate": 0.1}]}
        assert bank.put(f"/sandboxes/{sandbox_id}/faults", json=plan).status_code == 200
        inside = {**READ, "X-Bank-Sandbox": sandbox_id}
        assert bank.get("/customers", headers=inside).status_code == 200
        for path in (
            "/sandboxes",
            f"/sandboxes/{sandbox_id}",
            f"/sandboxes/{sandbox_id}/faults",
            f"/sandboxes/{sandbox_id}/requests",
        ):
            response = bank.get(path, headers=READ)
            assert response.status_code == 403, path
            assert set(response.json()) == {"detail", "request_id"}
            assert response.json()["detail"] == (
                "Sandboxes, their faults and their traces need the full API key: "
                "the agent under test must not read them"
            )
        assert bank.get(f"/sandboxes/{sandbox_id}/faults").json()["seed"] == 99
        bank.delete(f"/sandboxes/{sandbox_id}")


def test_the_sandboxes_page_tabulates_each_key_against_each_action() -> None:
    from tests.helpers import PROJECT

    page = (PROJECT / "docs" / "sandboxes.md").read_text()
    header = "| action | full key | read key | sandbox key | no key (keys set) |"
    assert header in page
