"""The change feed (``GET /changes``): every write records typed changes whose ids fetch the
rows; a client that follows the cursor sees each change once, in commit order, while others
write, across restarts and workers; a cursor of another feed, made up or edited, is a 400."""

import itertools
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from decimal import Decimal
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient
from mcp import Client
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bank_mcp.server import build_server
from core.errors import ServiceUnavailable
from core.settings import Settings
from db import Database, begin_write, create_db_engine
from main import create_app
from models import BankEvent
from schemas.changes import ChangeIds, ChangeType
from scripts.stress import serve
from services.events import Event, changes_reader, record_events
from tests.helpers import JANE, JOHN, UNKNOWN, wait_until_blocked

CHECKING, EUR_SAVINGS, BROKERAGE = 1, 2, 3
SHORT_CALL = 1
PAYEE = {"name": "Northwind Utilities", "iban": "DE89370400440532013000"}


def D(value: Any) -> Decimal:
    return Decimal(str(value))


def page(client: TestClient, **params: Any) -> dict[str, Any]:
    response = client.get("/changes", params=params)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def follow(
    client: TestClient, cursor: str | None = None, **params: Any
) -> tuple[list[dict[str, Any]], str]:
    """Every change after ``cursor``, page by page; the cursor to poll with next."""
    seen: list[dict[str, Any]] = []
    while True:
        got = page(client, **params, **({"cursor": cursor} if cursor else {}))
        seen += got["changes"]
        cursor = got["next_cursor"]
        if not got["has_more"]:
            return seen, cursor


def act(client: TestClient, what: str, body: dict[str, Any], oid: str = JOHN) -> Any:
    response = client.post(f"/customer/{oid}/{what}", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def refused(response: httpx2.Response, field: str) -> str:
    assert response.status_code == 400, response.text
    detail: str = response.json()["detail"]
    assert field in detail, detail
    return detail


def test_a_new_bank_has_an_empty_feed_and_a_cursor_to_poll_with(client: TestClient) -> None:
    first = page(client)
    assert first["changes"] == [] and first["has_more"] is False
    assert page(client, cursor=first["next_cursor"])["changes"] == []
    registered = client.post("/register-customer", json={"name": "Polly Poller"}).json()
    [change] = page(client, cursor=first["next_cursor"])["changes"]
    assert (change["type"], change["customer_oid"]) == (
        "customer.registered",
        registered["customer_oid"],
    )
    # Never the per-worker answer cache: a page depends on every write.
    assert "x-bank-cache" not in client.get("/changes").headers


def test_each_write_records_its_changes_with_ids_that_fetch_the_rows(client: TestClient) -> None:
    def since(cursor: str) -> tuple[list[dict[str, Any]], str]:
        changes, after = follow(client, cursor)
        assert all(c["occurred_on"] == "2026-09-30" for c in changes)
        return changes, after

    def accounts() -> dict[int, Decimal]:
        listed = client.get(f"/customer/{JOHN}/accounts").json()["bank_accounts"]
        return {a["id"]: D(a["balance"]) for a in listed}

    def kinds(changes: list[dict[str, Any]]) -> list[str]:
        return [c["type"] for c in changes]

    def check_effects(changes: list[dict[str, Any]], done: dict[str, Any]) -> None:
        """The rows, balances and holdings the changes name are the instruction's."""
        effects = done["effects"]
        added = [c for c in changes if c["type"] == "transaction.added"]
        assert [c["transaction_id"] for c in added] == [
            t["transaction_id"] for t in effects["transactions"]
        ]
        rows = {
            t["id"]: t
            for t in client.get(f"/customer/{JOHN}/transactions?limit=500").json()["transactions"]
        }
        for change in added:
            row = rows[change["transaction_id"]]
            assert D(row["amount"]) == D(change["amount"]) and row["currency"] == change["currency"]
            assert row["account_id"] == change["account_id"]
            assert row["instruction_id"] == done["instruction_id"]
        balances = accounts()
        moved = [c for c in changes if c["type"] == "balance.changed"]
        assert {c["account_id"] for c in moved} == {b["account_id"] for b in effects["balances"]}
        for change in moved:
            assert D(change["balance"]) == balances[change["account_id"]]
        held = {
            h["symbol"]: D(h["quantity"])
            for h in client.get(f"/customer/{JOHN}/assets").json()["holdings"]
        }
        for change in (c for c in changes if c["type"] == "holding.changed"):
            assert D(change["quantity"]) == held.get(change["symbol"], Decimal(0))
        last = changes[-1]
        assert last["instruction_id"] == done["instruction_id"] and last["kind"] == done["kind"]
        fetched = client.get(f"/customer/{JOHN}/instructions/{last['instruction_id']}")
        assert fetched.json()["status"] == done["status"]
        assert all(c["customer_oid"] == JOHN for c in changes)

    cursor = page(client)["next_cursor"]

    registered = client.post("/register-customer", json={"name": "Feed Reader"}).json()
    changes, cursor = since(cursor)
    assert kinds(changes) == ["customer.registered"]
    assert changes[0]["customer_oid"] == registered["customer_oid"]
    assert client.get(f"/customer/{changes[0]['customer_oid']}/exists").json()["exists"]

    moved = act(
        client,
        "transfers",
        {"from_account_id": EUR_SAVINGS, "to_account_id": CHECKING, "amount": "100"},
    )
    changes, cursor = since(cursor)
    assert kinds(changes) == ["transaction.added"] * 2 + ["balance.changed"] * 2 + [
        "instruction.executed"
    ]
    check_effects(changes, moved)

    paid = act(client, "payments", {"from_account_id": CHECKING, "amount": "89.90", "payee": PAYEE})
    changes, cursor = since(cursor)
    assert kinds(changes) == ["transaction.added", "balance.changed", "instruction.executed"]
    check_effects(changes, paid)
    assert D(changes[0]["amount"]) == Decimal("-89.90")

    later = act(
        client,
        "payments",
        {"from_account_id": CHECKING, "amount": 50, "payee": PAYEE, "execute_on": "2026-10-15"},
    )
    changes, cursor = since(cursor)
    assert kinds(changes) == ["instruction.scheduled"]
    assert changes[0]["instruction_id"] == later["instruction_id"]
    assert client.delete(f"/customer/{JOHN}/payments/{later['instruction_id']}").status_code == 200
    # Cancelling it again changes nothing, and records nothing.
    assert client.delete(f"/customer/{JOHN}/payments/{later['instruction_id']}").status_code == 200
    changes, cursor = since(cursor)
    assert kinds(changes) == ["instruction.cancelled"]
    assert (changes[0]["instruction_id"], changes[0]["kind"]) == (
        later["instruction_id"],
        "payment",
    )

    bought = act(client, "orders", {"side": "buy", "symbol": "AAPL", "quantity": "2"})
    changes, cursor = since(cursor)
    assert kinds(changes) == [
        "transaction.added",
        "transaction.added",
        "balance.changed",
        "holding.changed",
        "instruction.executed",
    ]
    check_effects(changes, bought)
    assert changes[3]["symbol"] == "AAPL" and changes[3]["account_id"] == BROKERAGE

    held = next(
        h
        for h in client.get(f"/customer/{JOHN}/assets").json()["holdings"]
        if h["symbol"] == "AAPL"
    )
    sold = act(
        client, "orders", {"side": "sell", "symbol": "AAPL", "quantity": str(held["quantity"])}
    )
    changes, cursor = since(cursor)
    check_effects(changes, sold)
    [gone] = [c for c in changes if c["type"] == "holding.changed"]
    assert D(gone["quantity"]) == 0

    closed = act(client, "orders", {"side": "close", "derivative_id": SHORT_CALL})
    changes, cursor = since(cursor)
    check_effects(changes, closed)
    assert changes[-1]["derivative_id"] == SHORT_CALL

    # A refusal writes nothing, so it records nothing; nor does a replay of a kept answer.
    too_much = client.post(
        f"/customer/{JOHN}/transfers",
        json={"from_account_id": CHECKING, "to_account_id": BROKERAGE, "amount": "900000000"},
    )
    assert too_much.status_code == 422
    key = {"Idempotency-Key": "feed-once"}
    small = {"from_account_id": CHECKING, "to_account_id": BROKERAGE, "amount": "1"}
    assert client.post(f"/customer/{JOHN}/transfers", json=small, headers=key).status_code == 201
    assert client.post(f"/customer/{JOHN}/transfers", json=small, headers=key).status_code == 201
    changes, cursor = since(cursor)
    assert kinds(changes).count("instruction.executed") == 1

    assert client.delete(f"/customer/{JANE}").status_code == 200
    changes, cursor = since(cursor)
    assert kinds(changes) == ["customer.deleted"] and changes[0]["customer_oid"] == JANE
    # The deleted customer's earlier changes stay in the feed (ids only, no data of theirs).
    assert page(client, customer_oid=JANE)["changes"] == changes


def test_following_page_by_page_sees_every_change_once_in_order(client: TestClient) -> None:
    for n in range(3):
        client.post("/register-customer", json={"name": f"Pager Number {'abc'[n]}"})
        act(
            client,
            "transfers",
            {"from_account_id": CHECKING, "to_account_id": BROKERAGE, "amount": n + 1},
        )
    whole = page(client, limit=1000)
    everything = [c["seq"] for c in whole["changes"]]
    assert everything == list(range(1, 3 * 6 + 1))
    for limit in (1, 2, 5, 7, 18, 19):
        seen, cursor = [], None
        pages = 0
        while True:
            got = page(client, limit=limit, **({"cursor": cursor} if cursor else {}))
            assert len(got["changes"]) <= limit
            seen += got["changes"]
            cursor = got["next_cursor"]
            pages += 1
            if not got["has_more"]:
                break
        assert seen == whole["changes"], limit
        assert pages == -(-len(everything) // limit)
        assert page(client, cursor=cursor)["changes"] == []


def test_concurrent_writers_are_seen_each_once_in_order_while_a_reader_follows(
    client: TestClient,
) -> None:
    registrations, transfers = 12, 12
    stop = threading.Event()
    seen: list[int] = []

    def reader() -> None:
        cursor = None
        while True:
            done = stop.is_set()
            got = page(client, limit=3, **({"cursor": cursor} if cursor else {}))
            seen.extend(c["seq"] for c in got["changes"])
            cursor = got["next_cursor"]
            if done and not got["has_more"]:
                return

    def write(n: int) -> int:
        if n % 2:
            return client.post("/register-customer", json={"name": f"Racer {n:02d}"}).status_code
        move = {"from_account_id": CHECKING, "to_account_id": BROKERAGE, "amount": "1.25"}
        return client.post(f"/customer/{JOHN}/transfers", json=move).status_code

    following = threading.Thread(target=reader)
    following.start()
    with ThreadPoolExecutor(6) as pool:
        statuses = Counter(pool.map(write, range(registrations + transfers)))
    stop.set()
    following.join()
    assert statuses == Counter({200: registrations, 201: transfers})
    # Five changes a transfer (two rows, two balances, the instruction), one a registration.
    total = registrations + transfers * 5
    # Seen while the writes went on, page by page: no gap, no repeat, in order.
    assert seen == list(range(1, total + 1))
    everything = page(client, limit=1000)["changes"]
    by_instruction = Counter(c["instruction_id"] for c in everything if c["instruction_id"])
    assert sorted(by_instruction.values()) == [5] * transfers
    # One write's changes are never interleaved with another write's.
    writes = [c["instruction_id"] or f"registration {c['seq']}" for c in everything]
    runs = [write for write, _ in itertools.groupby(writes)]
    assert len(runs) == len(set(runs)) == registrations + transfers


def test_a_new_app_on_the_same_database_reads_on_from_the_cursor(database_url: str) -> None:
    with TestClient(create_app(Settings(database_url=database_url))) as first:
        first.post("/register-customer", json={"name": "Before Restart"})
        seen, cursor = follow(first)
        assert [c["type"] for c in seen] == ["customer.registered"]
    with TestClient(create_app(Settings(database_url=database_url))) as second:
        assert page(second, cursor=cursor)["changes"] == []
        oid = second.post("/register-customer", json={"name": "After Restart"}).json()[
            "customer_oid"
        ]
        [change] = page(second, cursor=cursor)["changes"]
        assert change["customer_oid"] == oid and change["seq"] == seen[-1]["seq"] + 1


def test_an_edited_or_foreign_cursor_is_a_400_naming_cursor(client: TestClient) -> None:
    client.post("/register-customer", json={"name": "Cursor Keeper"})
    cursor = page(client, limit=1)["next_cursor"]
    before = page(client, limit=1000)
    for position in (0, len(cursor) // 2, len(cursor) - 1):
        flipped = "A" if cursor[position] != "A" else "B"
        edited = cursor[:position] + flipped + cursor[position + 1 :]
        detail = refused(client.get("/changes", params={"cursor": edited}), "cursor")
        assert detail.startswith("cursor: not a cursor this API issued")
    for made_up in ("x", "=" * 30, "eyJwIjp7InMiOjB9fQ"):
        refused(client.get("/changes", params={"cursor": made_up}), "cursor")
    # A cursor of another listing is not a position in the feed.
    customers_cursor = (
        client.get("/customers?limit=1").headers["link"].split("cursor=")[1].split(">")[0]
    )
    detail = refused(client.get("/changes", params={"cursor": customers_cursor}), "cursor")
    assert "change feed" in detail
    # Nothing changed.
    assert page(client, limit=1000) == before


def test_a_cursor_belongs_to_its_own_sandbox_and_copy(client: TestClient) -> None:
    def made() -> tuple[str, dict[str, str]]:
        answer = client.post("/sandboxes", json={"allow_writes": True})
        assert answer.status_code == 201, answer.text
        return answer.json()["sandbox_id"], {"X-Bank-Sandbox": answer.json()["sandbox_id"]}

    first, in_first = made()
    second, in_second = made()
    try:
        oid = client.post(
            "/register-customer", json={"name": "Sandboxed One"}, headers=in_first
        ).json()["customer_oid"]
        here = client.get("/changes", headers=in_first).json()
        assert [c["customer_oid"] for c in here["changes"]] == [oid]
        bank = page(client)
        assert bank["changes"] == []
        assert client.get("/changes", headers=in_second).json()["changes"] == []

        sandbox_cursor = here["next_cursor"]
        refused(client.get("/changes", params={"cursor": sandbox_cursor}), "cursor")
        refused(
            client.get("/changes", params={"cursor": sandbox_cursor}, headers=in_second), "cursor"
        )
        refused(
            client.get("/changes", params={"cursor": bank["next_cursor"]}, headers=in_first),
            "cursor",
        )
        assert (
            client.get("/changes", params={"cursor": sandbox_cursor}, headers=in_first).json()[
                "changes"
            ]
            == []
        )

        assert client.post(f"/sandboxes/{first}/reset").status_code == 200
        detail = refused(
            client.get("/changes", params={"cursor": sandbox_cursor}, headers=in_first), "cursor"
        )
        assert "reset" in detail
        assert client.get("/changes", headers=in_first).json()["changes"] == []
    finally:
        for sandbox_id in (first, second):
            client.delete(f"/sandboxes/{sandbox_id}")


def test_a_sandbox_key_reads_its_own_feed_only(database_url: str) -> None:
    settings = Settings(database_url=database_url, api_key="full-key", read_api_key="read-key")
    with TestClient(create_app(settings), headers={"X-API-Key": "full-key"}) as bank:
        made = bank.post("/sandboxes", json={"allow_writes": True}).json()
        agent = {"X-API-Key": made["sandbox_key"]}
        try:
            oid = bank.post(
                "/register-customer", json={"name": "Keyed Agent"}, headers=agent
            ).json()["customer_oid"]
            mine = bank.get("/changes", headers=agent)
            assert mine.status_code == 200
            assert [c["customer_oid"] for c in mine.json()["changes"]] == [oid]
            assert bank.get("/changes").json()["changes"] == []
            read_key = bank.get("/changes", headers={"X-API-Key": "read-key"})
            assert read_key.status_code == 200 and read_key.json()["changes"] == []
            assert bank.get("/changes", headers={"X-API-Key": "nope"}).status_code == 401
            # The key cannot be pointed at the bank's feed or another sandbox's.
            other = bank.post("/sandboxes", json={}).json()["sandbox_id"]
            elsewhere = bank.get("/changes", headers={**agent, "X-Bank-Sandbox": other})
            assert elsewhere.status_code == 403
        finally:
            for sandbox in bank.get("/sandboxes").json():
                bank.delete(f"/sandboxes/{sandbox['sandbox_id']}")


def test_the_types_and_customer_filters(client: TestClient) -> None:
    jane_oid = client.post("/register-customer", json={"name": "Filter Person"}).json()[
        "customer_oid"
    ]
    act(client, "transfers", {"from_account_id": CHECKING, "to_account_id": BROKERAGE, "amount": 3})
    everything = page(client, limit=1000)["changes"]

    balances = page(client, types="balance.changed")
    assert balances["changes"] == [c for c in everything if c["type"] == "balance.changed"]
    assert len(balances["changes"]) == 2
    both = ["customer.registered", "instruction.executed"]
    for params in (
        {"types": ",".join(both)},
        {"types": both},
        {"types": " customer.registered , instruction.executed "},
    ):
        assert page(client, **params)["changes"] == [c for c in everything if c["type"] in both]
    assert page(client, customer_oid=JOHN.upper())["changes"] == [
        c for c in everything if c["customer_oid"] == JOHN
    ]
    assert [c["type"] for c in page(client, customer_oid=jane_oid)["changes"]] == [
        "customer.registered"
    ]
    assert page(client, customer_oid=UNKNOWN)["changes"] == []
    # A filtered page that found nothing still moves the cursor past what it looked at.
    none = page(client, types="option.expired")
    assert none["changes"] == [] and none["has_more"] is False
    client.post("/register-customer", json={"name": "Late Comer"})
    assert page(client, cursor=none["next_cursor"])["changes"][0]["seq"] == len(everything) + 1

    for bad in ("nope", "balance.changed,nope", "Balance.Changed"):
        detail = refused(client.get("/changes", params={"types": bad}), "types")
        assert "balance.changed" in detail  # the known types are listed
    refused(client.get("/changes", params={"customer_oid": "invalid-oid"}), "customer_oid")


@pytest.mark.parametrize("limit", ["0", "1001", "-1", "ten", "1.5"])
def test_limit_out_of_bounds_is_a_400_naming_limit(client: TestClient, limit: str) -> None:
    refused(client.get("/changes", params={"limit": limit}), "limit")


def test_every_type_has_a_name_clients_can_match() -> None:
    names = [t.value for t in ChangeType]
    assert len(set(names)) == len(names)
    assert all(name.count(".") == 1 and name == name.lower() for name in names)


def test_a_change_numbered_first_is_never_hidden_behind_a_later_number(postgres_url: str) -> None:
    """On PostgreSQL a sequence's numbers can commit out of order: a reader that handed out
    number 2 while number 1 was still uncommitted would skip 1 for good. The counter row makes
    the second writer wait until the first commits."""
    engine = create_db_engine(postgres_url)
    database = Database(engine, threads=2, queue=8, queue_timeout=30)
    day = date(2026, 9, 30)

    def read() -> list[int]:
        answer = database.run_here(changes_reader(database, limit=1000))
        return [c.seq for c in answer.changes]

    first = Session(engine)
    begin_write(first)
    [numbered_first] = record_events(first, [Event(ChangeType.market_day_closed, occurred_on=day)])

    def second_writer() -> None:
        with Session(engine) as session:
            begin_write(session)
            record_events(session, [Event(ChangeType.market_day_closed, occurred_on=day)])
            session.commit()

    second = threading.Thread(target=second_writer)
    second.start()
    try:
        wait_until_blocked(engine, second, "UPDATE bank_event_counter")
        # The second writer is queued behind the first (had it committed, this would hand
        # out its number alone, and a client's cursor would move past the first's).
        assert second.is_alive()
        assert read() == []
    finally:
        first.commit()
        first.close()
        second.join()
    assert read() == [numbered_first, numbered_first + 1]
    engine.dispose()


@pytest.fixture
def two_workers(database_url: str) -> Iterator[tuple[str, str]]:
    with serve(database_url) as first, serve(database_url) as second:
        yield first, second


@pytest.mark.slow
def test_two_server_processes_write_and_a_client_follows_through_both(
    two_workers: tuple[str, str],
) -> None:
    first, second = two_workers
    names = [f"Worker Client {chr(97 + n)}" for n in range(16)]

    def register(n: int) -> str:
        server = (first, second)[n % 2]
        answer = httpx2.post(f"{server}/register-customer", json={"name": names[n]}, timeout=60)
        assert answer.status_code == 200, answer.text
        oid: str = answer.json()["customer_oid"]
        return oid

    seen: list[dict[str, Any]] = []
    cursor: str | None = None
    with ThreadPoolExecutor(4) as pool:
        registered = list(pool.map(register, range(len(names))))
    for n in range(50):
        server = (first, second)[n % 2]
        params: dict[str, Any] = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        got = httpx2.get(f"{server}/changes", params=params, timeout=60).json()
        seen += got["changes"]
        cursor = got["next_cursor"]
        if not got["has_more"]:
            break
    assert [c["seq"] for c in seen] == list(range(1, len(names) + 1))
    assert sorted(c["customer_oid"] for c in seen) == sorted(registered)


@pytest.mark.anyio
async def test_the_mcp_tool_answers_what_rest_answers(client: TestClient, engine: Engine) -> None:
    client.post("/register-customer", json={"name": "Tool Watcher"})
    act(
        client,
        "transfers",
        {"from_account_id": CHECKING, "to_account_id": EUR_SAVINGS, "amount": 7},
    )
    database = Database(engine, threads=2, queue=16, queue_timeout=30)
    async with Client(build_server(lambda: database, allow_writes=False)) as mcp:
        first = await mcp.call_tool("bank_changes", {"limit": 4})
        assert not first.is_error
        structured = first.structured_content
        assert structured is not None
        rest = page(client, limit=4)
        assert structured["changes"] == rest["changes"] and structured["has_more"] is True
        text = first.content[0].text  # type: ignore[union-attr]
        assert text.startswith("4 changes; more now: call again with next_cursor")
        assert f"transaction {rest['changes'][1]['transaction_id']}" in text
        rest_next = page(client, cursor=structured["next_cursor"], types="instruction.executed")
        on = await mcp.call_tool(
            "bank_changes",
            {"cursor": structured["next_cursor"], "types": ["instruction.executed"]},
        )
        assert on.structured_content is not None
        assert on.structured_content["changes"] == rest_next["changes"]
        assert len(rest_next["changes"]) == 1

        for arguments, field in (
            ({"cursor": "forged-cursor-of-nobody"}, "cursor"),
            ({"types": ["nope"]}, "types"),
            ({"customer_oid": "invalid-oid"}, "customer_oid"),
            ({"limit": 101}, "limit"),
        ):
            refused = await mcp.call_tool("bank_changes", arguments)
            assert refused.is_error, arguments
            assert field in refused.content[0].text  # type: ignore[union-attr]


def test_recorded_changes_read_back_exactly_and_a_failed_write_leaves_no_gap(
    client: TestClient, engine: Engine
) -> None:
    taken = "6d2f9a1c-4b3e-4f5a-8c7d-9e0f1a2b3c4d"
    assert (
        client.post(
            "/register-customer", json={"name": "First Holder", "customer_oid": taken}
        ).status_code
        == 200
    )
    again = client.post("/register-customer", json={"name": "Second Holder", "customer_oid": taken})
    assert again.status_code == 409
    with Session(engine) as session:
        begin_write(session)
        numbers = record_events(
            session,
            [
                Event(
                    ChangeType.option_expired,
                    JOHN,
                    ChangeIds(derivative_id=SHORT_CALL, symbol="AAPL", amount=Decimal("-0.10")),
                    occurred_on=date(2026, 10, 16),
                    label="scripted: expiry",
                ),
                Event(ChangeType.market_day_closed),
            ],
        )
        session.commit()
    assert numbers == [2, 3]  # the refused registration took no number
    first, second = page(client)["changes"][1:]
    assert (first["type"], first["label"], first["occurred_on"]) == (
        "option.expired",
        "scripted: expiry",
        "2026-10-16",
    )
    assert (first["derivative_id"], first["symbol"], first["amount"]) == (SHORT_CALL, "AAPL", -0.1)
    assert (second["customer_oid"], second["label"], second["occurred_on"]) == (
        None,
        None,
        "2026-09-30",
    )
    stored = {
        row.seq: row.data
        for row in Session(engine).exec(select(BankEvent).where(col(BankEvent.seq) >= 2))
    }
    assert stored[2] == '{"amount":"-0.10","derivative_id":1,"symbol":"AAPL"}'


def test_a_page_read_on_another_copy_than_the_cursor_was_checked_for_is_a_503(
    engine: Engine, database_url: str
) -> None:
    # What a sandbox's reset under a request does: the work runs on the new copy's engine.
    checked = Database(engine, threads=1, queue=4, queue_timeout=30)
    other = create_db_engine(database_url)
    try:
        with Session(other) as session, pytest.raises(ServiceUnavailable):
            changes_reader(checked)(session)
    finally:
        other.dispose()
