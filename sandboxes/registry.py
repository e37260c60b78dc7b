"""The registry of sandboxes, a table of the main database that every worker reads.

Ids are ``sbx_`` and 20 base32 characters (100 random bits). Each sandbox lives until
``expires_at``, which every request pushes back by the time to live. Its key (``sbk_``, the
id's 20 characters, ``_`` and 256 random bits) is the agent's key to it alone: the table
keeps only the key's SHA-256, which is enough for a key of that many random bits.
"""

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, update
from sqlmodel import Session, col, select

from core.errors import InvalidInput, NotFound, Unauthorized
from db import begin_write
from models import Sandbox
from services.changes import BOOKKEEPING, record_change

SANDBOX_ID = re.compile(r"sbx_[A-Z2-7]{20}")
SANDBOX_KEY_PREFIX = "sbk_"
SANDBOX_KEY = re.compile(r"sbk_([A-Z2-7]{20})_[A-Za-z0-9_-]{43}")
KEY_REFUSED = "Invalid sandbox key: its sandbox was deleted, or the key is not one this bank issued"


REGISTRY_SUBJECT = BOOKKEEPING + "sandboxes"


def new_sandbox_id() -> str:
    return "sbx_" + base64.b32encode(secrets.token_bytes(15)).decode()[:20]


def new_sandbox_key(sandbox_id: str) -> str:
    """A fresh key to ``sandbox_id`` alone; it names the sandbox, so that it implies it."""
    return f"{SANDBOX_KEY_PREFIX}{sandbox_id[4:]}_{secrets.token_urlsafe(32)}"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def find_by_key(session: Session, key: str) -> Sandbox:
    """The live sandbox this key was issued for, or Unauthorized (never saying which part
    was wrong: a guessed id learns nothing)."""
    shape = SANDBOX_KEY.fullmatch(key)
    found = session.get(Sandbox, f"sbx_{shape.group(1)}") if shape else None
    offered = hash_key(key)
    # Compared in constant time, and compared even when nothing was found.
    matches = hmac.compare_digest(offered, (found.key_hash if found else None) or "")
    if found is None or not matches or aware(found.expires_at) <= now():
        raise Unauthorized(KEY_REFUSED)
    session.expunge(found)
    return found


def check_sandbox_id(sandbox_id: str) -> str:
    if not SANDBOX_ID.fullmatch(sandbox_id):
        shown = sandbox_id[:40]
        raise InvalidInput(
            f"Invalid sandbox id '{shown}': expected 'sbx_' and 20 characters A-Z or 2-7"
        )
    return sandbox_id


def now() -> datetime:
    return datetime.now(UTC)


def aware(moment: datetime) -> datetime:
    """SQLite gives timestamps back without their zone; they were written in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def find(session: Session, sandbox_id: str) -> Sandbox:
    """The live sandbox of that id, or NotFound naming it."""
    found = session.get(Sandbox, check_sandbox_id(sandbox_id))
    if found is None or aware(found.expires_at) <= now():
        raise not_found(sandbox_id)
    session.expunge(found)
    return found


def not_found(sandbox_id: str) -> NotFound:
    return NotFound(f"Sandbox '{sandbox_id}' not found (never created, deleted or expired)")


def list_live(session: Session) -> list[Sandbox]:
    found = list(
        session.exec(
            select(Sandbox)
            .where(col(Sandbox.expires_at) > now())
            .order_by(col(Sandbox.created_at), col(Sandbox.sandbox_id))
        )
    )
    for row in found:
        session.expunge(row)
    return found


def count_live(session: Session) -> int:
    return int(
        session.execute(
            select(func.count()).select_from(Sandbox).where(col(Sandbox.expires_at) > now())
        ).scalar_one()
    )


def add(session: Session, sandbox: Sandbox, limit: int) -> bool:
    """Register ``sandbox`` unless ``limit`` live ones exist already; whether it was added."""
    begin_write(session)
    if session.get_bind().dialect.name == "postgresql":
        # Counting and adding are one step for every worker: a full house stays full.
        session.execute(select(func.pg_advisory_xact_lock(14)))
    if count_live(session) >= limit:
        return False
    session.add(sandbox)
    session.flush()
    session.expunge(sandbox)  # the caller keeps it whole once the commit expires the session
    # Logged, so that on SQLite the bank's other workers do not take it for an unknown write.
    record_change(session, REGISTRY_SUBJECT)
    session.commit()
    return True


def touch(session: Session, sandbox_id: str, ttl: timedelta) -> None:
    begin_write(session)
    session.execute(
        update(Sandbox).where(col(Sandbox.sandbox_id) == sandbox_id).values(expires_at=now() + ttl)
    )
    # Logged, so that on SQLite the bank's other workers do not take it for an unknown write.
    record_change(session, REGISTRY_SUBJECT)
    session.commit()


def set_faults(session: Session, sandbox_id: str, faults: str) -> None:
    begin_write(session)
    done = session.execute(
        update(Sandbox).where(col(Sandbox.sandbox_id) == sandbox_id).values(faults=faults)
    )
    # Logged, so that on SQLite the bank's other workers do not take it for an unknown write.
    record_change(session, REGISTRY_SUBJECT)
    session.commit()
    if not done.rowcount:  # type: ignore[attr-defined]
        find(session, sandbox_id)  # the 404 naming it


def advance(session: Session, sandbox: Sandbox, generation: int, ttl: timedelta) -> bool:
    """Move ``sandbox`` to a new copy, unless a concurrent reset moved it already."""
    begin_write(session)
    moment = now()
    done = session.execute(
        update(Sandbox)
        .where(col(Sandbox.sandbox_id) == sandbox.sandbox_id)
        .where(col(Sandbox.generation) == sandbox.generation)
        .values(generation=generation, reset_at=moment, expires_at=moment + ttl)
    )
    # Logged, so that on SQLite the bank's other workers do not take it for an unknown write.
    record_change(session, REGISTRY_SUBJECT)
    session.commit()
    return bool(done.rowcount)  # type: ignore[attr-defined]


def remove(session: Session, *, sandbox_id: str) -> int | None:
    """Unregister a sandbox (live or expired); the generation it had when it was removed
    (a reset may have moved it since the caller last looked), or None if already gone."""
    begin_write(session)
    generation = session.execute(
        delete(Sandbox)
        .where(col(Sandbox.sandbox_id) == sandbox_id)
        .returning(col(Sandbox.generation))
    ).scalar_one_or_none()
    if generation is None:
        session.rollback()
        return None
    # Logged, so that on SQLite the bank's other workers do not take it for an unknown write.
    record_change(session, REGISTRY_SUBJECT)
    session.commit()
    return int(generation)


def current_copies(session: Session) -> set[tuple[str, int]]:
    """Every registered sandbox's current copy, expired or not: what storage must keep."""
    rows = session.execute(select(Sandbox.sandbox_id, Sandbox.generation))
    return {(str(sandbox_id), int(generation)) for sandbox_id, generation in rows}


def expired_ids(session: Session) -> list[str]:
    rows = session.execute(select(Sandbox.sandbox_id).where(col(Sandbox.expires_at) <= now()))
    return [str(row[0]) for row in rows]


def next_expiry(session: Session) -> datetime | None:
    found = session.execute(select(func.min(Sandbox.expires_at))).scalar_one_or_none()
    return aware(found) if found is not None else None


def change_script(session: Session, sandbox_id: str, change: Callable[[str], str]) -> str:
    """Replace a sandbox's script by ``change`` of it, holding its row meanwhile (two requests
    adding events at once both land); the new script, or NotFound naming the sandbox."""
    begin_write(session)
    current = session.execute(
        select(Sandbox.script).where(col(Sandbox.sandbox_id) == sandbox_id).with_for_update()
    ).scalar_one_or_none()
    if current is None:
        find(session, sandbox_id)  # the 404 naming it
    script = change(current or "")
    session.execute(
        update(Sandbox).where(col(Sandbox.sandbox_id) == sandbox_id).values(script=script)
    )
    # Logged, so that on SQLite the bank's other workers do not take it for an unknown write.
    record_change(session, REGISTRY_SUBJECT)
    session.commit()
    return script
