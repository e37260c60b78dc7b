"""Examples of every 200 answer in the OpenAPI document, recorded from the sample data.

``python -m scripts.record_openapi_examples`` asks a fresh sample bank each request below and writes
the answers, lists cut to their first two items, to ``docs/openapi-examples.json``;
the document shows them, and a test asks again to prove they are still what the API says.

The answer key's examples are the exception: the document is public, and a key recorded
from the sample data would hand its gold answers (and ids this bank grades) to anyone who
reads it. They are made up here, about a customer no bank has, with ids no bank issued.
"""

import base64
import json
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from evals import evidence
from evals.answers import HALF_CENT, AmountAnswer, NumberAnswer, as_written, judge
from evals.key import tally
from evals.schemas import AnswerKey, Grade, Graded, Question
from evals.tasks import actions as tasks_actions
from evals.tasks.schemas import (
    AccountChange,
    Check,
    Collateral,
    Expected,
    InstructionMatch,
    Task,
    TaskGrade,
    TaskResult,
    TaskSet,
    TaskTally,
    Untouched,
)
from market.payees import payee_account

EXAMPLES_FILE = Path(__file__).parent.parent / "docs" / "openapi-examples.json"
JOHN = "550e8400-e29b-41d4-a716-446655440001"
"""John Doe, the first sample customer."""
NEW_CUSTOMER = {"name": "New Customer", "customer_oid": "6f1c2a9e-3b4d-4c5e-8f70-1a2b3c4d5e6f"}
SHOWN_BASE_URL = "http://127.0.0.1:3000"
LIST_ITEMS_SHOWN = 2

_UTILITY = "New York Utilities Services"
_UTILITY_ACCOUNT = payee_account(_UTILITY, "USD")
INSTRUCTION_BODIES: dict[str, dict[str, Any]] = {
    "create_transfer": {
        "from_account_id": 2,
        "to_account_id": 1,
        "amount": 500,
        "reference": "Top-up",
    },
    "create_payment": {
        "from_account_id": 1,
        "amount": 189.2,
        "payee": {
            "name": _UTILITY,
            "account_number": _UTILITY_ACCOUNT.account_number,
            "routing_number": _UTILITY_ACCOUNT.routing_number,
        },
        "execute_on": "2026-10-15",
        "reference": "October bill",
    },
    "create_order": {"side": "buy", "symbol": "AAPL", "quantity": 10},
}
"""What the instruction examples send, for John Doe: EUR savings to USD checking, a bill
scheduled for later (then cancelled: instruction 2 in a fresh bank), ten Apple shares."""
SHOWN_TIME = "2026-09-30T14:00:00Z"
"""When an instruction was given or a change recorded is the moment the example was
recorded: shown as this."""
SHOWN_AS_TIME = ("created_at", "recorded_at")

EXAMPLE_REQUESTS: dict[str, tuple[str, str]] = {
    "read_customers": ("GET", "/customers?limit=2"),
    "register_customer": ("POST", "/register-customer"),
    "customer_exists": ("GET", f"/customer/{JOHN}/exists"),
    "read_profile": ("GET", f"/customer/{JOHN}/profile"),
    "read_portfolio": ("GET", f"/user-portfolio/{JOHN}?transactions_limit=2"),
    "read_summary": ("GET", f"/customer/{JOHN}/summary"),
    "read_risk": ("GET", f"/customer/{JOHN}/risk"),
    "read_assets": ("GET", f"/customer/{JOHN}/assets"),
    "read_accounts": ("GET", f"/customer/{JOHN}/accounts"),
    "read_transactions": ("GET", f"/customer/{JOHN}/transactions?limit=2"),
    "read_spending": ("GET", f"/customer/{JOHN}/spending"),
    "read_derivatives": ("GET", f"/customer/{JOHN}/derivatives"),
    "read_market_data": ("GET", "/market-data?symbols=AAPL,BTC"),
    "read_price_history": ("GET", "/market-data/AAPL/history?from=2026-09-28&to=2026-09-30"),
    "read_api_customer": ("GET", f"/api/customers/{JOHN}"),
    "read_api_portfolio": ("GET", f"/api/portfolio/{JOHN}"),
    "read_api_market_data": ("GET", "/api/market-data?symbols=AAPL,BTC"),
    "read_api_accounts": ("GET", f"/api/accounts/{JOHN}"),
    "read_api_transactions": ("GET", f"/api/transactions/{JOHN}?limit=2"),
    "read_api_risk": ("GET", f"/api/risk/{JOHN}"),
    "health": ("GET", "/health"),
    # After the registration above, so that there is someone to delete.
    "delete_customer": ("DELETE", f"/customer/{NEW_CUSTOMER['customer_oid']}"),
    # Last: they change John Doe's book.
    "create_transfer": ("POST", f"/customer/{JOHN}/transfers"),
    "create_payment": ("POST", f"/customer/{JOHN}/payments"),
    "cancel_payment": ("DELETE", f"/customer/{JOHN}/payments/2"),
    "create_order": ("POST", f"/customer/{JOHN}/orders"),
    "list_payments": ("GET", f"/customer/{JOHN}/payments"),
    "list_instructions": ("GET", f"/customer/{JOHN}/instructions?kind=order"),
    "read_instruction": ("GET", f"/customer/{JOHN}/instructions/1"),
    "list_payees": ("GET", f"/customer/{JOHN}/payees"),
    "read_changes": ("GET", f"/changes?customer_oid={JOHN}&limit=2"),
}
"""operationId: the request whose answer is its example, in the order they are sent."""


def trimmed(value: Any, base_url: str) -> Any:
    """The answer as the document shows it: short lists, and the README's base URL."""
    if isinstance(value, list):
        return [trimmed(item, base_url) for item in value[:LIST_ITEMS_SHOWN]]
    if isinstance(value, dict):
        return {
            key: SHOWN_TIME if key in SHOWN_AS_TIME else trimmed(item, base_url)
            for key, item in value.items()
        }
    if isinstance(value, str) and value.startswith(base_url):
        return SHOWN_BASE_URL + value.removeprefix(base_url)
    return value


def ask(send: Any, base_url: str) -> dict[str, Any]:
    """Every example, from ``send(method, path, json)``, a client bound to a sample bank."""
    examples: dict[str, Any] = {}
    for operation, (method, path) in EXAMPLE_REQUESTS.items():
        body = INSTRUCTION_BODIES.get(operation, NEW_CUSTOMER) if method == "POST" else None
        response = send(method, path, body)
        if response.status_code not in (200, 201):
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:200]}")
        examples[operation] = trimmed(response.json(), base_url)
    return examples


@lru_cache
def load_examples() -> dict[str, Any]:
    examples: dict[str, Any] = json.loads(EXAMPLES_FILE.read_text())
    return examples


MADE_UP_CUSTOMER = "00000000-0000-4000-8000-00000000e0e0"
"""Erika Example: a well-formed id that no sample or synthetic customer has."""
NOT_ISSUED = base64.urlsafe_b64encode(b"an example: no bank issued this id").decode().rstrip("=")
"""The token of the examples' ids: not sealed by any bank, so every bank grades it unknown."""


def made_up_key() -> AnswerKey:
    """An answer key as /eval/questions gives one, about nobody in any bank."""
    who = f"Erika Example (customer {MADE_UP_CUSTOMER})"
    balance = Question(
        question_id=f"account_balance.{NOT_ISSUED}",
        kind="account_balance",
        difficulty="lookup",
        question=f"What is the balance of the checking account 400000099901 that {who} "
        "holds at Global Bank?",
        answer=AmountAnswer(value="1234.50", currency="EUR"),
        tolerance=HALF_CENT,
        customers=[MADE_UP_CUSTOMER],
        parameters={"c": MADE_UP_CUSTOMER, "a": "400000099901"},
        evidence=[evidence.accounts(MADE_UP_CUSTOMER)],
    )
    units = Question(
        question_id=f"holding_quantity.{NOT_ISSUED}",
        kind="holding_quantity",
        difficulty="lookup",
        question=f"How many units of AAPL (Apple Inc.) does {who} hold?",
        answer=NumberAnswer(value="40"),
        tolerance=HALF_CENT,
        customers=[MADE_UP_CUSTOMER],
        parameters={"c": MADE_UP_CUSTOMER, "s": "AAPL"},
        evidence=[evidence.holdings(MADE_UP_CUSTOMER)],
    )
    return AnswerKey(as_of="2026-09-30", seed=1, count=2, questions=[balance, units])


def made_up_grade(key: AnswerKey) -> Grade:
    """The made-up key graded as the grader would: the first answer right, the second not."""
    first, second = key.questions
    given = [(first, as_written(first.answer)), (second, "42 units")]
    results = []
    for question, answer in given:
        right, reason = judge(question.answer, question.tolerance, answer)
        results.append(
            Graded(
                question_id=question.question_id,
                kind=question.kind,
                difficulty=question.difficulty,
                status="correct" if right else "wrong",
                correct=right,
                expected=question.answer,
                given=answer,
                reason=reason,
            )
        )
    marks = tally(result.correct for result in results)
    return Grade(
        as_of=key.as_of,
        total=marks,
        by_kind={q.kind: tally([r.correct]) for q, r in zip(key.questions, results, strict=True)},
        by_difficulty={"lookup": marks},
        results=results,
    )


def made_up_task_set() -> TaskSet:
    """A task set as /eval/tasks gives one, about nobody in any bank."""
    oid = MADE_UP_CUSTOMER
    amount = Decimal(500)
    change = {"currency": "EUR", "low": amount, "high": amount}
    task = Task(
        task_id=f"transfer.{NOT_ISSUED}",
        kind="transfer",
        difficulty="direct",
        customer_oid=oid,
        text="Move 500 euros from my checking account to my savings account.",
        expected=Expected(
            outcome="changed",
            rule=None,
            explanation="500 euros leave account 901 and reach account 902.",
            accounts=[
                AccountChange(account_id=901, balance_before=Decimal("1234.50"),
                              **{**change, "delta": -amount, "low": -amount, "high": -amount}),
                AccountChange(account_id=902, balance_before=Decimal("100.00"), delta=amount,
                              **change),
            ],
            instructions=[
                InstructionMatch(kind="transfer", times=1, status="executed",
                                 match={"from_account_id": "901", "to_account_id": "902"})
            ],
            untouched=Untouched(accounts={}, holdings={"AAPL": Decimal(40)}, positions={},
                                instructions={}),
        ),
        gold_calls=[tasks_actions.transfer(oid, 901, 902, amount)],
    )  # fmt: skip
    return TaskSet(
        task_set_id=f"tasks.{NOT_ISSUED}", as_of=date(2026, 9, 30), seed=1, count=1, setup=[],
        tasks=[task],
    )  # fmt: skip


def made_up_task_grade(task_set: TaskSet) -> TaskGrade:
    """The made-up set graded after an agent moved the money twice."""
    (task,) = task_set.tasks
    twice = "transfer 8 (500 EUR from 901 to 902, executed) repeats transfer 7"
    result = TaskResult(
        task_id=task.task_id, kind=task.kind, difficulty=task.difficulty,
        customer_oid=task.customer_oid, text=task.text, passed=False, done=False,
        checks=[
            Check(what="account 901: change of balance", expected="-500.00 EUR",
                  found="-1,000.00 EUR", ok=False),
        ],
        collateral=[twice],
        reason="account 901: change of balance: expected -500.00 EUR, found -1,000.00 EUR",
    )  # fmt: skip
    none = TaskTally(tasks=1, passed=0, score=Decimal(0))
    return TaskGrade(
        task_set_id=task_set.task_set_id, as_of=task_set.as_of, total=none,
        collateral_changes=1, by_kind={"transfer": none}, by_difficulty={"direct": none},
        results=[result], collateral=[Collateral(customer_oid=task.customer_oid, what=twice)],
    )  # fmt: skip


@lru_cache
def made_up_examples() -> dict[str, Any]:
    """The answer key's and the task sets' examples, by operationId."""
    key = made_up_key()
    task_set = made_up_task_set()
    return {
        "read_questions": key.model_dump(mode="json"),
        "grade_answers": made_up_grade(key).model_dump(mode="json"),
        "read_tasks": task_set.model_dump(mode="json"),
        "grade_task_set": made_up_task_grade(task_set).model_dump(mode="json"),
    }


def add_examples(document: dict[str, Any]) -> dict[str, Any]:
    """Put each recorded example, and the answer key's made-up ones, on its operation's 200
    (or 201) answer."""
    examples = {**load_examples(), **made_up_examples()}
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            example = examples.get(operation.get("operationId"))
            responses = operation.get("responses", {})
            content = (responses.get("200") or responses.get("201") or {}).get("content", {})
            if example is not None and "application/json" in content:
                content["application/json"]["example"] = example
    return document
