"""What a request's key may reach beyond the bank's data: the routes for the full key alone.

The key check itself is ``api.middleware.ApiKeyMiddleware``; it leaves in ``MCP_ACCESS`` and
``SANDBOX_KEY`` what the key was, and these dependencies refuse the routes it may not call.
"""

from collections.abc import Callable

from api.middleware import MCP_ACCESS, SANDBOX_KEY
from core.errors import Forbidden

SANDBOX_KEY_REFUSAL = (
    "A sandbox key acts only inside its own sandbox: this call needs the full API key"
)


def full_key_only(read_key_refusal: str) -> Callable[[], None]:
    """A dependency that refuses (403) the read key, with ``read_key_refusal``, and every
    sandbox key: what the harness calls, the agent under test must not."""

    def full_access() -> None:
        if SANDBOX_KEY.get() is not None:
            raise Forbidden(SANDBOX_KEY_REFUSAL)
        if MCP_ACCESS.get() == "read":
            raise Forbidden(read_key_refusal)

    return full_access
