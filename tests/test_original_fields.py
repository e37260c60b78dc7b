"""``/user-portfolio`` is a superset of the original implementation's answer: every item of
the five samples carries the original's fields (``original_fields.json``) with the original's
JSON type and meaning, beside ours; the sections keep our own names."""

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from synthetic.samples import SAMPLE_CUSTOMERS

ORIGINAL: dict[str, Any] = json.loads(
    Path(__file__).with_name("original_fields.json").read_text(encoding="utf-8")
)
SECTIONS = [name for name in ORIGINAL if not name.startswith("_")]


def json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def mismatches(item: dict[str, Any], described: dict[str, Any], where: str) -> list[str]:
    """Where ``item`` lacks a described field or holds it with another JSON type."""
    found = []
    for name, wanted in described.items():
        if name not in item:
            found.append(f"{where}.{name} is missing")
        elif isinstance(wanted, dict):
            found += mismatches(item[name], wanted, f"{where}.{name}")
        else:
            allowed = set(wanted) if isinstance(wanted, list) else {wanted}
            # A JSON number may be written without a fraction.
            allowed |= {"integer"} if "number" in allowed else set()
            if json_type(item[name]) not in allowed:
                found.append(f"{where}.{name} is {json_type(item[name])}, not {wanted}")
    return found


@pytest.fixture
def portfolios(client: TestClient) -> list[dict[str, Any]]:
    answers = [client.get(f"/user-portfolio/{s.customer_oid}") for s in SAMPLE_CUSTOMERS]
    assert [a.status_code for a in answers] == [200] * len(SAMPLE_CUSTOMERS)
    return [a.json() for a in answers]


def test_every_sample_item_has_the_originals_fields_and_types(
    portfolios: list[dict[str, Any]],
) -> None:
    problems = []
    for section in SECTIONS:
        items = [(p["user"]["name"], item) for p in portfolios for item in p[section]]
        assert items, f"no sample has {section}: nothing would be checked"
        for index, (name, item) in enumerate(items):
            problems += mismatches(item, ORIGINAL[section], f"{name}: {section}[{index}]")
    assert problems == []


def test_the_original_fields_mean_what_they_meant(portfolios: list[dict[str, Any]]) -> None:
    for portfolio in portfolios:
        for asset in portfolio["assets"]:
            assert asset["amount"] == asset["quantity"]
        for account in portfolio["bank_accounts"]:
            assert account["institution_id"] == account["institution"]["id"]
            assert account["institution"]["type"] == account["institution"]["institution_type"]
            assert account["institution"]["contact_info"].endswith(".example")
            assert account["iban"] == "" or account["iban"][:2].isalpha()
        for transaction in portfolio["transactions"]:
            assert transaction["date"] == transaction["transaction_date"]
            assert transaction["type"] == transaction["transaction_type"]
            assert transaction["asset"] == transaction["symbol"]
        for d in portfolio["derivative_transactions"]:
            assert d["side"] == {"long": "buy", "short": "sell"}[d["position"]]
            assert d["type"] == (d["option_type"] or "future")
            assert d["asset"] == d["underlying_symbol"]
            assert (d["strike_price"], d["expiration_date"], d["execution_date"]) == (
                d["strike"],
                d["expiry_date"],
                d["trade_date"],
            )
            if d["premium_per_unit"] is None:
                assert d["premium"] is None
            else:
                total = Decimal(str(d["premium_per_unit"])) * d["contracts"] * d["multiplier"]
                assert Decimal(str(d["premium"])) == total.quantize(Decimal("0.01"))


def test_the_sections_keep_our_own_names_and_meanings(
    client: TestClient, portfolios: list[dict[str, Any]]
) -> None:
    john = SAMPLE_CUSTOMERS[0].customer_oid
    section = client.get(f"/customer/{john}/derivatives").json()["derivative_transactions"]
    assert {d["side"] for d in section} <= {"long", "short"}
    assert all(d["premium"] == d["premium_per_unit"] for d in section)
    assert all("counterparty" not in d for d in section)
    accounts = client.get(f"/customer/{john}/accounts").json()["bank_accounts"]
    assert None in {a["iban"] for a in accounts}, "a US account has no IBAN: null here"
    by_id = {d["id"]: d for d in portfolios[0]["derivative_transactions"]}
    for d in section:
        assert by_id[d["id"]]["position"] == d["side"]


def test_the_comparison_sees_a_missing_field_and_a_wrong_type() -> None:
    described = {"amount": "number", "iban": "string", "institution": {"type": "string"}}
    item = {"amount": "100", "institution": {"type": None}}
    assert mismatches(item, described, "x") == [
        "x.amount is string, not number",
        "x.iban is missing",
        "x.institution.type is null, not string",
    ]
