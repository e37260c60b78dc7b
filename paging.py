"""Opaque, tamper-evident page cursors.

A cursor is the position after the last row of a page plus a fingerprint of
the query it belongs to, base64url-encoded and signed with HMAC-SHA256. A
cursor that was edited, made up, or used with other filters is a 400, never a
wrong page.
"""

import base64
import hashlib
import hmac
import json
from typing import Any

from errors import InvalidInput
from settings import get_settings

_SIGNATURE_BYTES = 12


def fingerprint(*parts: object) -> str:
    """A short digest of the filters a cursor is valid for."""
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def encode_cursor(position: dict[str, Any], scope: str) -> str:
    payload = json.dumps({"p": position, "s": scope}, separators=(",", ":"), sort_keys=True)
    raw = payload.encode()
    return _b64(raw + _sign(raw))


def decode_cursor(token: str, scope: str) -> dict[str, Any]:
    """The position stored in ``token``, or ``InvalidInput`` naming the ``cursor`` parameter."""
    try:
        blob = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except ValueError:
        blob = b""
    raw, signature = blob[:-_SIGNATURE_BYTES], blob[-_SIGNATURE_BYTES:]
    if len(blob) <= _SIGNATURE_BYTES or not hmac.compare_digest(signature, _sign(raw)):
        raise InvalidInput(
            "cursor: not a cursor this API issued; pass the next_cursor of the previous page "
            "unchanged, or leave it out to start from the first page"
        )
    data = json.loads(raw)
    if data.get("s") != scope:
        raise InvalidInput(
            "cursor: it belongs to a query with other filters or order; "
            "repeat the same filters or start again without a cursor"
        )
    position: dict[str, Any] = data["p"]
    return position


def _sign(raw: bytes) -> bytes:
    key = get_settings().cursor_secret.encode()
    return hmac.new(key, raw, hashlib.sha256).digest()[:_SIGNATURE_BYTES]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
