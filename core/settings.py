"""Runtime configuration, read once from ``BANK_*`` variables (the environment, then ``.env``)."""

import argparse
import ipaddress
from functools import lru_cache
from typing import Literal

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError


class Settings(BaseSettings):
    """Every knob the service reads; each maps to an upper-case ``BANK_`` variable."""

    # The environment wins over a .env file in the working directory (scripts/ run at the top).
    model_config = SettingsConfigDict(env_prefix="BANK_", extra="ignore", env_file=".env")

    host: str = "127.0.0.1"
    port: int = 3000
    workers: int = 1
    """Worker processes ``python main.py`` starts; each has its own connections and cache."""
    database_url: str = "sqlite:///banking.db"
    seed_on_empty: bool = True
    """Create the schema and load the sample data when the database is new."""
    db_threads: int | None = None
    """Threads per worker that may use the database at once; by default 2 on SQLite (the
    work is mostly Python, one core each) and 4 on PostgreSQL (the work waits on the network)."""
    db_queue: int = 1024
    """Requests per worker that may wait for a database thread; past that, 503 at once.
    Long on purpose: a waiting request costs nothing, while a client refused at once and
    asking again at once costs the time the admitted requests need."""
    db_queue_timeout: float = 2.0
    """Seconds a request may wait for a database thread before it is answered 503."""
    event_loop: Literal["asyncio", "uvloop"] = "asyncio"
    """The event loop each worker runs. uvloop is faster, but under hundreds of busy
    connections it keeps reading new requests before it writes finished answers, so a few
    answers wait many seconds; Python's own loop serves them in turn."""
    max_connections: int = 4096
    """Open connections per worker; a request on one more is answered 503 with Retry-After
    and its connection closed, before the worker runs out of file descriptors. Set it low
    only knowingly: a client refused this way opens a new connection at once, and the
    churn costs more than serving it."""
    cache_mb: int = 64
    """Memory each worker may use to keep answers of read endpoints; 0 turns the cache off."""
    mcp_allow_writes: bool = False
    """List and allow the MCP tools that register and delete customers."""
    mcp_sessions: bool = True
    """Whether ``/mcp`` opens sessions (for resource subscriptions) when one worker serves:
    turn it off where a session's requests may reach another process (a load balancer over
    several servers, ``uvicorn --workers``)."""
    cursor_secret: SecretStr | None = None
    """Key that signs page cursors and question ids. Unset, the bank makes one at its first
    start and keeps it in its database, where every worker finds it; set, it wins, and must
    then be the same on every worker of the database."""
    api_key: SecretStr | None = None
    """Full access (read and write) for whoever sends it; no key configured means no check."""
    read_api_key: SecretStr | None = None
    """Read-only access: GET requests and the MCP server's read tools."""
    allow_open_remote: bool = False
    """Listen on a non-loopback address without any API key (on purpose, e.g. in a sandbox)."""
    cors_origins: list[str] = []
    """Browser origins allowed to call the API, besides localhost on any port."""
    allowed_hosts: list[str] = []
    """Names the bank answers to besides loopback (localhost, 127.0.0.1, ::1) and
    BANK_HOST; ``*`` answers to any Host (only behind a proxy that checks it)."""
    eval_enabled: bool = True
    """Serve the answer key (``/eval/questions``, ``/eval/grade``). Turn it off where the
    agent under test could reach the full API key."""
    sandbox_max: int = 100
    """Sandboxes that may exist at once on one server; past that, creating one is a 429."""
    sandbox_max_customers: int = 1000
    """The most synthetic customers a sandbox may ask for beside the five samples."""
    sandbox_ttl_s: float = 3600.0
    """Seconds a sandbox lives after its last request; then it is deleted."""
    sandbox_idle_close_s: float = 30.0
    """Seconds without a request after which a worker closes a sandbox's connections."""
    sandbox_dir: str | None = None
    """Folder of the SQLite sandboxes and their templates; by default beside the database
    (``<file>.sandboxes``), or in the temporary folder for a database in memory."""
    sandbox: str | None = None
    """The sandbox ``python mcp_server.py`` serves instead of the default bank."""
    webhook_hosts: list[str] = []
    """Host names a sandbox's webhook may be sent to besides loopback (``localhost``,
    127.0.0.0/8, ``::1``): the bank sends nothing to another address on a caller's say-so."""
    webhook_poll_s: float = 0.5
    """Seconds between a worker's looks for new changes to send and deliveries due again
    (at least ``sandboxes.delivery.IDLE_LOOK_S`` while it has nothing to follow or send)."""
    mcp_notify_poll_s: float = 0.5
    """Seconds between looks at the change feeds MCP sessions subscribed to (none when no
    session subscribes)."""
    webhook_timeout_s: float = 5.0
    """Seconds a webhook's receiver has to answer a delivery; past that it is retried."""
    forwarded_allow_ips: str | None = None
    """Proxies whose X-Forwarded-For/-Proto ``python main.py`` trusts (comma-separated
    addresses, as uvicorn takes them); none by default."""

    def allowed_host_names(self) -> frozenset[str] | None:
        """Host names requests may be addressed to; None when any will do."""
        names = {name.strip().lower().strip("[]") for name in self.allowed_hosts}
        if "*" in names:
            return None
        return frozenset({*LOOPBACK_NAMES, self.host.lower().strip("[]"), *names} - {""})

    def refusal_to_listen(self, host: str | None = None) -> str | None:
        """Why the service must not answer on ``host`` (BANK_HOST by default), or None.

        Like Redis's protected mode: an open API is fine on loopback, not on a network.
        """
        host = self.host if host is None else host
        if self.api_key or self.read_api_key or self.allow_open_remote or _is_loopback(host):
            return None
        return (
            f"Refusing to listen on {host} without an API key: anyone who can reach it could "
            "read and delete every customer. Set BANK_API_KEY (and optionally "
            "BANK_READ_API_KEY), or listen on 127.0.0.1, or set BANK_ALLOW_OPEN_REMOTE=true "
            "if an open API on this network is really what you want."
        )


def without_password(database_url: str) -> str:
    """The URL to show in help and messages: a password stays out of terminals and logs."""
    try:
        return make_url(database_url).render_as_string(hide_password=True)
    except ArgumentError:
        return database_url


def add_database_url_option(parser: argparse.ArgumentParser, what: str = "the database") -> None:
    """``--database-url``, as every command line of the bank takes it: BANK_DATABASE_URL by
    default, shown without its password."""
    url = get_settings().database_url
    parser.add_argument(
        "--database-url",
        default=url,
        help=f"SQLAlchemy URL of {what} (BANK_DATABASE_URL; now {without_password(url)})",
    )


LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@lru_cache
def get_settings() -> Settings:
    return Settings()


def is_ip_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True
