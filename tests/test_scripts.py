"""Scripted events: their shapes, their rules and a script's days (``sandboxes/scripts.py``)."""

from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from core.errors import InvalidInput
from core.settings import Settings
from main import create_app
from sandboxes.scripts import (
    EVENT_TYPES,
    WHAT_EACH_DOES,
    CardCharge,
    MarketShock,
    Script,
    ScriptedEvent,
    add_events,
    parse_events,
    parse_script,
)
from tests.helpers import JANE, JOHN

TODAY = date(2026, 9, 30)
CUSTOMERS = {JOHN, JANE}


def events(*raw: Mapping[str, object]) -> list[ScriptedEvent]:
    return parse_events(list(raw))


def test_every_kind_of_event_is_read_and_described() -> None:
    script = add_events(
        Script(),
        events(
            {
                "type": "fee",
                "label": "fee-1",
                "on": "2026-10-05",
                "customer_oid": JOHN,
                "amount": "12.50",
            },
            {
                "type": "market_shock",
                "label": "crash",
                "on": "2026-10-02",
                "factor": "us_equity",
                "move": "-0.08",
            },
            {
                "type": "salary_change",
                "label": "laid-off",
                "on": "2026-10-15",
                "customer_oid": JANE,
            },
            {
                "type": "card_charge",
                "label": "odd",
                "on": "2026-10-02",
                "customer_oid": JOHN,
                "amount": "980.00",
                "merchant": "Midnight Jewels",
                "category": "shopping",
            },
            {
                "type": "duplicate_charge",
                "label": "twice",
                "on": "2026-10-03",
                "customer_oid": JOHN,
            },
            {
                "type": "declined_payments",
                "label": "declined",
                "on": "2026-10-04",
                "customer_oid": JANE,
            },
        ),
        TODAY,
        CUSTOMERS,
    )
    assert {event.type for event in script.events} == set(EVENT_TYPES) == set(WHAT_EACH_DOES)
    # Ordered by day, and as given within a day.
    assert [event.label for event in script.events] == [
        "crash", "odd", "twice", "declined", "fee-1", "laid-off",
    ]  # fmt: skip
    assert [event.label for event in script.on(date(2026, 10, 2))] == ["crash", "odd"]
    assert script.shocks(date(2026, 10, 2)) == {"us_equity": Decimal("-0.08")}
    assert script.shocks(date(2026, 10, 3)) == {}
    assert script.customers() == {JOHN, JANE}
    # What is kept is read back the same.
    assert parse_script(script.model_dump_json()) == script
    assert parse_script("") == Script()


def test_two_shocks_of_one_factor_on_one_day_add_up() -> None:
    script = add_events(
        Script(),
        events(
            {
                "type": "market_shock",
                "label": "a",
                "on": "2026-10-02",
                "factor": "tech",
                "move": "-0.05",
            },
            {
                "type": "market_shock",
                "label": "b",
                "on": "2026-10-02",
                "factor": "tech",
                "move": "0.02",
            },
        ),
        TODAY,
        CUSTOMERS,
    )
    assert script.shocks(date(2026, 10, 2)) == {"tech": Decimal("-0.03")}


@pytest.mark.parametrize(
    ("raw", "named"),
    [
        (
            {
                "type": "market_shock",
                "label": "x",
                "on": "2026-10-02",
                "factor": "moon",
                "move": "0.1",
            },
            "factor",
        ),
        (
            {
                "type": "market_shock",
                "label": "x",
                "on": "2026-10-02",
                "factor": "tech",
                "move": "0.9",
            },
            "move",
        ),
        (
            {
                "type": "market_shock",
                "label": "x",
                "on": "2026-10-02",
                "factor": "rates_level",
                "move": "0.2",
            },
            "move",
        ),
        (
            {
                "type": "market_shock",
                "label": "x",
                "on": "2026-10-02",
                "factor": "tech",
                "move": "0",
            },
            "move",
        ),
        (
            {"type": "fee", "label": "x", "on": "2026-10-02", "customer_oid": JOHN, "amount": "-5"},
            "amount",
        ),
        (
            {
                "type": "fee",
                "label": "x",
                "on": "2026-10-02",
                "customer_oid": JOHN,
                "amount": "1.005",
            },
            "amount",
        ),
        (
            {
                "type": "card_charge",
                "label": "x",
                "on": "2026-10-02",
                "customer_oid": JOHN,
                "amount": "5",
                "merchant": "Shop",
                "category": "yachts",
            },
            "category",
        ),
        (
            {
                "type": "fee",
                "label": "Has Spaces",
                "on": "2026-10-02",
                "customer_oid": JOHN,
                "amount": "5",
            },
            "label",
        ),
        ({"type": "holiday", "label": "x", "on": "2026-10-02"}, "type"),
        (
            {
                "type": "fee",
                "label": "x",
                "on": "2026-10-02",
                "customer_oid": JOHN,
                "amount": "5",
                "extra": 1,
            },
            "extra",
        ),
    ],
)
def test_a_malformed_event_is_refused_naming_its_field(raw: dict[str, object], named: str) -> None:
    with pytest.raises(ValidationError) as refused:
        parse_events([raw])
    assert named in str(refused.value)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            {"type": "fee", "label": "x", "on": "2026-09-30", "customer_oid": JOHN, "amount": "5"},
            "events[0].on: 2026-09-30 is not after the sandbox's day 2026-09-30",
        ),
        (
            {
                "type": "fee",
                "label": "x",
                "on": "2026-10-02",
                "customer_oid": "00000000-0000-4000-8000-000000000000",
                "amount": "5",
            },
            "events[0].customer_oid: no customer",
        ),
        (
            {
                "type": "fee",
                "label": "taken",
                "on": "2026-10-02",
                "customer_oid": JOHN,
                "amount": "5",
            },
            "events[0].label: 'taken' is already used",
        ),
    ],
)
def test_an_event_the_sandbox_cannot_take_is_refused(raw: dict[str, object], message: str) -> None:
    taken = add_events(
        Script(),
        events(
            {
                "type": "market_shock",
                "label": "taken",
                "on": "2026-10-09",
                "factor": "gold",
                "move": "0.03",
            }
        ),
        TODAY,
        CUSTOMERS,
    )
    with pytest.raises(InvalidInput) as refused:
        add_events(taken, events(raw), TODAY, CUSTOMERS)
    assert message in refused.value.detail
    assert [event.label for event in taken.events] == ["taken"]


def test_labels_repeated_within_one_request_are_refused() -> None:
    shock = {"type": "market_shock", "label": "same", "on": "2026-10-02", "factor": "gold",
             "move": "0.03"}  # fmt: skip
    with pytest.raises(InvalidInput, match=r"events\[1\]\.label"):
        add_events(Script(), events(shock, shock), TODAY, CUSTOMERS)


def test_a_script_has_a_bounded_length() -> None:
    many = [
        MarketShock(type="market_shock", label=f"s{n}", on=date(2026, 10, 2), factor="gold",
                    move=Decimal("0.01"))
        for n in range(200)
    ]  # fmt: skip
    full = add_events(Script(), many, TODAY, CUSTOMERS)
    one_more = CardCharge(
        type="card_charge", label="over", on=date(2026, 10, 2), customer_oid=JOHN,
        amount=Decimal(5), merchant="Shop", category="groceries",
    )  # fmt: skip
    with pytest.raises(InvalidInput, match="at most 200"):
        add_events(full, [one_more], TODAY, CUSTOMERS)


# --- the routes -----------------------------------------------------------------------


@pytest.fixture
def bank(database_url: str) -> Iterator[TestClient]:
    app = create_app(Settings(database_url=database_url, sandbox_max=3))
    with TestClient(app) as test_client:
        yield test_client
        for sandbox in test_client.get("/sandboxes").json():
            test_client.delete(f"/sandboxes/{sandbox['sandbox_id']}")


def new_sandbox(bank: TestClient) -> str:
    response = bank.post("/sandboxes", json={})
    assert response.status_code == 201, response.text
    sandbox_id: str = response.json()["sandbox_id"]
    return sandbox_id


SHOCK = {"type": "market_shock", "label": "crash", "on": "2026-10-14", "factor": "us_equity",
         "move": "-0.08"}  # fmt: skip
FEE = {"type": "fee", "label": "fee", "on": "2026-10-02", "customer_oid": JOHN, "amount": "9.99"}


def test_a_script_is_added_read_kept_through_a_reset_and_cleared(bank: TestClient) -> None:
    sandbox = new_sandbox(bank)
    added = bank.post(f"/sandboxes/{sandbox}/events", json={"events": [SHOCK, FEE]})
    assert added.status_code == 201, added.text
    body = added.json()
    assert body["today"] == "2026-09-30"
    assert [e["event"]["label"] for e in body["events"]] == ["fee", "crash"]
    assert body["events"][0]["event"]["amount"] == "9.99"
    assert [(e["happened"], e["changes"]) for e in body["events"]] == [(False, [])] * 2
    assert bank.get(f"/sandboxes/{sandbox}/events").json() == body
    assert bank.post(f"/sandboxes/{sandbox}/reset").status_code == 200
    assert bank.get(f"/sandboxes/{sandbox}/events").json() == body
    cleared = bank.delete(f"/sandboxes/{sandbox}/events")
    assert cleared.json() == {"today": "2026-09-30", "events": []}


def test_a_refused_event_changes_nothing(bank: TestClient) -> None:
    sandbox = new_sandbox(bank)
    assert bank.post(f"/sandboxes/{sandbox}/events", json={"events": [SHOCK]}).status_code == 201
    for events, named in (
        ([FEE, {**SHOCK, "label": "crash"}], "events[1].label"),
        ([{**FEE, "on": "2026-09-30"}], "events[0].on"),
        ([{**FEE, "customer_oid": "00000000-0000-4000-8000-000000000000"}],
         "events[0].customer_oid"),
        ([{**FEE, "amount": "0.001"}], "amount"),
        ([{**FEE, "type": "lottery"}], "type"),
        ([{**SHOCK, "label": "weekend", "on": "2026-10-17"}], "events[0].on"),
        ([], "events"),
    ):  # fmt: skip
        refused = bank.post(f"/sandboxes/{sandbox}/events", json={"events": events})
        assert refused.status_code == 400, refused.text
        assert named in refused.json()["detail"], (named, refused.json())
    listed = bank.get(f"/sandboxes/{sandbox}/events").json()["events"]
    assert [e["event"]["label"] for e in listed] == ["crash"]


def test_a_customer_of_another_sandbox_cannot_be_scripted(bank: TestClient) -> None:
    first, second = new_sandbox(bank), new_sandbox(bank)
    person = {"name": "Only Here", "customer_oid": "6f1c2a9e-3b4d-4c5e-8f70-1a2b3c4d5e6f"}
    registered = bank.post("/register-customer", json=person, headers={"X-Bank-Sandbox": first})
    assert registered.status_code == 200
    event = {**FEE, "customer_oid": person["customer_oid"]}
    assert bank.post(f"/sandboxes/{first}/events", json={"events": [event]}).status_code == 201
    refused = bank.post(f"/sandboxes/{second}/events", json={"events": [event]})
    assert refused.status_code == 400
    assert "events[0].customer_oid" in refused.json()["detail"]
    assert (
        bank.post(
            "/sandboxes/sbx_AAAAAAAAAAAAAAAAAAAA/events", json={"events": [SHOCK]}
        ).status_code
        == 404
    )


def test_events_added_at_once_all_land(bank: TestClient) -> None:
    sandbox = new_sandbox(bank)

    def add(number: int) -> int:
        event = {**SHOCK, "label": f"shock-{number}"}
        return bank.post(f"/sandboxes/{sandbox}/events", json={"events": [event]}).status_code

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(add, range(16))) == {201}
    listed = bank.get(f"/sandboxes/{sandbox}/events").json()["events"]
    labels = {e["event"]["label"] for e in listed}
    assert labels == {f"shock-{n}" for n in range(16)}


def test_the_agent_cannot_read_or_write_the_script(database_url: str) -> None:
    app = create_app(
        Settings(
            database_url=database_url,
            api_key="full-key-123456789",
            read_api_key="read-key-123456789",
        )
    )
    with TestClient(app) as client:
        full = {"Authorization": "Bearer full-key-123456789"}
        made = client.post("/sandboxes", json={}, headers=full).json()
        sandbox, key = made["sandbox_id"], made["sandbox_key"]
        for headers in ({"Authorization": f"Bearer {key}"},
                        {"Authorization": "Bearer read-key-123456789"}):  # fmt: skip
            assert client.get(f"/sandboxes/{sandbox}/events", headers=headers).status_code == 403
            posted = client.post(
                f"/sandboxes/{sandbox}/events", json={"events": [SHOCK]}, headers=headers
            )
            assert posted.status_code == 403
            cleared = client.delete(f"/sandboxes/{sandbox}/events", headers=headers)
            assert cleared.status_code == 403
        assert client.get(f"/sandboxes/{sandbox}/events", headers=full).json()["events"] == []
        client.delete(f"/sandboxes/{sandbox}", headers=full)
