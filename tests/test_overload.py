"""Under a flood every request is answered or refused in bounded time.

What is timed is measured by ``scripts/overload.py``, not here (these machines are shared):
these tests hold the mechanisms. A worker runs Python's own event loop, which answers its
connections in turn, and keeps at most BANK_MAX_CONNECTIONS open: a request on one more is
refused at once with the bank's error body, Retry-After, and the connection closed.
"""

import json
import socket
import time
from contextlib import ExitStack

import pytest

from core.settings import Settings
from main import server_options
from scripts.stress import serve

LIMIT = 4


def _get(connection: socket.socket, path: str = "/health") -> tuple[int, dict[str, str], bytes]:
    connection.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    headers = {k.lower(): v for k, v in headers.items()}
    while len(body) < int(headers.get("content-length", "0")):
        body += connection.recv(65536)
    return int(lines[0].split()[1]), headers, body


def _open(base_url: str) -> socket.socket:
    host, port = base_url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=30)


@pytest.mark.slow
def test_a_request_past_the_connection_limit_is_refused_with_the_usual_body(
    tmp_path: pytest.TempPathFactory,
) -> None:
    with (
        serve(f"sqlite:///{tmp_path}/bank.db", BANK_MAX_CONNECTIONS=str(LIMIT)) as base,
        ExitStack() as sockets,
    ):
        held, refused = [], None
        for _ in range(LIMIT + 1):
            connection = sockets.enter_context(_open(base))
            status, headers, body = _get(connection)
            if status == 503:
                refused = (headers, body, connection)
                break
            assert status == 200
            held.append(connection)
        assert refused is not None, f"{LIMIT + 1} connections and none refused"
        headers, body, connection = refused
        assert len(held) < LIMIT
        assert headers["retry-after"] == "1"
        assert headers["connection"] == "close"
        assert headers["content-type"] == "application/json"
        assert json.loads(body)["detail"].startswith("The bank is busy")
        assert connection.recv(1) == b""  # closed by the server
        connection.close()
        for kept in held:  # the connections within the limit still work
            assert _get(kept)[0] == 200
        for kept in held:
            kept.close()
        # Once they are closed a new connection is served: wait for the server to notice.
        deadline = time.monotonic() + 30
        while True:
            fresh = _open(base)
            status = _get(fresh)[0]
            fresh.close()
            if status == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert status == 200


def test_the_server_runs_pythons_own_event_loop_with_a_high_connection_cap() -> None:
    """uvloop keeps reading new requests before it writes finished answers: under 500
    keep-alive connections to a cached portfolio a few per cent of the answers waited over
    10 s with it, none over 0.7 s with Python's loop (``scripts/overload.py``)."""
    options = server_options(Settings())
    assert options["loop"] == "asyncio"
    assert options["limit_concurrency"] == Settings().max_connections >= 1024
    assert server_options(Settings(event_loop="uvloop"))["loop"] == "uvloop"
