"""CustomerOID parsing and IBAN check digits, without the API around them."""

import pytest

from core.errors import InvalidInput
from core.identifiers import is_valid_iban, make_iban, parse_customer_oid

CANONICAL = "550e8400-e29b-41d4-a716-446655440000"


@pytest.mark.parametrize(
    "spelling",
    [
        CANONICAL,
        CANONICAL.upper(),
        CANONICAL.replace("-", ""),
        "{" + CANONICAL + "}",
        "urn:uuid:" + CANONICAL,
        "URN:UUID:" + CANONICAL.upper(),
        f"  {CANONICAL}  ",
    ],
)
def test_uuid_spellings_are_canonicalised(spelling: str) -> None:
    assert parse_customer_oid(spelling) == CANONICAL


@pytest.mark.parametrize("legacy", ["CUST0001", "ACME-CORP-42", "A" * 36, "12345678"])
def test_legacy_ids_pass_unchanged(legacy: str) -> None:
    assert parse_customer_oid(legacy) == legacy


@pytest.mark.parametrize(
    "bad",
    [
        "invalid-oid",
        "CUST001",
        "A" * 37,
        "{" + CANONICAL,
        "urn:uuid:{" + CANONICAL + "}",
        "550e8400-e29b41d4-a716-446655440000",
        "550e8400-e29b-41d4-a716-44665544000g",
        "",
    ],
)
def test_anything_else_is_invalid_input(bad: str) -> None:
    with pytest.raises(InvalidInput, match="expected a UUID"):
        parse_customer_oid(bad)


@pytest.mark.parametrize(
    "iban",
    ["GB82 WEST 1234 5698 7654 32", "DE89 3704 0044 0532 0130 00", "FR1420041010050500013M02606"],
)
def test_published_ibans_are_valid(iban: str) -> None:
    assert is_valid_iban(iban)


def test_a_changed_digit_breaks_the_check() -> None:
    assert not is_valid_iban("GB82 WEST 1234 5698 7654 33")
    assert not is_valid_iban("DE88370400440532013000")


def test_make_iban_computes_the_published_check_digits() -> None:
    assert make_iban("DE", "370400440532013000") == "DE89370400440532013000"
    assert make_iban("GB", "WEST12345698765432") == "GB82WEST12345698765432"
