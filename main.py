"""The Dummy Bank API: the FastAPI app, its error handling and its routes.

Handlers parse, call ``service`` and return; every rule lives in the service.
``python main.py`` serves on BANK_HOST:BANK_PORT (127.0.0.1:3000 by default).
"""

import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Annotated, Any, Literal

import uvicorn
from fastapi import FastAPI, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from sqlalchemy.exc import DisconnectionError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from sqlmodel import Session
from starlette.exceptions import HTTPException as StarletteHTTPException

import service
from cache import CacheMiddleware, open_cache
from db import SessionDep, create_db_engine
from errors import BankError
from mcp_server import build_server
from middleware import (
    ApiKeyMiddleware,
    BodyLimitMiddleware,
    RequestContextMiddleware,
    configure_logging,
)
from models import DerivativeStatus, TransactionType
from schemas import (
    AMOUNT_PATTERN,
    MONTH_PATTERN,
    OID_DESCRIPTION,
    OID_PATTERN,
    AccountsSection,
    AssetsSection,
    CustomerExistsResponse,
    CustomerOut,
    DeleteCustomerResponse,
    DerivativesSection,
    ErrorResponse,
    HealthResponse,
    IsoDate,
    MarketDataResponse,
    Portfolio,
    PortfolioSummary,
    PriceHistory,
    RegisterCustomerRequest,
    RegisterCustomerResponse,
    SpendingSection,
    TransactionsPage,
)
from seed import prepare_database
from settings import Settings, get_settings

log = logging.getLogger("dummy_bank")

LOCAL_ORIGINS = r"https?://(localhost|127\.0\.0\.1|\[::1\])(:[0-9]+)?"
"""Browser pages served from this machine may call the API; others need BANK_CORS_ORIGINS."""

DESCRIPTION = """
A sandbox bank with realistic, deterministic customer portfolios (holdings,
accounts, transactions, spending, derivatives) for building and testing
financial AI agents. Every error is JSON with a string `detail`.
"""

Currency = Annotated[
    str | None,
    Query(
        max_length=10,
        description="Base currency (ISO 4217) for converted figures: USD (default), EUR or GBP.",
        json_schema_extra={"pattern": r"^\s*([uU][sS][dD]|[eE][uU][rR]|[gG][bB][pP])\s*$"},
    ),
]
CustomerOid = Annotated[
    str,
    Path(
        description=OID_DESCRIPTION,
        examples=["550e8400-e29b-41d4-a716-446655440001"],
        # Documented, not enforced here: the service's own check gives the clearer 400.
        json_schema_extra={"pattern": OID_PATTERN},
    ),
]

INVALID_OID = "A malformed CustomerOID, or a parameter that breaks a rule (detail says which)."
UNKNOWN_CUSTOMER = "No customer with this CustomerOID."
UNAVAILABLE = "The database cannot be reached right now; try again."


def error_responses(**by_code: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for what a route can really answer besides 200.

    Keys are ``e400``, ``e404``, ``e409``; every route reads the database, so 503 is always there.
    """
    described = {int(code.removeprefix("e")): text for code, text in by_code.items()}
    described[503] = UNAVAILABLE
    return {code: {"model": ErrorResponse, "description": text} for code, text in described.items()}


def describe_validation_error(exc: RequestValidationError) -> str:
    """One readable sentence per problem, naming the field and the rule."""
    problems = []
    for error in exc.errors():
        location = [str(part) for part in error.get("loc", ())]
        where, path = (location[0], location[1:]) if location else ("request", [])
        if error.get("type") == "json_invalid":
            reason = error.get("ctx", {}).get("error", "invalid JSON")
            problems.append(f"request body: malformed JSON ({reason})")
        elif where == "body" and not path:
            problems.append(f"request body: {error['msg']}")
        elif error.get("type") == "extra_forbidden":
            problems.append(f"{where} field '{'.'.join(path)}': unknown field, not allowed")
        else:
            problems.append(f"{where} field '{'.'.join(path)}': {error['msg']}")
    return "Invalid request: " + "; ".join(problems)


def install_error_handlers(app: FastAPI) -> None:
    def error(request: Request, status: int, detail: str, **headers: str) -> JSONResponse:
        request_id = str(getattr(request.state, "request_id", ""))
        return JSONResponse(
            {"detail": detail, "request_id": request_id}, status_code=status, headers=headers
        )

    @app.exception_handler(BankError)
    async def bank_error(request: Request, exc: BankError) -> JSONResponse:
        return error(request, exc.status_code, exc.detail)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error(request, 400, describe_validation_error(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error(request, exc.status_code, str(exc.detail), **(exc.headers or {}))

    @app.exception_handler(SQLAlchemyError)
    async def database_error(request: Request, exc: SQLAlchemyError) -> JSONResponse:
        # The traceback stays in the server log; the client never sees SQL.
        log.error("database error on %s %s", request.method, request.url.path, exc_info=exc)
        if isinstance(exc, OperationalError | DisconnectionError | SQLAlchemyTimeoutError):
            return error(request, 503, UNAVAILABLE)
        return error(request, 500, "Internal server error")

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
        # Starlette logs the traceback after this answer; the client gets JSON, not text.
        # This handler runs outside the middleware that adds the request id header.
        request_id = str(getattr(request.state, "request_id", ""))
        return error(request, 500, "Internal server error", **{"X-Request-ID": request_id})


def openapi_without_422(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document, minus FastAPI's default 422: this API answers 400 instead."""
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                operation.get("responses", {}).pop("422", None)
        for unused in ("HTTPValidationError", "ValidationError"):
            schema.get("components", {}).get("schemas", {}).pop(unused, None)
        app.openapi_schema = schema
    return app.openapi_schema


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging()

    mcp = build_server(lambda: Session(app.state.engine), allow_writes=settings.mcp_allow_writes)
    # Stateless JSON replies: any worker can answer any MCP request.
    mcp_http = mcp.streamable_http_app(
        streamable_http_path="/mcp", stateless_http=True, json_response=True
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        refusal = settings.refusal_to_listen()
        if refusal:
            raise RuntimeError(refusal)
        engine = create_db_engine(settings.database_url)
        added = prepare_database(engine, load_samples=settings.seed_on_empty)
        if added:
            log.info("new database: loaded market data and %d sample customers", len(added))
        app.state.engine = engine
        app.state.cache = open_cache(engine, settings.cache_mb)
        async with mcp.session_manager.run():
            yield
        if app.state.cache is not None:
            app.state.cache.close()
            app.state.cache = None
        engine.dispose()

    app = FastAPIOffline(
        title="Dummy Bank API",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.cache = None
    # Added innermost first: a request meets RequestContext, CORS, BodyLimit, ApiKey, Cache.
    app.add_middleware(CacheMiddleware, cache=lambda: app.state.cache)
    app.add_middleware(
        ApiKeyMiddleware,
        full_key=settings.api_key.get_secret_value() if settings.api_key else None,
        read_key=settings.read_api_key.get_secret_value() if settings.read_api_key else None,
    )
    app.add_middleware(BodyLimitMiddleware)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_origin_regex=LOCAL_ORIGINS,
        allow_methods=["GET", "POST", "DELETE"],
        allow_headers=["Authorization", "X-API-Key", "Content-Type", "X-Request-ID"],
        expose_headers=["X-Request-ID", "X-Total-Count", "Link"],
    )
    app.add_middleware(RequestContextMiddleware)
    install_error_handlers(app)
    app.openapi = lambda: openapi_without_422(app)  # type: ignore[method-assign]
    add_routes(app)
    # The MCP endpoint is a plain route beside the REST ones, so unknown paths still get JSON 404s.
    app.router.routes.extend(mcp_http.routes)
    return app


def add_routes(app: FastAPI) -> None:
    @app.get(
        "/customers",
        summary="List customers, a page at a time",
        tags=["customers"],
        responses={
            **error_responses(e400="A bad limit, cursor or name (detail says which)."),
            200: {
                "description": "A JSON array of customers.",
                "headers": {
                    "X-Total-Count": {
                        "description": "How many customers match, on all pages.",
                        "schema": {"type": "integer"},
                    },
                    "Link": {
                        "description": 'The next page, as <url>; rel="next", when there is one.',
                        "schema": {"type": "string"},
                    },
                },
            },
        },
    )
    def read_customers(
        request: Request,
        response: Response,
        session: SessionDep,
        limit: Annotated[int, Query(ge=1, le=1000, description="Page size, 1 to 1000.")] = 100,
        cursor: Annotated[
            str | None,
            Query(max_length=500, description='From the Link rel="next" of the last page.'),
        ] = None,
        name: Annotated[
            str | None,
            Query(
                max_length=100,
                description="Only customers with a name word starting with each word given, "
                "in any case and with or without accents (e.g. 'smi' finds Jane Smith).",
            ),
        ] = None,
    ) -> list[CustomerOut]:
        """A JSON array, oldest registration first. `X-Total-Count` gives how many match in
        all; when there are more, `Link: <...>; rel="next"` gives the next page."""
        page = service.search_customers(session, name, limit=limit, cursor=cursor)
        response.headers["X-Total-Count"] = str(page.total)
        if page.next_cursor:
            response.headers["Link"] = (
                f'<{request.url.include_query_params(cursor=page.next_cursor)}>; rel="next"'
            )
        return page.customers

    @app.post(
        "/register-customer",
        summary="Register a new customer",
        tags=["customers"],
        responses=error_responses(
            e400="A name or CustomerOID that breaks a rule, or a malformed body.",
            e409="A customer with this CustomerOID already exists.",
        ),
    )
    def register_customer(
        request: RegisterCustomerRequest, session: SessionDep
    ) -> RegisterCustomerResponse:
        """Create a customer; a UUID is generated when `customer_oid` is absent."""
        return service.register_customer(session, request.name, request.customer_oid)

    @app.delete(
        "/customer/{customer_oid}",
        summary="Delete a customer and all of its data",
        tags=["customers"],
        responses=error_responses(e400=INVALID_OID, e404=UNKNOWN_CUSTOMER),
    )
    def delete_customer(customer_oid: CustomerOid, session: SessionDep) -> DeleteCustomerResponse:
        """Permanently delete the customer and every row it owns, in one transaction."""
        return service.delete_customer(session, customer_oid)

    @app.get(
        "/customer/{customer_oid}/exists",
        summary="Check whether a customer exists",
        tags=["customers"],
        responses=error_responses(e400=INVALID_OID),
    )
    def customer_exists(customer_oid: CustomerOid, session: SessionDep) -> CustomerExistsResponse:
        """`exists: false` for an unknown but well-formed id (never 404)."""
        return service.customer_exists(session, customer_oid)

    @app.get(
        "/user-portfolio/{customer_oid}",
        summary="A customer's whole portfolio with a summary",
        tags=["portfolio"],
        response_model=Portfolio,
        responses=error_responses(e400=INVALID_OID, e404=UNKNOWN_CUSTOMER),
    )
    def read_portfolio(
        customer_oid: CustomerOid,
        session: SessionDep,
        currency: Currency = None,
        sections: Annotated[
            str | None,
            Query(
                max_length=200,
                description="Comma-separated sections to include: "
                + ", ".join(service.PORTFOLIO_SECTIONS)
                + ". All of them when absent.",
                examples=["portfolio_summary,assets"],
            ),
        ] = None,
        transactions_limit: Annotated[
            int | None,
            Query(ge=1, le=500, description="Keep only the newest N transactions (1 to 500)."),
        ] = None,
    ) -> Response:
        """Holdings, accounts, transactions, spending, derivatives and the analysis of them."""
        wanted = service.parse_sections(sections)
        portfolio = service.read_portfolio(
            session,
            customer_oid,
            currency=currency,
            sections=wanted,
            transactions_limit=transactions_limit,
        )
        left_out = set(service.PORTFOLIO_SECTIONS) - wanted
        return Response(portfolio.model_dump_json(exclude=left_out), media_type="application/json")

    @app.get(
        "/customer/{customer_oid}/summary",
        summary="Valuation, allocation, performance and spending analysis",
        tags=["portfolio"],
        responses=error_responses(e400=INVALID_OID, e404=UNKNOWN_CUSTOMER),
    )
    def read_summary(
        customer_oid: CustomerOid, session: SessionDep, currency: Currency = None
    ) -> PortfolioSummary:
        """The portfolio summary alone, in the base currency asked for."""
        return service.read_summary(session, customer_oid, currency)

    @app.get(
        "/customer/{customer_oid}/assets",
        summary="Holdings with their valuation",
        tags=["portfolio"],
        responses=error_responses(e400=INVALID_OID, e404=UNKNOWN_CUSTOMER),
    )
    def read_assets(
        customer_oid: CustomerOid, session: SessionDep, currency: Currency = None
    ) -> AssetsSection:
        """Each holding with price, cost, market value, unrealized gain and weight."""
        return service.read_assets(session, customer_oid, currency)

    @app.get(
        "/customer/{customer_oid}/accounts",
        summary="Bank accounts and cash by currency",
        tags=["portfolio"],
        responses=error_responses(e400=INVALID_OID, e404=UNKNOWN_CUSTOMER),
    )
    def read_accounts(
        customer_oid: CustomerOid, session: SessionDep, currency: Currency = None
    ) -> AccountsSection:
        """Every account with its institution, and the cash per currency and in total."""
        return service.read_accounts(session, customer_oid, currency)

    @app.get(
        "/customer/{customer_oid}/transactions",
        summary="Transactions, filtered and paged",
        tags=["portfolio"],
        responses=error_responses(e400=INVALID_OID, e404=UNKNOWN_CUSTOMER),
    )
    def read_transactions(
        request: Request,
        customer_oid: CustomerOid,
        session: SessionDep,
        date_from: Annotated[
            IsoDate | None, Query(alias="from", description="First date included (YYYY-MM-DD).")
        ] = None,
        date_to: Annotated[
            IsoDate | None, Query(alias="to", description="Last date included (YYYY-MM-DD).")
        ] = None,
        transaction_type: Annotated[
            TransactionType | None, Query(alias="type", description="Only this type.")
        ] = None,
        symbol: Annotated[
            str | None, Query(max_length=16, description="Only trades of this symbol.")
        ] = None,
        min_amount: Annotated[
            str | None,
            Query(
                description="Smallest signed amount included (negative for outflows), "
                "e.g. -100.50.",
                pattern=AMOUNT_PATTERN,
            ),
        ] = None,
        max_amount: Annotated[
            str | None,
            Query(description="Largest signed amount included.", pattern=AMOUNT_PATTERN),
        ] = None,
        order: Annotated[
            Literal["desc", "asc"], Query(description="desc: newest first; asc: oldest first.")
        ] = "desc",
        limit: Annotated[int, Query(ge=1, le=500, description="Page size, 1 to 500.")] = 50,
        cursor: Annotated[
            str | None,
            Query(max_length=500, description="next_cursor of the previous page, unchanged."),
        ] = None,
    ) -> TransactionsPage:
        """One page of transactions, sorted by date; `next` fetches the following page."""
        filters = service.TransactionFilter(
            date_from=date_from,
            date_to=date_to,
            transaction_type=transaction_type.value if transaction_type else None,
            symbol=symbol,
            min_amount=Decimal(min_amount) if min_amount is not None else None,
            max_amount=Decimal(max_amount) if max_amount is not None else None,
        )
        page = service.read_transactions(
            session, customer_oid, filters, order=order, limit=limit, cursor=cursor
        )
        if page.next_cursor:
            page.next = str(request.url.include_query_params(cursor=page.next_cursor))
        return page

    @app.get(
        "/customer/{customer_oid}/spending",
        summary="Spending grouped by category or month",
        tags=["portfolio"],
        responses=error_responses(e400=INVALID_OID, e404=UNKNOWN_CUSTOMER),
    )
    def read_spending(
        customer_oid: CustomerOid,
        session: SessionDep,
        group_by: Annotated[
            Literal["category", "month"], Query(description="Group totals by category or month.")
        ] = "category",
        from_month: Annotated[
            str | None,
            Query(
                max_length=7,
                description="First month included, YYYY-MM.",
                json_schema_extra={"pattern": MONTH_PATTERN},
            ),
        ] = None,
        to_month: Annotated[
            str | None,
            Query(
                max_length=7,
                description="Last month included, YYYY-MM.",
                json_schema_extra={"pattern": MONTH_PATTERN},
            ),
        ] = None,
        currency: Currency = None,
    ) -> SpendingSection:
        """Spending totals per group over a range of months, in the base currency."""
        return service.read_spending(
            session,
            customer_oid,
            group_by=group_by,
            from_month=from_month,
            to_month=to_month,
            currency=currency,
        )

    @app.get(
        "/customer/{customer_oid}/derivatives",
        summary="Derivative positions, optionally by status",
        tags=["portfolio"],
        responses=error_responses(e400=INVALID_OID, e404=UNKNOWN_CUSTOMER),
    )
    def read_derivatives(
        customer_oid: CustomerOid,
        session: SessionDep,
        status: Annotated[
            DerivativeStatus | None, Query(description="Only positions with this status.")
        ] = None,
    ) -> DerivativesSection:
        """Options and futures, newest trade first."""
        return service.read_derivatives(session, customer_oid, status.value if status else None)

    @app.get(
        "/market-data",
        summary="Latest prices and changes",
        tags=["market data"],
        responses=error_responses(
            e400="No symbol, or too many.", e404="A symbol the bank does not know (named)."
        ),
    )
    def read_market_data(
        session: SessionDep,
        symbols: Annotated[
            str | None,
            Query(
                max_length=1000,
                description="Comma-separated symbols, e.g. AAPL,BTC; every instrument when absent.",
            ),
        ] = None,
    ) -> MarketDataResponse:
        """Each symbol's latest close with its change over 1 day, 30 days and 1 year."""
        return service.read_quotes(session, symbols.split(",") if symbols is not None else None)

    @app.get(
        "/market-data/{symbol}/history",
        summary="Daily closes of one instrument",
        tags=["market data"],
        responses=error_responses(
            e400="A bad date, or from after to.", e404="A symbol the bank does not know."
        ),
    )
    def read_price_history(
        symbol: Annotated[str, Path(max_length=16, description="Instrument symbol, e.g. AAPL.")],
        session: SessionDep,
        date_from: Annotated[
            IsoDate | None,
            Query(alias="from", description="First day (default: a year before to)."),
        ] = None,
        date_to: Annotated[
            IsoDate | None,
            Query(alias="to", description="Last day (default: the last market date)."),
        ] = None,
    ) -> PriceHistory:
        """Daily closes between two dates, oldest first."""
        return service.read_price_history(session, symbol, date_from, date_to)

    @app.get(
        "/health",
        summary="Service and database health",
        tags=["system"],
        responses=error_responses(),
    )
    def health(session: SessionDep) -> HealthResponse:
        """`healthy` when the service can reach its database; 503 with a reason otherwise."""
        service.check_database(session)
        return HealthResponse(status="healthy", service="dummy-bank-api")


app = create_app()


def main() -> None:
    settings = get_settings()
    refusal = settings.refusal_to_listen()
    if refusal:
        print(refusal, file=sys.stderr)
        raise SystemExit(2)
    # Our own access log leaves query strings out (they can hold names); uvicorn's would not.
    if settings.workers > 1:
        # Workers re-import this module; each opens its own engine and cache.
        uvicorn.run(
            "main:app",
            host=settings.host,
            port=settings.port,
            workers=settings.workers,
            access_log=False,
        )
    else:
        uvicorn.run(app, host=settings.host, port=settings.port, access_log=False)


if __name__ == "__main__":
    main()
