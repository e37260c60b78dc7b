"""A month in the life of a sandbox, as a monitoring agent would be told it.

    ./scripts/serve                                   # in one terminal
    .venv/bin/python -m examples.monitor_month        # in another

1. create a sandbox and script a month: a market crash on 2026-10-14, John Doe's salary
   stopping from 2026-10-20, an odd card charge on 2026-10-06;
2. follow the sandbox's change feed from its start, as a monitor would;
3. advance the clock a week at a time to 2026-10-31, and after each week read the new
   changes and say what an agent watching John Doe's portfolio would be told: the
   portfolio's value and its move, the large card charges, pay that did not arrive, and
   each scripted event by its label once it happened.
"""

import argparse
from collections import Counter
from datetime import date, timedelta
from typing import Any

import httpx2

JOHN = "550e8400-e29b-41d4-a716-446655440001"
SCRIPT = [
    {"type": "market_shock", "label": "october-crash", "on": "2026-10-14",
     "factor": "us_equity", "move": "-0.08"},
    {"type": "salary_change", "label": "john-laid-off", "on": "2026-10-20",
     "customer_oid": JOHN},
    {"type": "card_charge", "label": "odd-charge", "on": "2026-10-06", "customer_oid": JOHN,
     "amount": "1249.00", "merchant": "Midnight Jewels", "category": "shopping"},
]  # fmt: skip
LARGE_CHARGE = 500.0
"""A card payment at least this large is worth telling."""


def follow(
    bank: httpx2.Client, sandbox: dict[str, str], cursor: str | None
) -> tuple[list[Any], str]:
    """Every change after ``cursor``, oldest first, and the cursor to read on from."""
    found: list[Any] = []
    while True:
        params: dict[str, str | int] = {"limit": 1000}
        if cursor:
            params["cursor"] = cursor
        page = bank.get("/changes", params=params, headers=sandbox).json()
        found += page["changes"]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            return found, cursor


def portfolio_value(bank: httpx2.Client, sandbox: dict[str, str]) -> tuple[str, float]:
    summary = bank.get(f"/customer/{JOHN}/summary", headers=sandbox).json()
    return summary["as_of"], summary["totals"]["invested"]


def tell(bank: httpx2.Client, sandbox_id: str, week: list[Any], value: tuple[str, float],
         before: float, labels: dict[int, str]) -> None:  # fmt: skip
    as_of, total = value
    change = (total / before - 1) * 100 if before else 0.0
    kinds = Counter(c["type"] for c in week)
    counted = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
    print(f"\n== week to {as_of}: {len(week)} changes ({counted})")
    print(f"   John Doe's investments: {total:,.2f} USD ({change:+.2f}% on the week)")
    johns = [c for c in week if c["customer_oid"] == JOHN]
    for c in johns:
        if c["type"] == "transaction.added" and c["amount"] <= -LARGE_CHARGE:
            print(f"   large debit on {c['occurred_on']}: {c['amount']:,.2f} {c['currency']}"
                  f" (transaction {c['transaction_id']})")  # fmt: skip
    pay = [c for c in johns if c["type"] == "transaction.added" and c["amount"] > 1000]
    if not pay:
        print("   no pay credited to John Doe this week")
    for c in week:
        if c["seq"] in labels:
            label = labels[c["seq"]]
            print(f"   scripted event '{label}' happened on {c['occurred_on']}: {c['type']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:3000")
    parser.add_argument("--api-key", default=None, help="the full API key, if the bank has keys")
    args = parser.parse_args()
    auth = {"Authorization": f"Bearer {args.api_key}"} if args.api_key else {}
    with httpx2.Client(base_url=args.base_url, headers=auth, timeout=300) as bank:
        created = bank.post("/sandboxes", json={"seed": 7, "label": "a month, monitored"})
        created.raise_for_status()
        sandbox_id = created.json()["sandbox_id"]
        sandbox = {"X-Bank-Sandbox": sandbox_id}
        try:
            bank.post(f"/sandboxes/{sandbox_id}/events", json={"events": SCRIPT}).raise_for_status()
            _, cursor = follow(bank, sandbox, None)
            as_of, before = portfolio_value(bank, sandbox)
            print(f"sandbox {sandbox_id}: John Doe's investments {before:,.2f} USD on {as_of}")
            day = date.fromisoformat(as_of)
            while day < date(2026, 10, 31):
                day = min(day + timedelta(7), date(2026, 10, 31))
                bank.post(
                    f"/sandboxes/{sandbox_id}/clock/advance", json={"to": day.isoformat()}
                ).raise_for_status()
                week, cursor = follow(bank, sandbox, cursor)
                events = bank.get(f"/sandboxes/{sandbox_id}/events").json()["events"]
                labels = {seq: e["event"]["label"] for e in events for seq in e["changes"]}
                value = portfolio_value(bank, sandbox)
                tell(bank, sandbox_id, week, value, before, labels)
                before = value[1]
            stopped = [e for e in events if e["event"]["type"] == "salary_change"]
            for event in stopped:
                label = event["event"]["label"]
                print(
                    f"\nscripted '{label}': happened={event['happened']} (a pay that stops "
                    "books nothing: the agent should notice its absence)"
                )
        finally:
            bank.delete(f"/sandboxes/{sandbox_id}")


if __name__ == "__main__":
    main()
