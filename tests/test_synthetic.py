"""Synthetic customers: deterministic, coherent, and served like any other customer."""

from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlmodel import SQLModel

from core.identifiers import is_valid_iban
from core.settings import Settings
from db import create_db_engine, create_schema
from main import create_app
from market.institutions import INSTITUTIONS
from market.model import ScaledMarket
from synthetic import generator as synthetic
from synthetic.book import IdCounters
from synthetic.bulk_load import load_synthetic

CUSTOMERS = 300


def fresh_engine(path: Path) -> Engine:
    engine = create_db_engine(f"sqlite:///{path}")
    create_schema(engine)
    return engine


BOOKKEEPING = {"changes", "bank_secrets", "bank_event_counter"}
"""Tables of the bank's own bookkeeping, random per database (the signing secret, the change
feed's id) or the workers' own: not part of the book."""
"""The bank's own records, not the book: the change log has a row per batch written, and a
database's signing secret is its own."""


def dump(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table of the book, in a total order."""
    with engine.connect() as connection:
        return {
            table.name: [
                tuple(row)
                for row in connection.execute(
                    table.select().order_by(*[column.asc() for column in table.columns])
                )
            ]
            for table in SQLModel.metadata.sorted_tables
            if table.name not in BOOKKEEPING
        }


@pytest.fixture(scope="module")
def synthetic_engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    engine = fresh_engine(tmp_path_factory.mktemp("synthetic") / "bank.db")
    report = load_synthetic(engine, CUSTOMERS, seed=42, batch_size=64, progress=False)
    assert report.customers == CUSTOMERS and report.rows > CUSTOMERS * 10
    return engine


def test_same_count_and_seed_give_the_same_rows(synthetic_engine: Engine, tmp_path: Path) -> None:
    # Another batch size, and in two steps: the rows must not depend on either.
    again = fresh_engine(tmp_path / "again.db")
    load_synthetic(again, 120, seed=42, batch_size=7, progress=False)
    load_synthetic(again, CUSTOMERS, seed=42, batch_size=500, progress=False)
    assert dump(again) == dump(synthetic_engine)


def test_another_seed_gives_other_customers(synthetic_engine: Engine, tmp_path: Path) -> None:
    other = fresh_engine(tmp_path / "other.db")
    load_synthetic(other, 20, seed=43, progress=False)
    with other.connect() as a, synthetic_engine.connect() as b:
        query = text("SELECT customer_oid, name FROM users ORDER BY id LIMIT 25")
        assert a.execute(query).fetchall()[5:] != b.execute(query).fetchall()[5:20]


def test_loading_again_adds_nothing(synthetic_engine: Engine) -> None:
    before = dump(synthetic_engine)
    assert load_synthetic(synthetic_engine, CUSTOMERS, seed=42, progress=False).customers == 0
    assert dump(synthetic_engine) == before


def test_the_book_is_referentially_sound(synthetic_engine: Engine) -> None:
    with synthetic_engine.connect() as connection:
        assert connection.execute(text("PRAGMA foreign_key_check")).fetchall() == []
        assert connection.execute(text("PRAGMA integrity_check")).scalar() == "ok"
        count = connection.execute(text("SELECT count(*) FROM users")).scalar()
        kept = connection.execute(
            text("SELECT value FROM counters WHERE name = 'customers'")
        ).scalar()
        assert count == kept == CUSTOMERS + 5


def test_holdings_balances_and_spending_follow_from_transactions(
    synthetic_engine: Engine,
) -> None:
    with synthetic_engine.connect() as connection:
        traded: dict[tuple[str, str], int] = defaultdict(int)
        for oid, kind, symbol, quantity, price, amount in connection.execute(
            text(
                "SELECT customer_oid, transaction_type, symbol, quantity, price, amount "
                "FROM transactions WHERE transaction_type IN ('buy', 'sell')"
            )
        ):
            sign = 1 if kind == "buy" else -1
            traded[(oid, symbol)] += sign * quantity
            exact = Decimal(quantity * price) / 10**12
            assert abs(Decimal(-sign * amount) - exact) <= Decimal("0.5")
        held = {
            (oid, symbol): quantity
            for oid, symbol, quantity in connection.execute(
                text("SELECT customer_oid, symbol, quantity FROM assets")
            )
        }
        assert held == {key: q for key, q in traded.items() if q}

        spending = {
            (oid, month, category): (amount, count)
            for oid, month, category, amount, count in connection.execute(
                text(
                    "SELECT customer_oid, month, category, amount, transaction_count FROM spending"
                )
            )
        }
        payments = {
            (oid, month, category): (-total, count)
            for oid, month, category, total, count in connection.execute(
                text(
                    "SELECT customer_oid, substr(transaction_date, 1, 7), category, sum(amount), "
                    "count(*) FROM transactions WHERE transaction_type = 'card_payment' "
                    "GROUP BY 1, 2, 3"
                )
            )
        }
        assert spending == payments
        negative = connection.execute(text("SELECT count(*) FROM bank_accounts WHERE balance < 0"))
        assert negative.scalar() == 0


def test_the_mix_looks_like_a_bank(synthetic_engine: Engine) -> None:
    with synthetic_engine.connect() as connection:

        def scalar(sql: str) -> int:
            return int(connection.execute(text(sql)).scalar() or 0)

        empty = scalar(
            "SELECT count(*) FROM users u WHERE NOT EXISTS "
            "(SELECT 1 FROM bank_accounts a WHERE a.customer_oid = u.customer_oid)"
        )
        assert 0.01 * CUSTOMERS < empty < 0.12 * CUSTOMERS
        with_derivatives = scalar(
            "SELECT count(DISTINCT customer_oid) FROM derivative_transactions"
        )
        assert 0.01 * CUSTOMERS < with_derivatives < 0.2 * CUSTOMERS
        companies = scalar(
            "SELECT count(*) FROM users WHERE name LIKE '% Inc' OR name LIKE '% GmbH' "
            "OR name LIKE '% Ltd' OR name LIKE '% LLC' OR name LIKE '% AG' OR name LIKE '% PLC' "
            "OR name LIKE '% Corp' OR name LIKE '% Group' OR name LIKE '% SE' "
            "OR name LIKE '% KG' OR name LIKE '% LLP'"
        )
        assert 0.04 * CUSTOMERS < companies < 0.2 * CUSTOMERS
        currencies: dict[str, int] = dict(
            connection.execute(
                text("SELECT currency, count(*) FROM bank_accounts GROUP BY currency")
            ).fetchall()
        )
        assert currencies["USD"] > currencies["EUR"] > currencies["GBP"] > 0
        ibans = [row[0] for row in connection.execute(text("SELECT iban FROM bank_accounts"))]
        assert sum(1 for i in ibans if i) > 10
        assert all(is_valid_iban(i) for i in ibans if i)
        numbers = scalar("SELECT count(DISTINCT account_number) FROM bank_accounts")
        assert numbers == scalar("SELECT count(*) FROM bank_accounts")


def test_synthetic_customers_are_served_and_found(synthetic_engine: Engine) -> None:
    url = synthetic_engine.url.render_as_string(hide_password=False)
    with TestClient(create_app(Settings(database_url=url))) as client:
        customers = client.get("/customers", params={"limit": 1000}).json()
        assert len(customers) == CUSTOMERS + 5
        for customer in customers[5:40]:
            portfolio = client.get(f"/user-portfolio/{customer['customer_oid']}")
            assert portfolio.status_code == 200
            summary = portfolio.json()["portfolio_summary"]
            assert summary["totals"]["net_worth"] >= 0
        surname = customers[10]["name"].split()[-1]
        found = client.get("/customers", params={"name": surname[:3].lower()}).json()
        assert customers[10] in found
        assert all(
            any(word.lower().startswith(surname[:3].lower()) for word in c["name"].split())
            for c in found
        )


def test_generated_tuples_line_up_with_their_tables() -> None:
    # Rows are positional tuples written under the columns read from the models: every value
    # must fit the column it lands in (type, nullability, length, date format).
    institutions = {str(spec["name"]): n for n, spec in enumerate(INSTITUTIONS, start=1)}
    generator = synthetic.CustomerGenerator(42, ScaledMarket.generated(), institutions)
    ids = IdCounters({table.name: 1 for table in synthetic.TABLES if "id" in table.c})
    ((_, rows),) = synthetic.batches(generator, ids, 0, 200, 200)
    for table in synthetic.TABLES:
        assert rows[table.name], table.name
        for row in rows[table.name]:
            columns = [table.c[name] for name in synthetic.COLUMNS[table.name]]
            assert len(row) == len(columns), table.name
            # A column left out takes its default: NULL, or the server's default.
            for left_out in set(table.columns) - set(columns):
                assert left_out.nullable or left_out.server_default is not None, left_out
            for column, value in zip(columns, row, strict=True):
                where = f"{table.name}.{column.name} = {value!r}"
                if value is None:
                    assert column.nullable, where
                    continue
                kind = column.type.python_type
                if kind in (date, datetime):
                    assert isinstance(value, str) and kind.fromisoformat(value), where
                else:
                    assert isinstance(value, kind), where
                length = getattr(column.type, "length", None)
                if length is not None:
                    assert len(value) <= length, where
