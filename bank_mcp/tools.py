"""The bank's MCP tools: one async function each, registered by ``mcp_server.build_server``.

Every tool calls the same service functions as the REST routes and returns the
same shapes, as structured content with an output schema plus a short text
rendering that reads like a statement. A tool declares in its annotations
whether it writes; that is all the read-only key's gate and the write switch
(``BANK_MCP_ALLOW_WRITES``) go by.
"""

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Annotated, Literal, Protocol, TypeVar

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import AliasChoices, BaseModel, Field, ValidationError
from sqlmodel import Session

from api.params import (
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
from core.errors import BankError
from core.text import count_of
from db import Database
from models import DerivativeStatus
from schemas.changes import ChangeOut, ChangesPage, ChangeType
from schemas.customers import (
    CustomerExistsResponse,
    CustomersPage,
    DeleteCustomerResponse,
    RegisterCustomerResponse,
)
from schemas.market import MarketDataResponse, PriceHistory
from schemas.portfolio import (
    AccountsSection,
    AssetsSection,
    DerivativesSection,
    SpendingSection,
    TransactionsPage,
)
from schemas.profiles import CustomerProfileOut, ProfileIn
from schemas.risk import RiskSection
from schemas.summary import PortfolioSummary
from services import customers, events, market, portfolio, profiles

log = logging.getLogger("dummy_bank.mcp")

Model = TypeVar("Model", bound=BaseModel)


class ServesBank(Protocol):
    """What a tool needs of the server that runs it: where the database is."""

    database: Callable[[], Database]


READ_ONLY = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)

CustomerOidArg = Annotated[
    str,
    Field(
        description="A UUID (any spelling) or a legacy id such as CUST0001; from "
        "bank_find_customers.",
        max_length=100,
    ),
]

# The REST query's names (from, to, type) first, as the listing shows them; the tools' first
# names are still taken. Both at once with different values is a tool error (``server``).
FromArg = Annotated[DateFrom, Field(validation_alias=AliasChoices("from", "date_from"))]
ToArg = Annotated[DateTo, Field(validation_alias=AliasChoices("to", "date_to"))]
TypeArg = Annotated[TypeFilter, Field(validation_alias=AliasChoices("type", "transaction_type"))]


def _money(value: Decimal, currency: str = "") -> str:
    return f"{currency + ' ' if currency else ''}{value:,.2f}"


def _quantity(value: Decimal) -> str:
    """Units as a statement writes them: 100, 0.25, 1,250.5 (never 1E+2 or 100.00000000)."""
    text = f"{value:,f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _price(value: Decimal, currency: str = "") -> str:
    """A price to the cent; a price under one unit keeps the digits that carry it (0.000123)."""
    if abs(value) >= 1 or value == 0:
        text = f"{value:,.2f}"
    else:
        text = f"{value.normalize():f}"
        if len(text.partition(".")[2]) < 2:
            text = f"{value:.2f}"
    return f"{text} {currency}" if currency else text


@dataclass(frozen=True)
class ToolSpec:
    function: Callable[..., Awaitable[CallToolResult]]
    name: str
    title: str
    description: str
    annotations: ToolAnnotations

    @property
    def writes(self) -> bool:
        return is_write_tool(self.annotations)


TOOLS: list[ToolSpec] = []
"""Every tool of the bank, in the order they are listed; ``build_server`` registers them."""


ToolFunction = Callable[..., Awaitable[CallToolResult]]


def tool(
    *, name: str, title: str, description: str, annotations: ToolAnnotations
) -> Callable[[ToolFunction], ToolFunction]:
    def register(function: ToolFunction) -> ToolFunction:
        TOOLS.append(ToolSpec(function, name, title, description, annotations))
        return function

    return register


def tool_error(text: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=text)], is_error=True)


def describe_argument_errors(error: ValidationError) -> str:
    """One sentence per bad argument, naming it and the rule (no internal names)."""
    problems = []
    for problem in error.errors(include_url=False):
        where = ".".join(str(part) for part in problem.get("loc", ())) or "arguments"
        problems.append(f"argument '{where}': {problem['msg']}")
    return "Invalid arguments: " + "; ".join(problems)


def is_write_tool(annotations: ToolAnnotations | None) -> bool:
    """A tool that does not declare itself read-only is treated as one that writes."""
    return not (annotations and annotations.read_only_hint)


async def answer(
    ctx: Context,
    call: Callable[[Session], Model],
    render: Callable[[Model], str],
    *,
    write: bool = False,
) -> CallToolResult:
    """Run one service call; domain errors become tool errors with the REST API's words."""
    server: ServesBank = ctx.mcp_server  # type: ignore[assignment]
    try:
        result = await server.database().run(call, write=write)
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
    description="Customers whose name contains a fragment (any case), or everyone: "
    "customer_oid and name, oldest first, with how many match and remain. Use it to get the "
    "customer_oid every other tool needs. About 40 bytes a customer; pass next_cursor back "
    "for the next page.",
)
async def find_customers(
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
        return f"{count_of(page.total, 'matching customer')}{more}:\n" + "\n".join(lines)

    return await answer(
        ctx, lambda s: customers.search_customers(s, name, limit=limit, cursor=cursor), render
    )


@tool(
    name="bank_customer_exists",
    title="Check a customer exists",
    annotations=READ_ONLY,
    description="Whether a customer_oid is registered, with its canonical form and the name; "
    "an unknown id is exists=false, not an error. The cheapest check (under 100 bytes).",
)
async def customer_exists(
    ctx: Context,
    customer_oid: CustomerOidArg,
) -> Annotated[CallToolResult, CustomerExistsResponse]:
    def render(r: CustomerExistsResponse) -> str:
        return f"{r.customer_oid}: " + (f"exists, {r.name}" if r.exists else "no such customer")

    return await answer(ctx, lambda s: customers.customer_exists(s, customer_oid), render)


@tool(
    name="bank_customer_profile",
    title="Customer profile",
    annotations=READ_ONLY,
    description="Who one customer is: person or company, age or founding date, contact, "
    "risk tolerance, experience, goals, horizon and preferences as declared; a year's income "
    "and net worth from the books (derived_from_books names those read from them). Use it "
    "for suitability questions. About 0.7 KB.",
)
async def customer_profile(
    ctx: Context, customer_oid: CustomerOidArg, currency: CurrencyArg = None
) -> Annotated[CallToolResult, CustomerProfileOut]:
    def render(p: CustomerProfileOut) -> str:
        who = f"{p.name}, {p.kind or 'no declared profile'}"
        if p.age is not None:
            who += f", {p.age}"
        elif p.founded_on is not None:
            who += f", founded {p.founded_on}"
        goals = ", ".join(p.investment_goals) or "none declared"
        return (
            f"{who}; risk tolerance {p.risk_tolerance or 'unknown'}, experience "
            f"{p.investment_experience or 'unknown'}, horizon {p.time_horizon or 'unknown'}; "
            f"goals: {goals}. Income over {p.income_from} to {p.income_to} "
            f"{_money(p.annual_income, p.base_currency)}; net worth "
            f"{_money(p.net_worth, p.base_currency)} as of {p.as_of}."
        )

    return await answer(ctx, lambda s: profiles.read_profile(s, customer_oid, currency), render)


@tool(
    name="bank_portfolio_summary",
    title="Portfolio summary",
    annotations=READ_ONLY,
    description="One customer's analysed overview: net worth, cash by currency, holdings "
    "with cost and gain, allocation, concentration, performance (1d to 1y) and volatility, "
    "derivatives exposure, spending trend, risk headline. Call it first for any question "
    "about a customer's finances; drill down with the other tools. About 7 KB.",
)
async def portfolio_summary(
    ctx: Context, customer_oid: CustomerOidArg, currency: CurrencyArg = None
) -> Annotated[CallToolResult, PortfolioSummary]:
    def render(s: PortfolioSummary) -> str:
        t = s.totals
        top = ", ".join(f"{h.symbol} {h.weight_percent}%" for h in s.holdings[:3]) or "none"
        return (
            f"As of {s.as_of} in {s.base_currency}: net worth {_money(t.net_worth)} "
            f"(cash {_money(t.cash)}, invested {_money(t.invested)}); unrealized gain "
            f"{_money(t.unrealized_gain)}; {count_of(len(s.holdings), 'holding')}, largest {top}; "
            f"{count_of(s.derivatives.open_positions, 'open derivative position')}; "
            f"average monthly spending {_money(s.spending.average_month)}."
        )

    return await answer(ctx, lambda s: portfolio.read_summary(s, customer_oid, currency), render)


@tool(
    name="bank_risk",
    title="Risk analysis",
    annotations=READ_ONLY,
    description="Risk of one customer's holdings and open derivatives over 252 trading "
    "days: 0-10 score, volatility, beta to SPY, Sharpe, Sortino, max drawdown, VaR and "
    "expected shortfall (95/99%, 1/10 days; losses negative), six historical stress "
    "scenarios, concentration, correlation, option greeks. For risk questions only. "
    "About 7 KB.",
)
async def risk(
    ctx: Context, customer_oid: CustomerOidArg, currency: CurrencyArg = None
) -> Annotated[CallToolResult, RiskSection]:
    def render(r: RiskSection) -> str:
        if r.reason and r.volatility_percent is None:
            return f"As of {r.as_of}: {r.reason}"
        var = next(v for v in r.value_at_risk if (v.confidence_percent, v.horizon_days) == (99, 1))
        worst = next((s for s in r.stress_tests if s.name == r.worst_scenario), None)
        stressed = f"{worst.title} {_money(worst.pnl, r.base_currency)}" if worst else "no loss"
        return (
            f"As of {r.as_of} in {r.base_currency}: risk score {r.risk_score}/10 "
            f"({r.risk_category}); volatility {r.volatility_percent}% a year, beta {r.beta}, "
            f"Sharpe {r.sharpe_ratio}, max drawdown {r.drawdown.max_drawdown_percent}%; "
            f"1-day 99% VaR {_money(var.historical_var, r.base_currency)}; worst stress test "
            f"{stressed}."
        )

    return await answer(ctx, lambda s: portfolio.read_risk(s, customer_oid, currency), render)


@tool(
    name="bank_holdings",
    title="Holdings",
    annotations=READ_ONLY,
    description="One customer's holdings (stocks, ETFs, bonds, crypto), largest first: "
    "quantity, price, average cost, market value, unrealized gain, weight. About 0.7 KB a "
    "holding.",
)
async def holdings(
    ctx: Context, customer_oid: CustomerOidArg, currency: CurrencyArg = None
) -> Annotated[CallToolResult, AssetsSection]:
    def render(a: AssetsSection) -> str:
        lines = [
            f"{h.symbol}: {_quantity(h.quantity)} \u00d7 {_price(h.current_price, h.currency)} = "
            f"{_money(h.market_value_base, a.base_currency)} ({h.weight_percent}%)"
            for h in a.holdings
        ]
        worth = _money(a.total_market_value, a.base_currency)
        head = f"{count_of(len(a.holdings), 'holding')} worth {worth}"
        return head + (":\n" + "\n".join(lines) if lines else ".")

    return await answer(ctx, lambda s: portfolio.read_assets(s, customer_oid, currency), render)


@tool(
    name="bank_accounts",
    title="Bank accounts",
    annotations=READ_ONLY,
    description="One customer's bank, brokerage and crypto accounts: id (what bank_transfer "
    "and bank_pay take), balance, currency, IBAN, institution; cash per currency and in "
    "total. About 0.4 KB an account.",
)
async def accounts(
    ctx: Context, customer_oid: CustomerOidArg, currency: CurrencyArg = None
) -> Annotated[CallToolResult, AccountsSection]:
    def render(a: AccountsSection) -> str:
        lines = [
            f"{b.account_type} {b.account_number} at {b.institution.name}: "
            f"{_money(b.balance, b.currency)}"
            for b in a.bank_accounts
        ]
        cash = _money(a.total_cash_balance, a.base_currency)
        head = f"Cash {cash} in {count_of(len(lines), 'account')}"
        return head + (":\n" + "\n".join(lines) if lines else ".")

    return await answer(ctx, lambda s: portfolio.read_accounts(s, customer_oid, currency), render)


@tool(
    name="bank_transactions",
    title="Transactions",
    annotations=READ_ONLY,
    description="One customer's transactions, newest first, filtered by dates, type, symbol "
    "or amount (signed: negative leaves the account), with how many match and remain. Filter "
    "rather than page through everything: about 0.5 KB a row; call again with the same "
    "filters and next_cursor for more.",
)
async def transactions(
    ctx: Context,
    customer_oid: CustomerOidArg,
    date_from: FromArg = None,
    date_to: ToArg = None,
    transaction_type: TypeArg = None,
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
        return f"{len(lines):,} of {count_of(p.total, 'transaction')}{more}:\n" + "\n".join(lines)

    return await answer(
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
    description="One customer's card spending totals by category or by month over a range "
    "of months, each with its share, in the base currency. About 6 KB.",
)
async def spending(
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

    return await answer(
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
    description="One customer's option and futures positions, newest first, optionally of "
    "one status; ids here are what bank_order closes. About 0.5 KB a position.",
)
async def derivatives(
    ctx: Context,
    customer_oid: CustomerOidArg,
    status: Annotated[
        DerivativeStatus | None, Field(description="Only positions with this status.")
    ] = None,
) -> Annotated[CallToolResult, DerivativesSection]:
    def render(p: DerivativesSection) -> str:
        lines = [
            f"{d.side} {d.contracts} {d.underlying_symbol} {d.option_type or d.instrument_type}"
            f"{' @ ' + _price(d.strike, d.currency) if d.strike else ''} "
            f"expiring {d.expiry_date} ({d.status})"
            for d in p.derivative_transactions
        ]
        return f"{count_of(p.count, 'derivative position')}:\n" + "\n".join(lines)

    return await answer(
        ctx,
        lambda s: portfolio.read_derivatives(s, customer_oid, status.value if status else None),
        render,
    )


@tool(
    name="bank_market_data",
    title="Market data",
    annotations=READ_ONLY,
    description="Latest price, currency and 1-day, 30-day and 1-year change of up to 10 "
    "symbols (stocks, ETFs, bonds, crypto, GC for gold), as of the market's last day. Needs "
    "no customer. About 0.5 KB a symbol.",
)
async def market_data(
    ctx: Context,
    symbols: Annotated[
        list[Annotated[str, Field(max_length=16)]],
        Field(min_length=1, max_length=10, description="Symbols, e.g. ['AAPL', 'BTC']."),
    ],
) -> Annotated[CallToolResult, MarketDataResponse]:
    def render(m: MarketDataResponse) -> str:
        return "\n".join(
            f"{q.symbol} {_price(q.price, q.currency)}"
            + (f" (1d {q.change_1d.change_percent}%)" if q.change_1d else "")
            for q in m.quotes
        )

    return await answer(ctx, lambda s: market.read_quotes(s, symbols), render)


@tool(
    name="bank_price_history",
    title="Price history",
    annotations=READ_ONLY,
    description="Daily closes of one symbol between two dates, oldest first; by default the "
    "30 days to the market's last day. About 42 bytes a close: a year is 10 KB (15 KB for "
    "crypto, which trades daily), so ask for what you need.",
)
async def price_history(
    ctx: Context,
    symbol: Annotated[str, Field(max_length=16, description="Symbol, e.g. 'AAPL'.")],
    date_from: FromArg = None,
    date_to: ToArg = None,
) -> Annotated[CallToolResult, PriceHistory]:
    def render(h: PriceHistory) -> str:
        lines = [f"{point.date} {_price(point.close, h.currency)}" for point in h.closes]
        return f"{h.symbol} ({h.name}), {count_of(len(lines), 'close')}:\n" + "\n".join(lines)

    def read(session: Session) -> PriceHistory:
        start = date_from
        if start is None:
            last = date_to or market.market_snapshot(session).as_of
            start = last - timedelta(days=30)
        return market.read_price_history(session, symbol, start, date_to)

    return await answer(ctx, read, render)


@tool(
    name="bank_register_customer",
    title="Register a customer",
    annotations=ToolAnnotations(
        read_only_hint=False, destructive_hint=False, idempotent_hint=False
    ),
    description="Register a new customer, with no accounts or holdings. A UUID is "
    "generated unless customer_oid is given; the name is 2 to 100 visible characters, each "
    "word in one script; the profile is optional.",
)
async def register_customer(
    ctx: Context,
    name: Annotated[str, Field(description="Full or company name.", max_length=1000)],
    customer_oid: Annotated[
        str | None, Field(description="Optional UUID for the customer.", max_length=100)
    ] = None,
    profile: Annotated[
        ProfileIn | None, Field(description="Optional: what the customer declares.")
    ] = None,
) -> Annotated[CallToolResult, RegisterCustomerResponse]:
    return await answer(
        ctx,
        lambda s: customers.register_customer(s, name, customer_oid, profile),
        lambda r: f"Registered {r.name} as {r.customer_oid}.",
        write=True,
    )


@tool(
    name="bank_delete_customer",
    title="Delete a customer",
    annotations=ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=False),
    description="Permanently delete a customer and all of its accounts, holdings, "
    "transactions, spending and derivatives. Cannot be undone.",
)
async def delete_customer(
    ctx: Context,
    customer_oid: CustomerOidArg,
) -> Annotated[CallToolResult, DeleteCustomerResponse]:
    return await answer(
        ctx,
        lambda s: customers.delete_customer(s, customer_oid),
        lambda r: f"Deleted {r.customer_oid} and all of its data.",
        write=True,
    )


@tool(
    name="bank_changes",
    title="Changes since a cursor",
    annotations=READ_ONLY,
    description="What changed in the bank, oldest first: rows booked, balances and holdings "
    "moved, instructions executed, scheduled or cancelled, customers registered or deleted, "
    "each with the ids to fetch the rest. Pass next_cursor back to read on or to poll later; "
    "no change is missed or repeated. About 0.4 KB a change.",
)
async def changes(
    ctx: Context,
    cursor: Annotated[
        str | None, Field(description="next_cursor of the previous call.", max_length=500)
    ] = None,
    limit: Annotated[int, Field(ge=1, le=100, description="Page size, 1 to 100.")] = 12,
    types: Annotated[
        list[ChangeType] | None, Field(description="Only these types.", max_length=20)
    ] = None,
    customer_oid: Annotated[
        str | None, Field(description="Only this customer's changes.", max_length=100)
    ] = None,
) -> Annotated[CallToolResult, ChangesPage]:
    server: ServesBank = ctx.mcp_server  # type: ignore[assignment]
    try:
        read = events.changes_reader(
            server.database(),
            cursor=cursor,
            limit=limit,
            types=None if types is None else [t.value for t in types],
            customer_oid=customer_oid,
        )
    except BankError as error:
        return tool_error(error.detail)
    return await answer(ctx, read, render_changes)


def render_changes(page: ChangesPage) -> str:
    lines = [f"#{c.seq} {c.occurred_on} {c.type}{_change_ids(c)}" for c in page.changes]
    more = "more now: call again with next_cursor" if page.has_more else "poll later with it"
    head = f"{count_of(len(lines), 'change')}; {more}: {page.next_cursor}"
    return head + ("\n" + "\n".join(lines) if lines else "")


def _change_ids(change: ChangeOut) -> str:
    parts = [f"customer {change.customer_oid}"] if change.customer_oid else []
    if change.instruction_id is not None:
        parts.append(f"{change.kind or 'instruction'} {change.instruction_id}")
    if change.transaction_id is not None:
        parts.append(f"transaction {change.transaction_id}")
    if change.account_id is not None:
        parts.append(f"account {change.account_id}")
    if change.derivative_id is not None:
        parts.append(f"position {change.derivative_id}")
    if change.symbol is not None:
        parts.append(change.symbol)
    if change.amount is not None:
        parts.append(_money(change.amount, change.currency or ""))
    if change.balance is not None:
        parts.append(f"balance {_money(change.balance, change.currency or '')}")
    if change.quantity is not None:
        parts.append(f"quantity {_quantity(change.quantity)}")
    return ": " + ", ".join(parts) if parts else ""
