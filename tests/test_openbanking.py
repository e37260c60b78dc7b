"""``/api/*``, the calls of the OpenBanking MCP server written alongside the original bank:
its field names, the same figures as the sections, its paging, and bad input refused."""

from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from core.settings import Settings
from main import create_app
from synthetic.samples import SAMPLE_CUSTOMERS
from tests.helpers import JOHN, UNKNOWN

ACCOUNT_FIELDS = {"account_id", "account_type", "account_name", "balance", "currency", "status"}
TRANSACTION_FIELDS = {
    "transaction_id", "date", "type", "symbol", "quantity", "price", "amount", "fees",
    "account_id",
}  # fmt: skip


@pytest.mark.parametrize("sample", SAMPLE_CUSTOMERS, ids=lambda s: s.name)
def test_accounts_are_the_sections_accounts_under_the_originals_names(
    client: TestClient, sample: Any
) -> None:
    answer = client.get(f"/api/accounts/{sample.customer_oid}")
    assert answer.status_code == 200
    body = answer.json()
    section = client.get(f"/customer/{sample.customer_oid}/accounts").json()
    assert body["customer_oid"] == sample.customer_oid
    assert body["total_assets"] == section["total_cash_balance"]
    assert body["base_currency"] == section["base_currency"] == "USD"
    assert [set(a) for a in body["accounts"]] == [ACCOUNT_FIELDS] * len(section["bank_accounts"])
    for ours, original in zip(section["bank_accounts"], body["accounts"], strict=True):
        assert original["account_id"] == ours["id"]
        assert (original["balance"], original["currency"]) == (ours["balance"], ours["currency"])
        assert original["account_name"].endswith(ours["account_number"][-4:])
        assert original["account_name"].startswith(ours["institution"]["name"])


def test_transaction_pages_are_every_transaction_once_newest_first(client: TestClient) -> None:
    everything = client.get(f"/customer/{JOHN}/transactions?limit=500").json()["transactions"]
    assert len(everything) > 100
    seen: list[dict[str, Any]] = []
    page = 1
    while True:
        answer = client.get(f"/api/transactions/{JOHN}?per_page=40&page={page}").json()
        assert answer["pagination"] == {
            "current_page": page,
            "per_page": 40,
            "total_transactions": len(everything),
            "total_pages": -(-len(everything) // 40),
        }
        if not answer["transactions"]:
            break
        assert all(set(t) == TRANSACTION_FIELDS for t in answer["transactions"])
        seen += answer["transactions"]
        page += 1
    assert page == answer["pagination"]["total_pages"] + 1
    assert [t["transaction_id"] for t in seen] == [t["id"] for t in everything]
    for ours, original in zip(everything, seen, strict=True):
        assert (original["date"], original["type"], original["symbol"]) == (
            ours["transaction_date"],
            ours["transaction_type"],
            ours["symbol"],
        )
        assert (original["amount"], original["quantity"], original["price"]) == (
            ours["amount"],
            ours["quantity"],
            ours["price"],
        )
        assert original["fees"] == 0


def test_limit_is_the_page_size_the_mcp_server_sends(client: TestClient) -> None:
    assert len(client.get(f"/api/transactions/{JOHN}?limit=50").json()["transactions"]) == 50
    assert len(client.get(f"/api/transactions/{JOHN}?limit=7").json()["transactions"]) == 7
    default = client.get(f"/api/transactions/{JOHN}").json()
    assert default["pagination"]["per_page"] == 50
    both = client.get(f"/api/transactions/{JOHN}?limit=9&per_page=4").json()
    assert both["pagination"]["per_page"] == 4
    assert len(both["transactions"]) == 4


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("limit=ten", "limit"),
        ("page=0", "page"),
        ("page=-1", "page"),
        ("per_page=0", "per_page"),
        ("per_page=1000", "per_page"),
    ],
)
def test_bad_paging_is_400_naming_the_field(client: TestClient, query: str, field: str) -> None:
    answer = client.get(f"/api/transactions/{JOHN}?{query}")
    assert answer.status_code == 400
    assert f"query field '{field}'" in answer.json()["detail"]


@pytest.mark.parametrize("call", ["accounts", "transactions", "portfolio", "risk"])
def test_unknown_customers_are_404_and_malformed_ids_400(client: TestClient, call: str) -> None:
    unknown = client.get(f"/api/{call}/{UNKNOWN}")
    assert unknown.status_code == 404
    assert unknown.json()["detail"] == f"Customer with CustomerOID '{UNKNOWN}' not found"
    assert client.get(f"/api/{call}/invalid-oid").status_code == 400


def test_the_mcp_servers_bearer_key_is_accepted(database_url: str) -> None:
    settings = Settings(database_url=database_url, read_api_key=SecretStr("reader-key"))
    with TestClient(create_app(settings)) as bank:
        assert bank.get(f"/api/accounts/{JOHN}").status_code == 401
        answer = bank.get(f"/api/accounts/{JOHN}", headers={"Authorization": "Bearer reader-key"})
        assert answer.status_code == 200


def test_the_calls_have_a_tag_of_their_own(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for call in (
        "accounts/{customer_oid}",
        "transactions/{customer_oid}",
        "portfolio/{customer_oid}",
        "risk/{customer_oid}",
        "market-data",
    ):
        path = f"/api/{call}"
        assert paths[path]["get"]["tags"] == ["openbanking mcp"]


@pytest.mark.parametrize("sample", SAMPLE_CUSTOMERS, ids=lambda s: s.name)
def test_the_portfolio_is_the_summarys_figures_under_the_originals_names(
    client: TestClient, sample: Any
) -> None:
    answer = client.get(f"/api/portfolio/{sample.customer_oid}")
    assert answer.status_code == 200
    body = answer.json()
    summary = client.get(f"/customer/{sample.customer_oid}/summary").json()
    assert body["total_value"] == summary["totals"]["net_worth"]
    assert body["cash_balance"] == summary["totals"]["cash"]
    assert [h["symbol"] for h in body["holdings"]] == [h["symbol"] for h in summary["holdings"]]
    for original, ours in zip(body["holdings"], summary["holdings"], strict=True):
        assert original["market_value"] == ours["market_value_base"]
        assert original["avg_cost"] == ours["average_cost"]
        assert original["unrealized_gain_loss"] == ours["unrealized_gain"]
    held = sum(Decimal(str(h["percentage"])) for h in body["holdings"])
    cash_share = Decimal(str(summary["totals"]["cash"])) * 100 / Decimal(str(body["total_value"]))
    assert abs(held + cash_share - 100) <= Decimal("0.01") * (len(body["holdings"]) + 1)
    allocation = {k: Decimal(str(v)) for k, v in body["allocation"].items()}
    assert sum(allocation.values()) == 100
    by_type = {s["key"]: Decimal(str(s["percent"])) for s in summary["allocation"]["by_asset_type"]}
    assert allocation["stocks"] == by_type.get("stock", 0) + by_type.get("etf", 0)
    assert allocation["bonds"] == by_type.get("bond", 0)
    assert allocation["cash"] == by_type["cash"]
    periods = {p["period"]: p for p in summary["performance"]["periods"]}
    for name, period in (("today", "1d"), ("mtd", "mtd"), ("ytd", "ytd")):
        assert body["performance"][f"{name}_change"] == periods[period]["gain"]
        assert body["performance"][f"{name}_change_percent"] == periods[period]["return_percent"]


def test_a_customer_with_nothing_gets_zeros_and_nulls(client: TestClient) -> None:
    oid = client.post("/register-customer", json={"name": "Nothing Yet"}).json()["customer_oid"]
    body = client.get(f"/api/portfolio/{oid}").json()
    assert (body["total_value"], body["cash_balance"], body["holdings"]) == (0, 0, [])
    assert set(body["allocation"].values()) == {0}
    assert body["performance"]["today_change"] == 0
    assert body["performance"]["today_change_percent"] is None


def test_market_data_is_the_quotes_with_unknown_symbols_listed_apart(client: TestClient) -> None:
    answer = client.get("/api/market-data?symbols=MSFT,nope, aapl,AAPL,BTC,US10Y")
    assert answer.status_code == 200
    body = answer.json()
    assert [q["symbol"] for q in body["market_data"]] == ["MSFT", "AAPL", "BTC", "US10Y"]
    assert body["not_found"] == ["NOPE"]
    assert body["timestamp"] == "2026-09-30T20:00:00Z"
    quotes = {q["symbol"]: q for q in client.get("/market-data").json()["quotes"]}
    for original in body["market_data"]:
        ours = quotes[original["symbol"]]
        assert original["price"] == ours["price"]
        assert original["change"] == ours["change_1d"]["change"]
        assert original["change_percent"] == ours["change_1d"]["change_percent"]
        for figure in ("volume", "market_cap", "pe_ratio", "dividend_yield"):
            assert original[figure] == ours[figure]
    bitcoin, bond = body["market_data"][2], body["market_data"][3]
    assert bitcoin["pe_ratio"] is None and bitcoin["market_cap"] > 0
    assert bond["volume"] is None and bond["market_cap"] is None
    assert set(body["market_indices"]) == {"SPY", "QQQ", "VTI"}
    assert body["market_indices"]["SPY"]["price"] == quotes["SPY"]["price"]


@pytest.mark.parametrize("query", ["symbols=", "symbols=,%20,", "symbols=" + "A," * 600])
def test_market_data_without_a_symbol_or_with_too_long_a_list_is_400(
    client: TestClient, query: str
) -> None:
    answer = client.get(f"/api/market-data?{query}")
    assert answer.status_code == 400
    assert "symbols" in answer.json()["detail"]


def test_market_data_without_symbols_quotes_every_instrument(client: TestClient) -> None:
    body = client.get("/api/market-data").json()
    quoted = client.get("/market-data").json()["quotes"]
    assert [q["symbol"] for q in body["market_data"]] == [q["symbol"] for q in quoted]
    assert body["not_found"] == []


def test_an_unknown_symbol_is_not_echoed_at_length(client: TestClient) -> None:
    body = client.get(f"/api/market-data?symbols=AAPL,{'Z' * 300}").json()
    assert body["not_found"] == ["Z" * 16]
    assert [q["symbol"] for q in body["market_data"]] == ["AAPL"]


def test_in_a_sandbox_the_calls_see_the_sandboxs_bank_and_nothing_else(client: TestClient) -> None:
    sandbox = client.post("/sandboxes", json={}).json()["sandbox_id"]
    inside = {"X-Bank-Sandbox": sandbox}
    try:
        assert client.delete(f"/customer/{JOHN}", headers=inside).status_code == 200
        for call in ("accounts", "transactions", "portfolio", "risk"):
            assert client.get(f"/api/{call}/{JOHN}", headers=inside).status_code == 404
            assert client.get(f"/api/{call}/{JOHN}").status_code == 200
        gone = "sbx_" + "A" * 20  # well formed, and no sandbox's id
        assert (
            client.get(f"/api/accounts/{JOHN}", headers={"X-Bank-Sandbox": gone}).status_code == 404
        )
        malformed = client.get(f"/api/accounts/{JOHN}", headers={"X-Bank-Sandbox": "sbx_nope"})
        assert malformed.status_code == 400
    finally:
        client.delete(f"/sandboxes/{sandbox}")
