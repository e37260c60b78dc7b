"""Where sandboxes live: a prepared template per (seed, customers), copied for each one.

On SQLite a template is a file, checkpointed so that the file alone holds every row, and a
sandbox is a copy of it. On PostgreSQL a template is a database no one stays connected to,
and a sandbox is ``CREATE DATABASE ... TEMPLATE`` of it. Every reset makes a new copy (a
new generation) rather than rewriting the one requests may still be reading.

A copy's name carries a tag of the main database it belongs to (several banks may share a
PostgreSQL server or a sandbox folder), the sandbox and the generation. Whoever makes a copy
holds a claim on it (a file lock, or a PostgreSQL advisory lock, that a crash releases)
until the registry names it or it is dropped again; ``reclaim`` drops every copy of this
bank that the registry does not name and nobody claims: what a crash or a failed drop left.
"""

import fcntl
import hashlib
import os
import re
import shutil
import sqlite3
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from functools import cache
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from db import create_db_engine, schema_head
from services.changes import close_feed
from synthetic.continuation import learn_textures
from synthetic.seeding import prepare_database

POSTGRES_PREFIX = "bank_sbx_"
SPARES = 2
"""Spare copies kept ready per template on PostgreSQL."""


def _spare_prefix(template: str) -> str:
    return template.replace("_template_", "_spare_", 1) + "_"


class Claim:
    """A hold on one copy while it is made and registered: a lock file on SQLite, a
    PostgreSQL advisory lock on a connection of its own. A crash releases it."""

    def __init__(self, release: Callable[[], None]) -> None:
        self._release = release

    def release(self) -> None:
        self._release()


class SandboxStorage:
    """Makes and drops the copies behind sandboxes, for the database at ``url``."""

    def __init__(self, url: str, folder: str | None = None) -> None:
        self.url = url
        self.sqlite = url.startswith("sqlite")
        self.folder = Path(folder) if folder else _default_folder(url)
        self.tag = _owner_tag(url)
        self._copy = re.compile(
            rf"{re.escape(self._copy_prefix())}(sbx_[A-Z2-7]{{20}})[._]([0-9]+)(\..*)?",
            re.IGNORECASE,
        )
        self._lock = threading.Lock()
        self._refilling = threading.Lock()

    def url_of(self, sandbox_id: str, generation: int) -> str:
        if self.sqlite:
            return f"sqlite:///{self._file(sandbox_id, generation)}"
        return self._postgres_url(self._database_name(sandbox_id, generation))

    def _copy_prefix(self) -> str:
        return f"{self.tag}_" if self.sqlite else f"{POSTGRES_PREFIX}{self.tag}_"

    def _file(self, sandbox_id: str, generation: int, suffix: str = ".db") -> Path:
        return self.folder / f"{self._copy_prefix()}{sandbox_id}.{generation}{suffix}"

    def claim(self, sandbox_id: str, generation: int, *, wait: bool = True) -> Claim | None:
        """Hold the copy (sandbox_id, generation) against ``reclaim``; None if someone else
        holds it and ``wait`` is false."""
        if self.sqlite:
            self.folder.mkdir(parents=True, exist_ok=True)
            path = self._file(sandbox_id, generation, ".lock")
            handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                os.close(handle)
                return None

            def unlock() -> None:
                path.unlink(missing_ok=True)
                os.close(handle)  # closing releases the lock

            return Claim(unlock)
        key = _lock_key(self._database_name(sandbox_id, generation))
        engine = create_engine(
            self.url, isolation_level="AUTOCOMMIT", poolclass=NullPool,
            connect_args={"connect_timeout": 5},
        )  # fmt: skip
        connection = engine.connect()
        locking = "pg_advisory_lock" if wait else "pg_try_advisory_lock"
        held = connection.execute(text(f"SELECT {locking}(:key)"), {"key": key}).scalar()
        if held is False:
            connection.close()
            engine.dispose()
            return None

        def unlock_postgres() -> None:
            try:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
            finally:
                connection.close()
                engine.dispose()

        return Claim(unlock_postgres)

    def copies(self) -> set[tuple[str, int]]:
        """Every copy of this bank's sandboxes in storage, whole or not, as (id, generation)."""
        if self.sqlite:
            names = [path.name for path in self.folder.glob(f"{self._copy_prefix()}sbx_*")]
        else:
            with self._admin() as connection:
                names = list(
                    connection.execute(
                        text(
                            "SELECT datname FROM pg_database "
                            "WHERE starts_with(datname::text, :prefix)"
                        ),
                        {"prefix": self._copy_prefix()},
                    ).scalars()
                )
        found = set()
        for name in names:
            parsed = self._copy.fullmatch(name)
            if parsed:
                found.add(("sbx_" + parsed.group(1)[4:].upper(), int(parsed.group(2))))
        return found

    def reclaim(self, registered: Callable[[], set[tuple[str, int]]]) -> int:
        """Drop every copy that ``registered()`` (the registry's current copies) does not
        name and nobody claims; how many were dropped."""
        if self.sqlite and not self.folder.exists():
            return 0
        # Listed before the registry is read: a copy registered in between is kept.
        candidates = self.copies() - registered()
        dropped = 0
        for sandbox_id, generation in sorted(candidates):
            claim = self.claim(sandbox_id, generation, wait=False)
            if claim is None:
                continue  # being made right now
            try:
                # Its maker may have registered it and let go since the registry was read.
                if (sandbox_id, generation) not in registered():
                    self.drop(sandbox_id, generation)
                    dropped += 1
            finally:
                claim.release()
        return dropped

    def create(self, sandbox_id: str, generation: int, seed: int, customers: int) -> None:
        """A new copy of the template for (seed, customers), built first if need be."""
        template = self._template(seed, customers)
        if self.sqlite:
            target = self._file(sandbox_id, generation)
            building = self._file(sandbox_id, generation, ".building")
            shutil.copyfile(template, building)
            os.replace(building, target)
            return
        name = self._database_name(sandbox_id, generation)
        with self._admin() as connection:
            if not self._take_spare(connection, template, name):
                connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))

    def _take_spare(self, connection: Connection, template: str, name: str) -> bool:
        """Rename a spare copy made in advance (milliseconds, where a copy takes hundreds)."""
        spares = connection.execute(
            text(
                "SELECT datname FROM pg_database "
                "WHERE starts_with(datname::text, :prefix) ORDER BY datname"
            ),
            {"prefix": _spare_prefix(template)},
        ).scalars()
        for spare in list(spares):
            try:
                connection.execute(text(f'ALTER DATABASE "{spare}" RENAME TO "{name}"'))
            except DBAPIError:
                continue  # another worker took it first
            return True
        return False

    def make_spares(self, seed: int, customers: int, count: int = SPARES) -> None:
        """Top up the spare copies of a template, so that the next creations or resets of
        that kind only rename one (PostgreSQL; SQLite copies a file fast enough)."""
        # One top-up at a time per worker: many at once would each count too few and overshoot.
        if self.sqlite or not self._refilling.acquire(blocking=False):
            return
        try:
            self._make_spares(seed, customers, count)
        finally:
            self._refilling.release()

    def _make_spares(self, seed: int, customers: int, count: int) -> None:
        template = self._template(seed, customers)
        prefix = _spare_prefix(template)
        with self._admin() as connection:
            have = connection.execute(
                text("SELECT count(*) FROM pg_database WHERE starts_with(datname::text, :prefix)"),
                {"prefix": prefix},
            ).scalar_one()
            for _ in range(count - int(have)):
                spare = f"{prefix}{uuid.uuid4().hex[:12]}"
                connection.execute(text(f'CREATE DATABASE "{spare}" TEMPLATE "{template}"'))

    def drop(self, sandbox_id: str, generation: int) -> None:
        """Remove one copy; requests still running on it end (PostgreSQL) or finish on the
        file they opened (SQLite)."""
        if self.sqlite:
            for suffix in (".db", ".db-wal", ".db-shm", ".building"):
                self._file(sandbox_id, generation, suffix).unlink(missing_ok=True)
            return
        name = self._database_name(sandbox_id, generation)
        with self._admin() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def _template(self, seed: int, customers: int) -> str:
        """The template's file path (SQLite) or database name (PostgreSQL)."""
        # The seed only shapes synthetic customers: without them every seed is one template.
        # The schema's revision and the digest of the code that fills it are in the name: a
        # template outlives the code that made it, and a revision's number may be reused
        # while a migration is being written.
        key = f"template_{schema_head()}_{template_digest()}_{seed if customers else 0}_{customers}"
        with self._lock:  # one build per worker; other workers race harmlessly (see below)
            if self.sqlite:
                self.folder.mkdir(parents=True, exist_ok=True)
                path = self.folder / f"{key}.db"
                if not path.exists():
                    self._build_sqlite(path, seed, customers)
                return str(path)
            name = POSTGRES_PREFIX + key
            with self._admin() as connection:
                found = connection.execute(
                    text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
                ).first()
            if found is None:
                self._build_postgres(name, seed, customers)
            return name

    def _build_sqlite(self, path: Path, seed: int, customers: int) -> None:
        building = path.with_name(f"{path.stem}.{uuid.uuid4().hex}.building")
        _fill(f"sqlite:///{building}", seed, customers)
        with closing(sqlite3.connect(building)) as connection:
            # A copy takes the main file only: every committed page must be in it. The file
            # stays in WAL mode, so a copy's first connections need not switch it (a switch
            # wants the file to itself).
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        # Built aside and renamed: another worker sees no template or a whole one.
        os.replace(building, path)

    def _build_postgres(self, name: str, seed: int, customers: int) -> None:
        building = f"{name}_{uuid.uuid4().hex[:8]}"
        with self._admin() as connection:
            connection.execute(text(f'CREATE DATABASE "{building}"'))
        _fill(self._postgres_url(building), seed, customers)
        with self._admin() as connection:
            # Renamed once nobody is connected, as a template must be; a worker that lost
            # the race drops its own copy.
            exists = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).first()
            if exists is None:
                connection.execute(text(f'ALTER DATABASE "{building}" RENAME TO "{name}"'))
            else:
                connection.execute(text(f'DROP DATABASE "{building}" WITH (FORCE)'))

    def _database_name(self, sandbox_id: str, generation: int) -> str:
        return f"{self._copy_prefix()}{sandbox_id.lower()}_{generation}"

    def _postgres_url(self, name: str) -> str:
        return make_url(self.url).set(database=name).render_as_string(hide_password=False)

    @contextmanager
    def _admin(self) -> Iterator[Connection]:
        engine = create_engine(
            self.url,
            isolation_level="AUTOCOMMIT",
            poolclass=NullPool,
            connect_args={"connect_timeout": 5},
        )
        try:
            with engine.connect() as connection:
                yield connection
        finally:
            engine.dispose()


TEMPLATE_SOURCES = ("migrations", "market", "synthetic")
"""What a template's rows are made by: the schema, the market model, the customers' generator."""


@cache
def template_digest() -> str:
    """Eight hex digits of the code in ``TEMPLATE_SOURCES``: another version, another template."""
    digest = hashlib.sha256()
    root = Path(__file__).resolve().parent.parent
    for folder in TEMPLATE_SOURCES:
        for path in sorted((root / folder).rglob("*.py")):
            digest.update(path.relative_to(root).as_posix().encode() + b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()[:8]


def _fill(url: str, seed: int, customers: int) -> None:
    engine = create_db_engine(url)
    try:
        prepare_database(engine)
        if customers:
            # Serving the API imports this module too; it needs none of the bulk loader's imports.
            from synthetic.bulk_load import load_synthetic

            load_synthetic(engine, customers, seed, progress=False)
        # Learned once here, not at every copy's first advance (``synthetic/continuation.py``).
        learn_textures(engine)
    finally:
        close_feed(engine)
        engine.dispose()


def _owner_tag(url: str) -> str:
    """Eight characters naming the main database (not its password): its copies' mark."""
    parsed = make_url(url)
    where = f"{parsed.get_backend_name()}://{parsed.host or ''}:{parsed.port or ''}/"
    database = parsed.database or ""
    if parsed.get_backend_name() == "sqlite" and database != ":memory:":
        database = str(Path(database).resolve())
    return hashlib.sha256((where + database).encode()).hexdigest()[:8]


def _lock_key(name: str) -> int:
    """A PostgreSQL advisory lock key (a signed 64-bit number) for a copy's name."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def _default_folder(url: str) -> Path:
    database = make_url(url).database if url.startswith("sqlite") else None
    if database and database != ":memory:":
        return Path(f"{database}.sandboxes")
    return Path(tempfile.gettempdir()) / f"dummy-bank-sandboxes-{os.getuid()}"
