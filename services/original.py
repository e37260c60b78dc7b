"""``/user-portfolio``'s items with the original implementation's fields beside ours.

Each function takes the items as the sections show them and adds the original's names
(``schemas/original.py``). Nothing is read again and nothing validated again: every value
is one the bank has just computed.
"""

from collections.abc import Sequence

from core.money import to_cents
from market.institutions import contact_info, internal_code
from schemas.original import (
    OriginalAsset,
    OriginalBankAccount,
    OriginalDerivative,
    OriginalInstitution,
)
from schemas.portfolio import AssetOut, BankAccountOut, DerivativeOut

CLEARING_HOUSES = {"option": "Options Clearing Corporation", "future": "CME Clearing"}
"""Who a listed position faces: every option the bank books is a listed US equity or ETF
option, every future a CME contract."""


def original_assets(assets: Sequence[AssetOut]) -> list[OriginalAsset]:
    return [OriginalAsset.model_construct(**vars(a), amount=a.quantity) for a in assets]


def original_accounts(accounts: Sequence[BankAccountOut]) -> list[OriginalBankAccount]:
    shaped = []
    for account in accounts:
        institution = account.institution
        fields = vars(account) | {
            "institution_id": institution.id,
            "iban": account.iban or "",
            "institution": OriginalInstitution.model_construct(
                **vars(institution),
                type=institution.institution_type,
                contact_info=contact_info(institution.name),
                internal_code=internal_code(institution.name),
            ),
        }
        shaped.append(OriginalBankAccount.model_construct(**fields))
    return shaped


def original_derivatives(derivatives: Sequence[DerivativeOut]) -> list[OriginalDerivative]:
    shaped = []
    for d in derivatives:
        total = None if d.premium is None else to_cents(d.premium * d.contracts * d.multiplier)
        fields = vars(d) | {
            "type": d.option_type or d.instrument_type,
            "asset": d.underlying_symbol,
            "strike_price": d.strike,
            "expiration_date": d.expiry_date,
            "execution_date": d.trade_date,
            "counterparty": CLEARING_HOUSES[d.instrument_type],
            "premium": total,
            "side": "buy" if d.side == "long" else "sell",
        }
        shaped.append(OriginalDerivative.model_construct(**fields))
    return shaped
