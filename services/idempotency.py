"""Idempotent instructions, as payment APIs make them: a retry sent with the same
``Idempotency-Key`` and the same instruction gets the first answer back, and nothing happens
twice; the same key with another instruction is refused.

A key belongs to one customer (and, in a sandbox, to that sandbox's bank); it is kept for
``KEPT_FOR`` at least. The first answer is kept whatever it was: the instruction done, or
the rule that refused it. Input that is malformed is refused before any key is looked at,
as it is without a key. The key is claimed in the instruction's own transaction, behind the
customer's lock: of two requests racing with one key, the second waits for the first and
then finds its answer.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from sqlalchemy import delete
from sqlmodel import Session, col

from core.errors import BankError, InvalidInput
from models import IdempotencyRecord

KEPT_FOR = timedelta(hours=48)
"""How long a key and its answer are kept: twice the 24 hours a client may rely on."""
KEY_MAX = 255


class Replayed(BankError):
    """The kept answer of an earlier request with the same key: sent again as it was."""

    def __init__(self, status_code: int, body: dict[str, Any]) -> None:
        super().__init__(str(body.get("detail", "")))
        self.status_code = status_code
        self.body = body


class KeyReused(BankError):
    status_code = 422

    def __init__(self, key: str) -> None:
        super().__init__(
            f"Idempotency-Key '{key[:60]}' was used for a different instruction: "
            "use a new key for a new instruction"
        )
        self.rule = "idempotency_key_reused"


def checked_key(raw: str | None) -> str | None:
    """The key as sent, or ``InvalidInput`` naming the header and the rule."""
    if raw is None:
        return None
    if not 1 <= len(raw) <= KEY_MAX:
        raise InvalidInput(f"header 'Idempotency-Key': 1 to {KEY_MAX} characters, got {len(raw)}")
    if not all("\x21" <= ch <= "\x7e" for ch in raw):
        raise InvalidInput("header 'Idempotency-Key': visible ASCII characters only (no spaces)")
    return raw


def fingerprint(action: str, customer_oid: str, instruction: BaseModel | dict[str, Any]) -> str:
    """What makes two requests the same instruction: the action, the customer and the body
    as understood (field order, spacing and how a number is written do not matter: 100,
    "100.00" and 1e2 are one amount)."""
    body = instruction.model_dump() if isinstance(instruction, BaseModel) else instruction
    text = json.dumps(
        [action, customer_oid, body], sort_keys=True, separators=(",", ":"), default=_plain
    )
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Retry:
    """An instruction's ``Idempotency-Key`` and what it was sent with."""

    key: str
    fingerprint: str


def _plain(value: Any) -> str:
    """A value JSON does not know, written one way: a decimal by its value, a date in ISO."""
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot fingerprint {type(value).__name__}")


def replay_if_known(session: Session, customer_oid: str, retry: Retry) -> None:
    """Inside the instruction's transaction, behind the customer's lock: ``Replayed`` with the
    kept answer, or ``KeyReused`` if the key answered another instruction (the transaction is
    rolled back first); nothing if the key is new."""
    found = session.get(IdempotencyRecord, (customer_oid, retry.key))
    if found is None or not _fresh(found):
        return
    session.rollback()
    if found.fingerprint != retry.fingerprint:
        raise KeyReused(retry.key)
    raise Replayed(found.status_code, json.loads(found.response))


def keep(
    session: Session, customer_oid: str, retry: Retry, status: int, body: dict[str, Any]
) -> None:
    """Keep the answer in the caller's transaction (which commits it with the instruction),
    and drop keys older than ``KEPT_FOR``."""
    now = datetime.now(UTC)
    # By the created_at index alone: a range of expired keys, usually empty. (Scoped to the
    # customer, the planner walks all of the customer's keys instead, every time.)
    session.exec(
        delete(IdempotencyRecord).where(col(IdempotencyRecord.created_at) < now - KEPT_FOR)
    )
    session.merge(
        IdempotencyRecord(
            customer_oid=customer_oid,
            key=retry.key,
            fingerprint=retry.fingerprint,
            status_code=status,
            response=json.dumps(body, separators=(",", ":")),
            created_at=now,
        )
    )


def _fresh(record: IdempotencyRecord) -> bool:
    created = record.created_at
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    return datetime.now(UTC) - created < KEPT_FOR
