"""The institutions customers bank and invest with: fictional, with checksum-valid routing
numbers, test BICs and IBAN bank codes, written to the ``institutions`` table once."""

from sqlmodel import Session, select

from core.identifiers import make_iban
from models import Institution, InstitutionType

GLOBAL_BANK = "Global Bank"
INVESTMENT_CORP = "Investment Corp"
CRYPTO_EXCHANGE = "Crypto Exchange"
HARBORVIEW_BANK = "Harborview Bank"
RHEINTAL_BANK = "Rheintal Bank AG"
NORDSTERN_DEPOT = "Nordstern Depot AG"
THAMESGATE_BANK = "Thamesgate Bank plc"
ALBION_SECURITIES = "Albion Securities Ltd"

BBAN_ACCOUNT_DIGITS: dict[str, int] = {"DE": 10, "GB": 8}
"""How many of an account number's last digits follow the bank code in the country's BBAN."""

# Fictional and checksum-valid: ABA numbers from a 9999 block, BICs whose location code has
# "0" as its second character (SWIFT's mark of a test BIC), IBAN bank codes that agree with
# the institution's country and BIC.
INSTITUTIONS: tuple[dict[str, str | None], ...] = (
    {"name": GLOBAL_BANK, "institution_type": InstitutionType.bank.value, "country": "US",
     "routing_number": "021999909", "bic": "GLBLUS30"},
    {"name": INVESTMENT_CORP, "institution_type": InstitutionType.broker.value, "country": "US",
     "routing_number": "021999912", "bic": "INVCUS40"},
    {"name": CRYPTO_EXCHANGE, "institution_type": InstitutionType.crypto_exchange.value,
     "country": "US", "routing_number": None, "bic": None},
    {"name": HARBORVIEW_BANK, "institution_type": InstitutionType.bank.value, "country": "US",
     "routing_number": "111999929", "bic": "HRBVUS60"},
    {"name": RHEINTAL_BANK, "institution_type": InstitutionType.bank.value, "country": "DE",
     "routing_number": None, "bic": "RHTLDE20"},
    {"name": NORDSTERN_DEPOT, "institution_type": InstitutionType.broker.value, "country": "DE",
     "routing_number": None, "bic": "NSTDDE20"},
    {"name": THAMESGATE_BANK, "institution_type": InstitutionType.bank.value, "country": "GB",
     "routing_number": None, "bic": "THMSGB20"},
    {"name": ALBION_SECURITIES, "institution_type": InstitutionType.broker.value,
     "country": "GB", "routing_number": None, "bic": "ALBNGB20"},
)  # fmt: skip

IBAN_BANK_CODES: dict[str, str] = {
    RHEINTAL_BANK: "39999900",
    NORDSTERN_DEPOT: "70099990",
    THAMESGATE_BANK: "THMS999901",
    ALBION_SECURITIES: "ALBN999902",
}
"""The national bank code each European institution's IBANs carry (GB: BIC bank id + sort code)."""


def contact_info(name: str) -> str:
    """Where customers reach an institution: an address at a reserved example domain."""
    return f"support@{_slug(name)}.example"


def internal_code(name: str) -> str:
    """The bank's own short code for an institution: the first letters of its name."""
    return _slug(name)[:4].upper()


def _slug(name: str) -> str:
    return "".join(c for c in name.lower() if c.isalnum())


def load_institutions(session: Session) -> dict[str, int]:
    """Insert the institutions that are missing; return every institution's id by name."""
    existing = {i.name: i.id for i in session.exec(select(Institution))}
    for spec in INSTITUTIONS:
        if spec["name"] not in existing:
            institution = Institution.model_validate(spec)
            session.add(institution)
            session.flush()
            existing[institution.name] = institution.id
    return {name: ident for name, ident in existing.items() if ident is not None}


def bank_iban(country: str | None, account_number: str, bank_codes: dict[str, str]) -> str | None:
    """The IBAN of an account in ``country`` under ``bank_codes``, or None where it has none."""
    if country is None or country not in bank_codes:
        return None
    bban = bank_codes[country] + account_number[-BBAN_ACCOUNT_DIGITS[country] :]
    return make_iban(country, bban)
