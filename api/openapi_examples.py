"""Examples of every 200 answer in the OpenAPI document, recorded from the sample data.

``python -m scripts.record_openapi_examples`` asks a fresh sample bank each request below and writes
the answers, lists cut to their first two items, to ``docs/openapi-examples.json``;
the document shows them, and a test asks again to prove they are still what the API says.
"""

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

EXAMPLES_FILE = Path(__file__).parent.parent / "docs" / "openapi-examples.json"
JOHN = "550e8400-e29b-41d4-a716-446655440001"
"""John Doe, the first sample customer."""
NEW_CUSTOMER = {"name": "New Customer", "customer_oid": "6f1c2a9e-3b4d-4c5e-8f70-1a2b3c4d5e6f"}
SHOWN_BASE_URL = "http://127.0.0.1:3000"
LIST_ITEMS_SHOWN = 2

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
    "read_questions": ("GET", "/eval/questions?count=2&seed=1"),
    "grade_answers": ("POST", "/eval/grade"),
    "read_api_customer": ("GET", f"/api/customers/{JOHN}"),
    "read_api_portfolio": ("GET", f"/api/portfolio/{JOHN}"),
    "read_api_market_data": ("GET", "/api/market-data?symbols=AAPL,BTC"),
    "read_api_accounts": ("GET", f"/api/accounts/{JOHN}"),
    "read_api_transactions": ("GET", f"/api/transactions/{JOHN}?limit=2"),
    "read_api_risk": ("GET", f"/api/risk/{JOHN}"),
    "health": ("GET", "/health"),
    # After the registration above, so that there is someone to delete.
    "delete_customer": ("DELETE", f"/customer/{NEW_CUSTOMER['customer_oid']}"),
}
"""operationId: the request whose answer is its example, in the order they are sent."""


def trimmed(value: Any, base_url: str) -> Any:
    """The answer as the document shows it: short lists, and the README's base URL."""
    if isinstance(value, list):
        return [trimmed(item, base_url) for item in value[:LIST_ITEMS_SHOWN]]
    if isinstance(value, dict):
        return {key: trimmed(item, base_url) for key, item in value.items()}
    if isinstance(value, str) and value.startswith(base_url):
        return SHOWN_BASE_URL + value.removeprefix(base_url)
    return value


def grading_body(examples: dict[str, Any]) -> dict[str, Any]:
    """The two questions of the key's example answered: the first right, the second not."""
    from evals.answers import AnswerAdapter, as_written

    first, second = examples["read_questions"]["questions"]
    return {
        "answers": [
            {
                "question_id": first["question_id"],
                "answer": as_written(AnswerAdapter.validate_python(first["answer"])),
            },
            {"question_id": second["question_id"], "answer": "not found"},
        ]
    }


def ask(send: Any, base_url: str) -> dict[str, Any]:
    """Every example, from ``send(method, path, json)``, a client bound to a sample bank."""
    examples: dict[str, Any] = {}
    for operation, (method, path) in EXAMPLE_REQUESTS.items():
        body = grading_body(examples) if operation == "grade_answers" else None
        if method == "POST" and body is None:
            body = NEW_CUSTOMER
        response = send(method, path, body)
        if response.status_code != 200:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:200]}")
        examples[operation] = trimmed(response.json(), base_url)
    return examples


@lru_cache
def load_examples() -> dict[str, Any]:
    examples: dict[str, Any] = json.loads(EXAMPLES_FILE.read_text())
    return examples


def add_examples(document: dict[str, Any]) -> dict[str, Any]:
    """Put each recorded example on its operation's 200 answer."""
    examples = load_examples()
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            example = examples.get(operation.get("operationId"))
            content = operation.get("responses", {}).get("200", {}).get("content", {})
            if example is not None and "application/json" in content:
                content["application/json"]["example"] = example
    return document
