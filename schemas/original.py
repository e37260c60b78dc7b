"""``/user-portfolio``'s list items as a superset of the original implementation's: each item
carries our fields and, beside them, the original's by its name, JSON type and meaning.

Code written against the original bank reads these names. Where a name means something else
in the two (a derivative's ``premium`` and ``side``), the original's meaning wins here; the
sectioned endpoints keep our own, and our figure also has a name of its own everywhere
(``premium_per_unit``, ``position``).
"""

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field, computed_field

from core.money import Decimal8, Money
from schemas.customers import UserOut
from schemas.portfolio import (
    AssetOut,
    BankAccountOut,
    DerivativeOut,
    InstitutionOut,
    SpendingOut,
    TransactionOut,
)
from schemas.summary import PortfolioSummary


class OriginalAsset(AssetOut):
    amount: Decimal8 = Field(description="The original's name for quantity: units held.")


class OriginalInstitution(InstitutionOut):
    type: str = Field(description="The original's name for institution_type.")
    contact_info: str = Field(description="Where customers reach it (a reserved example domain).")
    internal_code: str = Field(description="The bank's own short code for the institution.")


class OriginalBankAccount(BankAccountOut):
    institution_id: int = Field(description="The id of the institution below.")
    iban: str = Field(
        description="IBAN, always a string as in the original: empty for an account without "
        "one (US accounts); the sections show null instead."
    )
    institution: OriginalInstitution


class OriginalTransaction(TransactionOut):
    # Computed, not stored: a portfolio has hundreds of transactions, read straight into
    # this shape, and the three names cost nothing until the answer is written.
    @computed_field(description="The original's name for transaction_date.")  # type: ignore[prop-decorator]
    @property
    def date(self) -> dt.date:
        return self.transaction_date

    @computed_field(description="The original's name for transaction_type.")  # type: ignore[prop-decorator]
    @property
    def type(self) -> str:
        return self.transaction_type

    @computed_field(description="The original's name for symbol: the instrument traded.")  # type: ignore[prop-decorator]
    @property
    def asset(self) -> str | None:
        return self.symbol


class OriginalDerivative(DerivativeOut):
    type: Literal["call", "put", "future"] = Field(
        description="What the contract is: a call or put option, or a future."
    )
    asset: str = Field(description="The original's name for underlying_symbol.")
    strike_price: Decimal8 | None = Field(description="The original's name for strike.")
    expiration_date: dt.date = Field(description="The original's name for expiry_date.")
    execution_date: dt.date = Field(description="The original's name for trade_date.")
    counterparty: str = Field(description="The clearing house the position faces.")
    premium: Money | None = Field(
        description="As in the original: the position's total premium (premium_per_unit x "
        "contracts x multiplier), in currency; null for futures. The derivatives section's "
        "premium is per unit."
    )
    side: Literal["buy", "sell"] = Field(
        description="As in the original: buy (a long position) or sell (a short one); "
        "position says long or short, as the derivatives section's side does."
    )


class Portfolio(BaseModel):
    """A whole portfolio, its items with the original's fields beside ours. With
    ``sections=``, the sections not asked for are left out."""

    customer_oid: str
    user: UserOut
    assets: list[OriginalAsset] = Field(default_factory=list)
    bank_accounts: list[OriginalBankAccount] = Field(default_factory=list)
    transactions: list[OriginalTransaction] = Field(
        default_factory=list,
        description="Newest first; all of them unless transactions_limit is given.",
    )
    spending: list[SpendingOut] = Field(default_factory=list)
    derivative_transactions: list[OriginalDerivative] = Field(default_factory=list)
    portfolio_summary: PortfolioSummary | None = Field(
        default=None, description="Always present unless sections= leaves it out."
    )
