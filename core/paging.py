"""Opaque, tamper-evident page cursors (and the sealing they share with question ids).

A cursor is the position after the last row of a page plus a fingerprint of
the query it belongs to, base64url-encoded and signed with HMAC-SHA256. A
cursor that was edited, made up, or used with other filters is a 400, never a
wrong page.
"""

import base64
import hashlib
import hmac
import json
import re
import secrets
from datetime import date
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.errors import InvalidInput

_SIGNATURE_BYTES = 12
_TOKEN = re.compile(r"[A-Za-z0-9_-]+")
"""The URL-safe base64 alphabet, without padding: the only characters a token holds."""


CURSOR_VERSION = 2
"""Part of every fingerprint: a cursor from an older layout is refused, not misread."""

# A row id or a count: at most what a 64-bit column holds.
RowNumber = Annotated[int, Field(ge=0, lt=2**63)]


class CustomerPosition(BaseModel):
    """After which customer id a page of customers goes on, and how many came before."""

    model_config = ConfigDict(extra="forbid")
    i: RowNumber
    n: RowNumber


class TransactionPosition(BaseModel):
    """After which (date, id) a page of transactions goes on, and how many came before."""

    model_config = ConfigDict(extra="forbid")
    d: date
    i: RowNumber
    n: RowNumber


Position = TypeVar("Position", bound=BaseModel)


def fingerprint(*parts: object) -> str:
    """A short digest of the filters a cursor is valid for."""
    return hashlib.sha256(repr((CURSOR_VERSION, *parts)).encode()).hexdigest()[:16]


def seal(data: dict[str, Any]) -> str:
    """``data`` as URL-safe text that only this bank (its cursor secret) could have made."""
    raw = json.dumps(data, separators=(",", ":"), sort_keys=True).encode()
    return _b64(raw + _sign(raw))


def unseal(token: str) -> dict[str, Any] | None:
    """What ``seal`` put in ``token``, or None when the bank did not make it as it is.

    A token has one spelling: the decoder would skip characters outside the alphabet and
    ignore padding and a last character's spare bits, so the token must be exactly what
    encoding its bytes again gives (or one sealed token could be written many ways)."""
    if not _TOKEN.fullmatch(token):
        return None
    try:
        blob = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except ValueError:
        return None
    if _b64(blob) != token:
        return None
    raw, signature = blob[:-_SIGNATURE_BYTES], blob[-_SIGNATURE_BYTES:]
    if len(blob) <= _SIGNATURE_BYTES or not hmac.compare_digest(signature, _sign(raw)):
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def encode_cursor(position: BaseModel, scope: str) -> str:
    return seal({"p": position.model_dump(mode="json"), "s": scope})


def decode_cursor(token: str, scope: str, shape: type[Position]) -> Position:
    """The position stored in ``token``, or ``InvalidInput`` naming the ``cursor`` parameter."""
    data = unseal(token)
    if data is None:
        raise InvalidInput(
            "cursor: not a cursor this API issued; pass the next_cursor of the previous page "
            "unchanged, or leave it out to start from the first page"
        )
    try:
        position = shape.model_validate(data["p"]) if data.get("s") == scope else None
    except (KeyError, ValidationError):
        position = None
    if position is None:
        raise InvalidInput(
            "cursor: it belongs to a query with other filters or order; "
            "repeat the same filters or start again without a cursor"
        )
    return position


_secret: list[bytes] = []
"""The signing key, set by whoever opens the bank's database (``use_secret``)."""


def use_secret(secret: str) -> None:
    """Sign and check with ``secret`` from now on: the one the bank keeps, or the one set."""
    _secret[:] = [secret.encode()]


def _sign(raw: bytes) -> bytes:
    if not _secret:
        # No bank opened in this process: tokens need only hold within it. Never a fixed
        # default, which anyone who reads the source could sign with.
        _secret.append(secrets.token_bytes(32))
    return hmac.new(_secret[0], raw, hashlib.sha256).digest()[:_SIGNATURE_BYTES]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
