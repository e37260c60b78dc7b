"""The Dummy Bank API: settings, lifespan, middleware, error handlers and routers, assembled.

Routes live in ``api/routes/``, rules in ``services/``, error handling in ``api/http_errors.py``.
``python main.py`` serves on BANK_HOST:BANK_PORT (127.0.0.1:3000 by default); ``--help`` for
its options.
"""

import argparse
import asyncio
import gc
import logging
import os
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from functools import lru_cache
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute
from fastapi_offline import FastAPIOffline
from starlette.routing import Route
from uvicorn.protocols.http import h11_impl, httptools_impl

from api.cache import CacheMiddleware, cacheable_routes, open_cache
from api.http_errors import install_error_handlers, openapi_without_422
from api.middleware import (
    AdmissionMiddleware,
    ApiKeyMiddleware,
    BodyLimitMiddleware,
    HealthMiddleware,
    HostMiddleware,
    ProtectedModeMiddleware,
    RequestContextMiddleware,
    configure_logging,
    refuse_connection,
)
from api.openapi_examples import add_examples
from api.request_bodies import MCP_PATH, JsonBodyMiddleware
from api.routes import ROUTERS, TAGS
from api.routes.evals import GRADE_PATH
from api.routes.evals import router as evals_router
from api.routes.sandboxes import router as sandboxes_router
from api.routes.system import HEALTHY
from api.routes.webhooks import router as webhooks_router
from api.sandbox_middleware import SandboxMiddleware
from bank_mcp.server import BankMcpServer, build_server
from bank_mcp.subscriptions import ResourceNotifier
from bank_mcp.transport import McpTransport, session_of
from core.settings import Settings, add_database_url_option, get_settings, is_ip_address
from db import Database, current_database, open_database, use_bank_secret
from evals.schemas import GRADE_BODY_BYTES
from explorer.pages import ExplorerMiddleware, holdings_value_router
from sandboxes.delivery import WebhookDispatcher
from sandboxes.manager import SandboxManager
from services.changes import close_feed
from synthetic.seeding import prepare_database

log = logging.getLogger("dummy_bank")

LOCAL_ORIGINS = r"https?://(localhost|127\.0\.0\.1|\[::1\])(:[0-9]+)?"
"""Browser pages served from this machine may call the API; others need BANK_CORS_ORIGINS."""

DESCRIPTION = """
A sandbox bank with realistic, deterministic customer portfolios (holdings,
accounts, transactions, spending, derivatives) for building and testing
financial AI agents. Every error is JSON with a string `detail`.
"""


def operation_id(route: APIRoute) -> str:
    """Operation ids are the handlers' names: read_portfolio, register_customer, ..."""
    return route.name


def socket_refusal(settings: Settings) -> Callable[[str], str | None]:
    """Protected mode for the address a request arrived at (judged once per address)."""

    @lru_cache(maxsize=64)
    def refusal(address: str) -> str | None:
        # Only a real socket's address says where the bank listens; an in-process client's
        # made-up server name says nothing.
        return settings.refusal_to_listen(address) if is_ip_address(address) else None

    return refusal


def mcp_transport(
    settings: Settings, mcp: BankMcpServer, served: Callable[[], Database]
) -> McpTransport:
    """``/mcp``: stateless for requests without a session; with one worker, sessions too,
    on a second server that takes resource subscriptions (unless BANK_MCP_SESSIONS is off)."""
    if settings.workers > 1 or not settings.mcp_sessions:
        return McpTransport(mcp, None, None, MCP_PATH)
    notifier = ResourceNotifier(settings.mcp_notify_poll_s)
    sessions = build_server(
        served, allow_writes=settings.mcp_allow_writes, notifier=notifier, session_of=session_of
    )
    return McpTransport(mcp, sessions, notifier, MCP_PATH)


def lifespan(
    settings: Settings, transport: McpTransport
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """What the app opens at start and closes at shutdown: the database and its threads, the
    sample data on a new database, the signing secret, the answer cache, the sandboxes and
    their webhooks' sender, and MCP's sessions and the notifier of their subscriptions."""

    @asynccontextmanager
    async def run(app: FastAPI) -> AsyncIterator[None]:
        refusal = settings.refusal_to_listen()
        if refusal:
            raise RuntimeError(refusal)
        database = open_database(
            settings.database_url,
            threads=settings.db_threads,
            queue=settings.db_queue,
            queue_timeout=settings.db_queue_timeout,
        )
        engine = database.engine
        added = prepare_database(engine, load_samples=settings.seed_on_empty)
        if added:
            log.info("new database: loaded market data and %d sample customers", len(added))
        use_bank_secret(engine, settings.cursor_secret)
        app.state.database = database
        app.state.engine = engine
        app.state.cache = open_cache(engine, settings.cache_mb)
        app.state.sandboxes = sandboxes = SandboxManager(database, settings)
        await sandboxes.reclaim()  # the copies a crash (of any worker) left behind
        sweeper = asyncio.create_task(sandboxes.sweep_forever())
        app.state.webhooks = webhooks = WebhookDispatcher(sandboxes, settings)
        sender = asyncio.create_task(webhooks.run_forever())
        # What start-up made (modules, routes, schemas, validators) lives as long as the
        # process: out of the collector's sight, its full passes cost a request far less.
        gc.collect()
        gc.freeze()
        try:
            async with transport.run():
                yield
        finally:
            sweeper.cancel()
            sender.cancel()
            await asyncio.gather(sender, return_exceptions=True)
            app.state.webhooks = None
            sandboxes.close()
            app.state.sandboxes = None
            if app.state.cache is not None:
                app.state.cache.close()
                app.state.cache = None
            close_feed(engine)
            engine.dispose()

    return run


def install_middleware(app: FastAPI, settings: Settings) -> None:
    """The layers every request passes, outermost first: RequestContext, ProtectedMode, Host,
    CORS, Health (``GET /health`` on SQLite ends there), BodyLimit, Explorer, ApiKey,
    JsonBody, Sandbox, Cache, Admission. The explorer's pages come before the key check: they
    hold no data, and a browser must load one before it can ask for the key that its reads
    then send. A body is checked (keys named twice, MCP's content type and ids) once the key
    has been, within the body limit, before a sandbox records the call. Sandboxes are inside
    the key check (no key, no probing of sandbox ids) and outside the cache (which keeps the
    default bank's answers)."""
    # Starlette wraps each new layer around the ones before: added innermost first.
    app.add_middleware(AdmissionMiddleware, database=lambda: getattr(app.state, "database", None))
    app.add_middleware(
        CacheMiddleware,
        cache=lambda: app.state.cache,
        routes=cacheable_routes(route for router in ROUTERS for route in router.routes),
    )
    app.add_middleware(SandboxMiddleware, manager=lambda: app.state.sandboxes)
    app.add_middleware(JsonBodyMiddleware, mcp_path=MCP_PATH)
    app.add_middleware(
        ApiKeyMiddleware,
        full_key=settings.api_key.get_secret_value() if settings.api_key else None,
        read_key=settings.read_api_key.get_secret_value() if settings.read_api_key else None,
    )
    app.add_middleware(ExplorerMiddleware)
    app.add_middleware(BodyLimitMiddleware, larger={GRADE_PATH: GRADE_BODY_BYTES})
    app.add_middleware(
        HealthMiddleware,
        database=lambda: getattr(app.state, "database", None),
        healthy=HEALTHY.model_dump_json().encode(),
    )
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_origin_regex=LOCAL_ORIGINS,
        allow_methods=["GET", "POST", "PUT", "DELETE"],
        allow_headers=[
            "Authorization",
            "X-API-Key",
            "Content-Type",
            "X-Request-ID",
            "X-Bank-Sandbox",
            "Mcp-Session-Id",
            "MCP-Protocol-Version",
        ],
        # A browser's MCP client reads its session's id from initialize's answer.
        expose_headers=["X-Request-ID", "X-Total-Count", "Link", "Mcp-Session-Id"],
    )
    allowed_hosts = settings.allowed_host_names()
    app.add_middleware(HostMiddleware, allowed_hosts=lambda: allowed_hosts)
    app.add_middleware(ProtectedModeMiddleware, refusal=socket_refusal(settings))
    app.add_middleware(RequestContextMiddleware)


def refuse_with_the_banks_answer() -> None:
    """uvicorn answers a request past ``limit_concurrency`` with a plain-text 503 of its own;
    the bank's is the usual JSON error body with Retry-After (``refuse_connection``). uvicorn
    looks that answer up by name in its protocol modules when it refuses, so the name is
    pointed at the bank's (uvicorn is pinned; tests/test_overload.py checks the answer)."""
    for module in (httptools_impl, h11_impl):
        module.service_unavailable = refuse_connection  # type: ignore[attr-defined]


def create_app(settings: Settings | None = None) -> FastAPI:
    """The bank: REST routes, MCP at /mcp, the explorer, behind the middleware."""
    settings = settings or get_settings()
    configure_logging()
    refuse_with_the_banks_answer()  # in each worker process too

    def served() -> Database:
        return current_database(app.state.database)

    mcp = build_server(served, allow_writes=settings.mcp_allow_writes)
    transport = mcp_transport(settings, mcp, served)
    app = FastAPIOffline(
        title="Dummy Bank API",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan(settings, transport),
        generate_unique_id_function=operation_id,
        openapi_tags=TAGS,
    )
    app.state.cache = None
    app.state.sandboxes = None
    app.state.webhooks = None
    app.state.mcp = mcp
    app.state.mcp_transport = transport
    for router in (*ROUTERS, sandboxes_router, webhooks_router, holdings_value_router):
        app.include_router(router)
    if settings.eval_enabled:
        app.include_router(evals_router)
    # The MCP endpoint is a plain route beside the REST ones, so unknown paths still get JSON 404s.
    app.router.routes.append(Route(MCP_PATH, endpoint=transport))
    install_middleware(app, settings)
    install_error_handlers(app)
    keys = bool(settings.api_key or settings.read_api_key)
    app.openapi = lambda: add_examples(openapi_without_422(app, keys=keys))  # type: ignore[method-assign]
    return app


app = create_app()


def server_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's options: forwarded headers are trusted only from the proxies named; at most
    ``max_connections`` open connections per worker."""
    refuse_with_the_banks_answer()
    return {
        "host": settings.host,
        "port": settings.port,
        "limit_concurrency": settings.max_connections,
        "loop": settings.event_loop,
        "access_log": False,
        "proxy_headers": settings.forwarded_allow_ips is not None,
        "forwarded_allow_ips": settings.forwarded_allow_ips or "",
    }


def parse_args(
    argv: Sequence[str] | None = None, prog: str = "python main.py"
) -> argparse.Namespace:
    """The options, with ``prog`` the command the usage line names (``scripts/serve`` runs
    this too)."""
    settings = get_settings()
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Serve the Dummy Bank: the REST API, MCP at /mcp and the explorer at "
        "/explorer, with the sample data on a new database.",
        epilog="Each option defaults to its BANK_* variable, from the environment or a .env "
        "file in the current directory; an option given here wins. docs/configuration.md lists the "
        "other BANK_* settings (API keys, cache, CORS).",
    )
    parser.add_argument(
        "--host", default=settings.host, help="interface to listen on (BANK_HOST; now %(default)s)"
    )
    parser.add_argument(
        "--port",
        type=_bounded(1, 65535),
        default=settings.port,
        help="port to listen on (BANK_PORT; now %(default)s)",
    )
    add_database_url_option(parser)
    parser.add_argument(
        "--workers",
        type=_bounded(1, 64),
        default=settings.workers,
        help="worker processes, each with its own connections and cache "
        "(BANK_WORKERS; now %(default)s)",
    )
    return parser.parse_args(argv)


def _bounded(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is not between {low} and {high}")
        return value

    return parse


def main(argv: Sequence[str] | None = None, prog: str = "python main.py") -> None:
    import uvicorn  # only to serve: importing the app stays free of its process machinery

    args = parse_args(argv, prog)
    # Through the environment, so that worker processes, which re-import this module, agree.
    os.environ.update(
        BANK_HOST=args.host,
        BANK_PORT=str(args.port),
        BANK_DATABASE_URL=args.database_url,
        BANK_WORKERS=str(args.workers),
    )
    get_settings.cache_clear()
    settings = get_settings()
    refusal = settings.refusal_to_listen()
    if refusal:
        print(refusal, file=sys.stderr)
        raise SystemExit(2)
    # Our own access log leaves query strings out (they can hold names); uvicorn's would not.
    if settings.workers > 1:
        # Workers re-import this module; each opens its own engine and cache.
        uvicorn.run("main:app", workers=settings.workers, **server_options(settings))
    else:
        uvicorn.run(create_app(settings), **server_options(settings))


if __name__ == "__main__":
    main()
