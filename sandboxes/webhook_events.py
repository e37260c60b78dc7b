"""Where webhooks get a sandbox's changes from: the one seam between them and the feed.

``EventSource`` reads the changes of one sandbox's copy after a position, oldest first:
``source(session, after, limit)``, with ``session`` on that copy's database. The dispatcher
(``sandboxes/delivery.py``) is given one; ``feed_events`` is the one the app gives it.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session

from services.events import read_changes


@dataclass(frozen=True)
class FeedEvent:
    """One change of a sandbox's feed, as a webhook sends it."""

    seq: int
    """Its place in the feed of its copy: larger than every change before it, no gaps."""
    type: str
    """A ``schemas.changes.ChangeType`` value."""
    customer_oid: str | None
    occurred_on: date
    body: dict[str, Any]
    """The change as the feed shows it (JSON values), sent as the delivery's ``change``."""


EventSource = Callable[[Session, int, int], list[FeedEvent]]
"""``(session of the sandbox's copy, after seq, limit) -> changes after it, oldest first``."""


def feed_events(session: Session, after: int, limit: int) -> list[FeedEvent]:
    """The sandbox copy's change feed (``services/events.py``): only changes every writer
    before them has committed, so a webhook misses none on either backend."""
    page = read_changes(session, "webhooks", after, None, limit, None, None)
    return [
        FeedEvent(
            seq=change.seq,
            type=change.type.value,
            customer_oid=change.customer_oid,
            occurred_on=change.occurred_on,
            body=change.model_dump(mode="json"),
        )
        for change in page.changes
    ]
