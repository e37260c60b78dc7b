"""What /docs and /redoc show beside the operations: true examples, tag descriptions, a
readable CustomerOID rule."""

from typing import Any

from fastapi.testclient import TestClient

from api.openapi_examples import EXAMPLE_REQUESTS, ask, load_examples
from api.routes import TAGS
from core.identifiers import OID_PATTERN


def operations(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [operation for ops in document["paths"].values() for operation in ops.values()]


def test_every_200_answer_has_an_example(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    for operation in operations(document):
        success = operation["responses"].get("200") or operation["responses"]["201"]
        assert "example" in success["content"]["application/json"], operation["operationId"]
    # Sandboxes answer with new ids and times on every call: their examples are written out.
    recorded = {op["operationId"] for op in operations(document) if "sandboxes" not in op["tags"]}
    assert set(EXAMPLE_REQUESTS) == recorded


def test_examples_are_what_the_api_answers_for_the_sample_data(client: TestClient) -> None:
    answers = ask(
        lambda method, path, body: client.request(method, path, json=body), "http://testserver"
    )
    assert answers == load_examples()


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
