"""Sending sandboxes' changes to their webhooks: queued, signed, retried, logged.

Each worker runs a ``WebhookDispatcher``. Every ``BANK_WEBHOOK_POLL_S`` it reads each
webhook's sandbox's new changes (from its ``EventSource``, ``sandboxes/webhook_events.py``)
and queues those of the types it wants as deliveries, moving the webhook's position in
the same transaction, on condition that no other worker moved it first. Then it sends
what is due. A look that finds no webhook to follow and nothing to send makes the worker
idle: it looks again only every ``IDLE_LOOK_S`` (5 s), so a bank without webhooks costs
each worker two small queries every 5 s, not four a second. A webhook registered through
this worker wakes it at once; one registered through another worker is seen within
``IDLE_LOOK_S`` (a webhook follows its feed from the first change, so none is missed,
only sent up to that much later).

A webhook's deliveries go one at a time, in the order of its feed: the next is sent once
the one before was delivered or has failed for good. An attempt is sent only by the worker
whose conditional UPDATE took its lease, so two workers never send the same attempt; a
worker that dies mid-attempt leaves a lease that runs out, and the attempt is made again
(at least once, never lost). A 2xx answer delivers; any other answer, a redirect (never
followed), a refused connection or no answer within BANK_WEBHOOK_TIMEOUT_S is retried after
1, 2, 4, ... seconds, at most ``BACKOFF_CAP_S`` apart, ``MAX_ATTEMPTS`` attempts in all
(about 58 minutes), then failed.

Each attempt is signed: ``Bank-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of
"<t>.<body>" under the webhook's secret>`` (the scheme Stripe uses).
"""

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import math
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import httpx2
from sqlalchemy import and_, func, insert, or_, update
from sqlmodel import Session, col, select

from core.errors import BankError, Overloaded
from core.settings import Settings
from db import begin_write
from models import DeliveryStatus, Sandbox, Webhook, WebhookDelivery
from sandboxes import registry
from sandboxes.manager import SandboxManager
from sandboxes.webhook_events import EventSource, FeedEvent, feed_events
from sandboxes.webhooks import WEBHOOK_SUBJECT, url_refusal, wants
from services.changes import record_change

log = logging.getLogger("dummy_bank")

BACKOFF_FIRST_S = 1.0
BACKOFF_CAP_S = 300.0
MAX_ATTEMPTS = 20
"""1 + 2 + ... + 256 seconds, then 300 s apart: the 20th attempt comes about 58 minutes
after the first, so a receiver down for up to that long misses nothing."""
BATCH = 100
"""Changes read from a sandbox's feed at one look."""
SENT_IN_TURN = 100
"""Deliveries of one webhook sent back to back before the next look."""
IDLE_LOOK_S = 5.0
"""How often an idle worker looks: the longest a webhook registered elsewhere waits."""
LEASE_MARGIN_S = 30.0
"""How much longer than the timeout a lease lasts: a worker's attempt ends well within it."""
ERROR_MAX = 300
SIGNATURE_HEADER = "Bank-Signature"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``Bank-Signature`` header of ``body`` sent at ``timestamp`` (Unix seconds)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def backoff_s(attempts: int, first: float = BACKOFF_FIRST_S, cap: float = BACKOFF_CAP_S) -> float:
    """Seconds to wait after the ``attempts``-th failed attempt: 1, 2, 4, ... up to ``cap``."""
    return min(cap, first * 2.0 ** min(attempts - 1, 40))


def new_delivery_id() -> str:
    return "whd_" + base64.b32encode(secrets.token_bytes(15)).decode()[:20]


@dataclass(frozen=True)
class Followed:
    """A webhook whose sandbox is live, and the copy the sandbox now serves."""

    webhook: Webhook
    sandbox: Sandbox


@dataclass(frozen=True)
class Due:
    """An attempt to make: the delivery, and where and how to send it."""

    number: int
    delivery_id: str
    webhook_id: str
    type: str
    body: str
    attempts: int
    url: str
    secret: str


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str | None
    final: bool = False
    """A failure not worth retrying (the URL is no longer allowed)."""

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def followed_webhooks(session: Session) -> list[Followed]:
    rows = session.exec(
        select(Webhook, Sandbox)
        .join(Sandbox, col(Sandbox.sandbox_id) == col(Webhook.sandbox_id))
        .where(col(Sandbox.expires_at) > registry.now())
        .order_by(col(Webhook.webhook_id))
    ).all()
    session.expunge_all()  # a sandbox of several webhooks is one instance, in each row
    return [Followed(webhook, sandbox) for webhook, sandbox in rows]


def follow_reset(session: Session, webhook: Webhook, generation: int) -> bool:
    """Follow the sandbox's new copy from the start of its feed (whose numbers start
    again), unless another worker did already."""
    begin_write(session)
    done = session.execute(
        update(Webhook)
        .where(col(Webhook.webhook_id) == webhook.webhook_id)
        .where(col(Webhook.generation) == webhook.generation)
        .values(generation=generation, position=0)
    )
    record_change(session, WEBHOOK_SUBJECT)
    session.commit()
    return bool(done.rowcount)  # type: ignore[attr-defined]


def envelope(delivery_id: str, webhook: Webhook, event: FeedEvent) -> str:
    """What a delivery sends: who sends it, which change, and the change as the feed has it."""
    return json.dumps(
        {
            "delivery_id": delivery_id,
            "webhook_id": webhook.webhook_id,
            "sandbox_id": webhook.sandbox_id,
            "type": event.type,
            "seq": event.seq,
            "customer_oid": event.customer_oid,
            "occurred_on": event.occurred_on.isoformat(),
            "change": event.body,
        },
        separators=(",", ":"),
        ensure_ascii=False,
    )


def queue(session: Session, webhook: Webhook, events: list[FeedEvent]) -> int:
    """Queue the events ``webhook`` wants and move its position past all of them, in one
    transaction, unless another worker moved it first; how many were queued."""
    begin_write(session)
    moved = session.execute(
        update(Webhook)
        .where(col(Webhook.webhook_id) == webhook.webhook_id)
        .where(col(Webhook.generation) == webhook.generation)
        .where(col(Webhook.position) == webhook.position)
        .values(position=events[-1].seq)
    )
    if not moved.rowcount:  # type: ignore[attr-defined]
        session.rollback()
        return 0
    moment = registry.now()
    rows: list[dict[str, Any]] = []
    for event in events:
        if not wants(webhook.event_types, event.type):
            continue
        delivery_id = new_delivery_id()
        rows.append(
            {
                "delivery_id": delivery_id,
                "webhook_id": webhook.webhook_id,
                "generation": webhook.generation,
                "seq": event.seq,
                "type": event.type,
                "body": envelope(delivery_id, webhook, event),
                "status": DeliveryStatus.pending.value,
                "attempts": 0,
                "created_at": moment,
                "next_attempt_at": moment,
            }
        )
    if rows:
        session.execute(insert(WebhookDelivery), rows)
    record_change(session, WEBHOOK_SUBJECT)
    session.commit()
    return len(rows)


def due_heads(session: Session, webhook_id: str | None = None) -> list[Due]:
    """Each webhook's first delivery still pending, where its time has come and no worker
    holds it (of one webhook, with ``webhook_id``)."""
    moment = registry.now()
    first = (
        select(func.min(WebhookDelivery.number))
        .where(col(WebhookDelivery.status) == DeliveryStatus.pending.value)
        .group_by(col(WebhookDelivery.webhook_id))
    )
    if webhook_id is not None:
        first = first.where(col(WebhookDelivery.webhook_id) == webhook_id)
    rows = session.exec(
        select(WebhookDelivery, Webhook.url, Webhook.secret)
        .join(Webhook, col(Webhook.webhook_id) == col(WebhookDelivery.webhook_id))
        .where(col(WebhookDelivery.number).in_(first))
        .where(col(WebhookDelivery.next_attempt_at) <= moment)
        .where(_unleased(moment))
    ).all()
    return [
        Due(
            number=delivery.number or 0,
            delivery_id=delivery.delivery_id,
            webhook_id=delivery.webhook_id,
            type=delivery.type,
            body=delivery.body,
            attempts=delivery.attempts,
            url=url,
            secret=secret,
        )
        for delivery, url, secret in rows
    ]


def _unleased(moment: datetime) -> Any:
    return or_(
        col(WebhookDelivery.lease_until).is_(None), col(WebhookDelivery.lease_until) <= moment
    )


def claim(session: Session, due: Due, owner: str, lease_s: float) -> bool:
    """Take the lease of this very attempt (same number of attempts made, still pending,
    not held); whether this worker got it."""
    begin_write(session)
    moment = registry.now()
    done = session.execute(
        update(WebhookDelivery)
        .where(
            and_(
                col(WebhookDelivery.number) == due.number,
                col(WebhookDelivery.status) == DeliveryStatus.pending.value,
                col(WebhookDelivery.attempts) == due.attempts,
                _unleased(moment),
            )
        )
        .values(lease_until=moment + timedelta(seconds=lease_s), lease_owner=owner)
    )
    record_change(session, WEBHOOK_SUBJECT)
    session.commit()
    return bool(done.rowcount)  # type: ignore[attr-defined]


def record(
    session: Session,
    due: Due,
    owner: str,
    outcome: Outcome,
    max_attempts: int,
    retry_in_s: float,
) -> str | None:
    """Write down an attempt this worker held the lease of; the delivery's status now, or
    None if the lease was lost (it ran out and another worker took the attempt)."""
    begin_write(session)
    moment = registry.now()
    attempts = due.attempts + 1
    values: dict[str, Any] = {
        "attempts": attempts,
        "last_attempt_at": moment,
        "last_status_code": outcome.status_code,
        "last_error": outcome.error[:ERROR_MAX] if outcome.error else None,
        "lease_until": None,
        "lease_owner": None,
    }
    if outcome.delivered:
        values.update(status=DeliveryStatus.delivered.value, delivered_at=moment)
    elif outcome.final or attempts >= max_attempts:
        values.update(status=DeliveryStatus.failed.value)
    else:
        values.update(next_attempt_at=moment + timedelta(seconds=retry_in_s))
    done = session.execute(
        update(WebhookDelivery)
        .where(col(WebhookDelivery.number) == due.number)
        .where(col(WebhookDelivery.lease_owner) == owner)
        .where(col(WebhookDelivery.attempts) == due.attempts)
        .values(**values)
    )
    record_change(session, WEBHOOK_SUBJECT)
    session.commit()
    if not done.rowcount:  # type: ignore[attr-defined]
        return None
    return str(values.get("status", DeliveryStatus.pending.value))


class WebhookDispatcher:
    """One worker's sender of webhook deliveries (``run_forever`` in the app's lifespan).

    ``source`` is where the sandboxes' changes come from; ``backoff_first_s``,
    ``backoff_cap_s`` and ``max_attempts`` are the retry schedule, ``idle_look_s`` how often
    an idle worker looks (tests shorten them)."""

    def __init__(
        self, manager: SandboxManager, settings: Settings, source: EventSource = feed_events
    ) -> None:
        self.manager = manager
        self.main = manager.main
        self.source = source
        self.poll_s = settings.webhook_poll_s
        self.timeout_s = settings.webhook_timeout_s
        self.allowed_hosts = tuple(settings.webhook_hosts)
        self.backoff_first_s = BACKOFF_FIRST_S
        self.backoff_cap_s = BACKOFF_CAP_S
        self.max_attempts = MAX_ATTEMPTS
        self.idle_look_s = IDLE_LOOK_S
        self.owner = secrets.token_hex(8)
        self.looks = 0
        """Looks done (each reads the database); polls skipped while idle are not looks."""
        self._sending: dict[str, asyncio.Task[None]] = {}
        self._skips_left = 0

    async def run_forever(self) -> None:
        # No proxy from the environment: a loopback URL must stay on this machine.
        async with httpx2.AsyncClient(
            timeout=self.timeout_s, follow_redirects=False, trust_env=False
        ) as client:
            try:
                while True:
                    await self.tick(client)
                    await asyncio.sleep(self.poll_s)
            finally:
                for task in self._sending.values():
                    task.cancel()
                await asyncio.gather(*self._sending.values(), return_exceptions=True)

    async def tick(self, client: httpx2.AsyncClient) -> None:
        """One poll: a look, unless the worker is idle and its next look is not due."""
        if self._skips_left > 0:
            self._skips_left -= 1
            return
        busy = True
        try:
            busy = await self.look(client)
        except Overloaded:
            pass  # the requests come first: the next look catches up
        except Exception:
            log.exception("sending webhooks failed; will retry")
        if not busy:
            self._skips_left = max(0, math.ceil(self.idle_look_s / self.poll_s) - 1)

    def wake(self) -> None:
        """Look at the next poll: a webhook was registered through this worker."""
        self._skips_left = 0

    async def look(self, client: httpx2.AsyncClient) -> bool:
        """Queue the new changes of every followed webhook, then start sending what is due
        of each webhook no task of this worker is sending already; whether there was
        anything to follow or send."""
        following = await self.main.run(followed_webhooks)
        for followed in following:
            try:
                await self._queue_new(followed)
            except BankError as error:  # its sandbox went away meanwhile: the next look knows
                log.info("webhook %s: %s", followed.webhook.webhook_id, error.detail)
            except Exception:  # one sandbox's trouble must not hold up the others
                log.exception("reading changes for webhook %s failed", followed.webhook.webhook_id)
        heads = await self.main.run(due_heads)
        for due in heads:
            if due.webhook_id not in self._sending:
                task = asyncio.create_task(self._send_in_turn(client, due))
                self._sending[due.webhook_id] = task
                task.add_done_callback(partial(self._sent, due.webhook_id))
        self.looks += 1
        return bool(following or heads or self._sending)

    def _sent(self, webhook_id: str, _task: "asyncio.Task[None]") -> None:
        self._sending.pop(webhook_id, None)

    async def _queue_new(self, followed: Followed) -> None:
        webhook, sandbox = followed.webhook, followed.sandbox
        if webhook.generation != sandbox.generation:
            await self.main.run(
                lambda session: follow_reset(session, webhook, sandbox.generation), write=True
            )
            return  # the next look reads the new copy from its start
        database = self.manager.copy_database(sandbox)
        position = webhook.position
        events: list[FeedEvent] = await database.run_on_copy(
            lambda session: self.source(session, position, BATCH)
        )
        if events:
            await self.main.run(lambda session: queue(session, webhook, events), write=True)

    async def _send_in_turn(self, client: httpx2.AsyncClient, due: Due | None) -> None:
        """Send the webhook's deliveries one after another while they succeed."""
        try:
            for _ in range(SENT_IN_TURN):
                if due is None or not await self._attempt(client, due):
                    return
                heads = await self.main.run(partial(due_heads, webhook_id=due.webhook_id))
                due = heads[0] if heads else None
        except Overloaded:
            pass  # a lease taken stays until it runs out; the attempt is made then
        except Exception:
            log.exception("sending a webhook's deliveries failed; will retry")

    async def _attempt(self, client: httpx2.AsyncClient, due: Due) -> bool:
        """Make one attempt if this worker gets its lease; whether it was delivered."""
        lease_s = self.timeout_s + LEASE_MARGIN_S
        if not await self.main.run(
            lambda session: claim(session, due, self.owner, lease_s), write=True
        ):
            return False
        outcome = await self.send(client, due)
        retry_in_s = backoff_s(due.attempts + 1, self.backoff_first_s, self.backoff_cap_s)
        status = await self.main.run(
            lambda session: record(
                session, due, self.owner, outcome, self.max_attempts, retry_in_s
            ),
            write=True,
        )
        if status == DeliveryStatus.failed.value:
            log.warning(
                "webhook %s: delivery %s failed after %d attempts (%s)",
                due.webhook_id,
                due.delivery_id,
                due.attempts + 1,
                outcome.error,
            )
        return status == DeliveryStatus.delivered.value

    async def send(self, client: httpx2.AsyncClient, due: Due) -> Outcome:
        """POST the delivery, signed now; what came of it. The answer's body is not read."""
        refusal = url_refusal(due.url, self.allowed_hosts)
        if refusal:  # BANK_WEBHOOK_HOSTS no longer names it
            return Outcome(None, f"url: {refusal}", final=True)
        body = due.body.encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "DummyBank-Webhooks/1",
            "Bank-Webhook-Id": due.webhook_id,
            "Bank-Delivery-Id": due.delivery_id,
            "Bank-Delivery-Attempt": str(due.attempts + 1),
            "Bank-Event-Type": due.type,
            SIGNATURE_HEADER: sign(due.secret, int(time.time()), body),
        }
        try:
            async with client.stream(
                "POST", due.url, content=body, headers=headers, timeout=self.timeout_s
            ) as answer:
                status_code = answer.status_code
                location = answer.headers.get("location", "")
        except httpx2.TimeoutException:
            return Outcome(None, f"no answer within {self.timeout_s:g} s")
        except httpx2.HTTPError as error:
            return Outcome(None, f"could not send: {type(error).__name__}: {error}"[:ERROR_MAX])
        if 200 <= status_code < 300:
            return Outcome(status_code, None)
        if 300 <= status_code < 400:
            return Outcome(status_code, f"redirect to '{location[:200]}' not followed")
        return Outcome(status_code, f"answered {status_code}")
