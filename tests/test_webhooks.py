"""Webhooks of sandboxes: registration and its rules, signed deliveries to a real local
receiver, retries, a receiver that is down, failures, resets, deletes, and two workers.

Changes come from a fake source plugged into the dispatcher's seam: a list per sandbox copy
the test appends to. The receiver is a thread server on 127.0.0.1 that records what it got
and can be told to fail, to be down, to be slow or to redirect.
"""

import hashlib
import hmac
import importlib.util
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from core.settings import Settings
from main import create_app
from sandboxes import registry
from sandboxes.delivery import Due, WebhookDispatcher, backoff_s, claim, sign
from sandboxes.webhook_events import FeedEvent
from tests.helpers import PROJECT

DEADLINE_S = 60.0


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


@dataclass
class Receiver:
    """A local HTTP server that records every POST; ``fail`` answers 500 that many times,
    ``slow_s`` waits before answering, ``redirect`` answers 302."""

    port: int = 0
    received: list[Received] = field(default_factory=list)
    fail: int = 0
    slow_s: float = 0.0
    redirect: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.received.append(Received(dict(self.headers.items()), body))
                    failing = receiver.fail > 0
                    receiver.fail -= failing
                time.sleep(receiver.slow_s)
                if receiver.redirect:
                    self.send_response(302)
                    self.send_header("Location", "http://10.0.0.1/elsewhere")
                else:
                    self.send_response(500 if failing else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self.server.server_port
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        """Down: connections to its port are refused until ``start`` again."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def deliveries(self) -> list[Received]:
        with self.lock:
            return list(self.received)


class FakeFeed:
    """The seam's stand-in: the changes of each sandbox copy, by the copy's database name."""

    def __init__(self) -> None:
        self.events: dict[str, list[FeedEvent]] = {}
        self.lock = threading.Lock()

    def __call__(self, session: Session, after: int, limit: int) -> list[FeedEvent]:
        name = str(session.get_bind().engine.url.database)
        with self.lock:
            return [event for event in self.events.get(name, []) if event.seq > after][:limit]

    def add(self, client: TestClient, sandbox_id: str, *types: str) -> list[int]:
        """Record changes of ``types`` in the sandbox's current copy; their numbers."""
        manager = client.app.state.sandboxes  # type: ignore[attr-defined]
        sandbox = manager.main.run_here(lambda session: registry.find(session, sandbox_id))
        url = manager.storage.url_of(sandbox_id, sandbox.generation)
        name = str(make_url(url).database)
        added = []
        with self.lock:
            feed = self.events.setdefault(name, [])
            for kind in types:
                seq = len(feed) + 1
                feed.append(
                    FeedEvent(
                        seq=seq,
                        type=kind,
                        customer_oid="550e8400-e29b-41d4-a716-446655440001",
                        occurred_on=date(2026, 11, 27),
                        body={"seq": seq, "type": kind, "amount": "12.34"},
                    )
                )
                added.append(seq)
        return added


def quick(dispatcher: WebhookDispatcher, feed: FakeFeed, max_attempts: int = 50) -> None:
    dispatcher.source = feed
    dispatcher.backoff_first_s = 0.05
    dispatcher.backoff_cap_s = 0.2
    dispatcher.max_attempts = max_attempts


def settings_for(database_url: str, **more: Any) -> Settings:
    return Settings(database_url=database_url, webhook_poll_s=0.05, webhook_timeout_s=1.0, **more)


@pytest.fixture
def feed() -> FakeFeed:
    return FakeFeed()


@pytest.fixture
def bank(database_url: str, feed: FakeFeed) -> Iterator[TestClient]:
    with TestClient(create_app(settings_for(database_url))) as client:
        quick(dispatcher_of(client), feed)
        yield client
        for sandbox in client.get("/sandboxes").json():
            client.delete(f"/sandboxes/{sandbox['sandbox_id']}")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    running.start()
    yield running
    running.stop()


def dispatcher_of(client: TestClient) -> WebhookDispatcher:
    dispatcher: WebhookDispatcher = client.app.state.webhooks  # type: ignore[attr-defined]
    return dispatcher


def new_sandbox(bank: TestClient) -> str:
    response = bank.post("/sandboxes", json={})
    assert response.status_code == 201, response.text
    sandbox_id: str = response.json()["sandbox_id"]
    return sandbox_id


def register(bank: TestClient, sandbox_id: str, url: str, types: list[str] | None = None) -> Any:
    response = bank.post(
        f"/sandboxes/{sandbox_id}/webhooks", json={"url": url, "event_types": types or ["*"]}
    )
    assert response.status_code == 201, response.text
    return response.json()


def wait_for(what: Callable[[], Any], deadline_s: float = DEADLINE_S) -> Any:
    """Poll until ``what()`` is truthy; its value. Generous: no timing is asserted."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        value = what()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"not within {deadline_s} s: {what.__doc__ or what}")


def log_of(bank: TestClient, sandbox_id: str, webhook_id: str) -> list[dict[str, Any]]:
    response = bank.get(f"/sandboxes/{sandbox_id}/webhooks/{webhook_id}/deliveries")
    assert response.status_code == 200, response.text
    deliveries: list[dict[str, Any]] = response.json()["deliveries"]
    return deliveries


def settled(bank: TestClient, sandbox_id: str, webhook_id: str, count: int) -> Any:
    def done() -> list[dict[str, Any]] | None:
        log = log_of(bank, sandbox_id, webhook_id)
        finished = [d for d in log if d["status"] != "pending"]
        return log if len(log) == count and len(finished) == count else None

    return wait_for(done)


def signature_ok(secret: str, received: Received) -> bool:
    """An independent check of Bank-Signature: t=<unix>,v1=<hex HMAC-SHA256 of 't.body'>."""
    parts = dict(item.split("=", 1) for item in received.headers["Bank-Signature"].split(","))
    mac = hmac.new(secret.encode(), parts["t"].encode() + b"." + received.body, hashlib.sha256)
    fresh = abs(time.time() - int(parts["t"])) < 600
    return fresh and hmac.compare_digest(mac.hexdigest(), parts["v1"])


def test_a_change_is_delivered_once_signed_with_the_secret(
    bank: TestClient, feed: FakeFeed, receiver: Receiver
) -> None:
    sandbox_id = new_sandbox(bank)
    created = register(bank, sandbox_id, receiver.url, ["transaction.added"])
    assert created["secret"].startswith("whsec_") and created["position"] == 0
    feed.add(bank, sandbox_id, "transaction.added")
    (delivery,) = settled(bank, sandbox_id, created["webhook_id"], 1)
    (got,) = receiver.deliveries()
    assert signature_ok(created["secret"], got)
    assert not signature_ok("whsec_" + "y" * 43, got)
    tampered = Received(got.headers, got.body.replace(b"12.34", b"99.99"))
    assert not signature_ok(created["secret"], tampered)
    assert got.headers["Bank-Webhook-Id"] == created["webhook_id"]
    assert got.headers["Bank-Event-Type"] == "transaction.added"
    assert got.headers["Bank-Delivery-Id"] == delivery["delivery_id"] == got.json["delivery_id"]
    assert got.headers["Bank-Delivery-Attempt"] == "1"
    assert got.json["sandbox_id"] == sandbox_id and got.json["seq"] == 1
    assert got.json["change"] == {"seq": 1, "type": "transaction.added", "amount": "12.34"}
    assert (delivery["status"], delivery["attempts"], delivery["last_status_code"]) == (
        "delivered",
        1,
        200,
    )
    assert delivery["next_attempt_at"] is None and delivery["last_error"] is None
    hook = bank.get(f"/sandboxes/{sandbox_id}/webhooks/{created['webhook_id']}").json()
    assert hook["position"] == 1


def test_a_failing_receiver_is_retried_with_the_same_delivery_id(
    bank: TestClient, feed: FakeFeed, receiver: Receiver
) -> None:
    receiver.fail = 3
    sandbox_id = new_sandbox(bank)
    created = register(bank, sandbox_id, receiver.url)
    feed.add(bank, sandbox_id, "balance.changed")
    (delivery,) = settled(bank, sandbox_id, created["webhook_id"], 1)
    got = receiver.deliveries()
    assert [r.headers["Bank-Delivery-Attempt"] for r in got] == ["1", "2", "3", "4"]
    assert {r.headers["Bank-Delivery-Id"] for r in got} == {delivery["delivery_id"]}
    assert len({r.body for r in got}) == 1  # the same bytes, each signed anew
    assert all(signature_ok(created["secret"], r) for r in got)
    assert (delivery["status"], delivery["attempts"]) == ("delivered", 4)


def test_the_backoff_doubles_up_to_its_cap() -> None:
    assert [backoff_s(n) for n in range(1, 12)] == [
        1,
        2,
        4,
        8,
        16,
        32,
        64,
        128,
        256,
        300,
        300,
    ]
    # The schedule outlasts a receiver down for ten minutes by far: 20 attempts span this.
    assert sum(backoff_s(n) for n in range(1, 20)) > 50 * 60


def test_a_receiver_down_for_a_while_misses_nothing(
    bank: TestClient, feed: FakeFeed, receiver: Receiver
) -> None:
    sandbox_id = new_sandbox(bank)
    created = register(bank, sandbox_id, receiver.url)
    receiver.stop()
    seqs = feed.add(bank, sandbox_id, *["transaction.added"] * 5)

    def retried() -> bool:
        """the first delivery was refused a few times"""
        log = log_of(bank, sandbox_id, created["webhook_id"])
        return len(log) == 5 and log[-1]["attempts"] >= 3

    wait_for(retried)
    head = log_of(bank, sandbox_id, created["webhook_id"])[-1]
    assert head["status"] == "pending" and head["last_status_code"] is None
    assert head["last_error"].startswith("could not send")
    receiver.start()  # up again, on the same port
    log = settled(bank, sandbox_id, created["webhook_id"], 5)
    assert {d["status"] for d in log} == {"delivered"}
    got = receiver.deliveries()
    assert [r.json["seq"] for r in got] == seqs  # in order, each once
    assert all(signature_ok(created["secret"], r) for r in got)


def test_a_delivery_fails_after_its_last_attempt_and_the_next_goes_on(
    bank: TestClient, feed: FakeFeed, receiver: Receiver
) -> None:
    dispatcher_of(bank).max_attempts = 3
    receiver.fail = 3
    sandbox_id = new_sandbox(bank)
    created = register(bank, sandbox_id, receiver.url)
    feed.add(bank, sandbox_id, "holding.changed", "holding.changed")
    newest, oldest = settled(bank, sandbox_id, created["webhook_id"], 2)
    assert (oldest["status"], oldest["attempts"], oldest["last_status_code"]) == (
        "failed",
        3,
        500,
    )
    assert oldest["last_error"] == "answered 500" and oldest["next_attempt_at"] is None
    assert (newest["status"], newest["attempts"]) == ("delivered", 1)
    assert [r.json["seq"] for r in receiver.deliveries()] == [1, 1, 1, 2]


def test_a_redirect_is_not_followed_and_a_slow_receiver_times_out(
    bank: TestClient, feed: FakeFeed, receiver: Receiver
) -> None:
    dispatcher_of(bank).max_attempts = 1
    dispatcher_of(bank).timeout_s = 0.2
    receiver.redirect = True
    sandbox_id = new_sandbox(bank)
    created = register(bank, sandbox_id, receiver.url)
    feed.add(bank, sandbox_id, "customer.registered")
    (redirected,) = settled(bank, sandbox_id, created["webhook_id"], 1)
    assert redirected["status"] == "failed" and redirected["last_status_code"] == 302
    assert redirected["last_error"] == "redirect to 'http://10.0.0.1/elsewhere' not followed"
    receiver.redirect, receiver.slow_s = False, 1.0
    feed.add(bank, sandbox_id, "customer.registered")
    slow, _ = settled(bank, sandbox_id, created["webhook_id"], 2)
    assert slow["status"] == "failed" and slow["last_error"] == "no answer within 0.2 s"
    assert len(receiver.deliveries()) == 2  # one request each: nothing followed the redirect


def test_only_the_types_asked_for_are_sent(
    bank: TestClient, feed: FakeFeed, receiver: Receiver
) -> None:
    sandbox_id = new_sandbox(bank)
    created = register(bank, sandbox_id, receiver.url, ["balance.changed", "customer.deleted"])
    assert created["event_types"] == ["balance.changed", "customer.deleted"]
    feed.add(
        bank,
        sandbox_id,
        "transaction.added",
        "balance.changed",
        "holding.changed",
        "customer.deleted",
    )
    settled(bank, sandbox_id, created["webhook_id"], 2)
    got = receiver.deliveries()
    assert [(r.json["seq"], r.json["type"]) for r in got] == [
        (2, "balance.changed"),
        (4, "customer.deleted"),
    ]
    assert wait_for(
        lambda: (
            bank.get(f"/sandboxes/{sandbox_id}/webhooks/{created['webhook_id']}").json()["position"]
            == 4
        )
    )


BAD_URLS = [
    ("http://example.com/hook", "host 'example.com' is not allowed"),
    ("http://10.0.0.1/hook", "host '10.0.0.1' is not allowed"),
    ("http://169.254.169.254/latest/meta-data", "host '169.254.169.254' is not allowed"),
    ("http://127.1/", "host '127.1' is not allowed"),
    ("http://2130706433/", "is not allowed"),
    ("http://localhost.example.com/", "is not allowed"),
    ("http://0.0.0.0:80/", "is not allowed"),
    ("http://user:pw@127.0.0.1/hook", "may not carry a user name or password"),
    ("http://127.0.0.1@example.com/", "may not carry a user name or password"),
    ("ftp://127.0.0.1/hook", "must start with http:// or https://"),
    ("127.0.0.1:8080/hook", "must start with http:// or https://"),
    ("http:///hook", "names no host"),
    ("http://127.0.0.1:99999/", "is not a well-formed URL"),
    ("http://[::1/", "is not a well-formed URL"),
    ("http://127.0.0.1/ hook", "without spaces or control characters"),
    ("http://127.0.0.1/\u00e9", "in ASCII"),
    ("http://127.0.0.1/#x", "may not have a #fragment"),
    ("http://127.0.0.1/" + "a" * 2040, "at most 2048 characters, got 2057"),
]


@pytest.mark.parametrize(("url", "says"), BAD_URLS)
def test_a_url_not_allowed_or_malformed_is_400_naming_url_and_changes_nothing(
    bank: TestClient, url: str, says: str
) -> None:
    sandbox_id = new_sandbox(bank)
    response = bank.post(
        f"/sandboxes/{sandbox_id}/webhooks", json={"url": url, "event_types": ["*"]}
    )
    assert response.status_code == 400, response.text
    assert response.json()["detail"].startswith("url: ") and says in response.json()["detail"]
    assert bank.get(f"/sandboxes/{sandbox_id}/webhooks").json() == []


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hook",
        "https://localhost/hook",
        "http://LOCALHOST:8080/x?y=1",
        "http://[::1]:8080/",
        "http://127.9.9.9/",
        "http://127.0.0.1/" + "a" * 2031,
    ],
)
def test_loopback_urls_are_allowed(bank: TestClient, url: str) -> None:
    assert len(url) <= 2048
    register(bank, new_sandbox(bank), url)


def test_a_host_named_in_the_setting_is_allowed_and_no_other(database_url: str) -> None:
    settings = settings_for(database_url, webhook_hosts=["hooks.internal", "10.1.2.3"])
    with TestClient(create_app(settings)) as client:
        sandbox_id = new_sandbox(client)
        register(client, sandbox_id, "https://hooks.internal/bank")
        register(client, sandbox_id, "http://HOOKS.internal:8443/bank")
        register(client, sandbox_id, "http://10.1.2.3/bank")
        for url in ("http://hooks.internal.evil/", "http://10.1.2.4/", "http://169.254.169.254/"):
            refused = client.post(
                f"/sandboxes/{sandbox_id}/webhooks", json={"url": url, "event_types": ["*"]}
            )
            assert refused.status_code == 400 and refused.json()["detail"].startswith("url: ")
        assert len(client.get(f"/sandboxes/{sandbox_id}/webhooks").json()) == 3
        client.delete(f"/sandboxes/{sandbox_id}")


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"event_types": ["transaction.added", "transaction.exploded"]}, "'transaction.exploded'"),
        ({"event_types": []}, "name at least one type"),
        ({"event_types": ["TRANSACTION.ADDED"]}, "is not a change type"),
        ({"event_types": "*"}, "event_types"),
    ],
)
def test_unknown_event_types_are_400_naming_event_types(
    bank: TestClient, receiver: Receiver, body: dict[str, Any], says: str
) -> None:
    sandbox_id = new_sandbox(bank)
    response = bank.post(f"/sandboxes/{sandbox_id}/webhooks", json={"url": receiver.url, **body})
    assert response.status_code == 400, response.text
    assert "event_types" in response.json()["detail"] and says in response.json()["detail"]
    assert bank.get(f"/sandboxes/{sandbox_id}/webhooks").json() == []


def test_other_fields_and_ids_are_checked(bank: TestClient, receiver: Receiver) -> None:
    sandbox_id = new_sandbox(bank)
    extra = bank.post(
        f"/sandboxes/{sandbox_id}/webhooks",
        json={"url": receiver.url, "event_types": ["*"], "secret": "mine"},
    )
    assert extra.status_code == 400 and "secret" in extra.json()["detail"]
    assert bank.get(f"/sandboxes/{sandbox_id}/webhooks/wh_nope").status_code == 400
    gone = "wh_" + "A" * 20
    assert bank.get(f"/sandboxes/{sandbox_id}/webhooks/{gone}").status_code == 404
    assert bank.get(f"/sandboxes/sbx_{'A' * 20}/webhooks").status_code == 404
    missing = bank.post(
        f"/sandboxes/sbx_{'A' * 20}/webhooks", json={"url": receiver.url, "event_types": ["*"]}
    )
    assert missing.status_code == 404
    created = register(bank, sandbox_id, receiver.url)
    paged = f"/sandboxes/{sandbox_id}/webhooks/{created['webhook_id']}/deliveries"
    assert bank.get(paged, params={"cursor": "-1"}).status_code == 400
    assert bank.get(paged, params={"cursor": "\u0661"}).status_code == 400
    assert bank.get(paged, params={"limit": 0}).status_code == 400


def test_another_sandboxs_webhook_is_not_found(bank: TestClient, receiver: Receiver) -> None:
    mine, theirs = new_sandbox(bank), new_sandbox(bank)
    created = register(bank, theirs, receiver.url)
    for path in ("", "/deliveries"):
        response = bank.get(f"/sandboxes/{mine}/webhooks/{created['webhook_id']}{path}")
        assert response.status_code == 404, path
    assert bank.delete(f"/sandboxes/{mine}/webhooks/{created['webhook_id']}").status_code == 404
    assert bank.get(f"/sandboxes/{mine}/webhooks").json() == []
    assert bank.get(f"/sandboxes/{theirs}/webhooks/{created['webhook_id']}").status_code == 200


def test_the_secret_is_shown_once(bank: TestClient, receiver: Receiver) -> None:
    sandbox_id = new_sandbox(bank)
    created = register(bank, sandbox_id, receiver.url)
    secret = created.pop("secret")
    listed = bank.get(f"/sandboxes/{sandbox_id}/webhooks")
    one = bank.get(f"/sandboxes/{sandbox_id}/webhooks/{created['webhook_id']}")
    assert listed.json() == [created] and one.json() == created
    for response in (listed, one):
        assert secret not in response.text and "secret" not in response.text


def test_a_sandbox_key_and_the_read_key_may_not_touch_webhooks(
    database_url: str, receiver: Receiver
) -> None:
    settings = settings_for(database_url, api_key="full-key", read_api_key="read-key")
    with TestClient(create_app(settings), headers={"X-API-Key": "full-key"}) as client:
        made = client.post("/sandboxes", json={}).json()
        sandbox_id, key = made["sandbox_id"], made["sandbox_key"]
        created = register(client, sandbox_id, receiver.url)
        hook = f"/sandboxes/{sandbox_id}/webhooks/{created['webhook_id']}"
        for as_who in (key, "read-key"):
            headers = {"X-API-Key": as_who}
            body = {"url": receiver.url, "event_types": ["*"]}
            posted = client.post(f"/sandboxes/{sandbox_id}/webhooks", json=body, headers=headers)
            assert posted.status_code == 403
            for path in (hook, hook + "/deliveries", f"/sandboxes/{sandbox_id}/webhooks"):
                assert client.get(path, headers=headers).status_code == 403
            assert client.delete(hook, headers=headers).status_code == 403
        assert client.get(hook).status_code == 200
        assert len(client.get(f"/sandboxes/{sandbox_id}/webhooks").json()) == 1
        client.delete(f"/sandboxes/{sandbox_id}")


def test_a_reset_starts_the_feed_again_and_the_webhook_follows(
    bank: TestClient, feed: FakeFeed, receiver: Receiver
) -> None:
    sandbox_id = new_sandbox(bank)
    created = register(bank, sandbox_id, receiver.url)
    feed.add(bank, sandbox_id, "transaction.added", "transaction.added")
    settled(bank, sandbox_id, created["webhook_id"], 2)
    assert bank.post(f"/sandboxes/{sandbox_id}/reset").status_code == 200
    hook = f"/sandboxes/{sandbox_id}/webhooks/{created['webhook_id']}"
    assert wait_for(lambda: bank.get(hook).json()["position"] == 0)
    feed.add(bank, sandbox_id, "transaction.removed")  # the new copy's first change: seq 1
    log = settled(bank, sandbox_id, created["webhook_id"], 3)
    assert [(d["seq"], d["type"]) for d in log] == [
        (1, "transaction.removed"),
        (2, "transaction.added"),
        (1, "transaction.added"),
    ]
    assert len({d["delivery_id"] for d in log}) == 3
    assert [r.json["seq"] for r in receiver.deliveries()] == [1, 2, 1]


def test_deleting_stops_deliveries_and_a_deleted_sandbox_takes_its_webhooks(
    bank: TestClient, feed: FakeFeed, receiver: Receiver
) -> None:
    sandbox_id = new_sandbox(bank)
    first = register(bank, sandbox_id, receiver.url)
    second = register(bank, sandbox_id, receiver.url, ["customer.deleted"])
    deleted = bank.delete(f"/sandboxes/{sandbox_id}/webhooks/{first['webhook_id']}")
    assert deleted.json() == {"webhook_id": first["webhook_id"], "message": "Webhook deleted"}
    assert bank.get(f"/sandboxes/{sandbox_id}/webhooks/{first['webhook_id']}").status_code == 404
    feed.add(bank, sandbox_id, "transaction.added", "customer.deleted")
    settled(bank, sandbox_id, second["webhook_id"], 1)
    assert [r.headers["Bank-Webhook-Id"] for r in receiver.deliveries()] == [second["webhook_id"]]
    assert bank.delete(f"/sandboxes/{sandbox_id}").status_code == 200
    engine = bank.app.state.engine  # type: ignore[attr-defined]
    with engine.connect() as connection:
        for table in ("webhooks", "webhook_deliveries"):
            assert connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() == 0


def test_the_delivery_log_pages_newest_first(
    bank: TestClient, feed: FakeFeed, receiver: Receiver
) -> None:
    sandbox_id = new_sandbox(bank)
    created = register(bank, sandbox_id, receiver.url)
    feed.add(bank, sandbox_id, *["balance.changed"] * 5)
    settled(bank, sandbox_id, created["webhook_id"], 5)
    path = f"/sandboxes/{sandbox_id}/webhooks/{created['webhook_id']}/deliveries"
    seen, cursor = [], None
    while True:
        page = bank.get(path, params={"limit": 2, **({"cursor": cursor} if cursor else {})})
        seen += [d["seq"] for d in page.json()["deliveries"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == [5, 4, 3, 2, 1]


def test_two_workers_never_send_the_same_attempt_twice(
    database_url: str, feed: FakeFeed, receiver: Receiver
) -> None:
    receiver.slow_s = 0.01  # a little overlap between the workers' looks
    with (
        TestClient(create_app(settings_for(database_url))) as first,
        TestClient(create_app(settings_for(database_url))) as second,
    ):
        quick(dispatcher_of(first), feed)
        quick(dispatcher_of(second), feed)
        sandbox_id = new_sandbox(first)
        created = register(first, sandbox_id, receiver.url)
        for _ in range(6):
            feed.add(first, sandbox_id, *["transaction.added"] * 5)
            time.sleep(0.05)
        log = settled(first, sandbox_id, created["webhook_id"], 30)
        got = receiver.deliveries()
        assert sorted(r.json["seq"] for r in got) == list(range(1, 31))  # each exactly once
        assert [r.json["seq"] for r in got] == list(range(1, 31))  # and in order
        assert {d["attempts"] for d in log} == {1}
        first.delete(f"/sandboxes/{sandbox_id}")


def test_only_one_claim_of_an_attempt_wins(
    bank: TestClient, feed: FakeFeed, receiver: Receiver
) -> None:
    receiver.stop()  # keep the dispatcher from sending it meanwhile
    sandbox_id = new_sandbox(bank)
    created = register(bank, sandbox_id, receiver.url)
    dispatcher_of(bank).backoff_first_s = dispatcher_of(bank).backoff_cap_s = 3600
    feed.add(bank, sandbox_id, "transaction.added")
    (queued,) = wait_for(lambda: log_of(bank, sandbox_id, created["webhook_id"]))
    wait_for(lambda: log_of(bank, sandbox_id, created["webhook_id"])[0]["attempts"] == 1)
    engine = bank.app.state.engine  # type: ignore[attr-defined]
    with engine.connect() as connection:
        number = connection.execute(text("SELECT number FROM webhook_deliveries")).scalar_one()
    due = Due(number, queued["delivery_id"], created["webhook_id"], "t", "{}", 1, "", "")
    with Session(engine) as session:
        assert claim(session, due, "worker-a", 60)
    with Session(engine) as session:
        assert not claim(session, due, "worker-b", 60)  # held by a
    stale = Due(number, queued["delivery_id"], created["webhook_id"], "t", "{}", 0, "", "")
    with Session(engine) as session:
        assert not claim(session, stale, "worker-b", 60)  # an attempt already made


def test_the_example_receiver_checks_a_real_delivery(
    bank: TestClient, feed: FakeFeed, tmp_path: Any
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sandbox_id = new_sandbox(bank)
    created = register(bank, sandbox_id, f"http://127.0.0.1:{port}/")
    script = PROJECT / "examples" / "webhook_receiver.py"
    with subprocess.Popen(
        [sys.executable, str(script), "--port", str(port), "--secret", created["secret"]],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            assert process.stderr is not None and process.stdout is not None
            assert f"127.0.0.1:{port}" in process.stderr.readline()
            feed.add(bank, sandbox_id, "instruction.executed")
            printed = json.loads(process.stdout.readline())
            assert printed["type"] == "instruction.executed" and printed["seq"] == 1
            (delivery,) = settled(bank, sandbox_id, created["webhook_id"], 1)
            assert (delivery["status"], delivery["last_status_code"]) == ("delivered", 204)
            # Signed with another secret, the same script refuses it (400): retried, then failed.
            dispatcher_of(bank).max_attempts = 2
            other = register(bank, sandbox_id, f"http://127.0.0.1:{port}/")
            feed.add(bank, sandbox_id, "instruction.executed")
            log = settled(bank, sandbox_id, other["webhook_id"], 2)
            assert {(d["status"], d["last_status_code"]) for d in log} == {("failed", 400)}
        finally:
            process.terminate()


def test_a_host_no_longer_allowed_fails_the_delivery_without_sending(
    database_url: str, feed: FakeFeed
) -> None:
    settings = settings_for(database_url, webhook_hosts=["hooks.internal"])
    with TestClient(create_app(settings)) as client:
        quick(dispatcher_of(client), feed)
        sandbox_id = new_sandbox(client)
        created = register(client, sandbox_id, "http://hooks.internal:1/bank")
        dispatcher_of(client).allowed_hosts = ()  # as after a restart without the setting
        feed.add(client, sandbox_id, "market.day_closed")
        (delivery,) = settled(client, sandbox_id, created["webhook_id"], 1)
        assert (delivery["status"], delivery["attempts"], delivery["last_status_code"]) == (
            "failed",
            1,
            None,
        )
        assert delivery["last_error"].startswith("url: host 'hooks.internal' is not allowed")
        client.delete(f"/sandboxes/{sandbox_id}")


def test_the_example_receiver_refuses_a_stale_or_forged_signature() -> None:
    spec = importlib.util.spec_from_file_location(
        "webhook_receiver", PROJECT / "examples" / "webhook_receiver.py"
    )
    assert spec is not None and spec.loader is not None
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    body = b'{"seq": 1}'
    now = int(time.time())
    assert example.verify("whsec_a", sign("whsec_a", now, body), body)
    assert not example.verify("whsec_a", sign("whsec_b", now, body), body)
    assert not example.verify("whsec_a", sign("whsec_a", now - 301, body), body)  # a replay
    assert not example.verify("whsec_a", sign("whsec_a", now, body), body + b" ")
    for header in ("", "t=,v1=", f"t={now}", "v1=00", "t=x,v1=00", "garbage"):
        assert not example.verify("whsec_a", header, body), header


def test_a_sandbox_whose_feed_fails_holds_up_no_other(
    bank: TestClient, feed: FakeFeed, receiver: Receiver
) -> None:
    broken_id, fine_id = new_sandbox(bank), new_sandbox(bank)
    broken = register(bank, broken_id, receiver.url)
    fine = register(bank, fine_id, receiver.url)
    failing = {"on": True}

    def source(session: Session, after: int, limit: int) -> list[FeedEvent]:
        if failing["on"] and str(session.get_bind().engine.url.database) in broken_copy:
            raise RuntimeError("this copy's feed is unreadable")
        return feed(session, after, limit)

    manager = bank.app.state.sandboxes  # type: ignore[attr-defined]
    generation = manager.main.run_here(lambda s: registry.find(s, broken_id)).generation
    broken_copy = str(make_url(manager.storage.url_of(broken_id, generation)).database)
    dispatcher_of(bank).source = source  # before the changes: none is read the old way
    feed.add(bank, broken_id, "transaction.added")
    feed.add(bank, fine_id, "transaction.added")
    settled(bank, fine_id, fine["webhook_id"], 1)
    assert log_of(bank, broken_id, broken["webhook_id"]) == []
    failing["on"] = False
    settled(bank, broken_id, broken["webhook_id"], 1)
    assert sorted(r.json["sandbox_id"] for r in receiver.deliveries()) == sorted(
        [broken_id, fine_id]
    )


def test_the_sandbox_feed_itself_reaches_the_receiver(
    database_url: str, receiver: Receiver
) -> None:
    # No fake here: the dispatcher reads the sandbox's own change feed.
    with TestClient(create_app(settings_for(database_url))) as bank:
        sandbox_id = new_sandbox(bank)
        created = register(bank, sandbox_id, receiver.url, ["customer.registered"])
        person = {"name": "Hooked Person", "customer_oid": "6f1c2a9e-3b4d-4c5e-8f70-1a2b3c4d5e6f"}
        inside = {"X-Bank-Sandbox": sandbox_id}
        assert bank.post("/register-customer", json=person, headers=inside).status_code == 200
        (delivery,) = settled(bank, sandbox_id, created["webhook_id"], 1)
        (got,) = receiver.deliveries()
        assert signature_ok(created["secret"], got)
        change = got.json["change"]
        assert change["type"] == "customer.registered"
        assert change["customer_oid"] == person["customer_oid"]
        feed = bank.get("/changes", headers=inside).json()["changes"]
        assert [c["seq"] for c in feed if c["type"] == "customer.registered"] == [change["seq"]]
        assert delivery["status"] == "delivered"
        bank.delete(f"/sandboxes/{sandbox_id}")


def test_an_idle_sender_reads_nothing_between_looks_and_a_registration_here_wakes_it(
    database_url: str,
) -> None:
    """With nothing to follow a worker looks once per ``idle_look_s`` (ten polls here), and
    reads nothing in between; a webhook registered through another worker is looked at
    within that, one registered through this worker at the next poll."""
    # Their own loops look once at start, then sleep an hour: the polls here are by hand.
    settings = Settings(database_url=database_url, webhook_poll_s=3600)
    with TestClient(create_app(settings)) as bank, TestClient(create_app(settings)) as other:
        dispatcher = dispatcher_of(bank)
        while dispatcher.looks == 0:
            time.sleep(0.01)
        dispatcher.idle_look_s = 10 * dispatcher.poll_s
        read: list[str] = []

        def count(_c: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
            if "webhook" in statement.lower():
                read.append(statement)

        async def poll(times: int) -> list[int]:
            """The statements each poll sent."""
            sent = []
            async with httpx2.AsyncClient() as client:
                for _ in range(times):
                    before = len(read)
                    await dispatcher.tick(client)
                    sent.append(len(read) - before)
            return sent

        def polls(times: int) -> list[int]:
            assert bank.portal is not None
            return bank.portal.call(poll, times)

        engine = dispatcher.main.engine
        event.listen(engine, "before_cursor_execute", count)
        try:
            looked, *idle, looked_again = polls(11)
            assert looked > 0 and idle == [0] * 9 and looked_again > 0
            assert dispatcher.looks == 3  # the loop's own, and two

            sandbox_id = bank.post("/sandboxes", json={}).json()["sandbox_id"]
            hook = {"url": "http://127.0.0.1:9/never-sent", "event_types": ["*"]}
            elsewhere = other.post(f"/sandboxes/{sandbox_id}/webhooks", json=hook)
            assert elsewhere.status_code == 201, elsewhere.text
            *idle, found = polls(10)
            assert idle == [0] * 9 and found > 0
            assert polls(2) == [found, found]  # following one: a look every poll
            webhook_id = elsewhere.json()["webhook_id"]
            assert bank.delete(f"/sandboxes/{sandbox_id}/webhooks/{webhook_id}").status_code == 200
            looked, idle_again = polls(2)
            assert looked > 0 and idle_again == 0

            here = bank.post(f"/sandboxes/{sandbox_id}/webhooks", json=hook)
            assert here.status_code == 201, here.text
            [woken] = polls(1)
            assert woken > 0
        finally:
            event.remove(engine, "before_cursor_execute", count)
