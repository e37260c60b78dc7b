"""Customer identifiers and account numbers: parsing, canonical forms, check digits."""

import re
import unicodedata
import uuid

from core.errors import InvalidInput

CUSTOMER_OID_EXAMPLE = "550e8400-e29b-41d4-a716-446655440000"
CUSTOMER_OID_RULE = (
    f"expected a UUID such as '{CUSTOMER_OID_EXAMPLE}' "
    "(or a legacy id of 8 to 36 upper-case letters, digits and hyphens, such as 'CUST0001')"
)

_HEX32 = r"[0-9a-fA-F]{32}"
_HYPHENATED = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_UUID = f"{_HYPHENATED}|{_HEX32}"
_LEGACY_IDS = r"[A-Z0-9-]{8,36}"
_UUID_SPELLINGS = re.compile(rf"(?:urn:uuid:)?({_UUID})|\{{({_UUID})\}}", re.IGNORECASE)
_LEGACY = re.compile(_LEGACY_IDS)

OID_PATTERN = rf"^\s*(([uU][rR][nN]:[uU][uU][iI][dD]:)?({_UUID})|\{{({_UUID})\}}|{_LEGACY_IDS})\s*$"
"""Every spelling ``parse_customer_oid`` accepts, as a JSON Schema pattern (no regex flags)."""


def parse_customer_oid(raw: str, *, field: str = "customer_oid") -> str:
    """Return the canonical form of a CustomerOID, or raise ``InvalidInput``.

    Every spelling of one UUID (upper case, no hyphens, braces, ``urn:uuid:``)
    maps to the same lowercase hyphenated string, so it names one customer.
    Legacy upper-case ids pass through unchanged.
    """
    text = raw.strip()
    match = _UUID_SPELLINGS.fullmatch(text)
    if match:
        return str(uuid.UUID(match.group(1) or match.group(2)))
    if _LEGACY.fullmatch(text):
        return text
    shown = text if len(text) <= 40 else text[:40] + "..."
    raise InvalidInput(f"Invalid CustomerOID format for {field} '{shown}': {CUSTOMER_OID_RULE}")


def new_customer_oid() -> str:
    return str(uuid.uuid4())


def iban_check_digits(country: str, bban: str) -> str:
    """ISO 13616 check digits: the two digits that make the IBAN's mod-97 remainder 1."""
    remainder = _mod97(bban + country + "00")
    return f"{98 - remainder:02d}"


def make_iban(country: str, bban: str) -> str:
    return country + iban_check_digits(country, bban) + bban


def is_valid_iban(iban: str) -> bool:
    compact = iban.replace(" ", "").upper()
    if not re.fullmatch(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{10,30}", compact):
        return False
    return _mod97(compact[4:] + compact[:4]) == 1


def _mod97(text: str) -> int:
    # Letters count as two digits, A=10 ... Z=35.
    return int("".join(str(int(ch, 36)) for ch in text)) % 97


def name_tokens(name: str) -> list[str]:
    """The words of a name, case-folded and without accents: what name search matches."""
    folded = unicodedata.normalize("NFKD", name.casefold())
    plain = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return sorted(set("".join(ch if ch.isalnum() else " " for ch in plain).split()))


def prefix_upper_bound(prefix: str) -> str:
    """The smallest string greater than every string that starts with ``prefix``."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


ABA_WEIGHTS = (3, 7, 1, 3, 7, 1, 3, 7, 1)


def is_valid_routing_number(routing: str) -> bool:
    """An ABA routing number: nine digits whose weighted sum (3, 7, 1, ...) is a multiple of
    ten."""
    if not re.fullmatch(r"[0-9]{9}", routing):
        return False
    return sum(int(d) * w for d, w in zip(routing, ABA_WEIGHTS, strict=True)) % 10 == 0


def routing_check_digit(first_eight: str) -> str:
    """The ninth digit that makes ``first_eight`` a valid ABA routing number."""
    weighted = sum(int(d) * w for d, w in zip(first_eight, ABA_WEIGHTS, strict=False))
    return str(-weighted % 10)
