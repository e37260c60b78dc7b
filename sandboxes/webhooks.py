"""A sandbox's webhooks: the URLs that are sent its changes, registered and read back.

Kept in the main database beside the registry (a reset keeps them, a delete of the sandbox
takes them along). Ids are ``wh_`` and 20 base32 characters; the secret that signs the
deliveries (``whsec_`` and 256 random bits) is kept, since signing needs it, and shown once,
at registration. A URL must be http or https, at most ``URL_MAX`` characters, without a user
name or password, and its host loopback unless BANK_WEBHOOK_HOSTS names it: the bank sends
nothing to an address of a caller's choosing. ``sandboxes/delivery.py`` sends the changes.
"""

import base64
import ipaddress
import re
import secrets
from collections.abc import Iterable
from urllib.parse import urlsplit

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from core.errors import Conflict, InvalidInput, NotFound
from db import begin_write
from models import Webhook, WebhookDelivery
from sandboxes import registry
from schemas.changes import ChangeType
from services.changes import BOOKKEEPING, record_change

WEBHOOK_ID = re.compile(r"wh_[A-Z2-7]{20}")
URL_MAX = 2048
DESCRIPTION_MAX = 200
PER_SANDBOX = 20
ALL_TYPES = "*"
EVENT_TYPES: tuple[str, ...] = tuple(change.value for change in ChangeType)
"""The change types a webhook may ask for: the feed's, in one place."""
WEBHOOK_SUBJECT = BOOKKEEPING + "webhooks"


def new_webhook_id() -> str:
    return "wh_" + base64.b32encode(secrets.token_bytes(15)).decode()[:20]


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def url_refusal(url: str, allowed_hosts: Iterable[str]) -> str | None:
    """Why ``url`` may not be sent to (a sentence naming the rule), or None."""
    if len(url) > URL_MAX:
        return f"at most {URL_MAX} characters, got {len(url)}"
    if not url.isascii() or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        return (
            "an absolute http:// or https:// URL in ASCII, without spaces or control "
            "characters (a non-ASCII host in its xn-- form)"
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return f"'{url[:100]}' is not a well-formed URL"
    if parts.scheme.lower() not in ("http", "https"):
        return "must start with http:// or https://"
    if "@" in parts.netloc:
        return "may not carry a user name or password"
    if parts.fragment or url.endswith("#"):
        return "may not have a #fragment"
    host = (parts.hostname or "").lower()
    if not host or port == 0:
        return f"'{url[:100]}' names no host and port to send to"
    if not host_allowed(host, allowed_hosts):
        return (
            f"host '{host[:100]}' is not allowed: a webhook goes to loopback (localhost, "
            "127.0.0.0/8, ::1) or to a host named in BANK_WEBHOOK_HOSTS"
        )
    return None


def host_allowed(host: str, allowed_hosts: Iterable[str]) -> bool:
    """Loopback by literal address or as ``localhost``, or a name the operator allowed.
    Other spellings of loopback (``127.1``, a decimal address) are refused, not guessed at."""
    if host == "localhost" or host in {name.strip().lower().strip("[]") for name in allowed_hosts}:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str, allowed_hosts: Iterable[str]) -> str:
    refusal = url_refusal(url, allowed_hosts)
    if refusal:
        raise InvalidInput(f"url: {refusal}")
    return url


def check_event_types(event_types: list[str]) -> str:
    """The types as stored (comma-separated, in the feed's order), or InvalidInput naming
    the first unknown one."""
    if not event_types:
        raise InvalidInput(f"event_types: name at least one type, or '{ALL_TYPES}' for all")
    for name in event_types:
        if name != ALL_TYPES and name not in EVENT_TYPES:
            raise InvalidInput(
                f"event_types: '{name[:40]}' is not a change type; expected '{ALL_TYPES}' "
                f"or some of {', '.join(EVENT_TYPES)}"
            )
    if ALL_TYPES in event_types:
        return ALL_TYPES
    return ",".join(name for name in EVENT_TYPES if name in event_types)


def wants(event_types: str, event_type: str) -> bool:
    return event_types == ALL_TYPES or event_type in event_types.split(",")


def types_of(webhook: Webhook) -> list[str]:
    return webhook.event_types.split(",")


def check_webhook_id(webhook_id: str) -> str:
    if not WEBHOOK_ID.fullmatch(webhook_id):
        raise InvalidInput(
            f"Invalid webhook id '{webhook_id[:40]}': expected 'wh_' and 20 characters A-Z or 2-7"
        )
    return webhook_id


def register(session: Session, webhook: Webhook) -> Webhook:
    """Add ``webhook`` to its live sandbox, following the sandbox's current copy from the
    start of its feed; Conflict past ``PER_SANDBOX`` of them."""
    begin_write(session)
    sandbox = registry.find(session, webhook.sandbox_id)
    registered = session.execute(
        select(func.count())
        .select_from(Webhook)
        .where(col(Webhook.sandbox_id) == webhook.sandbox_id)
    ).scalar_one()
    if registered >= PER_SANDBOX:
        raise Conflict(
            f"Sandbox '{webhook.sandbox_id}' has {PER_SANDBOX} webhooks already: delete one first"
        )
    webhook.generation = sandbox.generation
    webhook.position = 0
    session.add(webhook)
    session.flush()
    session.expunge(webhook)
    record_change(session, WEBHOOK_SUBJECT)
    session.commit()
    return webhook


def list_for(session: Session, sandbox_id: str) -> list[Webhook]:
    registry.find(session, sandbox_id)
    found = list(
        session.exec(
            select(Webhook)
            .where(col(Webhook.sandbox_id) == sandbox_id)
            .order_by(col(Webhook.created_at), col(Webhook.webhook_id))
        )
    )
    for row in found:
        session.expunge(row)
    return found


def find(session: Session, sandbox_id: str, webhook_id: str) -> Webhook:
    """The webhook of that id in that live sandbox: another sandbox's is not found, as if
    it did not exist."""
    registry.find(session, sandbox_id)
    found = session.get(Webhook, check_webhook_id(webhook_id))
    if found is None or found.sandbox_id != sandbox_id:
        raise NotFound(f"Webhook '{webhook_id}' not found in sandbox '{sandbox_id}'")
    session.expunge(found)
    return found


def remove(session: Session, sandbox_id: str, webhook_id: str) -> Webhook:
    """Delete the webhook and its delivery log: nothing more is sent to it."""
    found = find(session, sandbox_id, webhook_id)
    session.rollback()
    begin_write(session)
    session.execute(
        delete(WebhookDelivery).where(col(WebhookDelivery.webhook_id) == found.webhook_id)
    )
    session.execute(delete(Webhook).where(col(Webhook.webhook_id) == found.webhook_id))
    record_change(session, WEBHOOK_SUBJECT)
    session.commit()
    return found


def read_deliveries(
    session: Session, sandbox_id: str, webhook_id: str, before: int | None, limit: int
) -> tuple[list[WebhookDelivery], int | None]:
    """A page of the webhook's deliveries, newest first, before ``before`` (a delivery's
    number); and the number to read on from, or None at the oldest."""
    find(session, sandbox_id, webhook_id)
    query = select(WebhookDelivery).where(col(WebhookDelivery.webhook_id) == webhook_id)
    if before is not None:
        query = query.where(col(WebhookDelivery.number) < before)
    rows = list(session.exec(query.order_by(col(WebhookDelivery.number).desc()).limit(limit + 1)))
    for row in rows:
        session.expunge(row)
    more = len(rows) > limit
    page = rows[:limit]
    return page, (page[-1].number if more and page else None)
