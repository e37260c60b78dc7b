"""What an instruction did reaches every read at once: balances, holdings and their cost
basis (average cost, recomputed here from the statement), the summary, the risk section,
the statement with its reference back, the derivatives; the answer cache (on, as it is by
default) never serves an answer from before it."""

from datetime import date
from decimal import ROUND_CEILING, Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from core.money import to_cents
from market.trading import customer_rate
from tests.helpers import JOHN

CHECKING, EUR_SAVINGS, BROKERAGE = 1, 2, 3
SHORT_CALL = 1
PAYEE = {"name": "Northwind Utilities", "iban": "DE89370400440532013000"}


def D(value: Any) -> Decimal:
    """A JSON number as the exact decimal it prints as."""
    return Decimal(str(value))


def read(client: TestClient, path: str) -> Any:
    response = client.get(f"/customer/{JOHN}/{path}")
    assert response.status_code == 200, response.text
    return response.json()


def warm(client: TestClient, *paths: str) -> None:
    """Read each twice, so that the cache holds them (and prove it does)."""
    for path in paths:
        read(client, path)
        again = client.get(f"/customer/{JOHN}/{path}")
        assert again.headers["x-bank-cache"] == "hit", path


def act(client: TestClient, what: str, body: dict[str, Any]) -> Any:
    response = client.post(f"/customer/{JOHN}/{what}", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def holding(client: TestClient, symbol: str) -> dict[str, Any] | None:
    return next((h for h in read(client, "assets")["holdings"] if h["symbol"] == symbol), None)


def balances(client: TestClient) -> dict[int, Decimal]:
    return {a["id"]: D(a["balance"]) for a in read(client, "accounts")["bank_accounts"]}


def statement(client: TestClient, **filters: object) -> list[dict[str, Any]]:
    query = "&".join(f"{k}={v}" for k, v in filters.items())
    page = read(client, f"transactions?limit=500&{query}")
    assert page["remaining"] == 0
    rows: list[dict[str, Any]] = page["transactions"]
    return rows


def average_cost(client: TestClient, symbol: str) -> tuple[Decimal, Decimal]:
    """Units held and what they cost, from the statement's buys and sells by the average
    cost method: a buy adds its units at its price, a sell takes out its share of the cost."""
    held = cost = Decimal(0)
    trades = [
        r for r in statement(client, symbol=symbol) if r["transaction_type"] in ("buy", "sell")
    ]
    for row in sorted(trades, key=lambda r: (r["transaction_date"], r["id"])):
        units = D(row["quantity"])
        if row["transaction_type"] == "buy":
            held, cost = held + units, cost + units * D(row["price"])
        else:
            held, cost = held - units, cost * (held - units) / held
    return held, cost


def fx_mid(client: TestClient, source: str, target: str) -> Decimal:
    """Units of ``target`` per unit of ``source`` at the day's rates the summary shows."""
    usd = {r["currency"]: D(r["rate"]) for r in read(client, "summary")["fx_rates"]} | {
        "USD": Decimal(1)
    }
    return (usd[source] / usd[target]).quantize(Decimal("0.000001"))


def test_a_buy_reaches_holdings_cost_basis_summary_risk_and_statement(client: TestClient) -> None:
    reads = ("assets", "summary", "risk", "accounts", "transactions?symbol=AAPL&limit=500")
    warm(client, *reads)
    before, summary_before = holding(client, "AAPL"), read(client, "summary")
    risk_before = read(client, "risk")
    assert before is not None
    done = act(client, "orders", {"side": "buy", "symbol": "AAPL", "quantity": 10})
    fill = done["effects"]["fill"]
    paid = D(fill["gross"]) + D(fill["commission"])

    after = holding(client, "AAPL")
    assert after is not None
    assert D(after["quantity"]) == D(before["quantity"]) + 10
    units, cost = average_cost(client, "AAPL")
    assert units == D(after["quantity"])
    assert D(after["cost_basis"]) == to_cents(cost)
    assert D(after["cost_basis"]) == D(before["cost_basis"]) + D(fill["gross"])
    assert D(after["average_cost"]) == (cost / units).quantize(Decimal("0.00000001"))
    assert D(after["market_value"]) == D(before["market_value"]) + 10 * D(fill["close"])

    summary = read(client, "summary")
    assert D(summary["total_cash_balance"]) == D(summary_before["total_cash_balance"]) - paid
    assert D(summary["totals"]["invested"]) == (
        D(summary_before["totals"]["invested"]) + 10 * D(fill["close"])
    )
    assert summary["risk"] != summary_before["risk"]
    risk = read(client, "risk")
    assert D(risk["holdings_value"]) == D(risk_before["holdings_value"]) + 10 * D(fill["close"])
    assert balances(client)[BROKERAGE] == D(done["effects"]["balances"][0]["balance"])

    booked = [r for r in statement(client) if r["instruction_id"] == done["instruction_id"]]
    assert sorted(r["id"] for r in booked) == sorted(
        t["transaction_id"] for t in done["effects"]["transactions"]
    )
    assert sum(D(r["amount"]) for r in booked) == -paid
    portfolio = client.get(f"/user-portfolio/{JOHN}").json()
    assert {a["symbol"]: D(a["quantity"]) for a in portfolio["assets"]}["AAPL"] == units


def test_a_partial_sell_keeps_the_average_cost(client: TestClient) -> None:
    warm(client, "assets")
    before = holding(client, "AAPL")
    assert before is not None
    act(client, "orders", {"side": "sell", "symbol": "AAPL", "quantity": 40})
    after = holding(client, "AAPL")
    assert after is not None
    assert D(after["quantity"]) == D(before["quantity"]) - 40
    assert D(after["average_cost"]) == D(before["average_cost"])
    units, cost = average_cost(client, "AAPL")
    assert units == D(after["quantity"]) and D(after["cost_basis"]) == to_cents(cost)


def test_selling_all_removes_the_holding_and_buying_again_starts_a_new_cost(
    client: TestClient,
) -> None:
    warm(client, "assets", "summary")
    held = holding(client, "GOOGL")
    assert held is not None
    cash_before = balances(client)[BROKERAGE]
    sold = act(client, "orders", {"side": "sell", "symbol": "GOOGL", "quantity": held["quantity"]})
    fill = sold["effects"]["fill"]
    assert sold["effects"]["holdings"][0]["quantity_after"] == 0
    assert holding(client, "GOOGL") is None
    assert "GOOGL" not in {a["symbol"] for a in read(client, "assets")["assets"]}
    assert "GOOGL" not in {h["symbol"] for h in read(client, "summary")["holdings"]}
    portfolio = client.get(f"/user-portfolio/{JOHN}").json()
    assert "GOOGL" not in {a["symbol"] for a in portfolio["assets"]}
    assert balances(client)[BROKERAGE] == cash_before + D(fill["gross"]) - D(fill["commission"])

    bought = act(client, "orders", {"side": "buy", "symbol": "GOOGL", "quantity": 3})
    again = holding(client, "GOOGL")
    assert again is not None and D(again["quantity"]) == 3
    price = D(bought["effects"]["fill"]["price"])
    assert D(again["average_cost"]) == price
    assert D(again["cost_basis"]) == to_cents(3 * price)


def test_a_buy_by_amount_spends_at_most_the_amount_before_commission(client: TestClient) -> None:
    done = act(client, "orders", {"side": "buy", "symbol": "SPY", "amount": 1000})
    fill = done["effects"]["fill"]
    quantity, price = D(fill["quantity"]), D(fill["price"])
    assert quantity == (Decimal(1000) / price).quantize(Decimal("0.0001"), rounding="ROUND_FLOOR")
    assert D(fill["gross"]) == to_cents(quantity * price) <= 1000


@pytest.mark.parametrize("given_in", ["USD", "EUR"])
def test_a_transfer_across_currencies_adds_up_at_the_mid_rate(
    client: TestClient, given_in: str
) -> None:
    warm(client, "accounts", "summary")
    mid = fx_mid(client, "USD", "EUR")
    rate = customer_rate(mid)
    before = balances(client)
    done = act(
        client,
        "transfers",
        {
            "from_account_id": CHECKING,
            "to_account_id": EUR_SAVINGS,
            "amount": "1000.00",
            "currency": given_in,
        },
    )
    conversion = done["effects"]["conversion"]
    sent, received = D(conversion["sent"]), D(conversion["received"])
    assert D(conversion["mid_rate"]) == mid and D(conversion["rate"]) == rate < mid
    if given_in == "USD":
        assert sent == 1000 and received == (sent * rate).quantize(Decimal("0.01"), "ROUND_DOWN")
    else:
        assert received == 1000
        assert sent == (received / rate).quantize(Decimal("0.01"), ROUND_CEILING)
    [income] = done["effects"]["bank_income"]
    assert income["kind"] == "fx_spread" and income["currency"] == "EUR"
    assert to_cents(sent * mid) == received + D(income["amount"])
    after = balances(client)
    assert after[CHECKING] == before[CHECKING] - sent
    assert after[EUR_SAVINGS] == before[EUR_SAVINGS] + received
    cash = {c["currency"]: D(c["balance"]) for c in read(client, "summary")["cash_by_currency"]}
    assert cash["EUR"] == sum(v for k, v in after.items() if k in (EUR_SAVINGS, 5))


def test_a_payment_today_books_one_row_and_a_later_one_nothing_until_cancelled(
    client: TestClient,
) -> None:
    warm(client, "accounts", "transactions?limit=500")
    before = balances(client)
    today = act(
        client,
        "payments",
        {"from_account_id": CHECKING, "amount": "89.90", "payee": PAYEE, "reference": "INV-1"},
    )
    [row] = [r for r in statement(client) if r["instruction_id"] == today["instruction_id"]]
    assert D(row["amount"]) == Decimal("-89.90") and row["account_id"] == CHECKING
    assert "INV-1" in row["description"] and row["merchant"] == PAYEE["name"]
    assert balances(client)[CHECKING] == before[CHECKING] - Decimal("89.90")

    later = act(
        client,
        "payments",
        {"from_account_id": CHECKING, "amount": 50, "payee": PAYEE, "execute_on": "2026-10-15"},
    )
    assert later["status"] == "scheduled" and later["effects"]["transactions"] == []
    assert balances(client)[CHECKING] == before[CHECKING] - Decimal("89.90")
    listed = client.get(f"/customer/{JOHN}/payments?status=scheduled").json()
    assert [p["instruction_id"] for p in listed["instructions"]] == [later["instruction_id"]]
    cancelled = client.delete(f"/customer/{JOHN}/payments/{later['instruction_id']}")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    again = client.delete(f"/customer/{JOHN}/payments/{later['instruction_id']}")
    assert again.status_code == 200 and again.json() == cancelled.json()
    read_back = read(client, f"instructions/{later['instruction_id']}")
    assert read_back["status"] == "cancelled"
    payees = {p["name"]: p for p in read(client, "payees")["payees"]}
    assert payees[PAYEE["name"]]["iban"] == PAYEE["iban"]


def test_closing_an_option_reaches_the_derivatives_and_the_summary(client: TestClient) -> None:
    warm(client, "derivatives", "summary")
    before = read(client, "summary")["derivatives"]
    done = act(client, "orders", {"side": "close", "derivative_id": SHORT_CALL})
    position = done["effects"]["position"]
    [closed] = [
        d for d in read(client, "derivatives")["derivative_transactions"] if d["id"] == SHORT_CALL
    ]
    assert closed["status"] == "closed" and closed["closed_on"] == done["booked_on"]
    after = read(client, "summary")["derivatives"]
    assert after["open_positions"] == before["open_positions"] - 1
    # A short call is bought back: the customer pays the fill and the commission.
    paid = to_cents(position["units"] * D(position["price"])) + D(position["commission"])
    assert sum(D(t["amount"]) for t in done["effects"]["transactions"]) == -paid


def test_an_instruction_reads_back_as_it_was_answered(client: TestClient) -> None:
    done = act(
        client, "transfers", {"from_account_id": CHECKING, "to_account_id": BROKERAGE, "amount": 5}
    )
    assert read(client, f"instructions/{done['instruction_id']}") == done
    listed = read(client, "instructions?kind=transfer")
    assert listed["total"] == 1 and listed["instructions"] == [done]
    assert date.fromisoformat(done["booked_on"]) == date.fromisoformat(
        read(client, "assets")["as_of"]
    )


def test_an_amount_is_kept_in_plain_digits_however_it_was_written(client: TestClient) -> None:
    done = act(
        client,
        "transfers",
        {"from_account_id": CHECKING, "to_account_id": BROKERAGE, "amount": "1e3"},
    )
    assert done["details"]["amount"] == "1000"
    assert [t["amount"] for t in done["effects"]["transactions"]] == [-1000, 1000]
