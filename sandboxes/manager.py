"""One worker's sandboxes: it creates, resets and deletes them, and opens their databases.

A request names its sandbox; the registry (in the main database) says which generation
of it is current, so a reset or delete by any worker is seen by the next request of every
other. A sandbox's database is opened lazily with one thread and two connections and closed
when idle, so that a hundred of them fit in a PostgreSQL of 100 connections.
"""

import asyncio
import itertools
import logging
import secrets
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from functools import partial
from typing import Any

import anyio.to_thread
from sqlalchemy.exc import SQLAlchemyError

from core.errors import InvalidInput, Overloaded, ServiceUnavailable, TooMany
from core.names import clean_name
from core.settings import Settings
from db import Database, create_db_engine
from models import Sandbox
from sandboxes import registry, scripts, trace
from sandboxes.faults import FaultPlan, FaultPlanView, FaultRuleView
from sandboxes.storage import SandboxStorage
from services.changes import close_feed

log = logging.getLogger("dummy_bank")
SWEEP_EVERY_S = 5.0
RECLAIM_EVERY_SWEEPS = 12
"""A minute between looks for copies that a failed drop left behind (and at every start)."""
OPEN_PER_WORKER = 8
"""Sandbox databases a worker keeps open at once (each: up to two connections and a
change-log reader); the least recently used one is closed to open another."""


class SandboxDatabase(Database):
    """A sandbox's database: if it vanishes under a request (reset or deleted by any
    worker), the request runs again on what the registry now says, or ends with a 404."""

    sandbox_id: str

    def __init__(self, manager: "SandboxManager", sandbox: Sandbox) -> None:
        url = manager.storage.url_of(sandbox.sandbox_id, sandbox.generation)
        super().__init__(
            create_db_engine(url, pool_size=2, must_exist=True),
            threads=1,
            queue=64,
            queue_timeout=manager.settings.db_queue_timeout,
        )
        self.manager = manager
        self.sandbox_id = sandbox.sandbox_id
        self.generation = sandbox.generation
        self.used_at = time.monotonic()
        self.running = 0
        self.retired = False
        self.faults = FaultPlan()
        self._faults_text = ""
        self.allow_writes = sandbox.allow_writes

    def use_faults(self, text: str) -> None:
        if text != self._faults_text:
            self.faults = FaultPlan.model_validate_json(text) if text else FaultPlan()
            self._faults_text = text

    @property
    def reads_on_loop(self) -> bool:
        return False  # its file may be replaced under it: errors must reach ``run``

    async def run(self, work: Any, then: Any = None, *, write: bool = False) -> Any:
        self.used_at = time.monotonic()
        self.running += 1
        try:
            return await super().run(work, then, write=write)
        except Overloaded:
            raise
        except (SQLAlchemyError, ServiceUnavailable) as error:
            current = await self.manager.database_for(self.sandbox_id)
            if current is not self:
                return await current.run(work, then, write=write)
            if isinstance(error, ServiceUnavailable):
                raise
            raise ServiceUnavailable(
                "Sandbox database unavailable: the bank cannot reach this sandbox's database"
            ) from error
        finally:
            self._release()

    async def run_on_copy(self, work: Any, *, write: bool = False) -> Any:
        """``work`` on this very copy, never on the one a reset put in its place; if the copy
        vanished under it, the 404 of a deleted sandbox, or a 503 to retry after a reset."""
        self.running += 1
        try:
            return await Database.run(self, work, write=write)
        except SQLAlchemyError as error:
            await self.manager.find(self.sandbox_id)  # NotFound once deleted
            raise ServiceUnavailable("Sandbox reset while this request read it: retry") from error
        finally:
            self._release()

    def _release(self) -> None:
        self.running -= 1
        if self.retired and self.running == 0:
            self._dispose()

    def close(self) -> None:
        """Close now if idle, else once the last request running on it ends: a connection
        handed back to a pool already disposed would never be closed."""
        self.retired = True
        if self.running == 0:
            self._dispose()

    def _dispose(self) -> None:
        close_feed(self.engine)
        self.engine.dispose()


LABEL_MAX = 100
"""The label column's width."""


class SandboxManager:
    def __init__(self, main: Database, settings: Settings) -> None:
        self.main = main
        self.settings = settings
        self.storage = SandboxStorage(main.engine.url.render_as_string(False), settings.sandbox_dir)
        self.ttl = timedelta(seconds=settings.sandbox_ttl_s)
        self.open: dict[str, SandboxDatabase] = {}
        self._background: set[asyncio.Task[None]] = set()

    async def database_for(self, sandbox_id: str, *, key: str | None = None) -> SandboxDatabase:
        """The current database of a live sandbox; NotFound or InvalidInput naming it. With
        ``key``, the sandbox that key was issued for, or Unauthorized."""
        if key is None:
            sandbox = await self.main.run(lambda session: registry.find(session, sandbox_id))
        else:
            sandbox = await self.main.run(lambda session: registry.find_by_key(session, key))
        await self._keep_alive(sandbox)
        opened = self._opened(sandbox)
        opened.use_faults(sandbox.faults)
        return opened

    def database_for_here(self, sandbox_id: str) -> SandboxDatabase:
        """The same, on the calling thread (for the stdio MCP server)."""
        sandbox = self.main.run_here(lambda session: registry.find(session, sandbox_id))
        if self._needs_touch(sandbox):
            self.main.run_here(lambda session: registry.touch(session, sandbox_id, self.ttl))
        return self._opened(sandbox)

    def _needs_touch(self, sandbox: Sandbox) -> bool:
        # A write per request would be waste: push the expiry back once a tenth of it went by.
        left = registry.aware(sandbox.expires_at) - registry.now()
        return left < self.ttl * 0.9

    async def _keep_alive(self, sandbox: Sandbox) -> None:
        if self._needs_touch(sandbox):
            sandbox_id = sandbox.sandbox_id
            await self.main.run(
                lambda session: registry.touch(session, sandbox_id, self.ttl), write=True
            )

    def copy_database(self, sandbox: Sandbox) -> SandboxDatabase:
        """The database of the copy ``sandbox`` names, for the bank's own background work:
        unlike a request, it does not push the sandbox's expiry back. It keeps the database
        open as a request would: a webhook's sender reads it twice a second."""
        opened = self._opened(sandbox)
        opened.used_at = time.monotonic()
        return opened

    def _opened(self, sandbox: Sandbox) -> SandboxDatabase:
        current = self.open.get(sandbox.sandbox_id)
        if current is not None and current.generation == sandbox.generation:
            return current
        if current is not None:
            current.close()
        opened = self.open[sandbox.sandbox_id] = SandboxDatabase(self, sandbox)
        # A worker keeps only so many open: a hundred sandboxes used in turn must not hold
        # a hundred pools (PostgreSQL serves 100 connections in all by default).
        while len(self.open) > OPEN_PER_WORKER:
            oldest = min(self.open, key=lambda sandbox_id: self.open[sandbox_id].used_at)
            self.open.pop(oldest).close()
        return opened

    async def create(
        self, seed: int, customers: int, label: str, *, allow_writes: bool = False
    ) -> tuple[Sandbox, str]:
        """A new sandbox, and its key (shown this once: only its hash is kept)."""
        # A label is shown in lists as a name is: the same rules, and it may be empty.
        label = clean_name(label, "label", shortest=0, longest=LABEL_MAX)
        if customers > self.settings.sandbox_max_customers:
            raise InvalidInput(
                f"customers: at most {self.settings.sandbox_max_customers} "
                f"(BANK_SANDBOX_MAX_CUSTOMERS), got {customers}"
            )
        await self.sweep_expired()
        moment = registry.now()
        sandbox_id = registry.new_sandbox_id()
        key = registry.new_sandbox_key(sandbox_id)
        sandbox = Sandbox(
            sandbox_id=sandbox_id,
            key_hash=registry.hash_key(key),
            label=label,
            seed=seed,
            customers=customers,
            allow_writes=allow_writes,
            created_at=moment,
            reset_at=moment,
            expires_at=moment + self.ttl,
        )
        full = await self.main.run(registry.count_live) >= self.settings.sandbox_max
        if not full:
            limit = self.settings.sandbox_max
            async with self._claimed(sandbox_id, 0):
                await anyio.to_thread.run_sync(self.storage.create, sandbox_id, 0, seed, customers)
                # Its life starts when it can be used, not before its copy (a template may
                # take a while to build).
                moment = registry.now()
                sandbox.created_at = sandbox.reset_at = moment
                sandbox.expires_at = moment + self.ttl
                added = await self.main.run(
                    lambda session: registry.add(session, sandbox, limit), write=True
                )
                if not added:
                    await anyio.to_thread.run_sync(self.storage.drop, sandbox_id, 0)
            if added:
                self._in_background(self.storage.make_spares, seed, customers)
                return sandbox, key
        expiry = await self.main.run(registry.next_expiry)
        wait = (expiry - registry.now()).total_seconds() if expiry else 1.0
        raise TooMany(
            f"Too many sandboxes: {self.settings.sandbox_max} exist (BANK_SANDBOX_MAX); "
            "delete one or retry when one expires",
            int(wait) + 1,
        )

    async def set_faults(self, sandbox_id: str, plan: FaultPlan) -> FaultPlanView:
        text = plan.model_dump_json() if plan.rules else ""
        await self.main.run(
            lambda session: registry.set_faults(session, sandbox_id, text), write=True
        )
        return await self.read_faults(sandbox_id)

    async def read_faults(self, sandbox_id: str) -> FaultPlanView:
        database = await self.database_for(sandbox_id)
        plan = database.faults
        # On the current copy: a reset meanwhile restarted the counts, a delete is a 404.
        counts = await database.run(trace.fired)
        return FaultPlanView(
            seed=plan.seed,
            rules=[
                FaultRuleView(**rule.model_dump(), fired=counts.get(index, 0))
                for index, rule in enumerate(plan.rules)
            ],
        )

    async def add_scripted_events(
        self, sandbox_id: str, events: list[scripts.ScriptedEvent]
    ) -> scripts.ScriptView:
        """Add ``events`` to the sandbox's script, each checked against its day and customers."""
        sandbox = await self.find(sandbox_id)
        database = await self.database_for(sandbox_id)
        wanted = [getattr(event, "customer_oid", "") for event in events]
        facts = await database.run(
            lambda session: scripts.sandbox_facts(session, wanted, sandbox.seed)
        )

        def add(text: str) -> str:
            script = scripts.parse_script(text)
            updated = scripts.add_events(script, events, facts.today, facts.customers)
            return updated.model_dump_json()

        text = await self.main.run(
            lambda session: registry.change_script(session, sandbox_id, add), write=True
        )
        return scripts.script_view(scripts.parse_script(text), facts)

    async def read_script(self, sandbox_id: str) -> scripts.ScriptView:
        sandbox = await self.find(sandbox_id)
        database = await self.database_for(sandbox_id)
        facts = await database.run(lambda session: scripts.sandbox_facts(session, [], sandbox.seed))
        return scripts.script_view(scripts.parse_script(sandbox.script), facts)

    async def clear_script(self, sandbox_id: str) -> scripts.ScriptView:
        """Forget the events still to come; those that happened stay listed."""
        sandbox = await self.find(sandbox_id)
        database = await self.database_for(sandbox_id)
        facts = await database.run(lambda session: scripts.sandbox_facts(session, [], sandbox.seed))

        def keep_past(text: str) -> str:
            script = scripts.parse_script(text)
            past = [event for event in script.events if event.on <= facts.today]
            return scripts.Script(events=past).model_dump_json() if past else ""

        text = await self.main.run(
            lambda session: registry.change_script(session, sandbox_id, keep_past), write=True
        )
        return scripts.script_view(scripts.parse_script(text), facts)

    async def find(self, sandbox_id: str) -> Sandbox:
        return await self.main.run(lambda session: registry.find(session, sandbox_id))

    async def reset(self, sandbox_id: str) -> Sandbox:
        """A fresh copy becomes current in one registry update; requests see before or after."""
        sandbox = await self.find(sandbox_id)
        # A number of its own, never the next one: two concurrent resets must not write
        # the same copy, one of which the loser then drops.
        fresh = secrets.randbelow(2**31)
        while fresh == sandbox.generation:
            fresh = secrets.randbelow(2**31)
        async with self._claimed(sandbox_id, fresh):
            await anyio.to_thread.run_sync(
                self.storage.create, sandbox_id, fresh, sandbox.seed, sandbox.customers
            )
            advanced = await self.main.run(
                lambda session: registry.advance(session, sandbox, fresh, self.ttl), write=True
            )
        # The loser of two concurrent resets drops its copy: the winner's is as fresh. The
        # answer need not wait for the drop, nor for the spare copies to be made again.
        self._in_background(
            self.storage.drop, sandbox_id, sandbox.generation if advanced else fresh
        )
        self._in_background(self.storage.make_spares, sandbox.seed, sandbox.customers)
        return await self.find(sandbox_id)

    @asynccontextmanager
    async def _claimed(self, sandbox_id: str, generation: int) -> AsyncIterator[None]:
        """Hold a copy against ``reclaim`` from before it exists until the registry names it
        (or it is dropped): a crash in between leaves it unclaimed, and reclaimed."""
        claim = await anyio.to_thread.run_sync(self.storage.claim, sandbox_id, generation)
        assert claim is not None  # a waiting claim always comes
        try:
            yield
        finally:
            await anyio.to_thread.run_sync(claim.release)

    async def reclaim(self) -> int:
        """Drop the copies no sandbox uses and no one is making (left by a crash, a failed
        drop or a race); how many. Run at start and now and then by the sweeper."""

        def registered() -> set[tuple[str, int]]:
            return self.main.run_here(registry.current_copies)

        dropped: int = await anyio.to_thread.run_sync(self.storage.reclaim, registered)
        if dropped:
            log.info("reclaimed %d sandbox copies that no sandbox uses", dropped)
        return dropped

    async def housekeeping_done(self) -> None:
        """Wait for the drops and spare copies running in the background (for tests)."""
        while self._background:
            await asyncio.gather(*self._background, return_exceptions=True)

    def _in_background(self, work: Callable[..., None], *args: Any) -> None:
        async def run() -> None:
            try:
                await anyio.to_thread.run_sync(work, *args)
            except Exception:
                log.exception(
                    "sandbox housekeeping failed (%s); it is retried later", work.__name__
                )

        task = asyncio.get_running_loop().create_task(run())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def delete(self, sandbox_id: str) -> Sandbox:
        sandbox = await self.find(sandbox_id)
        generation = await self.main.run(
            partial(registry.remove, sandbox_id=sandbox_id), write=True
        )
        if generation is None:
            raise registry.not_found(sandbox_id)  # a concurrent delete came first
        # The copy current when it was removed: a reset since ``find`` moved it.
        await self._drop(sandbox_id, generation)
        return sandbox

    async def _drop(self, sandbox_id: str, generation: int) -> None:
        opened = self.open.pop(sandbox_id, None)
        if opened is not None:
            opened.close()
        await anyio.to_thread.run_sync(self.storage.drop, sandbox_id, generation)

    async def sweep_expired(self) -> None:
        """Delete expired sandboxes; each is claimed by the one worker whose delete removed it."""
        for sandbox_id in await self.main.run(registry.expired_ids):
            generation = await self.main.run(
                partial(registry.remove, sandbox_id=sandbox_id), write=True
            )
            if generation is not None:
                await self._drop(sandbox_id, generation)

    def close_idle(self) -> None:
        idle_before = time.monotonic() - self.settings.sandbox_idle_close_s
        for sandbox_id, opened in list(self.open.items()):
            if opened.running == 0 and opened.used_at < idle_before:
                del self.open[sandbox_id]
                opened.close()

    async def sweep_forever(self) -> None:
        for sweep in itertools.count(1):
            await asyncio.sleep(SWEEP_EVERY_S)
            try:
                await self.sweep_expired()
                if sweep % RECLAIM_EVERY_SWEEPS == 0:
                    await self.reclaim()
            except Exception:
                log.exception("sweeping expired sandboxes failed; will retry")
            self.close_idle()

    def close(self) -> None:
        for opened in self.open.values():
            opened.close()
        self.open.clear()
