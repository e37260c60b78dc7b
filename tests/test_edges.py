"""Odd, extreme and forged input: always a clear 4xx, never a 500; and arithmetic edge cases."""

from datetime import date
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from analysis.summary import average_cost, shares_of_100
from analysis.valuation import Trade
from core import paging
from db import create_db_engine
from tests.helpers import JOHN

ROUTES = [
    "/customers",
    f"/customer/{JOHN}/exists",
    f"/user-portfolio/{JOHN}",
    f"/customer/{JOHN}/summary",
    f"/customer/{JOHN}/assets",
    f"/customer/{JOHN}/accounts",
    f"/customer/{JOHN}/transactions",
    f"/customer/{JOHN}/spending",
    f"/customer/{JOHN}/derivatives",
    "/market-data",
    "/market-data/AAPL/history",
]
ODD_QUERIES = [
    {"min_amount": "1e27"},
    {"max_amount": "-1e999999999"},
    {"min_amount": "Infinity"},
    {"from": "0001-01-01", "to": "0001-01-01"},
    {"to": "0001-01-01"},
    {"from": "9999-12-31"},
    {"from_month": "٢٠٢٦-07"},
    {"from_month": "0000-01"},
    {"limit": "-1"},
    {"limit": "99999999999999999999999"},
    {"cursor": "x" * 400},
    {"currency": "€€€"},
    {"sections": ",,,"},
    {"symbols": "AAPL," * 60},
    {"symbols": "\u202eLPAA"},
    {"name": "!!!"},
    {"name": "\x00"},
    {"status": "open\r\n"},
    {"group_by": "month", "to_month": "2026-13"},
    {"transactions_limit": "1e3"},
]


@pytest.mark.parametrize("query", ODD_QUERIES, ids=lambda q: ",".join(q))
def test_odd_parameters_never_give_a_500(client: TestClient, query: dict[str, str]) -> None:
    for route in ROUTES:
        response = client.get(route, params=query)
        assert response.status_code < 500, (route, query, response.text)
        if response.status_code >= 400:
            detail = response.json()["detail"]
            assert isinstance(detail, str) and len(detail) < 600


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"min_amount": "1e27"}, "Invalid request: query field 'min_amount': String should match"),
        ({"max_amount": "12.345"}, "Invalid request: query field 'max_amount': String should"),
    ],
)
def test_amount_filters_name_their_rule(
    client: TestClient, params: dict[str, str], says: str
) -> None:
    response = client.get(f"/customer/{JOHN}/transactions", params=params)
    assert response.status_code == 400
    assert response.json()["detail"].startswith(says)


def test_unicode_digits_are_not_a_month(client: TestClient) -> None:
    response = client.get(f"/customer/{JOHN}/spending", params={"from_month": "٢٠٢٦-07"})
    assert response.status_code == 400
    assert "YYYY-MM" in response.json()["detail"]


def test_a_name_filter_without_letters_is_400(client: TestClient) -> None:
    response = client.get("/customers", params={"name": "!!!"})
    assert response.status_code == 400
    assert response.json()["detail"] == "name: give at least one letter or digit to search for"


@pytest.mark.parametrize(
    "position",
    [
        paging.CustomerPosition(i=3, n=2),
        paging.TransactionPosition(d="2026-01-01", i=2**62, n=0),
    ],
)
def test_a_signed_cursor_of_another_shape_or_query_is_400(
    client: TestClient, position: paging.CustomerPosition | paging.TransactionPosition
) -> None:
    # Signed with the right key, but made for other filters: refused, not misread.
    forged = paging.encode_cursor(position, paging.fingerprint("something else"))
    for route in ("/customers", f"/customer/{JOHN}/transactions"):
        response = client.get(route, params={"cursor": forged})
        assert response.status_code == 400
        assert response.json()["detail"].startswith("cursor:")


def test_a_lost_database_is_503_not_500(client: TestClient, engine: Engine) -> None:
    engine.dispose()
    client.app.state.database.engine = create_db_engine("sqlite:////nonexistent-dir/bank.db")  # type: ignore[attr-defined]
    client.app.state.cache = None  # type: ignore[attr-defined]
    response = client.get(f"/user-portfolio/{JOHN}")
    assert response.status_code == 503
    assert response.json()["detail"] == "The database cannot be reached right now; try again."


def test_shares_add_to_100_also_with_a_negative_slice() -> None:
    values = {
        "overdrawn": Decimal("-0.009"),
        "b": Decimal("-0.009"),
        "c": Decimal("100.014"),
        "d": Decimal("0.004"),
    }
    shares = shares_of_100(values)
    assert sum(shares.values()) == 100
    total = sum(values.values())
    for key, value in values.items():
        assert abs(shares[key] - value * 100 / total) < Decimal("0.01"), key
    assert shares["overdrawn"] <= 0


def test_average_cost_follows_booking_order_within_a_day() -> None:
    bought = Trade(on=date(2026, 1, 5), quantity=Decimal(100), price=Decimal(100))
    sold = Trade(on=date(2026, 2, 1), quantity=Decimal(-50), price=Decimal(120))
    bought_again = Trade(on=date(2026, 2, 1), quantity=Decimal(50), price=Decimal(60))
    quantity, unit = average_cost([bought, sold, bought_again])
    assert quantity == 100 and unit == 80
    quantity, unit = average_cost([bought, bought_again, sold])
    assert quantity == 100 and unit is not None
    assert unit.quantize(Decimal("0.01")) == Decimal("86.67")


def test_trades_of_one_day_are_applied_in_booking_order(client: TestClient, engine: Engine) -> None:
    # Put John's three AAPL trades (buy, buy, sell) on one day: only the id order is left.
    with engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE transactions SET transaction_date = '2026-09-01' "
                "WHERE customer_oid = :o AND symbol = 'AAPL' "
                "AND transaction_type IN ('buy', 'sell')"
            ),
            {"o": JOHN},
        )
        trades = connection.execute(
            text(
                "SELECT transaction_type, quantity, price FROM transactions "
                "WHERE customer_oid = :o AND symbol = 'AAPL' "
                "AND transaction_type IN ('buy', 'sell') ORDER BY id"
            ),
            {"o": JOHN},
        ).fetchall()
    assert [kind for kind, _, _ in trades] == ["buy", "buy", "sell"]
    (_, q1, p1), (_, q2, p2), _ = trades
    expected = (Decimal(q1) * Decimal(p1) + Decimal(q2) * Decimal(p2)) / (Decimal(q1) + Decimal(q2))
    holdings = client.get(f"/customer/{JOHN}/assets").json()["holdings"]
    aapl = next(h for h in holdings if h["symbol"] == "AAPL")
    assert Decimal(str(aapl["average_cost"])) == (expected / 10**6).quantize(Decimal("1e-8"))
