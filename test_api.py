"""The contract, endpoint by endpoint, and the data model behind it."""

import json
import re
import subprocess
import sys
from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert, inspect, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, col, func, select

from core.identifiers import is_valid_iban
from db import create_db_engine
from models import (
    CUSTOMER_TABLES,
    Asset,
    BankAccount,
    Customer,
    DerivativeTransaction,
    InstrumentPrice,
    Spending,
    Transaction,
)
from synthetic.samples import SAMPLE_CUSTOMERS
from synthetic.seeding import seed_sample_data
from tests.helpers import JANE, JOHN, PROJECT, UNKNOWN

SAMPLES = {
    "550e8400-e29b-41d4-a716-446655440001": "John Doe",
    "550e8400-e29b-41d4-a716-446655440002": "Jane Smith",
    "550e8400-e29b-41d4-a716-446655440003": "Robert Johnson",
    "550e8400-e29b-41d4-a716-446655440004": "ABC Corporation",
    "550e8400-e29b-41d4-a716-446655440005": "Michael Chen",
}
PORTFOLIO_KEYS = {
    "customer_oid",
    "user",
    "assets",
    "bank_accounts",
    "transactions",
    "spending",
    "derivative_transactions",
    "portfolio_summary",
}
SUMMARY_KEYS = {
    "customer_oid",
    "total_cash_balance",
    "total_spending",
    "total_assets",
    "total_accounts",
    "total_transactions",
    "total_spending_categories",
    "total_derivative_positions",
    "has_data",
}
NOT_FOUND = f"Customer with CustomerOID '{UNKNOWN}' not found"


def rows_of(engine: Engine, oid: str) -> dict[str, int]:
    with Session(engine) as session:
        return {
            table.__tablename__: session.exec(
                select(func.count()).select_from(table).where(col(table.customer_oid) == oid)
            ).one()
            for table in (Customer, *CUSTOMER_TABLES)
        }


# --- GET /customers and /health ------------------------------------------------


def test_list_customers_is_an_array_of_the_five_samples(client: TestClient) -> None:
    response = client.get("/customers")
    assert response.status_code == 200
    body = response.json()
    assert isinstance(body, list)
    assert {c["customer_oid"]: c["name"] for c in body} == SAMPLES
    assert all(set(c) == {"customer_oid", "name"} for c in body)
    assert body[:2] == [
        {"customer_oid": JOHN, "name": "John Doe"},
        {"customer_oid": JANE, "name": "Jane Smith"},
    ]


def test_health_is_healthy(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "healthy", "service": "dummy-bank-api"}


def test_health_sends_the_same_bytes_whichever_way_it_is_answered(client: TestClient) -> None:
    # On SQLite a layer in front of the routing answers it; on PostgreSQL the route does.
    response = client.get("/health", headers={"Origin": "http://localhost:5173"})
    assert response.status_code == 200
    assert response.content == b'{"status":"healthy","service":"dummy-bank-api"}'
    assert response.headers["content-type"] == "application/json"
    assert response.headers["access-control-allow-origin"] == "http://localhost:5173"
    assert response.headers["x-request-id"]
    refused = client.get("/health", headers={"Host": "attacker.example"})
    assert refused.status_code == 421


def test_health_is_503_when_the_database_is_gone(client: TestClient, engine: Engine) -> None:
    engine.dispose()
    client.app.state.database.engine = create_db_engine("sqlite:////nonexistent-dir/bank.db")  # type: ignore[attr-defined]
    response = client.get("/health")
    assert response.status_code == 503
    assert response.json()["detail"] == "Database unavailable: the bank cannot reach its database"


# --- GET /customer/{oid}/exists ----------------------------------------------------


def test_exists_for_a_sample_customer(client: TestClient) -> None:
    response = client.get(f"/customer/{JOHN}/exists")
    assert response.status_code == 200
    assert response.json() == {"customer_oid": JOHN, "exists": True, "name": "John Doe"}


def test_exists_is_false_not_404_for_an_unknown_id(client: TestClient) -> None:
    response = client.get(f"/customer/{UNKNOWN}/exists")
    assert response.status_code == 200
    assert response.json() == {"customer_oid": UNKNOWN, "exists": False, "name": None}


@pytest.mark.parametrize(
    "spelling",
    [
        JOHN.upper(),
        JOHN.replace("-", ""),
        JOHN.replace("-", "").upper(),
        "{" + JOHN + "}",
        "{" + JOHN.upper() + "}",
        "urn:uuid:" + JOHN,
    ],
)
def test_every_spelling_of_a_uuid_names_the_same_customer(
    client: TestClient, spelling: str
) -> None:
    assert client.get(f"/customer/{spelling}/exists").json() == {
        "customer_oid": JOHN,
        "exists": True,
        "name": "John Doe",
    }
    portfolio = client.get(f"/user-portfolio/{spelling}")
    assert portfolio.status_code == 200
    assert portfolio.json()["customer_oid"] == JOHN


@pytest.mark.parametrize(
    "malformed",
    ["invalid-oid", "cust0001", "550e8400-e29b-41d4-a716", "ABC", "x" * 200, "550e8400_e29b"],
)
def test_malformed_ids_are_400_with_the_expected_format(client: TestClient, malformed: str) -> None:
    for method, path in (
        ("GET", f"/customer/{malformed}/exists"),
        ("GET", f"/user-portfolio/{malformed}"),
        ("DELETE", f"/customer/{malformed}"),
    ):
        response = client.request(method, path)
        assert response.status_code == 400, (method, path)
        detail = response.json()["detail"]
        assert "Invalid CustomerOID format" in detail
        assert "550e8400-e29b-41d4-a716-446655440000" in detail
        assert len(detail) < 400


# --- GET /user-portfolio/{oid} -----------------------------------------------------


def test_portfolio_has_the_contract_shape(client: TestClient) -> None:
    response = client.get(f"/user-portfolio/{JOHN}")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == PORTFOLIO_KEYS
    assert body["user"] == {"name": "John Doe", "customer_oid": JOHN}
    for asset in body["assets"]:
        assert {"id", "customer_oid", "asset_type", "symbol", "quantity", "current_value"} <= set(
            asset
        )
    for account in body["bank_accounts"]:
        assert {
            "id",
            "customer_oid",
            "account_number",
            "account_type",
            "balance",
            "currency",
        } <= set(account)
        assert {"id", "name", "routing_number"} <= set(account["institution"])
    summary = body["portfolio_summary"]
    assert set(summary) >= SUMMARY_KEYS
    assert summary["customer_oid"] == JOHN
    assert isinstance(summary["total_cash_balance"], float)
    assert summary["has_data"] == {
        "assets": True,
        "accounts": True,
        "transactions": True,
        "spending": True,
        "derivatives": True,
    }
    assert summary["total_assets"] == len(body["assets"])
    assert summary["total_accounts"] == len(body["bank_accounts"])
    assert summary["total_transactions"] == len(body["transactions"])
    assert summary["total_derivative_positions"] == len(body["derivative_transactions"])
    assert summary["total_spending_categories"] == len({s["category"] for s in body["spending"]})


def test_portfolio_of_unknown_customer_is_404(client: TestClient) -> None:
    response = client.get(f"/user-portfolio/{UNKNOWN}")
    assert response.status_code == 404
    assert response.json()["detail"] == NOT_FOUND


def test_portfolio_of_a_customer_without_data_is_empty_lists_and_zeros(client: TestClient) -> None:
    oid = client.post("/register-customer", json={"name": "Empty Person"}).json()["customer_oid"]
    body = client.get(f"/user-portfolio/{oid}").json()
    assert body["assets"] == body["bank_accounts"] == body["transactions"] == []
    assert body["spending"] == body["derivative_transactions"] == []
    summary = body["portfolio_summary"]
    assert summary["total_cash_balance"] == 0
    assert summary["total_spending"] == 0
    assert summary["total_assets"] == summary["total_transactions"] == 0
    assert not any(summary["has_data"].values())


@pytest.mark.parametrize("oid", list(SAMPLES))
def test_every_sample_customer_has_the_data_its_profile_promises(
    client: TestClient, oid: str
) -> None:
    body = client.get(f"/user-portfolio/{oid}").json()
    has = body["portfolio_summary"]["has_data"]
    assert has["assets"] and has["accounts"] and has["transactions"] and has["spending"]
    assert has["derivatives"] == (oid in {JOHN, JANE, "550e8400-e29b-41d4-a716-446655440004"})


def test_sample_profiles_hold_the_instruments_the_contract_names(client: TestClient) -> None:
    def symbols(oid: str) -> set[str]:
        return {a["symbol"] for a in client.get(f"/user-portfolio/{oid}").json()["assets"]}

    assert {"BTC", "SPY"} <= symbols(JOHN)
    assert {"TSLA", "NVDA", "MSFT", "BTC", "ETH"} <= symbols(JANE)
    assert {"US10Y", "SPY", "JNJ"} <= symbols("550e8400-e29b-41d4-a716-446655440003")
    assert {"AAPL", "MSFT", "QQQ"} <= symbols("550e8400-e29b-41d4-a716-446655440004")
    assert {"AMZN", "ETH", "VTI"} <= symbols("550e8400-e29b-41d4-a716-446655440005")
    john = client.get(f"/user-portfolio/{JOHN}").json()
    assert {"USD", "EUR"} <= {a["currency"] for a in john["bank_accounts"]}
    assert {d["strategy"] for d in john["derivative_transactions"]} == {
        "covered_call",
        "cash_secured_put",
    }


# --- DELETE /customer/{oid} ----------------------------------------------------------


def test_delete_removes_the_customer_and_every_row_it_owns(
    client: TestClient, engine: Engine
) -> None:
    before = rows_of(engine, JOHN)
    assert all(count > 0 for count in before.values()), before
    other_before = rows_of(engine, JANE)

    response = client.delete(f"/customer/{JOHN}")
    assert response.status_code == 200
    assert response.json() == {
        "customer_oid": JOHN,
        "message": "Customer and all associated data deleted successfully",
    }
    assert rows_of(engine, JOHN) == dict.fromkeys(before, 0)
    assert rows_of(engine, JANE) == other_before
    assert client.get(f"/customer/{JOHN}/exists").json()["exists"] is False
    if engine.dialect.name == "sqlite":  # PostgreSQL cannot hold an orphan in the first place
        with engine.connect() as connection:
            assert connection.execute(text("PRAGMA foreign_key_check")).fetchall() == []


def test_delete_leaves_no_orphan_in_any_table(client: TestClient, engine: Engine) -> None:
    client.delete(f"/customer/{JOHN}")
    with engine.connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            if "customer_oid" in table.c:
                leftovers = connection.execute(
                    table.select().where(table.c.customer_oid == JOHN)
                ).fetchall()
                if table.name == "bank_events":
                    # The change feed keeps what happened, the deletion last of all.
                    assert [row.type for row in leftovers][-1] == "customer.deleted"
                    assert {json.loads(row.data).get("transaction_id") for row in leftovers} == {
                        None
                    }
                    continue
                assert leftovers == [], table.name


def test_delete_unknown_customer_is_404(client: TestClient) -> None:
    response = client.delete(f"/customer/{UNKNOWN}")
    assert response.status_code == 404
    assert response.json()["detail"] == NOT_FOUND


def test_delete_twice_is_200_then_404(client: TestClient) -> None:
    assert client.delete(f"/customer/{JOHN.upper()}").status_code == 200
    assert client.delete(f"/customer/{JOHN}").status_code == 404


def test_a_delete_that_fails_half_way_changes_nothing(client: TestClient, engine: Engine) -> None:
    before = rows_of(engine, JOHN)
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            connection.execute(
                text(
                    "CREATE TRIGGER refuse BEFORE DELETE ON derivative_transactions "
                    "BEGIN SELECT RAISE(ABORT, 'refused by test'); END"
                )
            )
        else:
            connection.execute(
                text(
                    "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$ BEGIN RAISE EXCEPTION 'refused by test'; END $$"
                )
            )
            connection.execute(
                text(
                    "CREATE TRIGGER refuse BEFORE DELETE ON derivative_transactions "
                    "FOR EACH ROW EXECUTE FUNCTION refuse()"
                )
            )
    response = client.delete(f"/customer/{JOHN}")
    assert response.status_code == 500
    assert response.json()["detail"] == "Internal server error"
    assert rows_of(engine, JOHN) == before


# --- Errors and the OpenAPI document ----------------------------------------------------


def test_unknown_route_is_json_404(client: TestClient) -> None:
    response = client.get("/no-such-thing")
    assert response.status_code == 404
    assert response.json()["detail"] == "Not Found"


def test_error_bodies_never_show_sql_or_tracebacks(client: TestClient) -> None:
    bodies = [
        client.post("/register-customer", content=b"{bad json"),
        client.post("/register-customer", json={"name": ["x"]}),
        client.get("/customer/'; DROP TABLE users; --/exists"),
        client.delete(f"/customer/{UNKNOWN}"),
    ]
    for response in bodies:
        assert 400 <= response.status_code < 500
        text_body = response.text
        assert set(response.json()) == {"detail", "request_id"}
        for leak in ("Traceback", "SELECT", "sqlalchemy", 'File "', ".py", "sqlite"):
            assert leak not in text_body


SANDBOX_ROUTE = {"200", "400", "401", "403", "404", "503"}
"""What a sandbox route of the full key answers: 403 for the read key and sandbox keys."""
EXPECTED_RESPONSES = {
    # 401 where the bank has keys and none was sent; 403 for a write with the read key.
    ("/customers", "get"): {"200", "400", "401", "503"},
    ("/register-customer", "post"): {"200", "400", "401", "403", "409", "503"},
    ("/customer/{customer_oid}", "delete"): SANDBOX_ROUTE,
    ("/customer/{customer_oid}/exists", "get"): {"200", "400", "401", "503"},
    ("/customer/{customer_oid}/profile", "get"): {"200", "400", "401", "404", "503"},
    ("/user-portfolio/{customer_oid}", "get"): {"200", "400", "401", "404", "503"},
    ("/health", "get"): {"200", "503"},
    ("/market-data", "get"): {"200", "400", "401", "404", "503"},
    ("/market-data/{symbol}/history", "get"): {"200", "400", "401", "404", "503"},
    # Sandboxes are the harness's: 403 for the read key and sandbox keys, even on GET.
    ("/sandboxes", "get"): {"200", "401", "403", "503"},
    ("/sandboxes", "post"): {"201", "400", "401", "403", "429", "503"},
    ("/sandboxes/{sandbox_id}", "get"): SANDBOX_ROUTE,
    ("/sandboxes/{sandbox_id}", "delete"): SANDBOX_ROUTE,
    ("/sandboxes/{sandbox_id}/reset", "post"): SANDBOX_ROUTE,
    ("/sandboxes/{sandbox_id}/faults", "put"): SANDBOX_ROUTE,
    ("/sandboxes/{sandbox_id}/faults", "get"): SANDBOX_ROUTE,
    ("/sandboxes/{sandbox_id}/faults", "delete"): SANDBOX_ROUTE,
    ("/sandboxes/{sandbox_id}/requests", "get"): SANDBOX_ROUTE,
    # The answer key: 403 for the read key even on GET (the agent must not read it).
    ("/eval/questions", "get"): {"200", "400", "401", "403", "503"},
    ("/eval/grade", "post"): {"200", "400", "401", "403", "413", "503"},
    ("/eval/tasks", "get"): {"200", "400", "401", "403", "409", "503"},
    ("/eval/tasks/grade", "post"): SANDBOX_ROUTE,
    **{
        (f"/customer/{{customer_oid}}/{section}", "get"): {"200", "400", "401", "404", "503"}
        for section in (
            "summary",
            "risk",
            "assets",
            "accounts",
            "transactions",
            "spending",
            "derivatives",
        )
    },
    **{
        (f"/api/{call}/{{customer_oid}}", "get"): {"200", "400", "401", "404", "503"}
        for call in ("customers", "accounts", "transactions", "portfolio", "risk")
    },
    ("/api/market-data", "get"): {"200", "400", "401", "503"},
    # Instructions: 422 is a bank rule refusing a well-formed instruction (never validation).
    **{
        (f"/customer/{{customer_oid}}/{kind}", "post"): {
            "201",
            "400",
            "401",
            "403",
            "404",
            "422",
            "503",
        }
        for kind in ("transfers", "payments", "orders")
    },
    ("/customer/{customer_oid}/payments/{payment_id}", "delete"): {
        "200",
        "400",
        "401",
        "403",
        "404",
        "422",
        "503",
    },
    **{
        (path, "get"): {"200", "400", "401", "404", "503"}
        for path in (
            "/customer/{customer_oid}/payments",
            "/customer/{customer_oid}/instructions",
            "/customer/{customer_oid}/instructions/{instruction_id}",
            "/customer/{customer_oid}/payees",
        )
    },
    # The change feed; a sandbox's clock, scripted events and webhooks (the full key's).
    ("/changes", "get"): {"200", "400", "401", "503"},
    ("/sandboxes/{sandbox_id}/clock", "get"): SANDBOX_ROUTE,
    ("/sandboxes/{sandbox_id}/clock/advance", "post"): SANDBOX_ROUTE,
    ("/sandboxes/{sandbox_id}/events", "get"): SANDBOX_ROUTE,
    ("/sandboxes/{sandbox_id}/events", "post"): {"201"} | SANDBOX_ROUTE - {"200"},
    ("/sandboxes/{sandbox_id}/events", "delete"): SANDBOX_ROUTE,
    ("/sandboxes/{sandbox_id}/webhooks", "get"): SANDBOX_ROUTE,
    ("/sandboxes/{sandbox_id}/webhooks", "post"): {"201", "409"} | SANDBOX_ROUTE - {"200"},
    ("/sandboxes/{sandbox_id}/webhooks/{webhook_id}", "get"): SANDBOX_ROUTE,
    ("/sandboxes/{sandbox_id}/webhooks/{webhook_id}", "delete"): SANDBOX_ROUTE,
    ("/sandboxes/{sandbox_id}/webhooks/{webhook_id}/deliveries", "get"): SANDBOX_ROUTE,
}
REFUSING = {
    (path, method) for (path, method), codes in EXPECTED_RESPONSES.items() if "422" in codes
}


def test_openapi_lists_real_error_responses_and_no_422(client: TestClient) -> None:
    # Validation errors are 400: FastAPI's 422 validation answer appears nowhere; 422 is
    # listed only where a bank rule may refuse an instruction, with the rule named.
    document = client.get("/openapi.json").json()
    assert "HTTPValidationError" not in json.dumps(document)
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            refusal = operation["responses"].get("422")
            assert (refusal is not None) == ((path, method) in REFUSING), (path, method)
            if refusal is not None:
                assert "rule" in refusal["description"]
    listed = {
        (path, method): set(operation["responses"])
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    }
    assert listed == EXPECTED_RESPONSES
    for operations in document["paths"].values():
        for operation in operations.values():
            assert operation["summary"]
    market_404 = document["paths"]["/market-data"]["get"]["responses"]["404"]["description"]
    assert "symbol" in market_404
    headers = document["paths"]["/customers"]["get"]["responses"]["200"]["headers"]
    assert set(headers) == {"X-Total-Count", "Link"}


# --- The data model ---------------------------------------------------------------------


def test_money_is_exact_and_sent_rounded_to_the_cent(client: TestClient, engine: Engine) -> None:
    oid = client.post("/register-customer", json={"name": "Penny Counter"}).json()["customer_oid"]
    with Session(engine) as session, session.begin():
        for n, balance in enumerate(("0.10", "0.20")):
            session.add(
                BankAccount(
                    customer_oid=oid,
                    institution_id=1,
                    account_number=f"9900000000{n}",
                    account_type="savings",
                    currency="USD",
                    balance=Decimal(balance),
                    opened_on=date(2026, 1, 1),
                )
            )
    response = client.get(f"/user-portfolio/{oid}")
    assert '"total_cash_balance":0.3,' in response.text
    assert [a["balance"] for a in response.json()["bank_accounts"]] == [0.1, 0.2]


def test_amounts_never_carry_float_artefacts(client: TestClient) -> None:
    for oid in SAMPLES:
        text_body = client.get(f"/user-portfolio/{oid}").text
        for number in re.findall(r"-?\d+\.\d+(?:e-?\d+)?", text_body):
            assert len(number.split(".")[1]) <= 8, number


def test_exact_columns_refuse_floats_and_extra_places(engine: Engine) -> None:
    for bad in (0.1, Decimal("0.001")):
        with Session(engine) as session, pytest.raises(Exception, match=r"decimal|float"):
            session.add(
                Spending(
                    customer_oid=JOHN,
                    month="2020-01",
                    category="test",
                    amount=bad,  # type: ignore[arg-type]
                    currency="USD",
                    transaction_count=1,
                )
            )
            session.commit()


def test_sqlite_enforces_foreign_keys(engine: Engine) -> None:
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(
            insert(Spending).values(
                customer_oid=UNKNOWN,
                month="2026-01",
                category="x",
                amount=1,
                currency="USD",
                transaction_count=1,
            )
        )


def test_every_customer_table_has_an_indexed_customer_oid_foreign_key(engine: Engine) -> None:
    inspector = inspect(engine)
    for model in CUSTOMER_TABLES:
        table = model.__tablename__
        foreign = [
            fk
            for fk in inspector.get_foreign_keys(table)
            if fk["constrained_columns"] == ["customer_oid"]
        ]
        assert foreign and foreign[0]["referred_table"] == "users", table
        assert foreign[0]["options"].get("ondelete") == "CASCADE", table
        if engine.dialect.name == "sqlite":
            with engine.connect() as connection:
                plan = connection.execute(
                    text(f"EXPLAIN QUERY PLAN SELECT * FROM {table} WHERE customer_oid = 'x'")
                ).fetchall()
            assert "USING" in str(plan) and "INDEX" in str(plan), (table, plan)
        else:
            leading = [ix["column_names"][0] for ix in inspector.get_indexes(table)] + [
                uc["column_names"][0] for uc in inspector.get_unique_constraints(table)
            ]
            # A table whose primary key is the customer (customer_profiles) is indexed by it.
            leading += inspector.get_pk_constraint(table)["constrained_columns"][:1]
            assert "customer_oid" in leading, table


def test_asset_value_is_quantity_times_the_latest_price_in_the_database(
    client: TestClient, engine: Engine
) -> None:
    assets = client.get(f"/user-portfolio/{JANE}").json()["assets"]
    with Session(engine) as session:
        for asset in assets:
            latest = session.exec(
                select(InstrumentPrice)
                .where(InstrumentPrice.symbol == asset["symbol"])
                .order_by(col(InstrumentPrice.price_date).desc())
            ).first()
            assert latest is not None
            expected = (Decimal(str(asset["quantity"])) * latest.close).quantize(Decimal("0.01"))
            assert Decimal(str(asset["current_value"])) == expected
            assert asset["price_date"] == latest.price_date.isoformat()
        # A new close moves the value: it is computed, not stored.
        session.add(
            InstrumentPrice(symbol="NVDA", price_date=date(2026, 10, 1), close=Decimal("1.00"))
        )
        session.commit()
    nvda = next(
        a for a in client.get(f"/user-portfolio/{JANE}").json()["assets"] if a["symbol"] == "NVDA"
    )
    assert nvda["current_value"] == nvda["quantity"] * 1.0


def test_sample_holdings_agree_with_the_trades(engine: Engine) -> None:
    with Session(engine) as session:
        for sample in SAMPLE_CUSTOMERS:
            traded: dict[str, Decimal] = defaultdict(Decimal)
            for trade in session.exec(
                select(Transaction).where(
                    Transaction.customer_oid == sample.customer_oid,
                    col(Transaction.transaction_type).in_(["buy", "sell"]),
                )
            ):
                assert trade.symbol and trade.quantity and trade.price
                sign = 1 if trade.transaction_type == "buy" else -1
                traded[trade.symbol] += sign * trade.quantity
                assert trade.amount == -sign * (trade.quantity * trade.price).quantize(
                    Decimal("0.01")
                )
            held = {
                a.symbol: a.quantity
                for a in session.exec(
                    select(Asset).where(Asset.customer_oid == sample.customer_oid)
                )
            }
            assert held == {s: q for s, q in traded.items() if q}, sample.name


def test_sample_spending_is_the_sum_of_card_payments(engine: Engine) -> None:
    with Session(engine) as session:
        for sample in SAMPLE_CUSTOMERS:
            payments: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
            for t in session.exec(
                select(Transaction).where(
                    Transaction.customer_oid == sample.customer_oid,
                    Transaction.transaction_type == "card_payment",
                )
            ):
                payments[(t.transaction_date.strftime("%Y-%m"), t.category or "")] -= t.amount
            spending = {
                (s.month, s.category): s.amount
                for s in session.exec(
                    select(Spending).where(Spending.customer_oid == sample.customer_oid)
                )
            }
            assert spending == payments
            months = {month for month, _ in spending}
            assert len(months) >= 6 and len({c for _, c in spending}) >= 4
            assert all(re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", m) for m in months)


def test_sample_accounts_look_real(engine: Engine) -> None:
    with Session(engine) as session:
        accounts = session.exec(select(BankAccount)).all()
        assert {a.currency for a in accounts} >= {"USD", "EUR", "GBP"}
        assert all(re.fullmatch(r"[A-Z]{3}", a.currency) for a in accounts)
        ibans = [a.iban for a in accounts if a.iban]
        assert ibans and all(is_valid_iban(iban) for iban in ibans)
        assert len({a.account_number for a in accounts}) == len(accounts)
        assert all(a.balance >= 0 for a in accounts)
        routing = session.exec(
            text("SELECT routing_number FROM institutions WHERE routing_number IS NOT NULL")
        ).all()  # type: ignore[call-overload]
        for (number,) in routing:
            digits = [int(d) for d in number]
            assert sum(w * d for w, d in zip([3, 7, 1] * 3, digits, strict=True)) % 10 == 0, number


def test_sample_derivatives_are_open_and_closed(engine: Engine) -> None:
    with Session(engine) as session:
        statuses = set(session.exec(select(DerivativeTransaction.status)))
        assert {"open", "expired", "closed"} <= statuses
        for d in session.exec(select(DerivativeTransaction)):
            assert d.expiry_date > d.trade_date
            if d.instrument_type == "option":
                assert d.strike and d.premium and d.option_type in {"call", "put"}
            else:
                assert d.trade_price and d.option_type is None


# --- Seeding ----------------------------------------------------------------------------------


def test_seed_leaves_a_full_database_as_it_is(engine: Engine) -> None:
    counts = {t.name: _count(engine, t.name) for t in SQLModel.metadata.sorted_tables}
    assert seed_sample_data(engine) == []
    assert {t.name: _count(engine, t.name) for t in SQLModel.metadata.sorted_tables} == counts


def test_seed_puts_back_a_deleted_sample_customer(client: TestClient, engine: Engine) -> None:
    before = rows_of(engine, JOHN)
    client.delete(f"/customer/{JOHN}")
    assert seed_sample_data(engine) == ["John Doe"]
    assert rows_of(engine, JOHN) == before


def test_seed_is_deterministic(tmp_path_factory: pytest.TempPathFactory) -> None:
    dumps = []
    for n in range(2):
        engine = create_db_engine(f"sqlite:///{tmp_path_factory.mktemp(f'det{n}')}/bank.db")
        SQLModel.metadata.create_all(engine)
        seed_sample_data(engine)
        with engine.connect() as connection:
            dumps.append(
                [
                    connection.execute(text(f"SELECT * FROM {t.name} ORDER BY 1, 2")).fetchall()
                    for t in SQLModel.metadata.sorted_tables
                    if t.name != "users"
                ]
            )
        engine.dispose()
    assert dumps[0] == dumps[1]


def test_first_start_on_an_empty_database_creates_the_samples(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    from core.settings import Settings
    from main import create_app

    url = f"sqlite:///{tmp_path_factory.mktemp('fresh')}/new.db"
    with TestClient(create_app(Settings(database_url=url))) as fresh:
        assert len(fresh.get("/customers").json()) == 5


def _count(engine: Engine, table: str) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_reset_database_script_drops_what_was_added_and_reseeds(
    client: TestClient, database_url: str
) -> None:
    client.post("/register-customer", json={"name": "Temporary Customer"})
    client.delete(f"/customer/{JOHN}")
    result = subprocess.run(
        [sys.executable, "reset_database.py", "--database-url", database_url],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "Loaded market data and 5 sample customers" in result.stdout
    assert {c["customer_oid"]: c["name"] for c in client.get("/customers").json()} == SAMPLES


def test_seed_script_on_a_full_database_changes_nothing(database_url: str) -> None:
    result = subprocess.run(
        [sys.executable, "seed.py", "--database-url", database_url],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "Every sample customer is already there; nothing changed."


# --- Paging the customer list ----------------------------------------------------------------


def test_customer_list_with_five_customers_is_one_page_without_link(client: TestClient) -> None:
    response = client.get("/customers")
    assert response.headers["X-Total-Count"] == "5"
    assert "Link" not in response.headers
    assert len(response.json()) == 5


def test_walking_the_link_header_visits_every_customer_once(client: TestClient) -> None:
    for n in range(7):
        client.post("/register-customer", json={"name": f"Paged Person {n}"})
    expected = client.get("/customers", params={"limit": 1000}).json()
    seen: list[dict[str, str]] = []
    url: str | None = "/customers?limit=3"
    while url:
        response = client.get(url)
        assert response.headers["X-Total-Count"] == "12"
        seen += response.json()
        link = response.headers.get("Link")
        url = link[1 : link.index(">")] if link else None
        if link:
            assert link.endswith('; rel="next"')
    assert seen == expected and len(seen) == 12


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("smi", ["Jane Smith"]),
        ("JOHN", ["John Doe", "Robert Johnson"]),
        ("jo do", ["John Doe"]),
        ("corp", ["ABC Corporation"]),
        ("nobody", []),
    ],
)
def test_name_filter_matches_word_prefixes_in_any_case(
    client: TestClient, query: str, names: list[str]
) -> None:
    response = client.get("/customers", params={"name": query})
    assert [c["name"] for c in response.json()] == names
    assert response.headers["X-Total-Count"] == str(len(names))


def test_name_filter_ignores_accents(client: TestClient) -> None:
    client.post("/register-customer", json={"name": "Zoë Ångström"})
    for query in ("angs", "ÅNGS", "zoe ang"):
        found = client.get("/customers", params={"name": query}).json()
        assert [c["name"] for c in found] == ["Zoë Ångström"], query


def test_kept_customer_count_follows_registrations_and_deletions(client: TestClient) -> None:
    oid = client.post("/register-customer", json={"name": "Counted Person"}).json()["customer_oid"]
    assert client.get("/customers").headers["X-Total-Count"] == "6"
    client.delete(f"/customer/{oid}")
    client.delete(f"/customer/{oid}")
    assert client.get("/customers").headers["X-Total-Count"] == "5"


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"limit": 0}, "greater than or equal to 1"),
        ({"limit": 1001}, "less than or equal to 1000"),
        ({"cursor": "made-up"}, "not a cursor this API issued"),
    ],
)
def test_bad_customer_list_parameters_are_400(
    client: TestClient, params: dict[str, str | int], says: str
) -> None:
    response = client.get("/customers", params=params)
    assert response.status_code == 400
    assert says in response.json()["detail"]
