"""The rows an instruction may touch, read straight from the database, for tests that compare
the bank before and after (a refusal must change none of them), and direct edits of the book
that no endpoint makes (closing an account, an overdraft limit, a market holiday)."""

from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import Engine, text
from sqlmodel import Session

from models import BankAccount, DerivativeTransaction
from services.changes import record_change

BOOK_QUERIES = {
    "accounts": "SELECT id, customer_oid, balance, status, overdraft_limit FROM bank_accounts "
    "ORDER BY id",
    "assets": "SELECT customer_oid, symbol, account_id, quantity FROM assets "
    "ORDER BY customer_oid, symbol",
    "transactions": "SELECT COUNT(*), MAX(id), SUM(amount) FROM transactions",
    "instructions": "SELECT id, customer_oid, kind, status, execute_on FROM instructions "
    "ORDER BY id",
    "bank_income": "SELECT id, instruction_id, kind, amount, currency FROM bank_income ORDER BY id",
    "derivatives": "SELECT id, status, closed_on FROM derivative_transactions ORDER BY id",
}


def book(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every account, holding, instruction, income row and derivative status, and the
    statement's row count and total: what any instruction could change."""
    with engine.connect() as connection:
        return {
            name: [tuple(row) for row in connection.execute(text(query))]
            for name, query in BOOK_QUERIES.items()
        }


def balance(engine: Engine, account_id: int) -> Decimal:
    with Session(engine) as session:
        account = session.get(BankAccount, account_id)
        assert account is not None
        return account.balance


Editable = TypeVar("Editable", BankAccount, DerivativeTransaction)


def change_row(engine: Engine, table: type[Editable], row_id: int, **columns: object) -> None:
    """Set columns no endpoint sets (an account's ``status`` or ``overdraft_limit``, a
    position's expiry), logged as the bank's writers log their changes, so that no cached
    answer outlives it."""
    with Session(engine) as session:
        row = session.get(table, row_id)
        assert row is not None
        for name, value in columns.items():
            setattr(row, name, value)
        session.add(row)
        record_change(session, row.customer_oid)
        session.commit()


def market_holiday(engine: Engine, symbol: str, day: date) -> None:
    """``symbol`` has no close on ``day``, as if its market were shut."""
    with Session(engine) as session:
        session.execute(
            text("DELETE FROM instrument_prices WHERE symbol = :symbol AND price_date = :day"),
            {"symbol": symbol, "day": day},
        )
        # Market data changed: every cached answer and the market snapshot are dropped.
        record_change(session, None)
        session.commit()
