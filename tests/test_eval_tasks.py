"""Task sets: every kind carried out over MCP scores full marks, doing nothing scores only the
refusals, doing everything twice is caught as collateral; the sets are the harness's alone,
graded only where they were drawn, and the answer key follows what the agent did."""

import asyncio
import re
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import requests
from fastapi.testclient import TestClient

from core.settings import Settings
from evals.key import question_id
from evals.kinds import KINDS
from evals.tasks import scripted_agent
from evals.tasks.draw import set_id
from evals.tasks.kinds import TASK_KINDS
from evals.tasks.schemas import TASK_DIFFICULTIES
from main import create_app
from tests.helpers import JOHN, PROJECT, post_tool_call

Body = dict[str, Any]
SYNTHETIC = {"customers": 30, "seed": 11, "allow_writes": True}
ALL_KINDS = 2 * len(TASK_KINDS)


@pytest.fixture
def bank(database_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        yield client
        for sandbox in client.get("/sandboxes").json():
            client.delete(f"/sandboxes/{sandbox['sandbox_id']}")


def create_sandbox(bank: TestClient, **options: Any) -> tuple[dict[str, str], str]:
    """The harness's header for a new sandbox, and the agent's key to it."""
    created = bank.post("/sandboxes", json={**SYNTHETIC, **options})
    assert created.status_code == 201, created.text
    return {"X-Bank-Sandbox": created.json()["sandbox_id"]}, created.json()["sandbox_key"]


@pytest.fixture
def sandbox(bank: TestClient) -> tuple[dict[str, str], str]:
    return create_sandbox(bank)


def fetch_tasks(bank: TestClient, headers: dict[str, str], **query: Any) -> Body:
    response = bank.get("/eval/tasks", params=query, headers=headers)
    assert response.status_code == 200, response.text
    found: Body = response.json()
    return found


def grade(bank: TestClient, headers: dict[str, str], **body: Any) -> Body:
    response = bank.post("/eval/tasks/grade", json=body, headers=headers)
    assert response.status_code == 200, response.text
    graded: Body = response.json()
    return graded


def act(
    bank: TestClient, key: str, task_set: Body, behaviour: scripted_agent.Behaviour
) -> list[scripted_agent.Outcome]:
    """The stand-in agent carries out every task over MCP with the sandbox's own key."""

    async def call_tool(name: str, arguments: dict[str, Any]) -> tuple[bool, Any]:
        response = post_tool_call(bank, name, arguments, {"Authorization": f"Bearer {key}"})
        assert response.status_code == 200, response.text
        result = response.json()["result"]
        if result.get("isError"):
            return True, result["content"][0]["text"]
        return False, result["structuredContent"]

    return [
        asyncio.run(scripted_agent.carry_out(call_tool, task, behaviour))
        for task in task_set["tasks"]
    ]


def test_every_kind_carried_out_over_mcp_scores_full_marks(
    bank: TestClient, sandbox: tuple[dict[str, str], str]
) -> None:
    harness, key = sandbox
    task_set = fetch_tasks(bank, harness, count=ALL_KINDS, seed=4)
    assert {t["kind"] for t in task_set["tasks"]} == set(TASK_KINDS)
    assert {t["difficulty"] for t in task_set["tasks"]} == set(TASK_DIFFICULTIES)
    outcomes = act(bank, key, task_set, "gold")
    refused = {t["task_id"] for t in task_set["tasks"] if t["expected"]["outcome"] == "unchanged"}
    for outcome in outcomes:
        # Calls the bank refuses are made for the tasks to refuse, and only for them.
        assert any(call.refused for call in outcome.calls) <= (outcome.task_id in refused)
    graded = grade(bank, harness, task_set_id=task_set["task_set_id"])
    assert [r for r in graded["results"] if not r["passed"]] == []
    assert graded["collateral"] == [] and graded["collateral_changes"] == 0
    assert graded["total"] == {
        "tasks": task_set["count"],
        "passed": task_set["count"],
        "score": 1.0,
    }
    assert set(graded["by_kind"]) == set(TASK_KINDS)


def test_an_agent_that_does_nothing_scores_only_the_refusals(
    bank: TestClient, sandbox: tuple[dict[str, str], str]
) -> None:
    harness, key = sandbox
    task_set = fetch_tasks(bank, harness, count=ALL_KINDS, seed=5)
    act(bank, key, task_set, "idle")
    graded = grade(bank, harness, task_set_id=task_set["task_set_id"])
    refusals = [t for t in task_set["tasks"] if t["difficulty"] == "refusal"]
    assert refusals and len(refusals) < task_set["count"]
    assert graded["total"]["passed"] == len(refusals)
    assert graded["by_difficulty"]["refusal"]["score"] == 1.0
    passed = {r["task_id"] for r in graded["results"] if r["passed"]}
    assert passed == {t["task_id"] for t in refusals}
    assert all(r["reason"] for r in graded["results"] if not r["passed"])
    assert graded["collateral_changes"] == 0


def test_an_agent_that_does_everything_twice_is_caught_by_the_collateral_check(
    bank: TestClient, sandbox: tuple[dict[str, str], str]
) -> None:
    harness, key = sandbox
    task_set = fetch_tasks(bank, harness, count=ALL_KINDS, seed=4)
    outcomes = {o.task_id: o for o in act(bank, key, task_set, "twice")}
    graded = grade(bank, harness, task_set_id=task_set["task_set_id"])
    by_id = {r["task_id"]: r for r in graded["results"]}
    # An option closed once cannot be closed again: the bank refuses the second try.
    for task in task_set["tasks"]:
        if task["kind"] == "close_option":
            first, second = outcomes[task["task_id"]].calls
            assert not first.refused and "position_not_open" in second.said
            assert by_id[task["task_id"]]["passed"]
    repeated = {
        t["task_id"]
        for t in task_set["tasks"]
        if any(m["times"] for m in t["expected"]["instructions"]) and t["kind"] != "close_option"
    }
    assert repeated
    for task_id in repeated:
        result = by_id[task_id]
        assert not result["passed"], result
        assert any("repeats" in said for said in result["collateral"]), result
    assert graded["collateral_changes"] >= len(repeated)
    assert all(
        any("repeats" in c["what"] for c in graded["collateral"] if c["customer_oid"] == oid)
        for oid in {by_id[t]["customer_oid"] for t in repeated}
    )
    # Refused twice is still refused: those tasks pass (unless their customer's other task
    # left collateral), and cancelling twice cancels once.
    refusals = [r for r in graded["results"] if r["difficulty"] == "refusal"]
    assert all(r["done"] for r in refusals)
    assert all(r["done"] for r in graded["results"] if r["kind"] == "cancel_payment")
    assert graded["total"]["score"] < 1


def test_changes_no_task_asked_for_are_collateral_naming_whose(
    bank: TestClient, sandbox: tuple[dict[str, str], str]
) -> None:
    harness, key = sandbox
    task_set = fetch_tasks(bank, harness, count=8, seed=2, kinds="buy_more,transfer,refuse_funds")
    act(bank, key, task_set, "gold")
    assert grade(bank, harness, task_set_id=task_set["task_set_id"])["collateral_changes"] == 0
    concerned = {t["customer_oid"] for t in task_set["tasks"]}

    # Another customer's money moves: collateral, naming whose, and no task fails for it.
    customers = bank.get("/customers?limit=100", headers=harness).json()
    bystander, (source, target) = next(
        (c["customer_oid"], found[:2])
        for c in customers
        if c["customer_oid"] not in concerned
        and len(found := own_accounts(bank, harness, c["customer_oid"])) >= 2
    )
    moved = bank.post(
        f"/customer/{bystander}/transfers",
        json={"from_account_id": source["id"], "to_account_id": target["id"], "amount": "1.00"},
        headers=harness,
    )
    assert moved.status_code == 201, moved.text
    graded = grade(bank, harness, task_set_id=task_set["task_set_id"])
    said = {(c["customer_oid"], c["what"]) for c in graded["collateral"]}
    for account, change in ((source, -1), (target, 1)):
        moved_by = (
            f"account {account['id']}: {account['balance']:,.2f} before, "
            f"{account['balance'] + change:,.2f} now"
        )
        assert (bystander, moved_by) in said, said
    assert (bystander, "instructions: none before, 1 executed now") in said
    assert (bystander, "2 statement rows booked") in said
    assert graded["total"]["passed"] == task_set["count"]

    # Another account of a task's customer: the customer's tasks are done but do not pass.
    task, account, payee = next(
        (task, account, payee)
        for task in task_set["tasks"]
        for account in own_accounts(bank, harness, task["customer_oid"])
        if str(account["id"]) in task["expected"]["untouched"]["accounts"]
        and account["account_type"] == "checking"
        for payee in bank.get(f"/customer/{task['customer_oid']}/payees", headers=harness).json()[
            "payees"
        ][:1]
        if payee["currency"] == account["currency"]
    )
    paid = bank.post(
        f"/customer/{task['customer_oid']}/payments",
        json={
            "from_account_id": account["id"],
            "amount": "1.00",
            "payee": {k: payee[k] for k in ("name", "iban", "account_number", "routing_number")
                      if payee[k]},
        },
        headers=harness,
    )  # fmt: skip
    assert paid.status_code == 201, paid.text
    graded = grade(bank, harness, task_set_id=task_set["task_set_id"])
    for result in graded["results"]:
        if result["customer_oid"] == task["customer_oid"]:
            assert result["done"] and not result["passed"], result
            assert any(said.startswith(f"account {account['id']}: ")
                       for said in result["collateral"])  # fmt: skip
            assert any(said.startswith(f"payment {paid.json()['instruction_id']} (")
                       and said.endswith("no task asked for it")
                       for said in result["collateral"])  # fmt: skip
        else:
            assert result["passed"], result


def own_accounts(bank: TestClient, headers: dict[str, str], oid: str) -> list[Body]:
    """The customer's open checking, savings and brokerage accounts in the currency of the
    first, with more than a few units in them."""
    accounts = bank.get(f"/customer/{oid}/accounts", headers=headers).json()["bank_accounts"]
    usable = [a for a in accounts if a["account_type"] in ("checking", "savings", "brokerage")]
    if not usable:
        return []
    currency = usable[0]["currency"]
    return [a for a in usable if a["currency"] == currency and a["balance"] > 10]


def test_the_answer_key_follows_what_the_agent_did(
    bank: TestClient, sandbox: tuple[dict[str, str], str]
) -> None:
    harness, key = sandbox
    task_set = fetch_tasks(bank, harness, count=4, seed=3, kinds="buy_more,sell_to_weight")
    changed = [(t["customer_oid"], h) for t in task_set["tasks"] for h in t["expected"]["holdings"]]
    assert changed

    def asked(oid: str, symbol: str) -> str:
        return question_id(KINDS["holding_quantity"], {"c": oid, "s": symbol})

    def verdicts(answer: str) -> list[bool]:
        answers = [{"question_id": asked(oid, h["symbol"]), "answer": h[answer]}
                   for oid, h in changed]  # fmt: skip
        response = bank.post("/eval/grade", json={"answers": answers}, headers=harness)
        assert response.status_code == 200, response.text
        return [r["correct"] for r in response.json()["results"]]

    assert verdicts("quantity_before") == [True] * len(changed)
    act(bank, key, task_set, "gold")
    assert verdicts("quantity_after") == [True] * len(changed)
    assert verdicts("quantity_before") == [False] * len(changed)


def test_the_same_seed_draws_the_same_tasks(
    bank: TestClient, sandbox: tuple[dict[str, str], str]
) -> None:
    harness, _ = sandbox
    first = fetch_tasks(bank, harness, count=ALL_KINDS, seed=7)
    again = fetch_tasks(bank, harness, count=ALL_KINDS, seed=7)
    other = fetch_tasks(bank, harness, count=ALL_KINDS, seed=8)

    def drawn(task_set: Body) -> list[Body]:
        return [{k: v for k, v in t.items() if k != "task_id"} for t in task_set["tasks"]]

    # The second set finds the payments the first scheduled for its cancelling tasks.
    assert first["setup"] and not again["setup"]
    assert drawn(first) == drawn(again)
    assert drawn(first) != drawn(other)
    assert first["task_set_id"] != again["task_set_id"]
    assert len({t["task_id"] for t in first["tasks"] + again["tasks"]}) == 2 * first["count"]


def test_the_setup_is_in_the_baseline(
    bank: TestClient, sandbox: tuple[dict[str, str], str]
) -> None:
    harness, _ = sandbox
    task_set = fetch_tasks(bank, harness, count=3, seed=1, kinds="cancel_payment")
    assert task_set["count"] == len(task_set["setup"]) == 3
    made = {step["instruction_id"]: step["customer_oid"] for step in task_set["setup"]}
    for task in task_set["tasks"]:
        (status,) = task["expected"]["statuses"]
        assert (status["item"], status["before"], status["after"]) == (
            "instruction", "scheduled", "cancelled",
        )  # fmt: skip
        assert made[status["id"]] == task["customer_oid"]
        listed = bank.get(
            f"/customer/{task['customer_oid']}/payments?status=scheduled", headers=harness
        ).json()["instructions"]
        assert status["id"] in [p["instruction_id"] for p in listed]
    graded = grade(bank, harness, task_set_id=task_set["task_set_id"])
    assert graded["collateral_changes"] == 0  # the setup is in the baseline: no change


def test_some_tasks_of_a_set_can_be_graded_alone(
    bank: TestClient, sandbox: tuple[dict[str, str], str]
) -> None:
    harness, _ = sandbox
    task_set = fetch_tasks(bank, harness, count=6, seed=6)
    first, second = task_set["tasks"][:2]
    graded = grade(bank, harness, task_ids=[second["task_id"], first["task_id"], first["task_id"]])
    assert [r["task_id"] for r in graded["results"]] == [first["task_id"], second["task_id"]]
    assert graded["total"]["tasks"] == 2


def test_the_agents_key_cannot_fetch_or_grade_tasks(
    bank: TestClient, sandbox: tuple[dict[str, str], str]
) -> None:
    harness, key = sandbox
    task_set = fetch_tasks(bank, harness, count=2)
    agent = {"Authorization": f"Bearer {key}"}
    for response in (
        bank.get("/eval/tasks", headers=agent),
        bank.post("/eval/tasks/grade", json={"task_set_id": task_set["task_set_id"]},
                  headers=agent),
    ):  # fmt: skip
        assert response.status_code == 403, response.text
        assert "sandbox key" in response.json()["detail"]


def test_a_read_key_cannot_fetch_or_grade_tasks(database_url: str) -> None:
    settings = Settings(database_url=database_url, api_key="full-key", read_api_key="read-key")
    with TestClient(create_app(settings)) as bank:
        read = {"X-API-Key": "read-key"}
        assert bank.get("/eval/tasks", headers=read).status_code == 403
        body = {"task_set_id": "tasks.x"}
        assert bank.post("/eval/tasks/grade", json=body, headers=read).status_code == 403


def test_a_set_is_graded_only_where_it_was_drawn(
    bank: TestClient, sandbox: tuple[dict[str, str], str]
) -> None:
    harness, _ = sandbox
    elsewhere, _ = create_sandbox(bank)
    task_set = fetch_tasks(bank, harness, count=2)
    drawn_in = harness["X-Bank-Sandbox"]
    for headers in (elsewhere, {}):
        for body, field in (
            ({"task_set_id": task_set["task_set_id"]}, "task_set_id"),
            ({"task_ids": [task_set["tasks"][0]["task_id"]]}, "task_ids[0]"),
        ):
            response = bank.post("/eval/tasks/grade", json=body, headers=headers)
            assert response.status_code == 404, response.text
            assert response.json()["detail"] == (
                f"{field}: drawn in sandbox {drawn_in}, not here: grade it there"
            )
    # A reset clears the sets drawn in the sandbox.
    assert bank.post(f"/sandboxes/{drawn_in}/reset").status_code == 200
    response = bank.post(
        "/eval/tasks/grade", json={"task_set_id": task_set["task_set_id"]}, headers=harness
    )
    assert response.status_code == 404
    assert response.json()["detail"].startswith("task_set_id: no such task set here")


def test_the_sample_bank_draws_no_tasks(bank: TestClient) -> None:
    # Drawing applies a setup (a scheduled payment): the sample bank is not the place.
    response = bank.get("/eval/tasks", params={"count": 3})
    assert response.status_code == 409
    assert "sandbox" in response.json()["detail"]
    assert bank.get(f"/customer/{JOHN}/instructions").json()["total"] == 0


def test_tasks_are_carried_out_over_rest_too(
    bank: TestClient, sandbox: tuple[dict[str, str], str]
) -> None:
    harness, _ = sandbox
    task_set = fetch_tasks(bank, harness, count=8, seed=2)
    assert task_set["count"] >= 4
    for task in task_set["tasks"]:
        for call in task["gold_calls"]:
            response = bank.request(
                call["method"], call["path"], json=call["body"], headers=harness
            )
            wanted = 422 if call["refused_by"] else (200 if call["method"] == "DELETE" else 201)
            assert response.status_code == wanted, response.text
            if call["refused_by"]:
                assert response.json()["rule"] == call["refused_by"]
    graded = grade(bank, harness, task_set_id=task_set["task_set_id"])
    assert graded["total"]["score"] == 1.0 and graded["collateral_changes"] == 0


def test_a_sandbox_without_writes_gets_no_tasks(bank: TestClient) -> None:
    harness, _ = create_sandbox(bank, allow_writes=False)
    response = bank.get("/eval/tasks", headers=harness)
    assert response.status_code == 409
    assert "allow_writes" in response.json()["detail"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("count=0", "count"),
        ("count=101", "count"),
        ("count=many", "count"),
        ("seed=-1", "seed"),
        ("kinds=transfer,heist", "kinds"),
        ("difficulty=hard", "difficulty"),
        ("difficulty=lookup", "difficulty"),
    ],
)
def test_bad_task_requests_are_400_naming_the_field(
    client: TestClient, query: str, field: str
) -> None:
    response = client.get(f"/eval/tasks?{query}")
    assert response.status_code == 400, response.text
    assert field in response.json()["detail"]


def test_bad_grade_requests_are_4xx_naming_the_field(
    bank: TestClient, sandbox: tuple[dict[str, str], str]
) -> None:
    harness, _ = sandbox
    task_set = fetch_tasks(bank, harness, count=2, seed=1)
    other = fetch_tasks(bank, harness, count=2, seed=2)
    real = task_set["tasks"][0]["task_id"]
    kind, _, token = real.partition(".")
    tampered = f"{kind}.{token[:-2]}{'AA' if token[-2:] != 'AA' else 'BB'}"
    cases: list[tuple[Body, int, str]] = [
        ({}, 400, "task_set_id, task_ids"),
        ({"task_set_id": task_set["task_set_id"], "task_ids": [real]}, 400, "task_set_id"),
        ({"task_ids": []}, 400, "task_ids"),
        ({"task_set_id": "nope"}, 400, "task_set_id"),
        ({"task_set_id": real}, 400, "task_set_id"),
        ({"task_set_id": task_set["task_set_id"] + "x"}, 400, "task_set_id"),
        ({"task_ids": [tampered]}, 400, "task_ids[0]"),
        (
            {"task_ids": [f"{'transfer' if kind != 'transfer' else 'buy_more'}.{token}"]},
            400,
            "task_ids[0]",
        ),
        ({"task_ids": [real, "x.y"]}, 400, "task_ids[1]"),
        ({"task_ids": [task_set["task_set_id"]]}, 400, "task_ids[0]"),
        ({"task_ids": [real, other["tasks"][0]["task_id"]]}, 400, "task_ids"),
        ({"task_set_id": "x" * 1001}, 400, "task_set_id"),
        ({"task_set_id": task_set["task_set_id"], "extra": 1}, 400, "extra"),
        ({"task_set_id": set_id("0" * 32, harness["X-Bank-Sandbox"])}, 404, "task_set_id"),
    ]
    for body, status, field in cases:
        response = bank.post("/eval/tasks/grade", json=body, headers=harness)
        assert response.status_code == status, (body, response.text)
        assert field in response.json()["detail"], (body, response.json())


def test_the_task_routes_can_be_turned_off(database_url: str) -> None:
    with TestClient(create_app(Settings(database_url=database_url, eval_enabled=False))) as bank:
        assert bank.get("/eval/tasks").status_code == 404
        assert bank.post("/eval/tasks/grade", json={"task_set_id": "x"}).status_code == 404


def test_no_mcp_tool_names_the_tasks(bank: TestClient, sandbox: tuple[dict[str, str], str]) -> None:
    _, key = sandbox
    headers = {"Accept": "application/json, text/event-stream", "Authorization": f"Bearer {key}"}
    response = bank.post(
        "/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, headers=headers
    )
    assert response.status_code == 200, response.text
    listed = response.text.lower()
    assert "bank_transfer" in listed  # the write tools are there, in a sandbox with writes
    assert not any(word in listed for word in ("/eval", "task_set", "gold_calls", "tasks/grade"))


def test_the_example_runs_the_loop_end_to_end(live_server: str) -> None:
    finished = subprocess.run(
        [sys.executable, "-m", "examples.evaluate_tasks", "--base-url", live_server,
         "--count", str(ALL_KINDS), "--seed", "4"],
        cwd=PROJECT, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert finished.returncode == 0, finished.stderr
    lines = finished.stdout.splitlines()
    assert lines[-1] == "score 1.0", finished.stdout
    assert any(line.startswith("trace: ") and "bank_order" in line for line in lines)
    assert "collateral 0" in lines
    assert requests.get(f"{live_server}/sandboxes", timeout=10).json() == []


def test_the_evaluation_page_lists_every_task_kind_with_an_example() -> None:
    page = (PROJECT / "docs" / "evaluation.md").read_text()
    section = page[page.index("## Task evaluation") :]
    listed = re.findall(
        r"^\| `([a-z_]+)` \| (direct|find|compute|refusal) \| .+ \|$", section, re.M
    )
    assert dict(listed) == {name: kind.difficulty for name, kind in TASK_KINDS.items()}


def test_money_in_the_tasks_is_exact(bank: TestClient, sandbox: tuple[dict[str, str], str]) -> None:
    harness, _ = sandbox
    task_set = fetch_tasks(bank, harness, count=ALL_KINDS, seed=4)
    for task in task_set["tasks"]:
        for change in task["expected"]["accounts"]:
            for name in ("delta", "low", "high", "balance_before"):
                value = Decimal(str(change[name]))
                assert value == value.quantize(Decimal("0.01")), (task["text"], name)
            assert change["low"] <= change["delta"] <= change["high"]
        for holding in task["expected"]["holdings"]:
            assert holding["low"] <= holding["quantity_after"] <= holding["high"]


def test_the_public_examples_hold_no_set_any_bank_grades(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    example = paths["/eval/tasks"]["get"]["responses"]["200"]["content"]["application/json"]
    task_set = example["example"]
    for body in (
        {"task_set_id": task_set["task_set_id"]},
        {"task_ids": [task["task_id"] for task in task_set["tasks"]]},
    ):
        response = client.post("/eval/tasks/grade", json=body)
        assert response.status_code == 400, response.text
        assert "this bank issued" in response.json()["detail"]
