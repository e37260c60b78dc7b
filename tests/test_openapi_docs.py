"""What /docs and /redoc show beside the operations: true examples, tag descriptions, a
readable CustomerOID rule."""

import base64
import json
import re
from typing import Any

from fastapi.testclient import TestClient

from api.openapi_examples import EXAMPLE_REQUESTS, ask, load_examples, made_up_examples
from api.routes import TAGS
from core.identifiers import OID_PATTERN
from core.settings import Settings
from main import create_app


def operations(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [operation for ops in document["paths"].values() for operation in ops.values()]


def test_every_200_answer_has_an_example(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    for operation in operations(document):
        success = operation["responses"].get("200") or operation["responses"]["201"]
        assert "example" in success["content"]["application/json"], operation["operationId"]
    # Sandboxes answer with new ids and times on every call: their examples are written out.
    recorded = {op["operationId"] for op in operations(document) if "sandboxes" not in op["tags"]}
    # The answer key's are made up: a recorded key would publish the sample data's answers.
    assert set(EXAMPLE_REQUESTS) | set(made_up_examples()) == recorded
    assert not set(EXAMPLE_REQUESTS) & set(made_up_examples())


def without_cursors(value: Any) -> Any:
    """``value`` with each page cursor cut to its position: the signature is each bank's own."""
    if isinstance(value, dict):
        return {key: without_cursors(item) for key, item in value.items()}
    if isinstance(value, list):
        return [without_cursors(item) for item in value]
    if isinstance(value, str):
        return re.sub(r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{20,}", _position, value)
    return value


def _position(token: re.Match[str]) -> str:
    # The position alone: a change feed's cursor is also bound to its database's feed id.
    blob = base64.urlsafe_b64decode(token.group() + "=" * (-len(token.group()) % 4))
    return json.dumps(json.loads(blob[:-12])["p"])


def test_examples_are_what_the_api_answers_for_the_sample_data(client: TestClient) -> None:
    answers = ask(
        lambda method, path, body: client.request(method, path, json=body), "http://testserver"
    )
    assert without_cursors(answers) == without_cursors(load_examples())
    assert answers != load_examples()  # the cursor of another bank is none of this one's


def test_every_tag_is_described(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    described = {tag["name"]: tag["description"] for tag in document["tags"]}
    assert described == {tag["name"]: tag["description"] for tag in TAGS}
    used = {tag for operation in operations(document) for tag in operation["tags"]}
    assert used == set(described)


def test_customer_oid_is_explained_in_words_and_keeps_its_pattern(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    parameter = next(
        p
        for p in document["paths"]["/customer/{customer_oid}/summary"]["get"]["parameters"]
        if p["name"] == "customer_oid"
    )
    assert parameter["schema"]["pattern"] == OID_PATTERN
    for form in ("lowercase and hyphenated", "urn:uuid:", "CUST0001", "upper case"):
        assert form in parameter["description"]


def test_a_bank_without_keys_asks_for_none(client: TestClient) -> None:
    # Swagger UI draws a padlock on every operation that declares a security requirement.
    document = client.get("/openapi.json").json()
    assert "security" not in document
    assert "securitySchemes" not in document.get("components", {})
    assert all("security" not in operation for operation in operations(document))


def test_a_bank_with_keys_asks_for_one_everywhere_but_health(database_url: str) -> None:
    settings = Settings(database_url=database_url, api_key="full-key", read_api_key="read-key")
    with TestClient(create_app(settings)) as keyed:
        response = keyed.get("/openapi.json")
        assert keyed.get("/health").status_code == 200
        assert keyed.get("/customers").status_code == 401
    document = response.json()
    assert set(document["components"]["securitySchemes"]) == {"bearer", "apiKey"}
    assert document["security"] == [{"bearer": []}, {"apiKey": []}]
    assert document["paths"]["/health"]["get"]["security"] == []
    open_operations = [
        (path, method)
        for path, ops in document["paths"].items()
        for method, operation in ops.items()
        if "security" in operation
    ]
    assert open_operations == [("/health", "get")]


def test_parameters_are_plain_single_schemas(client: TestClient) -> None:
    # ReDoc showed anyOf [string, null] with titles as "Cursor (string) or Cursor (null)".
    document = client.get("/openapi.json").json()
    parameters = [p for operation in operations(document) for p in operation.get("parameters", [])]
    assert len(parameters) > 50
    for parameter in parameters:
        schema = parameter["schema"]
        assert "anyOf" not in schema and "title" not in schema, parameter
        assert "description" not in schema or schema["description"] != parameter.get(
            "description"
        ), parameter
    transactions = document["paths"]["/customer/{customer_oid}/transactions"]["get"]
    cursor = next(p for p in transactions["parameters"] if p["name"] == "cursor")
    assert cursor["required"] is False
    assert cursor["schema"] == {
        "type": "string",
        "maxLength": 500,
        "pattern": "^[A-Za-z0-9_-]+$",
        "minLength": 20,
    }
    kind = next(p for p in transactions["parameters"] if p["name"] == "type")
    assert kind["schema"] == {"$ref": "#/components/schemas/TransactionType"}
