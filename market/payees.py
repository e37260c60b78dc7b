"""Where the billers, landlords and suppliers of the generated statements bank.

The statements name who was paid (the merchant of an ACH, wire or online withdrawal) but
not their account; this directory gives each payee one account, derived from its name and
the currency it is paid in, checksum-valid and fictional: US routing numbers from a 9999
block (as the bank's own institutions), German IBANs with a bank code of the 9999 block,
British ones with a sort code from it. The same payee always has the same account.
"""

import hashlib
from dataclasses import dataclass

from core.identifiers import make_iban, routing_check_digit

_FED_DISTRICTS = ("011", "021", "031", "041", "051", "061", "071", "081", "091", "101", "111")


@dataclass(frozen=True)
class PayeeAccount:
    iban: str | None = None
    account_number: str | None = None
    routing_number: str | None = None


def payee_account(name: str, currency: str) -> PayeeAccount:
    """The account ``name`` is paid into in ``currency``: a US account for dollars, a German
    IBAN for euros, a British one for pounds."""
    digits = str(int.from_bytes(hashlib.sha256(f"{currency}:{name}".encode()).digest(), "big"))
    if currency == "EUR":
        return PayeeAccount(iban=make_iban("DE", f"{digits[0]}9999{digits[1]}00" + digits[2:12]))
    if currency == "GBP":
        return PayeeAccount(iban=make_iban("GB", f"PAYE99{digits[0:4]}" + digits[4:12]))
    first_eight = _FED_DISTRICTS[int(digits[0:2]) % len(_FED_DISTRICTS)] + "9999" + digits[2]
    return PayeeAccount(
        account_number=str(1 + int(digits[3:13]) % 9_999_999_999).zfill(10),
        routing_number=first_eight + routing_check_digit(first_eight),
    )
