"""What several test files share: the sample customers' ids, the project folder, skips that
can be made failures, a wait for a writer queued on a lock, and bursts of concurrent
requests against running servers."""

import asyncio
import os
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from synthetic.samples import SAMPLE_CUSTOMERS

PROJECT = Path(__file__).resolve().parent.parent


def sample_oid(name: str) -> str:
    """The id of the sample customer with this name, as the sample data defines it."""
    return next(sample.customer_oid for sample in SAMPLE_CUSTOMERS if sample.name == name)


JOHN = sample_oid("John Doe")
JANE = sample_oid("Jane Smith")
UNKNOWN = "550e8400-e29b-41d4-a716-446655440000"
"""Well-formed, and no sample customer's id."""
assert UNKNOWN not in {sample.customer_oid for sample in SAMPLE_CUSTOMERS}


def wait_until_blocked(engine: Engine, writer: threading.Thread, statement: str) -> None:
    """Return once ``writer`` waits for a lock in a statement that contains ``statement``
    (PostgreSQL), or has ended (it was never made to wait)."""
    with engine.connect() as connection:
        while writer.is_alive():
            waiting = connection.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND query LIKE :statement"
                ),
                {"statement": f"%{statement}%"},
            ).scalar_one()
            connection.commit()  # the activity view is read once per transaction
            if waiting:
                return
            time.sleep(0.05)


def require_or_skip(what: str, reason: str) -> None:
    """Skip for want of ``what``, unless BANK_TEST_REQUIRE names it: then fail."""
    required = {part.strip() for part in os.environ.get("BANK_TEST_REQUIRE", "").split(",")}
    if what in required:
        pytest.fail(f"{reason} (BANK_TEST_REQUIRE={what} makes this a failure)")
    pytest.skip(reason)


async def burst(
    base_urls: str | tuple[str, ...], method: str, path: str, count: int, **kwargs: object
) -> Counter[int]:
    """Send ``count`` requests at once, spread over the servers given; count the statuses."""
    servers = (base_urls,) if isinstance(base_urls, str) else base_urls
    async with httpx2.AsyncClient(timeout=10) as client:
        responses = await asyncio.gather(
            *(
                client.request(method, servers[n % len(servers)] + path, **kwargs)  # type: ignore[arg-type]
                for n in range(count)
            )
        )
    return Counter(r.status_code for r in responses)


def first_answer(
    process: "subprocess.Popen[bytes]", url: str, seconds: float = 60
) -> httpx2.Response:
    """The first answer of a server just started as ``process``, waiting for it to listen."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return httpx2.get(url, timeout=2)
        except httpx2.TransportError:
            assert process.poll() is None, "the server exited"
            assert time.monotonic() < deadline, f"no answer from {url} within {seconds:.0f} s"
            time.sleep(0.2)


def post_tool_call(
    client: TestClient, name: str, arguments: dict[str, Any], headers: dict[str, str] | None = None
) -> Any:
    """One MCP ``tools/call`` as a JSON-RPC POST to ``/mcp`` (stateless, no session),
    through a test client; the response, for its status, headers and ``result``."""
    message = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": name, "arguments": arguments},
    }
    return client.post(
        "/mcp",
        json=message,
        headers={**(headers or {}), "Accept": "application/json, text/event-stream"},
    )
