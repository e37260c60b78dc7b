"""A customer as a task is drawn for them: accounts, valued holdings, open positions, payees
and scheduled payments, read through the services the API answers with (so the task speaks
of what the agent will see), and the words a customer would use for them."""

from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property

from sqlmodel import Session, col, select

from models import AccountStatus, Asset, BankAccount, CustomerProfile, Transaction
from schemas.instructions import InstructionOut, Payee
from schemas.portfolio import DerivativeOut
from schemas.summary import Holding
from services.instructions import TRANSFER_ACCOUNTS, list_instructions
from services.payees import list_payees
from services.portfolio import read_assets
from services.records import list_derivatives

CURRENCY_WORDS = {"USD": "dollars", "EUR": "euros", "GBP": "pounds"}
NICE_AMOUNTS = tuple(
    Decimal(n)
    for n in (50, 100, 150, 200, 250, 300, 400, 500, 750, 1000, 1500, 2000, 2500, 3000, 5000)
)
"""Amounts a customer names: round ones."""


def money_words(amount: Decimal, currency: str) -> str:
    """``1,500 dollars``, ``2,724.50 euros``: how a customer says an amount."""
    shown = f"{amount:,.0f}" if amount == amount.to_integral_value() else f"{amount:,.2f}"
    return f"{shown} {CURRENCY_WORDS.get(currency, currency)}"


def units_words(quantity: Decimal) -> str:
    return f"{quantity.normalize():,f}"


@dataclass(frozen=True)
class AccountInfo:
    id: int
    account_type: str
    currency: str
    balance: Decimal
    overdraft_limit: Decimal
    status: str

    @property
    def available(self) -> Decimal:
        return self.balance + self.overdraft_limit


class CustomerView:
    """One customer, read when first asked for and remembered while a set is drawn."""

    def __init__(self, session: Session, oid: str, name: str) -> None:
        self.session = session
        self.oid = oid
        self.name = name

    @cached_property
    def accounts(self) -> list[AccountInfo]:
        rows = self.session.exec(
            select(BankAccount)
            .where(BankAccount.customer_oid == self.oid)
            .order_by(col(BankAccount.id))
        )
        return [
            AccountInfo(
                a.id or 0, a.account_type, a.currency, a.balance, a.overdraft_limit, a.status
            )
            for a in rows
        ]

    @cached_property
    def open_accounts(self) -> list[AccountInfo]:
        return [a for a in self.accounts if a.status == AccountStatus.open]

    @cached_property
    def kind(self) -> str:
        """person or company: what the daily limit depends on."""
        found = self.session.exec(
            select(CustomerProfile.kind).where(CustomerProfile.customer_oid == self.oid)
        ).first()
        return found or "person"

    @cached_property
    def holdings(self) -> list[Holding]:
        """Valued in US dollars, largest first, as GET /customer/{oid}/assets shows them."""
        return read_assets(self.session, self.oid).holdings

    @cached_property
    def asset_rows(self) -> Counter[str]:
        """How many rows hold each symbol (one per account that holds it)."""
        return Counter(
            self.session.exec(select(Asset.symbol).where(Asset.customer_oid == self.oid)).all()
        )

    @cached_property
    def positions(self) -> list[DerivativeOut]:
        return list_derivatives(self.session, self.oid, "open")

    @cached_property
    def payees(self) -> list[Payee]:
        return list_payees(self.session, self.oid).payees

    @cached_property
    def scheduled(self) -> list[InstructionOut]:
        return list_instructions(self.session, self.oid, "payment", "scheduled").instructions

    @cached_property
    def merchants(self) -> set[str]:
        """Everyone the statement names, case-folded."""
        names = self.session.exec(
            select(Transaction.merchant)
            .where(Transaction.customer_oid == self.oid, col(Transaction.merchant).is_not(None))
            .distinct()
        ).all()
        return {name.casefold() for name in names if name}

    def transfer_accounts(self) -> list[AccountInfo]:
        return [a for a in self.open_accounts if a.account_type in TRANSFER_ACCOUNTS]

    def called(self, account: AccountInfo) -> str | None:
        """How the customer names the account so that no other fits: ``my savings account``,
        ``my EUR checking account``; None when that does not single it out."""
        same_type = [a for a in self.open_accounts if a.account_type == account.account_type]
        if len(same_type) == 1:
            return f"my {account.account_type} account"
        if sum(a.currency == account.currency for a in same_type) == 1:
            return f"my {account.currency} {account.account_type} account"
        return None

    def only_checking(self, currency: str) -> AccountInfo | None:
        """The customer's one open checking account in ``currency``: where a payment in it
        comes from when the customer does not say."""
        found = [
            a for a in self.open_accounts if a.account_type == "checking" and a.currency == currency
        ]
        return found[0] if len(found) == 1 else None

    def payee_named(self, name: str) -> Payee | None:
        """The payee of that name, if only one has it."""
        found = [p for p in self.payees if p.name.casefold() == name.casefold()]
        return found[0] if len(found) == 1 else None
