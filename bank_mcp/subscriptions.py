"""Resource subscriptions: ``resources/subscribe`` to a customer's portfolio, summary or
transactions, then ``notifications/resources/updated`` when the clock or an instruction
changes them.

One ``ResourceNotifier`` per process follows the change feed (``services/events.py``) of each
database someone subscribed in (the bank, or a sandbox: the one the session belongs to).
Every ``BANK_MCP_NOTIFY_POLL_S`` it reads what changed and tells each subscribed session which
of its resources moved, each at most once per look, for changes after the one current when
the subscription was made. With no subscription it reads nothing.

A reset sandbox restarts its feed: every subscribed resource there is reported changed and
the new copy is followed from its current change. A deleted sandbox's subscriptions end,
reported changed (a read now says it is gone).
"""

import logging
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import anyio
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS, INVALID_REQUEST, EmptyResult
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from core.errors import BankError, NotFound, Overloaded
from db import Database
from models import BankEventCounter
from sandboxes.manager import SandboxDatabase
from schemas.changes import ChangeOut, ChangesPage, ChangeType
from services import customers
from services.changes import COUNTER_ROW
from services.events import MAX_LIMIT, read_changes

log = logging.getLogger("dummy_bank")

_COUNTER = BankEventCounter.__table__.c  # type: ignore[attr-defined]

SUBSCRIBABLE = re.compile(
    r"bank://customers/(?P<customer_oid>[^/]{1,100})/(?P<kind>portfolio|summary|transactions)"
)
"""The resources one may subscribe to: a customer's portfolio, summary and transactions."""

_MOVES_TRANSACTIONS = frozenset(
    {
        ChangeType.transaction_added,
        ChangeType.transaction_modified,
        ChangeType.transaction_removed,
        ChangeType.balance_changed,
    }
)
_MOVES_PORTFOLIO = _MOVES_TRANSACTIONS | {
    ChangeType.holding_changed,
    ChangeType.option_expired,
    ChangeType.instruction_executed,
}
_MOVES_EVERY_PORTFOLIO = frozenset({ChangeType.market_day_closed})
_ENDS_EVERYTHING = frozenset({ChangeType.customer_deleted})
WATCHED = _MOVES_PORTFOLIO | _MOVES_EVERY_PORTFOLIO | _ENDS_EVERYTHING
"""The kinds of change that move a subscribed resource; the others are not read."""


MAX_PER_SESSION = 1000
"""Subscriptions one session may hold: an agent follows a few customers, not the bank."""
SEND_TIMEOUT_S = 10.0
"""How long a session's client may take to accept a look's notifications; past it, its
subscriptions end (a client that stopped reading its stream must not hold up the rest)."""


def moved_kinds(change: ChangeType) -> frozenset[str]:
    """Which of a customer's resources a change moves (a closed market day moves every
    customer's portfolio and summary)."""
    if change in _MOVES_TRANSACTIONS or change in _ENDS_EVERYTHING:
        return frozenset({"portfolio", "summary", "transactions"})
    if change in _MOVES_PORTFOLIO or change in _MOVES_EVERY_PORTFOLIO:
        return frozenset({"portfolio", "summary"})
    return frozenset()


class Notifiable(Protocol):
    """What a subscription keeps of its session: a way to send it a notification."""

    async def send_resource_updated(self, uri: str) -> None: ...


@dataclass(frozen=True)
class Watched:
    """One subscribed resource: its URI as the client wrote it, whose, which kind, and the
    last change before the subscription (older ones are not reported to it)."""

    uri: str
    customer_oid: str
    kind: str
    since: int = 0


@dataclass
class Subscriber:
    session: Notifiable
    resources: dict[str, Watched] = field(default_factory=dict)


@dataclass
class Feed:
    """A database followed for its subscribers, and the last change read of it."""

    database: Database
    after: int
    subscribers: dict[str, Subscriber] = field(default_factory=dict)
    recheck: bool = False
    """Whether the sandbox must be looked up again (its copy failed under a read)."""


def last_change(session: Session) -> int:
    """The number of the last change committed in the session's database."""
    return int(
        session.execute(select(_COUNTER.last).where(_COUNTER.id == COUNTER_ROW)).scalar_one()
    )


def updated_uris(feed: Feed, changes: Iterable[ChangeOut]) -> dict[str, set[str]]:
    """For each subscribed session of ``feed``, the URIs ``changes`` move, each once."""
    moved: dict[tuple[str | None, str], int] = {}
    for change in changes:
        scope = None if change.type in _MOVES_EVERY_PORTFOLIO else change.customer_oid
        for kind in moved_kinds(change.type):
            moved[scope, kind] = change.seq  # oldest first: the last is the latest
    found: dict[str, set[str]] = {}
    for session_id, subscriber in feed.subscribers.items():
        uris = {
            w.uri
            for w in subscriber.resources.values()
            if max(moved.get((w.customer_oid, w.kind), 0), moved.get((None, w.kind), 0)) > w.since
        }
        if uris:
            found[session_id] = uris
    return found


class ResourceNotifier:
    """Subscriptions of every session of this process, and the loop that reports changes.

    ``alive(session_id)`` says whether a session still exists; the subscriptions of one that
    ended are dropped at the next look."""

    def __init__(
        self,
        poll_s: float,
        alive: Callable[[str], bool] = lambda _: True,
        *,
        send_timeout_s: float = SEND_TIMEOUT_S,
    ) -> None:
        self.poll_s = poll_s
        self.alive = alive
        self.send_timeout_s = send_timeout_s
        self.feeds: dict[str, Feed] = {}

    @staticmethod
    def feed_key(database: Database) -> str:
        return "bank" if database.sandbox_id is None else f"sandbox {database.sandbox_id}"

    async def subscribe(
        self, session_id: str, session: Notifiable, database: Database, watched: Watched
    ) -> None:
        """Follow ``watched`` for the session (``MCPError`` past ``MAX_PER_SESSION``)."""
        held = self.subscribed(session_id)
        if watched.uri not in held and len(held) >= MAX_PER_SESSION:
            raise MCPError(
                INVALID_PARAMS,
                f"Cannot subscribe to '{watched.uri[:200]}': a session holds at most "
                f"{MAX_PER_SESSION} subscriptions; unsubscribe from some first",
            )
        key = self.feed_key(database)
        since = await database.run(last_change)
        # Another subscription may have started following it while this one read.
        feed = self.feeds.setdefault(key, Feed(database, since))
        if since < feed.after:
            # A look read past it meanwhile: read those again, or this one misses them (the
            # others may hear of them twice, which only says again that they moved).
            feed.after = since
        subscriber = feed.subscribers.setdefault(session_id, Subscriber(session))
        subscriber.session = session
        subscriber.resources[watched.uri] = replace(watched, since=since)

    def unsubscribe(self, session_id: str, uri: str) -> None:
        for key, feed in list(self.feeds.items()):
            subscriber = feed.subscribers.get(session_id)
            if subscriber is None:
                continue
            subscriber.resources.pop(uri, None)
            if not subscriber.resources:
                del feed.subscribers[session_id]
            if not feed.subscribers:
                del self.feeds[key]

    def forget(self, session_id: str) -> None:
        """Drop every subscription of a session that ended."""
        for key, feed in list(self.feeds.items()):
            feed.subscribers.pop(session_id, None)
            if not feed.subscribers:
                del self.feeds[key]

    def subscribed(self, session_id: str) -> set[str]:
        """The URIs a session is subscribed to."""
        found: set[str] = set()
        for feed in self.feeds.values():
            subscriber = feed.subscribers.get(session_id)
            if subscriber is not None:
                found.update(subscriber.resources)
        return found

    async def run_forever(self) -> None:
        while True:
            await anyio.sleep(self.poll_s)
            try:
                await self.look()
            except Overloaded:
                pass  # the requests come first: the next look catches up
            except Exception:
                log.exception("resource notifications failed; will retry")

    async def look(self) -> None:
        """Read each followed feed's new changes and notify the sessions they concern."""
        for session_id in {s for f in self.feeds.values() for s in f.subscribers}:
            if not self.alive(session_id):
                self.forget(session_id)
        for key, feed in list(self.feeds.items()):
            try:
                await self._look_at(key, feed)
            except (SQLAlchemyError, BankError) as error:
                if isinstance(error, Overloaded):
                    raise
                # A sandbox's copy went away under the read: look it up at the next look.
                feed.recheck = True

    async def _look_at(self, key: str, feed: Feed) -> None:
        after = feed.after

        def read(session: Session) -> ChangesPage:
            return read_changes(session, "mcp", after, None, MAX_LIMIT, WATCHED, None)

        database = feed.database
        if isinstance(database, SandboxDatabase):
            if feed.recheck or database.retired:
                if not await self._follow_copy(key, feed, database):
                    return
                database = feed.database
            assert isinstance(database, SandboxDatabase)
            # On this very copy: after a reset, ``after`` means nothing in the next one.
            page = await database.run_on_copy(read)
        else:
            page = await database.run(read)
        if not page.changes:
            return
        feed.after = page.changes[-1].seq
        await self._send(feed, updated_uris(feed, page.changes))

    async def _follow_copy(self, key: str, feed: Feed, database: SandboxDatabase) -> bool:
        """After a reset, the sandbox's new copy (every resource changed); after a delete,
        nothing more (every resource gone). Whether to read the feed now."""
        manager = database.manager
        try:
            sandbox = await manager.find(database.sandbox_id)
        except NotFound:
            self.feeds.pop(key, None)
            await self._notify_all(feed)
            return False
        current = manager.copy_database(sandbox)
        feed.recheck = False
        if current.generation == database.generation:
            feed.database = current  # the same copy, opened again
            return True
        feed.database = current
        feed.after = await current.run_on_copy(last_change)
        # The new copy's changes are numbered again from its own start.
        for subscriber in feed.subscribers.values():
            subscriber.resources = {
                uri: replace(w, since=feed.after) for uri, w in subscriber.resources.items()
            }
        await self._notify_all(feed)
        return False

    async def _notify_all(self, feed: Feed) -> None:
        await self._send(feed, {s: set(sub.resources) for s, sub in feed.subscribers.items()})

    async def _send(self, feed: Feed, updated: dict[str, set[str]]) -> None:
        """Each session's notifications, all sessions at once: one whose client stopped
        reading its stream holds up nobody else."""
        async with anyio.create_task_group() as tasks:
            for session_id, uris in updated.items():
                subscriber = feed.subscribers.get(session_id)
                if subscriber is not None:
                    tasks.start_soon(self._notify, session_id, subscriber, uris)

    async def _notify(self, session_id: str, subscriber: Subscriber, uris: set[str]) -> None:
        with anyio.move_on_after(self.send_timeout_s) as waited:
            try:
                for uri in sorted(uris):
                    await subscriber.session.send_resource_updated(uri)
            except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                self.forget(session_id)  # the session's stream is gone
        if waited.cancelled_caught:
            log.warning(
                "MCP session %s took no notification in %s s: its subscriptions end",
                session_id[:64],
                self.send_timeout_s,
            )
            self.forget(session_id)


def watched_resource(uri: str) -> tuple[str, str]:
    """The customer and the kind a subscribable URI names, or ``MCPError`` naming it."""
    found = SUBSCRIBABLE.fullmatch(uri)
    if found is None:
        shown = uri[:200]
        raise MCPError(
            INVALID_PARAMS,
            f"Cannot subscribe to '{shown}': only bank://customers/{{customer_oid}}/portfolio, "
            "/summary and /transactions take subscriptions",
        )
    return found["customer_oid"], found["kind"]


SessionOf = Callable[[Any], str | None]
"""The session id of a request's context, or None outside a session."""


def subscription_handlers(
    notifier: ResourceNotifier, database: Callable[[], Database], session_of: SessionOf
) -> tuple[
    Callable[[Any, Any], Awaitable[EmptyResult]], Callable[[Any, Any], Awaitable[EmptyResult]]
]:
    """The ``resources/subscribe`` and ``resources/unsubscribe`` handlers."""

    async def subscribe(ctx: Any, params: Any) -> EmptyResult:
        uri = str(params.uri)
        raw_oid, kind = watched_resource(uri)
        session_id = session_of(ctx)
        if session_id is None:
            raise MCPError(
                INVALID_REQUEST,
                "Subscriptions need a session: send initialize without Mcp-Session-Id, then "
                "every request with the Mcp-Session-Id it returns, and open GET /mcp",
            )
        here = database()
        try:
            found = await here.run(lambda s: customers.get_customer(s, raw_oid))
        except BankError as error:
            raise MCPError(
                INVALID_PARAMS, f"Cannot subscribe to '{uri[:200]}': {error.detail}"
            ) from None
        await notifier.subscribe(
            session_id, ctx.session, here, Watched(uri, found.customer_oid, kind)
        )
        return EmptyResult()

    async def unsubscribe(ctx: Any, params: Any) -> EmptyResult:
        session_id = session_of(ctx)
        if session_id is not None:
            notifier.unsubscribe(session_id, str(params.uri))
        return EmptyResult()

    return subscribe, unsubscribe
