"""The explorer: web pages over the bank, for people who want to see what agents see.

The pages are shells: they hold no customer data, only layout. Their scripts read
everything from the REST API with ``fetch`` (sending the API key the visitor gave
once, kept in ``sessionStorage``), so the explorer shows exactly what an agent
gets and is held to the same keys. That is why the shells are served by
``ExplorerMiddleware`` in front of the key check: a browser must load the page
before it can ask for a key. The one figure the API has no route for, the value
of today's holdings over the last year, comes from ``holdings_value_router``,
which sits behind the key check like every API route and stays out of the
OpenAPI document. The pages only read, except a sandbox page's controls, which call that
sandbox's own routes (reset, fault rules) with the visitor's key.
"""

from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Receive, Scope, Send

from api.answers import answer
from api.params import Currency, CustomerOid
from core.errors import InvalidInput
from core.identifiers import parse_customer_oid
from core.money import CURRENCIES
from db import DatabaseDep
from models import TransactionType
from sandboxes.registry import check_sandbox_id
from schemas.portfolio import HoldingsValueHistory
from services.holdings_history import read_holdings_value_history
from services.market import resolve_currency

HERE = Path(__file__).parent
PREFIX = "/explorer"
SHELL_PATHS = ("", "/", "/market", "/sandboxes")
"""Pages under PREFIX besides the customer and sandbox pages and the static files."""
ONE_SEGMENT_PAGES = ("/customers/", "/customer/", "/sandboxes/")
"""Pages under PREFIX named by one more path segment (``/customer/`` redirects)."""

# Every script, style and image comes from this server; the browser refuses anything else.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)

templates = Jinja2Templates(directory=HERE / "templates")


def _page(request: Request, template: str, status: int = 200, **context: object) -> Response:
    currency = request.query_params.get("currency")
    try:
        base = resolve_currency(currency)
    except InvalidInput as error:
        return _refusal(request, error.detail)
    response = templates.TemplateResponse(
        request,
        template,
        {
            "prefix": PREFIX,
            "currency": base,
            "currencies": CURRENCIES,
            **context,
        },
        status_code=status,
    )
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return response


def _refusal(request: Request, detail: str) -> Response:
    response = templates.TemplateResponse(
        request,
        "refusal.html",
        {"prefix": PREFIX, "currency": "USD", "currencies": CURRENCIES, "detail": detail},
        status_code=400,
    )
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return response


async def customers_page(request: Request) -> Response:
    return _page(request, "customers.html", page="customers")


async def customer_page(request: Request) -> Response:
    raw = str(request.path_params["customer_oid"])
    try:
        oid = parse_customer_oid(raw)
    except InvalidInput as error:
        return _refusal(request, error.detail)
    return _page(
        request,
        "customer.html",
        page="customer",
        customer_oid=oid,
        transaction_types=[t.value for t in TransactionType],
    )


async def customer_redirect(request: Request) -> Response:
    """``/customer/{oid}`` is the API's word; the page lives at ``/customers/{oid}``."""
    target = f"{PREFIX}/customers/{quote(str(request.path_params['customer_oid']), safe='')}"
    if request.url.query:
        target += f"?{request.url.query}"
    return RedirectResponse(target, status_code=308)


async def market_page(request: Request) -> Response:
    return _page(request, "market.html", page="market")


async def sandboxes_page(request: Request) -> Response:
    return _page(request, "sandboxes.html", page="sandboxes")


async def sandbox_page(request: Request) -> Response:
    try:
        sandbox_id = check_sandbox_id(str(request.path_params["sandbox_id"]))
    except InvalidInput as error:
        return _refusal(request, error.detail)
    return _page(request, "sandbox.html", page="sandbox", sandbox_id=sandbox_id)


shell = Starlette(
    routes=[
        Route(PREFIX, customers_page),
        Route(f"{PREFIX}/", customers_page),
        Route(f"{PREFIX}/customers/{{customer_oid}}", customer_page),
        Route(f"{PREFIX}/customer/{{customer_oid}}", customer_redirect),
        Route(f"{PREFIX}/market", market_page),
        Route(f"{PREFIX}/sandboxes", sandboxes_page),
        Route(f"{PREFIX}/sandboxes/{{sandbox_id}}", sandbox_page),
        Mount(f"{PREFIX}/static", StaticFiles(directory=HERE / "static")),
    ]
)


def _is_shell_path(path: str) -> bool:
    if not path.startswith(PREFIX):
        return False
    rest = path[len(PREFIX) :]
    if rest in SHELL_PATHS or rest.startswith("/static/"):
        return True
    for page in ONE_SEGMENT_PAGES:
        name = rest.removeprefix(page)
        if name != rest:
            return name != "" and "/" not in name
    return False


class ExplorerMiddleware:
    """Serves the explorer's pages and files, and sends browsers at ``/`` to them.

    Only GET and HEAD of the shell paths are answered here; everything else,
    ``/`` for API clients included, goes on to the API unchanged.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            path = scope["path"]
            if path == "/" and "text/html" in Headers(scope=scope).get("accept", ""):
                await RedirectResponse(PREFIX, status_code=307)(scope, receive, send)
                return
            if _is_shell_path(path):
                await shell(scope, receive, send)
                return
        await self.app(scope, receive, send)


holdings_value_router = APIRouter(include_in_schema=False)


@holdings_value_router.get(
    f"{PREFIX}/data/customer/{{customer_oid}}/holdings-value", response_model=HoldingsValueHistory
)
async def read_holdings_value(
    customer_oid: CustomerOid, database: DatabaseDep, currency: Currency = None
) -> Response:
    """What today's holdings were worth on each weekday of the last year."""
    return await answer(
        database, lambda session: read_holdings_value_history(session, customer_oid, currency)
    )
