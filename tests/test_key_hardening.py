"""The answer key holds against a harness that is not on its side: one spelling per question
id, no secret in the source, no 500 for forged parameters, no gold answer in the public
document, and a verdict for every answer whatever its shape."""

import base64
import hashlib
import hmac
import json
import os
import stat
import threading
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from core.settings import Settings
from evals.answers import AnswerAdapter, as_written
from evals.key import question_id
from evals.kinds import KINDS
from main import create_app
from tests.helpers import JOHN

Key = dict[str, Any]
OLD_DEFAULT_SECRET = b"dummy-bank-cursors"
"""The secret that was a default in the source: whoever read it could mint ids and cursors."""


def fetch_key(client: TestClient, **query: Any) -> Key:
    response = client.get("/eval/questions", params=query)
    assert response.status_code == 200, response.text
    key: Key = response.json()
    return key


def grade(client: TestClient, answers: list[dict[str, Any]]) -> Key:
    response = client.post("/eval/grade", json={"answers": answers})
    assert response.status_code == 200, response.text
    graded: Key = response.json()
    return graded


def right_answer(question: Key) -> Any:
    return as_written(AnswerAdapter.validate_python(question["answer"]))


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def mint(data: dict[str, Any], secret: bytes) -> str:
    """A token sealed the way the bank seals, with a secret of the caller's choice."""
    raw = json.dumps(data, separators=(",", ":"), sort_keys=True).encode()
    return b64(raw + hmac.new(secret, raw, hashlib.sha256).digest()[:12])


def other_spellings(token: str) -> list[str]:
    """The same bytes written otherwise: characters a lenient decoder skips, padding, and
    (where the length leaves spare bits) another last character."""
    middle = len(token) // 2
    spellings = [
        token + "!",
        token + "==",
        token + ".",
        token + "%",
        token[:middle] + "*" + token[middle:],
        token[:middle] + "\n" + token[middle:],
        token[:middle] + " " + token[middle:],
        " " + token,
    ]
    padded = "=" * (-len(token) % 4)
    same = base64.urlsafe_b64decode(token + padded)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    for last in alphabet:
        twin = token[:-1] + last
        if twin != token and base64.urlsafe_b64decode(twin + padded) == same:
            spellings.append(twin)
            break
    return spellings


# Finding 1: one right answer counted many times.


def test_a_question_id_has_one_spelling_and_duplicates_are_found_on_the_question(
    client: TestClient,
) -> None:
    question = fetch_key(client, count=1, kinds="holding_quantity")["questions"][0]
    kind, _, token = question["question_id"].partition(".")
    right = right_answer(question)
    spellings = [f"{kind}.{other}" for other in other_spellings(token)]
    spellings.append(question["question_id"] + "\n")
    answers = [{"question_id": question["question_id"], "answer": right}]
    answers += [{"question_id": spelled, "answer": right} for spelled in spellings]
    answers.append({"question_id": question["question_id"], "answer": right})
    graded = grade(client, answers)
    statuses = [result["status"] for result in graded["results"]]
    assert statuses == ["correct"] + ["unknown_question"] * len(spellings) + ["duplicate"]
    assert graded["total"]["correct"] == 1
    assert graded["total"]["questions"] == 1 + len(spellings)


def test_a_cursor_has_one_spelling(client: TestClient) -> None:
    path = f"/customer/{JOHN}/transactions"
    page = client.get(path, params={"limit": 2})
    assert page.status_code == 200, page.text
    cursor = page.json()["next_cursor"]
    assert client.get(path, params={"limit": 2, "cursor": cursor}).status_code == 200
    for spelled in other_spellings(cursor):
        response = client.get(path, params={"limit": 2, "cursor": spelled})
        assert response.status_code == 400, repr(spelled)
        assert response.json()["detail"].startswith("cursor:")


# Finding 2: ids and cursors forged with the secret that was in the source.


def test_ids_and_cursors_minted_with_the_old_default_secret_are_refused(
    client: TestClient,
) -> None:
    question = fetch_key(client, count=1, kinds="net_worth")["questions"][0]
    token = mint({"k": question["kind"], "p": question["parameters"]}, OLD_DEFAULT_SECRET)
    forged = f"{question['kind']}.{token}"
    graded = grade(client, [{"question_id": forged, "answer": right_answer(question)}])
    assert graded["results"][0]["status"] == "unknown_question"

    page = client.get(f"/customer/{JOHN}/transactions", params={"limit": 2}).json()
    issued = base64.urlsafe_b64decode(page["next_cursor"] + "=" * (-len(page["next_cursor"]) % 4))
    cursor = mint(json.loads(issued[:-12]), OLD_DEFAULT_SECRET)
    response = client.get(f"/customer/{JOHN}/transactions", params={"limit": 2, "cursor": cursor})
    assert response.status_code == 400
    assert response.json()["detail"].startswith("cursor:")


def test_the_secret_is_generated_once_kept_in_the_database_and_survives_restarts(
    database_url: str,
) -> None:
    with TestClient(create_app(Settings(database_url=database_url))) as first:
        question = fetch_key(first, count=1, kinds="net_worth")["questions"][0]
    with TestClient(create_app(Settings(database_url=database_url))) as again:
        graded = grade(again, [{"question_id": question["question_id"], "answer": None}])
        assert graded["results"][0]["status"] == "wrong"  # a question it knows, answered wrong
        assert fetch_key(again, count=1, kinds="net_worth")["questions"] == [question]
    from db import bank_secret, create_db_engine

    engine = create_db_engine(database_url)
    kept = bank_secret(engine)
    engine.dispose()
    assert len(kept) >= 32 and kept != OLD_DEFAULT_SECRET.decode()
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":  # the file now holds the secret: its owner's only
        assert stat.S_IMODE(Path(url.database or "").stat().st_mode) == 0o600


def test_a_configured_secret_wins_over_the_kept_one(database_url: str) -> None:
    with TestClient(create_app(Settings(database_url=database_url))) as kept:
        issued = fetch_key(kept, count=1, kinds="net_worth")["questions"][0]
    settings = Settings(database_url=database_url, cursor_secret="set-by-the-operator")
    with TestClient(create_app(settings)) as configured:
        question = fetch_key(configured, count=1, kinds="net_worth")["questions"][0]
        assert question["question_id"] != issued["question_id"]
        token = mint({"k": "net_worth", "p": question["parameters"]}, b"set-by-the-operator")
        assert question["question_id"] == f"net_worth.{token}"
        graded = grade(configured, [{"question_id": issued["question_id"], "answer": None}])
        assert graded["results"][0]["status"] == "unknown_question"


def test_workers_starting_at_once_agree_on_one_secret(database_url: str) -> None:
    from db import bank_secret, create_db_engine

    found: list[str] = []

    def start() -> None:
        engine = create_db_engine(database_url)
        try:
            found.append(bank_secret(engine))
        finally:
            engine.dispose()

    workers = [threading.Thread(target=start) for _ in range(6)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert len(found) == 6 and len(set(found)) == 1
    assert len(found[0]) >= 32


def test_no_secret_has_a_default_in_the_source() -> None:
    assert "BANK_CURSOR_SECRET" not in os.environ or pytest.skip("a secret is set here")
    assert Settings().cursor_secret is None


# Finding 3: forged ids with junk parameters.

JUNK_PARAMETERS: list[Any] = [
    {"zzz": 1},
    {},
    {"c": JOHN, "zzz": 1},
]


def junk_variants(parameters: dict[str, Any]) -> list[dict[str, Any]]:
    """Each parameter of a real question replaced by values of the wrong type or naming
    nothing in the bank."""
    variants = []
    for name in parameters:
        for junk in ([1, 2], {"x": 1}, None, 3.5, -1, "", "nothing-like-it", "1999-13-40"):
            variants.append({**parameters, name: junk})
    plausible = {
        "a": "999999999999",
        "s": "ZZZZ",
        "n": "Nobody Atall",
        "m": "1999-01",
        "f": "1999-01-01",
        "t": "1999-01-31",
        "d": "1999-01-04",
        "k": "XXX",
        "g": "nothing",
        "w": 99999,
        "cs": ["550e8400-e29b-41d4-a716-4466554400aa", "550e8400-e29b-41d4-a716-4466554400bb"],
    }
    variants.append({name: plausible.get(name, value) for name, value in parameters.items()})
    return variants


def test_forged_ids_with_junk_parameters_are_unknown_questions_never_500(
    client: TestClient,
) -> None:
    key = fetch_key(client, count=2 * len(KINDS), seed=3)
    examples = {question["kind"]: question["parameters"] for question in key["questions"]}
    forged = []
    for name, kind in KINDS.items():
        for parameters in [*JUNK_PARAMETERS, *junk_variants(examples.get(name, {}))]:
            forged.append(question_id(kind, parameters))
    response = client.post(
        "/eval/grade", json={"answers": [{"question_id": f, "answer": 1} for f in forged]}
    )
    assert response.status_code == 200, response.text[:500]
    statuses = {result["status"] for result in response.json()["results"]}
    assert statuses <= {"unknown_question", "wrong", "correct", "duplicate"}
    junk = [
        question_id(kind, parameters) for kind in KINDS.values() for parameters in JUNK_PARAMETERS
    ]
    graded = grade(client, [{"question_id": f, "answer": 1} for f in junk])
    assert {result["status"] for result in graded["results"]} == {"unknown_question"}


# Finding 4: gold answers in the public OpenAPI document.


def test_the_public_examples_of_the_key_hold_no_answer_any_bank_grades_right(
    client: TestClient,
) -> None:
    document = client.get("/openapi.json").json()
    paths = document["paths"]
    example = paths["/eval/questions"]["get"]["responses"]["200"]["content"]["application/json"]
    questions = example["example"]["questions"]
    assert questions
    given = [{"question_id": q["question_id"], "answer": right_answer(q)} for q in questions]
    grading = paths["/eval/grade"]["post"]["responses"]["200"]["content"]["application/json"]
    given += [
        {"question_id": r["question_id"], "answer": r["given"]}
        for r in grading["example"]["results"]
    ]
    graded = grade(client, given)
    assert {r["status"] for r in graded["results"]} <= {"unknown_question", "wrong"}
    sample = fetch_key(client, count=100, seed=1)["questions"]
    asked = {q["question"] for q in sample}
    assert not asked & {q["question"] for q in questions}
    sample_customers = {c for q in sample for c in q["customers"]}
    assert not sample_customers & {c for q in questions for c in q["customers"]}


# Finding 12: a grader that refuses instead of grading.

WRONG_SHAPES: list[Any] = [
    "sometime in May",
    "fifty",
    [1, 2],
    ["a", ["nested"]],
    {"sum": 1},
    {"type": "amount"},
    {"type": "bogus", "value": 1},
    True,
    12,
    "",
    {"amount": "lots", "currency": "EUR"},
    {"amount": 5, "currency": 5},
]


def test_every_answer_gets_a_verdict_whatever_its_shape(client: TestClient) -> None:
    key = fetch_key(client, count=2 * len(KINDS), seed=3)
    answerable = [q for q in key["questions"] if q["answer"]["type"] != "not_found"]
    assert {q["answer"]["type"] for q in answerable} >= {"amount", "number", "date", "list"}
    answers = [
        {"question_id": q["question_id"], "answer": given}
        for given in WRONG_SHAPES
        for q in answerable
    ]
    results = []
    for start in range(0, len(answers), len(answerable)):
        graded = grade(client, answers[start : start + len(answerable)])
        results += graded["results"]
    assert len(results) > 100
    refused = [r for r in results if r["status"] != "wrong"]
    assert refused == []
    assert all(r["reason"] for r in results)
    date_question = next(q for q in answerable if q["answer"]["type"] == "date")
    graded = grade(
        client, [{"question_id": date_question["question_id"], "answer": "sometime in May"}]
    )
    assert "YYYY-MM-DD" in graded["results"][0]["reason"]


def test_the_keys_own_answer_objects_are_accepted_as_answers(client: TestClient) -> None:
    key = fetch_key(client, count=2 * len(KINDS), seed=3)
    graded = grade(
        client,
        [{"question_id": q["question_id"], "answer": q["answer"]} for q in key["questions"]],
    )
    wrong = [r for r in graded["results"] if r["status"] != "correct"]
    assert wrong == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "answers"),
        ({"answers": {"question_id": "x", "answer": 1}}, "answers"),
        ({"answers": [{"answer": 1}]}, "question_id"),
        ({"answers": [{"question_id": "x"}]}, "answer"),
        ({"answers": ["x"]}, "answers"),
    ],
)
def test_only_a_body_that_is_no_list_of_answers_is_400(
    client: TestClient, body: Any, field: str
) -> None:
    response = client.post("/eval/grade", json=body)
    assert response.status_code == 400, response.text
    assert field in response.json()["detail"]
