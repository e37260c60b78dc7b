"""The public change feed: every write records what it changed, clients read it in order.

A write records its changes (``record_events``) in its own transaction, just before it
commits: they are committed with it or not at all. Each change gets the next number of the
feed's counter row (``UPDATE ... RETURNING``), whose row lock the writer holds until it
commits; a second writer waits for it. So numbers are committed in the order they were
taken and without gaps, and a reader that sees change N sees every change before N: a
client that reads on from the last number it saw misses nothing, on SQLite (whose writes
are serialised anyway) and on PostgreSQL (where a sequence's numbers may commit out of
order), with any number of workers, across restarts.

Readers (``changes_reader``) get a page after a position, oldest first, and a signed cursor
bound to the feed they read: the bank's, or one copy of one sandbox (a reset makes another
copy, whose feed starts again), and the database's own feed id (a database made again has
another). A cursor of any other feed is refused, never misread.

The seeding and the bulk loads record nothing: the feed starts from the bank as loaded.
This log is for clients; ``services/changes.py`` is the workers' own, for their caches.
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import select, update
from sqlmodel import Session

from core.bulk import on_driver, write_rows
from core.errors import InvalidInput, ServiceUnavailable
from core.identifiers import parse_customer_oid
from core.paging import RowNumber, encode_cursor, fingerprint, unseal
from db import Database
from models import BankEvent, BankEventCounter
from schemas.changes import ChangeIds, ChangeOut, ChangesPage, ChangeType
from services.changes import COUNTER_ROW
from services.market import market_snapshot

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000

_EVENTS = BankEvent.__table__.c  # type: ignore[attr-defined]
_COUNTER = BankEventCounter.__table__.c  # type: ignore[attr-defined]
_ID_FIELDS = frozenset(ChangeIds.model_fields)
_EVENT_COLUMNS = ("seq", "type", "customer_oid", "occurred_on", "recorded_at", "label", "data")


@dataclass(frozen=True)
class Event:
    """One change to record. ``occurred_on`` defaults to the bank's day (the market's last
    close); ``label`` names a scripted change, None for the bank's own writes."""

    type: ChangeType
    customer_oid: str | None = None
    ids: ChangeIds | Mapping[str, Any] = field(default_factory=ChangeIds)
    """What the change names: ``ChangeIds``, or (for writes of tens of thousands, whose
    values are the bank's own) a mapping of some of its fields."""
    occurred_on: date | None = None
    label: str | None = None


def record_events(session: Session, events: Sequence[Event]) -> list[int]:
    """Record ``events`` in the caller's transaction, in this order; their numbers.

    Call it last, just before the commit: from here the writer holds the feed's counter
    row, and every other writer of the feed waits for this one to commit or roll back. The
    caller's transaction must be a write (``db.begin_write``)."""
    if not events:
        return []
    counter = session.execute(
        update(BankEventCounter)
        .where(_COUNTER.id == COUNTER_ROW)
        .values(last=_COUNTER.last + len(events))
        .returning(_COUNTER.last)
    ).scalar_one()
    first = counter - len(events) + 1
    moment = datetime.now(UTC)
    day = None
    if any(event.occurred_on is None for event in events):
        day = market_snapshot(session).as_of
    connection = session.connection()
    # In storage form, written at once (``core.bulk``): a clock's day records tens of
    # thousands; the moment as its column stores it, days as ISO strings.
    stored_at = _EVENTS.recorded_at.type.bind_processor(connection.dialect)
    at = stored_at(moment) if stored_at is not None else moment
    rows = [
        (first + n, ChangeType(event.type).value, event.customer_oid,
         (event.occurred_on or day).isoformat(), at, event.label, _stored(event.ids))  # type: ignore[union-attr]
        for n, event in enumerate(events)
    ]  # fmt: skip
    on_driver(connection, write_rows, "bank_events", _EVENT_COLUMNS, rows)
    return list(range(first, counter + 1))


def _stored(ids: ChangeIds | Mapping[str, Any]) -> str:
    # Exact decimal strings: a JSON number would pass through a float on its way back.
    given = ids if isinstance(ids, Mapping) else vars(ids)
    if not _ID_FIELDS.issuperset(given):
        raise ValueError(f"not fields of ChangeIds: {sorted(set(given) - _ID_FIELDS)}")
    return orjson.dumps(
        {k: f"{v:f}" if isinstance(v, Decimal) else v for k, v in given.items() if v is not None},
        option=orjson.OPT_SORT_KEYS,
    ).decode()


class FeedPosition(BaseModel):
    """After which change a reader goes on."""

    model_config = ConfigDict(extra="forbid")
    s: RowNumber


def feed_scope(database: Database) -> str:
    """Which feed a database holds: the bank's, or one copy of one sandbox."""
    if database.sandbox_id is None:
        return "bank"
    return f"sandbox {database.sandbox_id} {database.generation}"


def parse_types(given: Iterable[str] | None) -> frozenset[ChangeType] | None:
    """The ``types`` filter (repeated, or comma-separated), or ``InvalidInput`` naming it."""
    if given is None:
        return None
    wanted = set()
    for part in (p.strip() for text in given for p in text.split(",")):
        if not part:
            continue
        try:
            wanted.add(ChangeType(part))
        except ValueError:
            known = ", ".join(ChangeType)
            raise InvalidInput(
                f"types: '{part[:40]}' is not a type of change; use one or more of {known}"
            ) from None
    return frozenset(wanted) or None


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit: must be between 1 and {MAX_LIMIT}, got {limit}")
    return limit


def _scope(feed_id: str, where: str) -> str:
    return fingerprint("changes", feed_id, where)


def _position(token: str | None) -> tuple[int, str | None]:
    """The position a cursor holds and the scope it is bound to (checked against the feed
    once it is read); ``InvalidInput`` naming ``cursor`` when the bank did not issue it."""
    if token is None:
        return 0, None
    data = unseal(token)
    if data is None:
        raise InvalidInput(
            "cursor: not a cursor this API issued; pass the next_cursor of the previous page "
            "unchanged, or leave it out to read from the first change"
        )
    try:
        position = FeedPosition.model_validate(data.get("p"))
    except ValidationError:
        position = None
    scope = data.get("s")
    if position is None or not isinstance(scope, str):
        raise InvalidInput(
            "cursor: it is not a cursor of the change feed; pass the next_cursor of /changes"
        )
    return position.s, scope


def changes_reader(
    database: Database,
    *,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
    types: Iterable[str] | None = None,
    customer_oid: str | None = None,
) -> Callable[[Session], ChangesPage]:
    """The work that reads one page of ``database``'s feed (after checking the parameters,
    which fail before any work with ``InvalidInput`` naming the one at fault)."""
    check_limit(limit)
    wanted = parse_types(types)
    oid = parse_customer_oid(customer_oid) if customer_oid is not None else None
    after, bound_to = _position(cursor)
    where = feed_scope(database)
    engine = database.engine

    def read(session: Session) -> ChangesPage:
        if session.get_bind() is not engine:
            # A sandbox reset under this request: the cursor's feed is gone.
            raise ServiceUnavailable("Sandbox reset while this request read it: retry")
        return read_changes(session, where, after, bound_to, limit, wanted, oid)

    return read


def read_changes(
    session: Session,
    where: str,
    after: int,
    bound_to: str | None,
    limit: int,
    types: frozenset[ChangeType] | None,
    customer_oid: str | None,
) -> ChangesPage:
    """The changes after ``after`` that match, oldest first, in one snapshot of the feed."""
    last, feed_id = session.execute(
        select(_COUNTER.last, _COUNTER.feed_id).where(_COUNTER.id == COUNTER_ROW)
    ).one()
    scope = _scope(feed_id, where)
    if bound_to is not None and bound_to != scope:
        raise InvalidInput(
            "cursor: it belongs to another feed (the bank's or another sandbox's, or this "
            "sandbox before a reset, or a database made again); leave it out to read this "
            "feed from its first change"
        )
    query = select(BankEvent).where(_EVENTS.seq > after, _EVENTS.seq <= last)
    if customer_oid is not None:
        query = query.where(_EVENTS.customer_oid == customer_oid)
    if types is not None:
        query = query.where(_EVENTS.type.in_(sorted(types)))
    rows = list(session.scalars(query.order_by(_EVENTS.seq).limit(limit + 1)))
    has_more = len(rows) > limit
    rows = rows[:limit]
    # Past the page, or (all read) past every change of this snapshot, matching or not.
    reached = rows[-1].seq if has_more else max(after, last)
    return ChangesPage(
        changes=[_change_out(row) for row in rows],
        next_cursor=encode_cursor(FeedPosition(s=reached), scope),
        has_more=has_more,
    )


def _change_out(row: BankEvent) -> ChangeOut:
    recorded = row.recorded_at
    if recorded.tzinfo is None:
        recorded = recorded.replace(tzinfo=UTC)  # SQLite gives it back without its zone
    return ChangeOut(
        seq=row.seq,
        type=ChangeType(row.type),
        occurred_on=row.occurred_on,
        recorded_at=recorded,
        customer_oid=row.customer_oid,
        label=row.label,
        **orjson.loads(row.data),
    )
