"""The answer key: every kind answerable through the API and agreeing with it, deterministic,
following the state, graded strictly, and out of the agent's reach."""

import asyncio
import json
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from core.money import CURRENCIES
from core.settings import Settings
from evals import scripted_agent
from evals.answers import AnswerAdapter, as_written, judge
from evals.kinds import DIFFICULTIES, KINDS
from main import create_app
from tests.helpers import JANE, JOHN, PROJECT, post_tool_call

Key = dict[str, Any]
SYNTHETIC = {"customers": 30, "seed": 11}


@pytest.fixture
def bank(database_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        yield client
        for sandbox in client.get("/sandboxes").json():
            client.delete(f"/sandboxes/{sandbox['sandbox_id']}")


@pytest.fixture
def sandbox(bank: TestClient) -> dict[str, str]:
    """A sandbox with synthetic customers beside the samples: the richer book."""
    created = bank.post("/sandboxes", json=SYNTHETIC)
    assert created.status_code == 201, created.text
    return {"X-Bank-Sandbox": created.json()["sandbox_id"]}


def fetch_key(bank: TestClient, headers: dict[str, str] | None = None, **query: Any) -> Key:
    response = bank.get("/eval/questions", params=query, headers=headers or {})
    assert response.status_code == 200, response.text
    key: Key = response.json()
    return key


def grade(
    bank: TestClient, answers: list[dict[str, Any]], headers: dict[str, str] | None = None
) -> Key:
    response = bank.post("/eval/grade", json={"answers": answers}, headers=headers or {})
    assert response.status_code == 200, response.text
    graded: Key = response.json()
    return graded


def over_rest(bank: TestClient, headers: dict[str, str]) -> Callable[[dict[str, Any]], Any]:
    async def get(path: str, query: dict[str, str]) -> tuple[int, Any]:
        response = bank.get(path, params=query, headers=headers)
        return response.status_code, response.json()

    return lambda call: asyncio.run(scripted_agent.collect_rest(get, call))


def over_mcp(bank: TestClient, headers: dict[str, str]) -> Callable[[dict[str, Any]], Any]:
    async def call_tool(name: str, arguments: dict[str, Any]) -> tuple[bool, Any]:
        response = post_tool_call(bank, name, arguments, headers)
        assert response.status_code == 200, response.text
        result = response.json()["result"]
        if result.get("isError"):
            return True, result["content"][0]["text"]
        return False, result["structuredContent"]

    return lambda call: asyncio.run(scripted_agent.collect_mcp(call_tool, call))


def answered_by_agent(key: Key, collect: Callable[[dict[str, Any]], Any]) -> list[dict[str, Any]]:
    """What the scripted stand-in answers, following each question's evidence."""
    as_of = date.fromisoformat(key["as_of"])
    answers = []
    for question in key["questions"]:
        visible = {name: question[name] for name in ("kind", "parameters", "evidence")}
        results = [collect(call) for call in question["evidence"]]
        answers.append(
            {
                "question_id": question["question_id"],
                "answer": scripted_agent.answer(visible, results, as_of),
            }
        )
    return answers


def as_given(gold: dict[str, Any]) -> Any:
    """The gold answer, written as an agent would send it."""
    return as_written(AnswerAdapter.validate_python(gold))


def wrongs(question: dict[str, Any]) -> list[Any]:
    """Answers just outside what the question accepts."""
    gold, tolerance = question["answer"], question["tolerance"] or {}
    kind = gold["type"]
    if kind == "not_found":
        return [0, "12.50 USD", "somebody"]
    if kind in ("amount", "number"):
        value = Decimal(gold["value"])
        slack = max(
            Decimal(tolerance.get("absolute", "0")),
            Decimal(tolerance.get("relative", "0")) * abs(value),
        )
        step = slack + Decimal("0.01")
        given: list[Any] = [str(value + step), str(value - step), None]
        if kind == "amount":
            other = next(c for c in CURRENCIES if c != gold["currency"])
            given.append({"amount": gold["value"], "currency": other})
        return given
    if kind == "string":
        return [gold["value"] + "X", None]
    if kind == "date":
        return [(date.fromisoformat(gold["value"]) + timedelta(days=1)).isoformat(), None]
    items = gold["value"]
    wrong: list[Any] = [[*items, "Someone Else"], None]
    if items:
        wrong.append(items[1:])
    if gold["ordered"] and len(set(items)) > 1:
        wrong.append(list(reversed(items)))
    return wrong


def test_every_kind_is_answered_through_rest_as_the_key_says(
    bank: TestClient, sandbox: dict[str, str]
) -> None:
    key = fetch_key(bank, sandbox, count=3 * len(KINDS), seed=4)
    assert key["count"] == 3 * len(KINDS)
    assert {q["kind"] for q in key["questions"]} == set(KINDS)
    assert {q["difficulty"] for q in key["questions"]} == set(DIFFICULTIES)
    graded = grade(bank, answered_by_agent(key, over_rest(bank, sandbox)), sandbox)
    wrong = [r for r in graded["results"] if not r["correct"]]
    # Gold answers come from the raw rows; the agent's from the API's analysis. Any
    # disagreement is a bug in one of the two.
    assert wrong == []
    assert graded["total"] == {"questions": key["count"], "correct": key["count"], "score": 1.0}


def test_every_kind_is_answered_through_mcp_as_well(
    bank: TestClient, sandbox: dict[str, str]
) -> None:
    key = fetch_key(bank, sandbox, count=2 * len(KINDS), seed=9)
    assert {q["kind"] for q in key["questions"]} == set(KINDS)
    graded = grade(bank, answered_by_agent(key, over_mcp(bank, sandbox)), sandbox)
    assert [r for r in graded["results"] if not r["correct"]] == []


def test_the_sample_bank_alone_is_answered_too(bank: TestClient) -> None:
    key = fetch_key(bank, count=40, seed=2)
    assert key["count"] == 40
    graded = grade(bank, answered_by_agent(key, over_rest(bank, {})))
    assert [r for r in graded["results"] if not r["correct"]] == []


def test_the_same_seed_gives_the_same_key(bank: TestClient, sandbox: dict[str, str]) -> None:
    first = bank.get("/eval/questions?count=40&seed=5", headers=sandbox)
    again = bank.get("/eval/questions?count=40&seed=5", headers=sandbox)
    other = bank.get("/eval/questions?count=40&seed=6", headers=sandbox)
    assert first.content == again.content
    ids = {q["question_id"] for q in first.json()["questions"]}
    assert ids != {q["question_id"] for q in other.json()["questions"]}
    assert len(ids) == 40


def test_filters_choose_kinds_and_difficulties(bank: TestClient, sandbox: dict[str, str]) -> None:
    key = fetch_key(bank, sandbox, count=12, kinds="net_worth,subscriptions")
    assert {q["kind"] for q in key["questions"]} == {"net_worth", "subscriptions"}
    key = fetch_key(bank, sandbox, count=12, difficulty="multi_hop, unanswerable")
    assert {q["difficulty"] for q in key["questions"]} == {"multi_hop", "unanswerable"}
    key = fetch_key(bank, sandbox, count=12, kinds="net_worth", difficulty="lookup")
    assert key["count"] == 0 and key["questions"] == []


def test_the_key_itself_scores_everything_right(bank: TestClient, sandbox: dict[str, str]) -> None:
    key = fetch_key(bank, sandbox, count=2 * len(KINDS), seed=3)
    answers = [
        {"question_id": q["question_id"], "answer": as_given(q["answer"])} for q in key["questions"]
    ]
    graded = grade(bank, answers, sandbox)
    assert graded["total"]["score"] == 1.0
    assert all(t["score"] == 1.0 for t in graded["by_kind"].values())
    assert set(graded["by_difficulty"]) == set(DIFFICULTIES)


def test_every_perturbed_answer_is_graded_wrong(bank: TestClient, sandbox: dict[str, str]) -> None:
    key = fetch_key(bank, sandbox, count=2 * len(KINDS), seed=3)
    for question in key["questions"]:
        for given in wrongs(question):
            graded = grade(
                bank, [{"question_id": question["question_id"], "answer": given}], sandbox
            )
            (result,) = graded["results"]
            assert result["status"] == "wrong", (question["question"], question["answer"], given)
            assert result["expected"] == question["answer"] and result["reason"]


def test_unanswerable_questions_are_right_only_when_the_answer_says_so(
    bank: TestClient, sandbox: dict[str, str]
) -> None:
    key = fetch_key(bank, sandbox, count=9, difficulty="unanswerable")
    assert key["count"] == 9
    for question in key["questions"]:
        assert question["answer"]["type"] == "not_found"
        for says_so in (None, "not found", {"not_found": True}, "No data"):
            graded = grade(
                bank, [{"question_id": question["question_id"], "answer": says_so}], sandbox
            )
            assert graded["results"][0]["correct"], says_so
    answerable = fetch_key(bank, sandbox, count=9, difficulty="lookup")["questions"]
    graded = grade(
        bank, [{"question_id": q["question_id"], "answer": None} for q in answerable], sandbox
    )
    assert graded["total"]["correct"] == 0


def test_a_change_of_state_changes_the_answers_it_touches(bank: TestClient, engine: Engine) -> None:
    before = fetch_key(bank, count=60, seed=8)
    balances = [q for q in before["questions"] if q["kind"] == "account_balance"]
    assert balances
    target = balances[0]
    account = target["parameters"]["a"]
    with engine.begin() as connection:  # balances are stored in cents: 10000 is 100.00
        connection.execute(
            text("UPDATE bank_accounts SET balance = balance + 10000 WHERE account_number = :a"),
            {"a": account},
        )
    after = {q["question_id"]: q for q in fetch_key(bank, count=60, seed=8)["questions"]}
    moved = after[target["question_id"]]["answer"]
    assert Decimal(moved["value"]) == Decimal(target["answer"]["value"]) + 100
    old = grade(
        bank, [{"question_id": target["question_id"], "answer": as_given(target["answer"])}]
    )
    assert old["results"][0]["status"] == "wrong"
    # What does not depend on that account is untouched.
    touched = {target["parameters"]["c"]}
    for question in before["questions"]:
        if not touched & set(question["customers"]) and question["kind"] != "rank_net_worth":
            assert after[question["question_id"]]["answer"] == question["answer"]

    # A deleted customer's questions now have no answer, and say why.
    assert bank.delete(f"/customer/{JANE}").status_code == 200
    graded = grade(
        bank,
        [
            {"question_id": q["question_id"], "answer": None}
            for q in before["questions"]
            if JANE in q["customers"] and q["kind"] != "customer_by_name"
        ],
    )
    assert graded["total"]["questions"] > 0
    assert graded["total"]["score"] == 1.0
    assert all(r["expected"]["type"] == "not_found" for r in graded["results"])


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("count=0", "count"),
        ("count=501", "count"),
        ("count=ten", "count"),
        ("seed=-1", "seed"),
        ("kinds=net_worth,fortune", "kinds"),
        ("difficulty=hard", "difficulty"),
    ],
)
def test_bad_key_requests_are_400_naming_the_field(
    client: TestClient, query: str, field: str
) -> None:
    response = client.get(f"/eval/questions?{query}")
    assert response.status_code == 400, response.text
    assert field in response.json()["detail"]


def test_bad_grade_requests_are_400_naming_the_field(client: TestClient) -> None:
    key = fetch_key(client, count=30, kinds="account_balance,holding_quantity,rank_net_worth")
    by_kind = {q["kind"]: q["question_id"] for q in key["questions"]}
    cases = [
        ({}, "answers"),
        ({"answers": []}, "answers"),
        ({"answers": [{"answer": 1}]}, "question_id"),
        ({"answers": [{"question_id": by_kind["account_balance"]}]}, "answer"),
        ({"answers": [{"question_id": "x", "answer": 1, "extra": 1}]}, "extra"),
    ]
    for body, field in cases:
        response = client.post("/eval/grade", json=body)
        assert response.status_code == 400, (body, response.text)
        assert field in response.json()["detail"], (body, response.json())


def test_answers_of_the_wrong_type_are_graded_wrong_saying_why(client: TestClient) -> None:
    key = fetch_key(client, count=30, kinds="account_balance,holding_quantity,rank_net_worth")
    by_kind = {q["kind"]: q["question_id"] for q in key["questions"]}
    answers = [
        {"question_id": by_kind["account_balance"], "answer": [1, 2]},
        {"question_id": by_kind["holding_quantity"], "answer": "fifty"},
        {"question_id": by_kind["rank_net_worth"], "answer": "John Doe"},
    ]
    graded = grade(client, answers)
    assert [r["status"] for r in graded["results"]] == ["wrong"] * 3
    assert [r["reason"] for r in graded["results"]] == [
        'expected an amount: a number, text like \'1234.50 EUR\', or {"amount", "currency"}',
        "expected a number, got 'fifty'",
        "expected a list of strings",
    ]


def test_only_the_first_answer_to_a_question_counts(client: TestClient) -> None:
    question = fetch_key(client, count=1, kinds="holding_quantity")["questions"][0]
    right = as_given(question["answer"])
    answers = [
        {"question_id": question["question_id"], "answer": "0"},
        {"question_id": question["question_id"], "answer": right},
    ]
    graded = grade(client, answers)
    assert [r["status"] for r in graded["results"]] == ["wrong", "duplicate"]
    assert graded["total"] == {"questions": 1, "correct": 0, "score": 0.0}
    assert "answers[0]" in graded["results"][1]["reason"]


def test_ids_the_bank_did_not_issue_are_unknown_questions(client: TestClient) -> None:
    question = fetch_key(client, count=1, kinds="net_worth")["questions"][0]
    kind, _, token = question["question_id"].partition(".")
    forged = [
        "net_worth.not-a-token",
        f"holding_quantity.{token}",  # a real token under another kind
        f"{kind}.{token[:-2]}{'AA' if token[-2:] != 'AA' else 'BB'}",  # tampered
        "no-dot-at-all",
    ]
    graded = grade(client, [{"question_id": q, "answer": 1} for q in forged])
    assert [r["status"] for r in graded["results"]] == ["unknown_question"] * 4
    assert graded["by_kind"] == {"unknown_question": {"questions": 4, "correct": 0, "score": 0.0}}


@pytest.mark.parametrize(
    ("given", "right"),
    [
        (1234.5, True),
        ("1234.50", True),
        ("1,234.50 EUR", True),
        ("EUR 1234.5", True),
        ({"amount": "1234.50", "currency": "eur"}, True),
        ({"amount": 1234.5}, True),
        ("\u20ac1,234.50", True),
        (1234.51, False),
        ("1234.50 USD", False),
        (None, False),
    ],
)
def test_amounts_are_read_in_the_forms_agents_write(given: Any, right: bool) -> None:
    from evals.answers import HALF_CENT, AmountAnswer

    assert judge(AmountAnswer(value="1234.50", currency="EUR"), HALF_CENT, given)[0] is right


@pytest.mark.parametrize("given", [[1], True, "about a thousand", {"sum": 1}, "1234.50 EUR USD"])
def test_answers_that_are_no_amount_are_wrong_saying_so(given: Any) -> None:
    from evals.answers import HALF_CENT, AmountAnswer

    right, reason = judge(AmountAnswer(value="1234.50", currency="EUR"), HALF_CENT, given)
    assert right is False
    assert reason.startswith("expected an amount")


def test_a_read_only_key_cannot_read_or_use_the_key(database_url: str) -> None:
    settings = Settings(database_url=database_url, api_key="full-key", read_api_key="read-key")
    with TestClient(create_app(settings)) as bank:
        read, full = {"X-API-Key": "read-key"}, {"X-API-Key": "full-key"}
        assert bank.get("/eval/questions", headers=read).status_code == 403
        body = {"answers": [{"question_id": "x.y", "answer": 1}]}
        assert bank.post("/eval/grade", json=body, headers=read).status_code == 403
        assert bank.get("/eval/questions", headers={}).status_code == 401
        assert bank.get("/eval/questions?count=3", headers=full).status_code == 200
        assert bank.post("/eval/grade", json=body, headers=full).status_code == 200


def test_no_mcp_tool_or_resource_reaches_the_key(client: TestClient) -> None:
    headers = {"Accept": "application/json, text/event-stream"}
    listed = []
    for method in ("tools/list", "resources/list", "resources/templates/list"):
        response = client.post(
            "/mcp", json={"jsonrpc": "2.0", "id": 1, "method": method}, headers=headers
        )
        assert response.status_code == 200, response.text
        listed.append(json.dumps(response.json()).lower())
    assert "bank_portfolio_summary" in listed[0]
    for words in listed:
        assert not any(word in words for word in ("/eval", "answer key", "grade", "gold answer"))


def test_the_key_can_be_turned_off(database_url: str) -> None:
    with TestClient(create_app(Settings(database_url=database_url, eval_enabled=False))) as bank:
        assert bank.get("/eval/questions").status_code == 404
        assert bank.post("/eval/grade", json={"answers": []}).status_code == 404
        assert not any(
            path.startswith("/eval") for path in bank.get("/openapi.json").json()["paths"]
        )


def test_the_harness_stays_out_of_the_agents_trace_and_faults(
    bank: TestClient, sandbox: dict[str, str]
) -> None:
    sandbox_id = sandbox["X-Bank-Sandbox"]
    always = {"status": 500, "rate": 1.0}
    matches = ("GET /customer/*/exists", "GET /eval/*", "POST /eval/*")
    rule = {"seed": 1, "rules": [{"match": match, **always} for match in matches]}
    response = bank.put(f"/sandboxes/{sandbox_id}/faults", json=rule)
    assert response.status_code == 200, response.text
    assert bank.get(f"/customer/{JOHN}/exists", headers=sandbox).status_code == 500
    key = fetch_key(bank, sandbox, count=5)  # each asserts a 200, where a fault gives 500
    graded = grade(
        bank, [{"question_id": key["questions"][0]["question_id"], "answer": None}], sandbox
    )
    assert graded["total"]["questions"] == 1 and key["count"] == 5
    calls = bank.get(f"/sandboxes/{sandbox_id}/requests").json()["requests"]
    assert [call["path"] for call in calls] == [f"/customer/{JOHN}/exists"]


def test_the_export_writes_the_same_key_as_json_lines(
    bank: TestClient, sandbox: dict[str, str], database_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "key.jsonl"
    arguments = ["--count", "25", "--seed", "12", "--kinds", "net_worth,subscriptions,empty_month"]
    finished = subprocess.run(
        [sys.executable, "-m", "evals", "--database-url", database_url, "--sandbox",
         sandbox["X-Bank-Sandbox"], *arguments, "--out", str(out)],
        cwd=PROJECT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert finished.returncode == 0, finished.stderr
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    served = fetch_key(
        bank, sandbox, count=25, seed=12, kinds="net_worth,subscriptions,empty_month"
    )
    assert lines == served["questions"] and len(lines) == 25
    refused = subprocess.run(
        [sys.executable, "-m", "evals", "--database-url", database_url, "--kinds", "fortune"],
        cwd=PROJECT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert refused.returncode == 2 and "kinds: unknown 'fortune'" in refused.stderr


def test_the_example_evaluates_a_scripted_agent_end_to_end(live_server: str) -> None:
    finished = subprocess.run(
        [sys.executable, "-m", "examples.evaluate_agent", "--base-url", live_server,
         "--count", "30", "--seed", "2"],
        cwd=PROJECT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert finished.returncode == 0, finished.stderr
    lines = finished.stdout.splitlines()
    assert lines[-1] == "score 1.0", finished.stdout
    assert any(line.startswith("trace: ") and "bank_" in line for line in lines)
    assert requests.get(f"{live_server}/sandboxes", timeout=10).json() == []


def test_the_evaluation_page_lists_every_kind_with_an_example() -> None:
    page = (PROJECT / "docs" / "evaluation.md").read_text()
    section = page[page.index("## Evaluating an agent") : page.index("## Task evaluation")]
    listed = re.findall(
        r"^\| `([a-z0-9_]+)` \| (lookup|aggregate|multi_hop|unanswerable) \|", section, re.M
    )
    assert dict(listed) == {name: kind.difficulty for name, kind in KINDS.items()}


def test_a_large_key_is_graded_in_one_request(bank: TestClient, sandbox: dict[str, str]) -> None:
    key = fetch_key(bank, sandbox, count=500, seed=21)
    answers = [{"question_id": q["question_id"], "answer": None} for q in key["questions"]]
    body = json.dumps({"answers": answers})
    assert len(body) > 64 * 1024  # more than any other request may send
    graded = grade(bank, answers, sandbox)
    assert graded["total"]["questions"] == key["count"] > 300
    unanswerable = sum(q["difficulty"] == "unanswerable" for q in key["questions"])
    assert graded["total"]["correct"] == unanswerable
    too_large = {"answers": [{"question_id": "x" * 1000, "answer": "y" * 1100}] * 1000}
    response = bank.post("/eval/grade", json=too_large, headers=sandbox)
    assert response.status_code == 413
