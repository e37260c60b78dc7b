"""No copy outlives its sandbox: deletes racing resets and fault changes, copies a crash left
behind (reclaimed at start), and a server killed in the middle of resets."""

import asyncio
import os
import signal
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from core.settings import Settings
from main import create_app
from sandboxes.manager import SandboxManager
from sandboxes.storage import SandboxStorage
from scripts.stress import free_port, start, stop


@pytest.fixture
def bank(database_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=database_url))) as test_client:
        yield test_client


def manager_of(bank: TestClient) -> SandboxManager:
    manager: SandboxManager = bank.app.state.sandboxes  # type: ignore[attr-defined]
    return manager


def copies_of(storage: SandboxStorage, sandbox_id: str) -> set[tuple[str, int]]:
    return {copy for copy in storage.copies() if copy[0] == sandbox_id}


@pytest.mark.slow
def test_deleting_while_resetting_leaves_no_copy_and_answers_404(bank: TestClient) -> None:
    manager = manager_of(bank)
    plan = {"seed": 1, "rules": [{"match": "GET /x", "rate": 0.5}]}

    def call(sandbox_id: str, n: int) -> int:
        if n in (7, 16):
            return bank.delete(f"/sandboxes/{sandbox_id}").status_code
        if n % 4 == 1:
            return bank.put(f"/sandboxes/{sandbox_id}/faults", json=plan).status_code
        if n % 4 == 2:
            return bank.get(f"/sandboxes/{sandbox_id}/faults").status_code
        return bank.post(f"/sandboxes/{sandbox_id}/reset").status_code

    gone = []
    with ThreadPoolExecutor(24) as pool:
        for _ in range(15):
            sandbox_id = bank.post("/sandboxes", json={}).json()["sandbox_id"]
            statuses = list(pool.map(lambda n, s=sandbox_id: call(s, n), range(24)))
            assert set(statuses) <= {200, 404}, statuses
            assert statuses.count(200) >= 1
            gone.append(sandbox_id)
    assert bank.portal is not None
    bank.portal.call(manager.housekeeping_done)
    left = {copy for copy in manager.storage.copies() if copy[0] in gone}
    assert left == set()


def plant(storage: SandboxStorage, sandbox_id: str, generation: int) -> None:
    """A copy as a crash leaves it: there, and named by no sandbox."""
    if storage.sqlite:
        storage.folder.mkdir(parents=True, exist_ok=True)
        Path(storage.url_of(sandbox_id, generation).removeprefix("sqlite:///")).write_bytes(b"")
        return
    name = storage.url_of(sandbox_id, generation).rsplit("/", 1)[1]
    admin = create_engine(storage.url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def test_the_bank_reclaims_at_start_what_a_crash_left(database_url: str) -> None:
    with TestClient(create_app(Settings(database_url=database_url))) as bank:
        live = bank.post("/sandboxes", json={}).json()["sandbox_id"]
        storage = manager_of(bank).storage
        current = copies_of(storage, live)
        assert len(current) == 1
    orphan = "sbx_" + "Q" * 20
    plant(storage, live, 123)  # a reset's copy, never registered
    plant(storage, orphan, 0)  # a creation's copy, never registered
    plant(storage, orphan, 5)
    if storage.sqlite:  # a copy half made, and a stale lock file
        Path(storage.url_of(orphan, 7).removeprefix("sqlite:///")).with_suffix(
            ".building"
        ).write_bytes(b"")
        Path(storage.url_of(orphan, 8).removeprefix("sqlite:///")).with_suffix(".lock").write_bytes(
            b""
        )
    # One copy is being made by someone right now: it stays.
    claim = storage.claim(orphan, 9)
    assert claim is not None
    plant(storage, orphan, 9)
    try:
        with TestClient(create_app(Settings(database_url=database_url))) as bank:
            assert copies_of(storage, live) == current
            assert copies_of(storage, orphan) == {(orphan, 9)}
            assert bank.get("/customers", headers={"X-Bank-Sandbox": live}).status_code == 200
    finally:
        claim.release()
    with TestClient(create_app(Settings(database_url=database_url))) as bank:
        assert copies_of(storage, orphan) == set()
        assert bank.delete(f"/sandboxes/{live}").status_code == 200
    assert copies_of(storage, live) == set()
    if storage.sqlite:
        assert not [p for p in storage.folder.iterdir() if p.name.startswith(storage.tag)]


@pytest.mark.slow
def test_a_server_killed_in_the_middle_of_resets_leaves_nothing_after_restart(
    database_url: str,
) -> None:
    port = free_port()
    process = start(database_url, port, {})
    base = f"http://127.0.0.1:{port}"
    try:
        sandbox_id = httpx2.post(f"{base}/sandboxes", json={}, timeout=60).json()["sandbox_id"]

        async def resets_then_kill() -> None:
            async with httpx2.AsyncClient(timeout=60) as client:
                calls = [
                    asyncio.ensure_future(client.post(f"{base}/sandboxes/{sandbox_id}/reset"))
                    for _ in range(12)
                ]
                # Killed once the first reset is answered: the others are on their way.
                await asyncio.wait(calls, return_when=asyncio.FIRST_COMPLETED)
                os.kill(process.pid, signal.SIGKILL)
                await asyncio.gather(*calls, return_exceptions=True)

        asyncio.run(resets_then_kill())
        process.wait(timeout=30)
        # A new port: the old one, free since the kill, may have gone to another test's server.
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        process = start(database_url, port, {})
        storage = SandboxStorage(database_url)
        after = copies_of(storage, sandbox_id)
        assert len(after) == 1, after
        answer = httpx2.get(f"{base}/customers", headers={"X-Bank-Sandbox": sandbox_id}, timeout=60)
        assert answer.status_code == 200
        assert httpx2.delete(f"{base}/sandboxes/{sandbox_id}", timeout=60).status_code == 200
        assert copies_of(storage, sandbox_id) == set()
    finally:
        stop(process)
