"""The answers of ``/api/*``: the shapes the OpenBanking MCP server written alongside the
original bank reads, by its field names. Each is built from the same services as the rest of
the API; only the names and the arrangement are the original's."""

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from core.money import Decimal8, Money
from schemas.common import OID_DESCRIPTION


class ApiAccount(BaseModel):
    account_id: int = Field(description="The account's id (the sections' id).")
    account_type: str = Field(description="checking, savings, brokerage or crypto.")
    account_name: str = Field(
        description="Institution, type and the account number's last four digits."
    )
    balance: Money = Field(description="Current balance in the account's currency.")
    currency: str = Field(description="ISO 4217 currency of the balance.")
    status: Literal["active"] = Field(description="Every account the bank shows is active.")


class ApiAccounts(BaseModel):
    customer_oid: str = Field(description=OID_DESCRIPTION)
    accounts: list[ApiAccount]
    total_assets: Money = Field(
        description="The balances of every account converted into base_currency and added "
        "up (the accounts section's total_cash_balance); holdings are not included."
    )
    base_currency: str = Field(description="Currency of total_assets.")


class ApiTransaction(BaseModel):
    transaction_id: int
    date: dt.date = Field(description="Booking day.")
    type: str = Field(description="deposit, withdrawal, buy, sell, dividend, interest, fee, ...")
    symbol: str | None = Field(description="Instrument traded, for buy and sell.")
    quantity: Decimal8 | None = Field(description="Units traded, for buy and sell.")
    price: Decimal8 | None = Field(description="Price per unit, for buy and sell.")
    amount: Money = Field(description="Signed, in the account's currency: negative is out.")
    fees: Money = Field(
        description="Always 0: the bank books every fee and commission as a transaction of "
        "its own, of type fee, which this list shows."
    )
    account_id: int | None


class ApiPagination(BaseModel):
    current_page: int = Field(description="This page's number, from 1.")
    per_page: int = Field(description="Transactions per page.")
    total_transactions: int = Field(description="How many the customer has, on all pages.")
    total_pages: int = Field(description="How many pages of per_page there are.")


class ApiTransactions(BaseModel):
    customer_oid: str = Field(description=OID_DESCRIPTION)
    transactions: list[ApiTransaction] = Field(description="This page, newest first.")
    pagination: ApiPagination
