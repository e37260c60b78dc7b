"""The answers of ``/api/*``, for the OpenBanking MCP server written alongside the original
bank: the same figures as the sections, under the original's names (``schemas/openbanking``).
"""

from sqlmodel import Session

from schemas.openbanking import (
    ApiAccount,
    ApiAccounts,
    ApiPagination,
    ApiTransaction,
    ApiTransactions,
)
from services.customers import get_customer
from services.portfolio import read_accounts
from services.records import transactions_by_number


def api_accounts(session: Session, raw_oid: str, currency: str | None = None) -> ApiAccounts:
    section = read_accounts(session, raw_oid, currency)
    return ApiAccounts(
        customer_oid=section.customer_oid,
        accounts=[
            ApiAccount(
                account_id=a.id,
                account_type=a.account_type,
                account_name=f"{a.institution.name} {a.account_type} "
                f"ending {a.account_number[-4:]}",
                balance=a.balance,
                currency=a.currency,
                status="active",
            )
            for a in section.bank_accounts
        ],
        total_assets=section.total_cash_balance,
        base_currency=section.base_currency,
    )


def api_transactions(
    session: Session, raw_oid: str, *, page: int, per_page: int
) -> ApiTransactions:
    oid = get_customer(session, raw_oid).customer_oid
    rows, total = transactions_by_number(session, oid, page=page, per_page=per_page)
    return ApiTransactions(
        customer_oid=oid,
        transactions=[
            ApiTransaction(
                transaction_id=t.id,
                date=t.transaction_date,
                type=t.transaction_type,
                symbol=t.symbol,
                quantity=t.quantity,
                price=t.price,
                amount=t.amount,
                fees=0,
                account_id=t.account_id,
            )
            for t in rows
        ],
        pagination=ApiPagination(
            current_page=page,
            per_page=per_page,
            total_transactions=total,
            total_pages=-(-total // per_page),
        ),
    )
