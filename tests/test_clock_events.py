"""What the clock tells: each day's changes in the sandbox's feed, and scripted events
happening on their day, under their labels."""

import re
import subprocess
import sys
from datetime import date
from decimal import Decimal
from typing import Any

import requests
from fastapi.testclient import TestClient

from tests.helpers import JANE, JOHN, PROJECT
from tests.test_clock import CHECKING, advance, bank, create, inside, schedule

__all__ = ["bank"]  # the fixture, shared with the clock's own tests


def feed(client: TestClient, sandbox_id: str, **params: Any) -> list[dict[str, Any]]:
    """Every change of the sandbox's feed, followed page by page from the start."""
    found, cursor = [], None
    while True:
        query = {"limit": 1000, **params, **({"cursor": cursor} if cursor else {})}
        page = client.get("/changes", params=query, headers=inside(sandbox_id)).json()
        found += page["changes"]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            return found


def test_an_advance_records_each_day_in_the_feed(bank: TestClient) -> None:
    sandbox_id = create(bank)[0]
    paid = schedule(bank, sandbox_id, "25.00", date(2026, 10, 5))
    done = advance(bank, sandbox_id, days=20)
    changes = feed(bank, sandbox_id)
    seqs = [c["seq"] for c in changes]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    closed = [c["occurred_on"] for c in changes if c["type"] == "market.day_closed"]
    # One a day, the days in order (a weekend day closes crypto's market).
    assert closed == [f"2026-10-{d:02d}" for d in range(1, 21)]
    added = [c for c in changes if c["type"] == "transaction.added"]
    assert len(added) == done["transactions_added"] > 0
    # Each row named fetches the very row, on the day it says.
    rows = bank.get(
        f"/customer/{JOHN}/transactions?from=2026-10-01&limit=500", headers=inside(sandbox_id)
    ).json()["transactions"]
    by_id = {row["id"]: row for row in rows}
    for change in added:
        if change["customer_oid"] == JOHN:
            row = by_id[change["transaction_id"]]
            assert row["amount"] == change["amount"] and row["account_id"] == change["account_id"]
            assert row["transaction_date"] <= change["occurred_on"]
    (executed,) = [c for c in changes if c["type"] == "instruction.executed"]
    assert (executed["instruction_id"], executed["occurred_on"]) == (paid, "2026-10-05")
    # A day's rows and balances come before the instruction they came of.
    that_day = [c for c in changes if c["occurred_on"] == "2026-10-05"]
    assert that_day[0]["type"] == "market.day_closed"
    assert that_day[-1]["type"] == "instruction.executed"
    balances = [
        c for c in changes if c["type"] == "balance.changed" and c["account_id"] == CHECKING
    ]
    account = bank.get(f"/customer/{JOHN}/accounts", headers=inside(sandbox_id)).json()
    now = next(a for a in account["bank_accounts"] if a["id"] == CHECKING)["balance"]
    assert balances[-1]["balance"] == now
    # The bank's own feed saw none of it.
    assert not [
        c for c in bank.get("/changes").json()["changes"] if c["occurred_on"] > "2026-09-30"
    ]


SHOCK_DAY = "2026-10-14"


def script(client: TestClient, sandbox_id: str, *events: dict[str, Any]) -> dict[str, Any]:
    response = client.post(f"/sandboxes/{sandbox_id}/events", json={"events": list(events)})
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer


def closes(client: TestClient, sandbox_id: str, symbol: str) -> dict[str, float]:
    response = client.get(
        f"/market-data/{symbol}/history?from=2026-10-01", headers=inside(sandbox_id)
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    return {point["date"]: point["close"] for point in answer["closes"]}


def test_a_market_shock_moves_the_market_on_its_day_and_is_labelled(bank: TestClient) -> None:
    calm, shocked = create(bank)[0], create(bank)[0]
    script(
        bank,
        shocked,
        {"type": "market_shock", "label": "crash", "on": SHOCK_DAY, "factor": "us_equity",
         "move": "-0.08"},
    )  # fmt: skip
    for sandbox_id in (calm, shocked):
        advance(bank, sandbox_id, to="2026-10-20")
    before, after = closes(bank, calm, "SPY"), closes(bank, shocked, "SPY")
    # The same seed: identical until the shock, then about 8% lower (SPY's loading is ~1).
    assert {d: p for d, p in before.items() if d < SHOCK_DAY} == {
        d: p for d, p in after.items() if d < SHOCK_DAY
    }
    day_return = {
        name: series[SHOCK_DAY] / series["2026-10-13"] - 1
        for name, series in (("calm", before), ("shocked", after))
    }
    # SPY's loading on the factor is 1.0: its day's return is 8 points lower (to rounding).
    assert abs(day_return["shocked"] - day_return["calm"] + 0.08) < 0.0005
    # Apple (loading 1.1) follows by its loading; gold, with none, not on the day.
    apple = {
        name: closes(bank, sandbox_id, "AAPL")
        for name, sandbox_id in (("calm", calm), ("shocked", shocked))
    }
    moved = {name: series[SHOCK_DAY] / series["2026-10-13"] - 1 for name, series in apple.items()}
    assert abs(moved["shocked"] - moved["calm"] + 0.088) < 0.0005
    assert closes(bank, calm, "GC")[SHOCK_DAY] == closes(bank, shocked, "GC")[SHOCK_DAY]
    # After it, the turbulence a crash leaves: the shocked market's closes part ways.
    assert before["2026-10-20"] != after["2026-10-20"]
    listed = bank.get(f"/sandboxes/{shocked}/events").json()
    (crash,) = listed["events"]
    assert crash["happened"] is True and len(crash["changes"]) == 1
    (change,) = [c for c in feed(bank, shocked) if c["seq"] == crash["changes"][0]]
    assert (change["type"], change["label"], change["occurred_on"]) == (
        "market.day_closed", "crash", SHOCK_DAY,
    )  # fmt: skip


def pay_rows(client: TestClient, sandbox_id: str, oid: str) -> list[dict[str, Any]]:
    rows = client.get(
        f"/customer/{oid}/transactions?from=2026-10-01&limit=500", headers=inside(sandbox_id)
    ).json()["transactions"]
    return [r for r in rows if r["category"] == "income" and r["transaction_type"] == "deposit"]


def test_customer_events_happen_on_their_day(bank: TestClient) -> None:
    sandbox_id = create(bank)[0]
    paid_late = schedule(bank, sandbox_id, "40.00", date(2026, 10, 7))
    listed = script(
        bank,
        sandbox_id,
        {"type": "salary_change", "label": "laid-off", "on": "2026-10-10", "customer_oid": JOHN},
        {"type": "salary_change", "label": "raise", "on": "2026-10-10", "customer_oid": JANE,
         "amount": "9999.99"},
        {"type": "card_charge", "label": "odd", "on": "2026-10-06", "customer_oid": JOHN,
         "amount": "1249.00", "merchant": "Midnight Jewels", "category": "shopping"},
        {"type": "fee", "label": "fee", "on": "2026-10-06", "customer_oid": JOHN,
         "amount": "35.00", "description": "Overdraft review fee"},
        {"type": "declined_payments", "label": "declined", "on": "2026-10-07",
         "customer_oid": JOHN},
    )  # fmt: skip
    assert [e["happened"] for e in listed["events"]] == [False] * 5
    advance(bank, sandbox_id, to="2026-11-30")
    # John's pay stops from the 10th; Jane's is the new amount each time it falls due.
    assert [
        r for r in pay_rows(bank, sandbox_id, JOHN) if r["transaction_date"] >= "2026-10-10"
    ] == []
    janes = [r for r in pay_rows(bank, sandbox_id, JANE) if r["transaction_date"] >= "2026-10-10"]
    assert janes and {r["amount"] for r in janes} == {9999.99}
    events = {
        e["event"]["label"]: e for e in bank.get(f"/sandboxes/{sandbox_id}/events").json()["events"]
    }
    assert all(e["happened"] for e in events.values())
    assert events["laid-off"]["changes"] == []
    changes = {c["seq"]: c for c in feed(bank, sandbox_id)}
    (odd,) = [changes[s] for s in events["odd"]["changes"]]
    assert (odd["type"], odd["amount"], odd["occurred_on"]) == (
        "transaction.added",
        -1249.0,
        "2026-10-06",
    )
    (fee,) = [changes[s] for s in events["fee"]["changes"]]
    assert (fee["type"], fee["amount"]) == ("transaction.added", -35.0)
    (refused,) = [changes[s] for s in events["declined"]["changes"]]
    assert (refused["type"], refused["instruction_id"]) == ("instruction.refused", paid_late)
    instruction = bank.get(
        f"/customer/{JOHN}/instructions/{paid_late}", headers=inside(sandbox_id)
    ).json()
    assert instruction["status"] == "refused"
    assert instruction["effects"]["refusal"]["rule"] == "declined"
    # No card payment of John's on the declined day.
    rows = bank.get(
        f"/customer/{JOHN}/transactions?from=2026-10-07&to=2026-10-07", headers=inside(sandbox_id)
    ).json()["transactions"]
    assert [r for r in rows if r["transaction_type"] == "card_payment"] == []
    assert Decimal(str(odd["amount"])) == Decimal("-1249.00")
    # Clearing the script forgets only what is still to come: these all happened.
    kept = bank.delete(f"/sandboxes/{sandbox_id}/events").json()["events"]
    assert {e["event"]["label"] for e in kept} == set(events)


def test_a_doubled_charge_books_the_days_first_card_payment_twice(bank: TestClient) -> None:
    plain, doubled = create(bank)[0], create(bank)[0]
    advance(bank, plain, to="2026-10-10")

    def cards(sandbox_id: str, day: str) -> list[tuple[str, float]]:
        rows = bank.get(
            f"/customer/{JOHN}/transactions?from={day}&to={day}&limit=500",
            headers=inside(sandbox_id),
        ).json()["transactions"]
        return sorted(
            (r["description"], r["amount"]) for r in rows if r["transaction_type"] == "card_payment"
        )

    # The first day John paid by card in the plain sandbox: the one to double.
    day = next(d for d in (f"2026-10-{n:02d}" for n in range(1, 11)) if cards(plain, d))
    script(
        bank, doubled,
        {"type": "duplicate_charge", "label": "twice", "on": day, "customer_oid": JOHN},
    )  # fmt: skip
    advance(bank, doubled, to="2026-10-10")
    once, twice = cards(plain, day), cards(doubled, day)
    assert len(twice) == len(once) + 1
    assert set(twice) == set(once)
    (event,) = bank.get(f"/sandboxes/{doubled}/events").json()["events"]
    (change,) = [c for c in feed(bank, doubled) if c["seq"] in event["changes"]]
    assert (change["type"], change["label"], change["occurred_on"]) == (
        "transaction.added", "twice", day,
    )  # fmt: skip


def test_the_example_monitors_a_month(live_server: str) -> None:
    finished = subprocess.run(
        [sys.executable, "-m", "examples.monitor_month", "--base-url", live_server],
        cwd=PROJECT, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert finished.returncode == 0, finished.stderr
    told = finished.stdout
    assert told.count("\n== week to ") == 5  # from 2026-09-30, a week at a time, to the 31st
    assert "week to 2026-10-31" in told
    assert "large debit on 2026-10-06: -1,249.00 USD" in told
    assert "scripted event 'odd-charge' happened on 2026-10-06: transaction.added" in told
    assert "scripted event 'october-crash' happened on 2026-10-14: market.day_closed" in told
    # The week of the crash: John's investments fall.
    crash_week = told.split("== week to 2026-10-14")[1].split("==")[0]
    assert re.search(r"investments: [\d,.]+ USD \(-\d", crash_week), crash_week
    assert requests.get(f"{live_server}/sandboxes", timeout=10).json() == []
