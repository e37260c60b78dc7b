"""The bank as an MCP server: hand-picked tools, resources and a prompt for AI agents.

Every tool calls the same service functions as the REST routes and returns
the same shapes, as structured content with an output schema plus a short
text rendering. Writes (register, delete) exist only when the server is
built with them allowed (``BANK_MCP_ALLOW_WRITES=true``).

``python mcp_server.py`` serves over stdio; the REST app mounts the same
server over streamable HTTP at ``/mcp``.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Literal, TypeVar

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel, Field
from sqlalchemy.engine import Engine
from sqlmodel import Session

from errors import BankError
from models import DerivativeStatus
from params import (
    CurrencyArg,
    DateFrom,
    DateTo,
    MaxAmount,
    MinAmount,
    Order,
    SymbolFilter,
    TransactionQuery,
    TypeFilter,
)
from schemas import (
    AccountsSection,
    AssetsSection,
    CustomerExistsResponse,
    CustomersPage,
    DeleteCustomerResponse,
    DerivativesSection,
    MarketDataResponse,
    PortfolioSummary,
    RegisterCustomerResponse,
    SpendingSection,
    TransactionsPage,
)
from services import customers, market, portfolio

log = logging.getLogger("dummy_bank.mcp")

Model = TypeVar("Model", bound=BaseModel)

INSTRUCTIONS = """\
Dummy Bank: a sandbox bank with realistic, deterministic customer portfolios.
Start with bank_find_customers to get a customer_oid, then bank_portfolio_summary
for the analysed overview (net worth, allocation, performance, risk, spending).
Drill down with bank_holdings, bank_accounts, bank_transactions (filtered and
paged), bank_spending and bank_derivatives; bank_market_data quotes symbols.
Amounts are exact decimals; every valuation is as of the market's last day."""

READ_ONLY = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)

CustomerOidArg = Annotated[
    str,
    Field(
        description="The customer's id: a UUID such as 550e8400-e29b-41d4-a716-446655440001 "
        "(any spelling) or a legacy upper-case id. Get one from bank_find_customers.",
        max_length=100,
    ),
]


def _money(value: Decimal, currency: str = "") -> str:
    return f"{currency + ' ' if currency else ''}{value:,.2f}"


class BankMcpServer(MCPServer):
    """An MCP server that knows where its tools get their database sessions."""

    def __init__(self, session_factory: Callable[[], Session]) -> None:
        super().__init__(
            "dummy-bank",
            title="Dummy Bank",
            instructions=INSTRUCTIONS,
            version="1.0.0",
            log_level="WARNING",
        )
        self.session_factory = session_factory

    async def write_tool_names(self) -> set[str]:
        """The tools registered here that may change data, judged by their own annotations."""
        return {t.name for t in await self.list_tools() if is_write_tool(t.annotations)}


@dataclass(frozen=True)
class ToolSpec:
    function: Callable[..., CallToolResult]
    name: str
    title: str
    description: str
    annotations: ToolAnnotations

    @property
    def writes(self) -> bool:
        return is_write_tool(self.annotations)


TOOLS: list[ToolSpec] = []
"""Every tool of the bank, in the order they are listed; ``build_server`` registers them."""


def tool(
    *, name: str, title: str, description: str, annotations: ToolAnnotations
) -> Callable[[Callable[..., CallToolResult]], Callable[..., CallToolResult]]:
    def register(function: Callable[..., CallToolResult]) -> Callable[..., CallToolResult]:
        TOOLS.append(ToolSpec(function, name, title, description, annotations))
        return function

    return register


def is_write_tool(annotations: ToolAnnotations | None) -> bool:
    """A tool that does not declare itself read-only is treated as one that writes."""
    return not (annotations and annotations.read_only_hint)


def answer(
    ctx: Context, call: Callable[[Session], Model], render: Callable[[Model], str]
) -> CallToolResult:
    """Run one service call; domain errors become tool errors with the REST API's words."""
    server = ctx.mcp_server
    assert isinstance(server, BankMcpServer)
    try:
        with server.session_factory() as session:
            result = call(session)
    except BankError as error:
        return CallToolResult(content=[TextContent(type="text", text=error.detail)], is_error=True)
    except Exception:
        log.exception("MCP tool failed")
        return CallToolResult(
            content=[TextContent(type="text", text="Internal error in the bank; it was logged.")],
            is_error=True,
        )
    return CallToolResult(
        content=[TextContent(type="text", text=render(result))],
        structured_content=result.model_dump(mode="json"),
    )


@tool(
    name="bank_find_customers",
    title="Find customers",
    annotations=READ_ONLY,
    description="Find customers by a fragment of their name (any case), oldest first, a page "
    "at a time. Returns customer_oid and name for each, how many match in all and how many "
    "remain after this page; pass next_cursor back to get the next page. Leave name empty "
    "to list everyone.",
)
def find_customers(
    ctx: Context,
    name: Annotated[
        str | None, Field(description="Part of the name, e.g. 'smith'.", max_length=100)
    ] = None,
    limit: Annotated[int, Field(ge=1, le=100, description="Page size, 1 to 100.")] = 12,
    cursor: Annotated[
        str | None, Field(description="next_cursor of the previous page.", max_length=500)
    ] = None,
) -> Annotated[CallToolResult, CustomersPage]:
    def render(page: CustomersPage) -> str:
        lines = [f"{c.name} ({c.customer_oid})" for c in page.customers]
        more = f"; {page.remaining} more (pass next_cursor)" if page.remaining else ""
        return f"{page.total} matching customers{more}:\n" + "\n".join(lines)

    return answer(
        ctx, lambda s: customers.search_customers(s, name, limit=limit, cursor=cursor), render
    )


@tool(
    name="bank_customer_exists",
    title="Check a customer exists",
    annotations=READ_ONLY,
    description="Check whether a customer_oid is registered; returns the canonical id and "
    "the name. An unknown but well-formed id is exists=false, not an error.",
)
def customer_exists(
    ctx: Context,
    customer_oid: CustomerOidArg,
) -> Annotated[CallToolResult, CustomerExistsResponse]:
    def render(r: CustomerExistsResponse) -> str:
        return f"{r.customer_oid}: " + (f"exists, {r.name}" if r.exists else "no such customer")

    return answer(ctx, lambda s: customers.customer_exists(s, customer_oid), render)


@tool(
    name="bank_portfolio_summary",
    title="Portfolio summary",
    annotations=READ_ONLY,
    description="The analysed overview of one customer: net worth, cash by currency, every "
    "holding valued with cost and unrealized gain, allocation by asset type and currency, "
    "concentration, performance over 1m/3m/ytd/1y with volatility, derivative exposure and "
    "spending trend. Use this first for any question about a customer's finances.",
)
def portfolio_summary(
    ctx: Context, customer_oid: CustomerOidArg, currency: CurrencyArg = None
) -> Annotated[CallToolResult, PortfolioSummary]:
    def render(s: PortfolioSummary) -> str:
        t = s.totals
        top = ", ".join(f"{h.symbol} {h.weight_percent}%" for h in s.holdings[:3]) or "none"
        return (
            f"As of {s.as_of} in {s.base_currency}: net worth {_money(t.net_worth)} "
            f"(cash {_money(t.cash)}, invested {_money(t.invested)}); unrealized gain "
            f"{_money(t.unrealized_gain)}; {len(s.holdings)} holdings, largest {top}; "
            f"{s.derivatives.open_positions} open derivative positions; "
            f"average monthly spending {_money(s.spending.average_month)}."
        )

    return answer(ctx, lambda s: portfolio.read_summary(s, customer_oid, currency), render)


@tool(
    name="bank_holdings",
    title="Holdings",
    annotations=READ_ONLY,
    description="One customer's holdings (stocks, ETFs, bonds, crypto) with quantity, price, "
    "average cost, market value, unrealized gain and weight, largest first.",
)
def holdings(
    ctx: Context, customer_oid: CustomerOidArg, currency: CurrencyArg = None
) -> Annotated[CallToolResult, AssetsSection]:
    def render(a: AssetsSection) -> str:
        lines = [
            f"{h.symbol}: {h.quantity.normalize()} x {h.current_price} {h.currency} = "
            f"{_money(h.market_value_base, a.base_currency)} ({h.weight_percent}%)"
            for h in a.holdings
        ]
        head = f"{len(a.holdings)} holdings worth {_money(a.total_market_value, a.base_currency)}"
        return head + (":\n" + "\n".join(lines) if lines else ".")

    return answer(ctx, lambda s: portfolio.read_assets(s, customer_oid, currency), render)


@tool(
    name="bank_accounts",
    title="Bank accounts",
    annotations=READ_ONLY,
    description="One customer's bank, brokerage and crypto accounts with balance, currency, "
    "IBAN and institution, and the cash total per currency and in the base currency.",
)
def accounts(
    ctx: Context, customer_oid: CustomerOidArg, currency: CurrencyArg = None
) -> Annotated[CallToolResult, AccountsSection]:
    def render(a: AccountsSection) -> str:
        lines = [
            f"{b.account_type} {b.account_number} at {b.institution.name}: "
            f"{_money(b.balance, b.currency)}"
            for b in a.bank_accounts
        ]
        head = f"Cash {_money(a.total_cash_balance, a.base_currency)} in {len(lines)} accounts"
        return head + (":\n" + "\n".join(lines) if lines else ".")

    return answer(ctx, lambda s: portfolio.read_accounts(s, customer_oid, currency), render)


@tool(
    name="bank_transactions",
    title="Transactions",
    annotations=READ_ONLY,
    description="One customer's transactions, newest first by default, filtered and paged. "
    "Amounts are signed (negative leaves the account). Returns total matches, how many "
    "remain and next_cursor; call again with the same filters and cursor for more.",
)
def transactions(
    ctx: Context,
    customer_oid: CustomerOidArg,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    transaction_type: TypeFilter = None,
    symbol: SymbolFilter = None,
    min_amount: MinAmount = None,
    max_amount: MaxAmount = None,
    order: Order = "desc",
    limit: Annotated[int, Field(ge=1, le=100, description="Page size, 1 to 100.")] = 12,
    cursor: Annotated[
        str | None, Field(description="next_cursor of the previous page.", max_length=500)
    ] = None,
) -> Annotated[CallToolResult, TransactionsPage]:
    query = TransactionQuery(
        date_from=date_from,
        date_to=date_to,
        transaction_type=transaction_type,
        symbol=symbol,
        min_amount=min_amount,
        max_amount=max_amount,
        order=order,
    )

    def render(p: TransactionsPage) -> str:
        lines = [
            f"{t.transaction_date} {t.transaction_type} {_money(t.amount, t.currency)} "
            f"{t.description}"
            for t in p.transactions
        ]
        more = f"; {p.remaining} more after these (pass next_cursor)" if p.remaining else ""
        return f"{len(lines)} of {p.total} transactions{more}:\n" + "\n".join(lines)

    return answer(
        ctx,
        lambda s: portfolio.read_transactions(
            s, customer_oid, query.to_filter(), order=query.order, limit=limit, cursor=cursor
        ),
        render,
    )


@tool(
    name="bank_spending",
    title="Spending",
    annotations=READ_ONLY,
    description="One customer's card spending totals grouped by category or by month over a "
    "range of months, with each group's share, in the base currency.",
)
def spending(
    ctx: Context,
    customer_oid: CustomerOidArg,
    group_by: Annotated[
        Literal["category", "month"], Field(description="Group totals by category or month.")
    ] = "category",
    from_month: Annotated[
        str | None, Field(description="First month, YYYY-MM.", max_length=7)
    ] = None,
    to_month: Annotated[str | None, Field(description="Last month, YYYY-MM.", max_length=7)] = None,
    currency: CurrencyArg = None,
) -> Annotated[CallToolResult, SpendingSection]:
    def render(p: SpendingSection) -> str:
        lines = [f"{g.key}: {_money(g.total)} ({g.percent}%)" for g in p.groups]
        return f"Spending {_money(p.total, p.base_currency)} by {p.group_by}:\n" + "\n".join(lines)

    return answer(
        ctx,
        lambda s: portfolio.read_spending(
            s,
            customer_oid,
            group_by=group_by,
            from_month=from_month,
            to_month=to_month,
            currency=currency,
        ),
        render,
    )


@tool(
    name="bank_derivatives",
    title="Derivatives",
    annotations=READ_ONLY,
    description="One customer's option and futures positions, newest first, optionally only "
    "those with one status (open, closed, expired, exercised).",
)
def derivatives(
    ctx: Context,
    customer_oid: CustomerOidArg,
    status: Annotated[
        DerivativeStatus | None, Field(description="Only positions with this status.")
    ] = None,
) -> Annotated[CallToolResult, DerivativesSection]:
    def render(p: DerivativesSection) -> str:
        lines = [
            f"{d.side} {d.contracts} {d.underlying_symbol} {d.option_type or d.instrument_type}"
            f"{' @ ' + str(d.strike) if d.strike else ''} expiring {d.expiry_date} ({d.status})"
            for d in p.derivative_transactions
        ]
        return f"{p.count} derivative positions:\n" + "\n".join(lines)

    return answer(
        ctx,
        lambda s: portfolio.read_derivatives(s, customer_oid, status.value if status else None),
        render,
    )


@tool(
    name="bank_market_data",
    title="Market data",
    annotations=READ_ONLY,
    description="Latest price, currency and change over 1 day, 30 days and 1 year of up to "
    "10 symbols (stocks, ETFs, bonds, crypto, GC for gold), as of the market's last day.",
)
def market_data(
    ctx: Context,
    symbols: Annotated[
        list[Annotated[str, Field(max_length=16)]],
        Field(min_length=1, max_length=10, description="Symbols, e.g. ['AAPL', 'BTC']."),
    ],
) -> Annotated[CallToolResult, MarketDataResponse]:
    def render(m: MarketDataResponse) -> str:
        return "\n".join(
            f"{q.symbol} {q.price} {q.currency}"
            + (f" (1d {q.change_1d.change_percent}%)" if q.change_1d else "")
            for q in m.quotes
        )

    return answer(ctx, lambda s: market.read_quotes(s, symbols), render)


@tool(
    name="bank_register_customer",
    title="Register a customer",
    annotations=ToolAnnotations(
        read_only_hint=False, destructive_hint=False, idempotent_hint=False
    ),
    description="Register a new customer with no data. A UUID is generated unless "
    "customer_oid is given. The name is 2 to 100 characters.",
)
def register_customer(
    ctx: Context,
    name: Annotated[str, Field(description="Full or company name.", max_length=1000)],
    customer_oid: Annotated[
        str | None, Field(description="Optional UUID for the customer.", max_length=100)
    ] = None,
) -> Annotated[CallToolResult, RegisterCustomerResponse]:
    return answer(
        ctx,
        lambda s: customers.register_customer(s, name, customer_oid),
        lambda r: f"Registered {r.name} as {r.customer_oid}.",
    )


@tool(
    name="bank_delete_customer",
    title="Delete a customer",
    annotations=ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=False),
    description="Permanently delete a customer and all of its accounts, holdings, "
    "transactions, spending and derivatives. This cannot be undone.",
)
def delete_customer(
    ctx: Context,
    customer_oid: CustomerOidArg,
) -> Annotated[CallToolResult, DeleteCustomerResponse]:
    return answer(
        ctx,
        lambda s: customers.delete_customer(s, customer_oid),
        lambda r: f"Deleted {r.customer_oid} and all of its data.",
    )


def build_server(session_factory: Callable[[], Session], *, allow_writes: bool) -> BankMcpServer:
    """An MCP server whose tools open their sessions with ``session_factory``.

    The write tools are registered only when ``allow_writes`` is set.
    """
    server = BankMcpServer(session_factory)
    for spec in TOOLS:
        if allow_writes or not spec.writes:
            server.add_tool(
                spec.function,
                name=spec.name,
                title=spec.title,
                description=spec.description,
                annotations=spec.annotations,
            )
    _add_resources_and_prompts(server)
    return server


def _add_resources_and_prompts(server: BankMcpServer) -> None:
    def read_resource(call: Callable[[Session], BaseModel]) -> str:
        """Resources speak JSON; a domain error is a resource error with the REST wording."""
        try:
            with server.session_factory() as session:
                return call(session).model_dump_json()
        except BankError as error:
            raise ResourceError(error.detail) from None

    @server.resource(
        "bank://customers",
        name="customers",
        title="Customers",
        mime_type="application/json",
        description="The first 100 customers (customer_oid and name) and how many there are.",
    )
    def customers_resource() -> str:
        return read_resource(lambda s: customers.search_customers(s, limit=100))

    @server.resource(
        "bank://customers/{customer_oid}/summary",
        name="customer_summary",
        title="Portfolio summary",
        mime_type="application/json",
        description="One customer's portfolio summary in US dollars.",
    )
    def summary_resource(customer_oid: str) -> str:
        return read_resource(lambda s: portfolio.read_summary(s, customer_oid))

    @server.prompt(
        name="portfolio_review",
        title="Portfolio review",
        description="Ask for a review of one customer's portfolio: risk, allocation, "
        "performance, spending and what to look at next.",
    )
    def portfolio_review(
        customer_oid: Annotated[str, Field(description="The customer to review.")],
    ) -> str:
        return (
            f"Review the portfolio of customer {customer_oid} at Dummy Bank.\n"
            "1. Call bank_portfolio_summary for the overview.\n"
            "2. Assess allocation and concentration (largest position, Herfindahl index), "
            "performance and volatility, and open derivative positions, especially those "
            "expiring within 30 days.\n"
            "3. Look at the spending trend and the cash held in each currency.\n"
            "4. Drill down with bank_holdings, bank_transactions or bank_derivatives where a "
            "figure needs explaining.\n"
            "Finish with three concrete observations and the figures behind each."
        )


def main() -> None:
    from db import create_db_engine
    from seed import prepare_database
    from settings import get_settings

    settings = get_settings()
    engine: Engine = create_db_engine(settings.database_url)
    prepare_database(engine, load_samples=settings.seed_on_empty)
    build_server(lambda: Session(engine), allow_writes=settings.mcp_allow_writes).run()


if __name__ == "__main__":
    main()
