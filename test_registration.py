"""POST /register-customer: the registration workflow and every rule a name and an id obey."""

import uuid

import pytest
from fastapi.testclient import TestClient

from tests.helpers import JOHN, UNKNOWN

SUCCESS = "Customer registered successfully"


def register(client: TestClient, **body: object) -> tuple[int, dict[str, object]]:
    response = client.post("/register-customer", json=body)
    return response.status_code, response.json()


def test_register_without_an_id_generates_a_uuid(client: TestClient) -> None:
    status, body = register(client, name="New Customer")
    assert status == 200
    assert body["name"] == "New Customer" and body["message"] == SUCCESS
    oid = str(body["customer_oid"])
    assert str(uuid.UUID(oid)) == oid and uuid.UUID(oid).version == 4
    assert {"customer_oid": oid, "name": "New Customer"} in client.get("/customers").json()


def test_two_registrations_without_an_id_get_different_ids(client: TestClient) -> None:
    first = register(client, name="Twin One")[1]["customer_oid"]
    second = register(client, name="Twin One")[1]["customer_oid"]
    assert first != second


def test_register_with_an_id_stores_its_canonical_form(client: TestClient) -> None:
    status, body = register(client, name="Ada Lovelace", customer_oid="{" + UNKNOWN.upper() + "}")
    assert status == 200
    assert body == {"customer_oid": UNKNOWN, "name": "Ada Lovelace", "message": SUCCESS}
    assert client.get(f"/customer/{UNKNOWN}/exists").json()["exists"] is True


def test_register_with_a_legacy_id_keeps_it(client: TestClient) -> None:
    status, body = register(client, name="Legacy Customer", customer_oid="CUST0001")
    assert status == 200
    assert body["customer_oid"] == "CUST0001"
    assert client.get("/customer/CUST0001/exists").json() == {
        "customer_oid": "CUST0001",
        "exists": True,
        "name": "Legacy Customer",
    }
    assert client.get("/user-portfolio/CUST0001").status_code == 200


def test_register_duplicate_is_409(client: TestClient) -> None:
    status, body = register(client, name="John Again", customer_oid=JOHN)
    assert status == 409
    assert body["detail"] == f"Customer with CustomerOID '{JOHN}' already exists"


@pytest.mark.parametrize(
    "spelling", [JOHN.upper(), JOHN.replace("-", ""), "urn:uuid:" + JOHN, "{" + JOHN + "}"]
)
def test_another_spelling_of_a_taken_uuid_is_409_not_a_second_customer(
    client: TestClient, spelling: str
) -> None:
    status, _ = register(client, name="John Again", customer_oid=spelling)
    assert status == 409
    assert len(client.get("/customers").json()) == 5


@pytest.mark.parametrize("oid", ["invalid-oid", "not a uuid", "cust-0001", "", "12345"])
def test_register_with_a_malformed_id_is_400(client: TestClient, oid: str) -> None:
    status, body = register(client, name="Somebody", customer_oid=oid)
    assert status == 400
    assert "Invalid CustomerOID format" in str(body["detail"])
    assert "550e8400-e29b-41d4-a716-446655440000" in str(body["detail"])


def test_name_is_trimmed(client: TestClient) -> None:
    status, body = register(client, name="   Grace Hopper \t ")
    assert status == 200
    assert body["name"] == "Grace Hopper"


def test_name_is_nfc_normalised(client: TestClient) -> None:
    status, body = register(client, name="Jose\u0301 Garci\u0301a")
    assert status == 200
    assert body["name"] == "Jos\u00e9 Garc\u00eda"


@pytest.mark.parametrize(
    "name",
    [
        "",
        " ",
        "a",
        "  b  ",
        "\u200b\u200b",
        "\u3164\u3164",  # Hangul fillers
        "\u2800\u2800\u2800",  # blank Braille
        "\u0301\u0301\u0301",  # combining marks with nothing to combine with
        "\ufeff\u2060\u00ad",  # format characters
    ],
)
def test_name_shorter_than_two_characters_is_400(client: TestClient, name: str) -> None:
    status, body = register(client, name=name)
    assert status == 400
    assert body["detail"] == "name: must be at least 2 characters after trimming"


def test_two_character_name_is_enough(client: TestClient) -> None:
    assert register(client, name=" Bo ")[0] == 200


def test_name_longer_than_100_characters_is_400(client: TestClient) -> None:
    assert register(client, name="x" * 100)[0] == 200
    status, body = register(client, name="x" * 101)
    assert status == 400
    assert body["detail"] == "name: must be at most 100 characters"


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("Evil\r\nSet-Cookie: x", "control characters"),
        ("Tab\tName", "control characters"),
        ("Null\x00Byte", "control characters"),
        ("abc\u202egnp.exe", "bidirectional"),
        ("Mallory\u2066x", "bidirectional"),
        ("Bob\u2028Smith", "line or paragraph separators"),
        ("Bob\u2029Smith", "line or paragraph separators"),
        ("Bob\U000e0041\U000e0042", "tag characters"),
        ("Alice \U000e0069\U000e0067\U000e006e\U000e006f\U000e0072\U000e0065", "tag characters"),
    ],
)
def test_name_with_forbidden_characters_is_400(client: TestClient, name: str, rule: str) -> None:
    status, body = register(client, name=name)
    assert status == 400
    assert rule in str(body["detail"])


def test_name_with_a_lone_surrogate_is_400(client: TestClient) -> None:
    response = client.post(
        "/register-customer",
        content=b'{"name": "Bad \\ud800 Name"}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400
    assert (
        response.json()["detail"]
        == "name: must be valid Unicode text (it contains a lone surrogate)"
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "'name': Field required"),
        ({"name": 42}, "'name': Input should be a valid string"),
        ({"name": None}, "'name': Input should be a valid string"),
        (
            {"name": "Valid Name", "customer_oid": 7},
            "'customer_oid': Input should be a valid string",
        ),
        ({"name": "Valid Name", "email": "x@example.com"}, "'email': unknown field"),
    ],
)
def test_invalid_bodies_are_400_naming_the_field(
    client: TestClient, body: dict[str, object], field: str
) -> None:
    response = client.post("/register-customer", json=body)
    assert response.status_code == 400
    assert field in response.json()["detail"]


def test_malformed_json_is_400(client: TestClient) -> None:
    response = client.post(
        "/register-customer", content=b'{"name": ', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("Invalid request: request body: malformed JSON")


def test_missing_body_is_400(client: TestClient) -> None:
    response = client.post("/register-customer")
    assert response.status_code == 400
    assert response.json()["detail"] == "Invalid request: request body: Field required"


def test_a_failed_registration_writes_nothing(client: TestClient) -> None:
    before = client.get("/customers").json()
    register(client, name="x")
    register(client, name="Good Name", customer_oid="bad id")
    register(client, name="John Again", customer_oid=JOHN)
    assert client.get("/customers").json() == before


def test_registered_customer_can_be_deleted_again(client: TestClient) -> None:
    oid = register(client, name="Short Stay")[1]["customer_oid"]
    assert client.delete(f"/customer/{oid}").status_code == 200
    assert client.get(f"/customer/{oid}/exists").json()["exists"] is False
    assert register(client, name="Short Stay", customer_oid=str(oid))[0] == 200
