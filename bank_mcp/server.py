"""The bank as an MCP server: the tools of ``tools``, resources and a prompt.

Writes (register, delete) exist only when the server is built with them allowed
(``BANK_MCP_ALLOW_WRITES=true``); a read-only API key sees and may call only the
read tools. ``python mcp_server.py`` serves over stdio; the REST app mounts the
same server over streamable HTTP at ``/mcp``.
"""

import argparse
import unicodedata
from collections.abc import Callable, Sequence
from functools import partial
from typing import Annotated, Any

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError
from mcp.shared.exceptions import MCPError
from mcp.types import (
    INVALID_PARAMS,
    CallToolResult,
    GetPromptResult,
    InputRequiredResult,
    SubscribeRequestParams,
    UnsubscribeRequestParams,
)
from mcp.types import Tool as MCPTool
from pydantic import AliasChoices, BaseModel, Field, ValidationError
from pydantic.fields import FieldInfo
from sqlmodel import Session

from api.middleware import MCP_ACCESS, MCP_FAULT
from bank_mcp import instruction_tools  # noqa: F401 (registers its tools)
from bank_mcp.listing import lean_input_schema, outline_output_schema
from bank_mcp.subscriptions import ResourceNotifier, SessionOf, subscription_handlers
from bank_mcp.tools import TOOLS, describe_argument_errors, is_write_tool, tool_error
from core.errors import BankError, InvalidInput
from core.identifiers import parse_customer_oid
from core.names import first_invisible
from db import Database
from services import customers, portfolio
from services.records import TransactionFilter

PORTFOLIO_RESOURCE = {"assets", "bank_accounts", "derivative_transactions", "portfolio_summary"}
"""The sections of /user-portfolio the portfolio resource holds (the transactions have their
own resource; spending is history, not the book)."""
RECENT_TRANSACTIONS = 50

INSTRUCTIONS = """\
Dummy Bank: a sandbox bank with realistic, deterministic customer portfolios.
Start with bank_find_customers to get a customer_oid, then bank_portfolio_summary
for the analysed overview (net worth, allocation, performance, risk, spending).
Drill down with bank_holdings, bank_accounts, bank_transactions (filtered and
paged), bank_spending and bank_derivatives; bank_market_data quotes symbols and
bank_price_history gives one symbol's daily closes.
Amounts are exact decimals; every valuation is as of the market's last day."""


class BankMcpServer(MCPServer):
    """An MCP server that knows where its tools find the database (the app's, once started)."""

    def __init__(self, database: Callable[[], Database], *, allow_writes: bool = False) -> None:
        super().__init__(
            "dummy-bank",
            title="Dummy Bank",
            instructions=INSTRUCTIONS,
            version="1.0.0",
            log_level="WARNING",
        )
        self.database = database
        self.allow_writes = allow_writes

    def writes_allowed(self) -> bool:
        """In a sandbox, what it was created with; in the bank, ``BANK_MCP_ALLOW_WRITES``; and
        never with the read-only key."""
        if MCP_ACCESS.get() == "read":
            return False
        here = self.database().allow_writes
        return self.allow_writes if here is None else here

    async def write_tool_names(self) -> set[str]:
        """The tools registered here that may change data, judged by their own annotations."""
        return {t.name for t in await super().list_tools() if is_write_tool(t.annotations)}

    async def list_tools(self) -> list[MCPTool]:
        """Every tool where writes are allowed, else only the read tools."""
        tools = await super().list_tools()
        if not self.writes_allowed():
            return [t for t in tools if not is_write_tool(t.annotations)]
        return tools

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context | None = None
    ) -> CallToolResult | InputRequiredResult:
        """Calls as REST would take them: unknown or bad arguments and writes with a read-only
        key are tool errors naming the argument and the rule, in the API's own words."""
        injected = MCP_FAULT.get()
        if injected is not None:
            return tool_error(injected)
        found = self._tool_manager.get_tool(name)
        if found is not None:
            if is_write_tool(found.annotations) and not self.writes_allowed():
                if MCP_ACCESS.get() == "read":
                    return tool_error("This API key may only call read tools")
                return tool_error(
                    "Writes are not allowed here: in a sandbox, create it with allow_writes; "
                    "in the bank, start it with BANK_MCP_ALLOW_WRITES=true"
                )
            fields = found.fn_metadata.arg_model.model_fields
            names = [argument_names(key, field) for key, field in fields.items()]
            unknown = sorted(set(arguments) - {name for synonyms in names for name in synonyms})
            if unknown:
                shown = ", ".join(f"'{key[:40]}'" for key in unknown[:5])
                return tool_error(f"Invalid arguments: {shown}: unknown argument, not allowed")
            for synonyms in names:
                given = [name for name in synonyms if name in arguments]
                clash = [name for name in given[1:] if arguments[name] != arguments[given[0]]]
                if clash:
                    return tool_error(
                        f"Invalid arguments: '{given[0]}' and '{clash[0]}' are two names of "
                        "one argument, given different values: give one of them"
                    )
            try:
                found.fn_metadata.arg_model.model_validate(arguments)
            except ValidationError as error:
                return tool_error(describe_argument_errors(error))
        return await super().call_tool(name, arguments, context)

    async def get_prompt(
        self, name: str, arguments: dict[str, Any] | None = None, context: Context | None = None
    ) -> GetPromptResult | InputRequiredResult:
        """Prompt arguments are checked as tool arguments are, before any text is written: an
        unknown argument, a control or formatting character, or a customer_oid that is not an
        id is an MCP error (invalid params) naming the argument, never text in the prompt."""
        found = self._prompt_manager.get_prompt(name)
        if found is not None:
            arguments = checked_prompt_arguments(
                {argument.name for argument in found.arguments or []}, arguments or {}
            )
        return await super().get_prompt(name, arguments, context)


def argument_names(key: str, field: FieldInfo) -> list[str]:
    """Every name a tool argument is taken under: its REST name first, then its synonyms."""
    choices = field.validation_alias
    if isinstance(choices, AliasChoices):
        return [choice for choice in choices.choices if isinstance(choice, str)]
    return [field.alias or key]


def checked_prompt_arguments(known: set[str], arguments: dict[str, Any]) -> dict[str, Any]:
    """The arguments with each customer_oid in its canonical form, or ``MCPError``."""
    unknown = sorted(set(arguments) - known)
    if unknown:
        shown = ", ".join(f"'{key[:40]}'" for key in unknown[:5])
        raise MCPError(INVALID_PARAMS, f"Invalid arguments: {shown}: unknown argument, not allowed")
    checked = dict(arguments)
    for key, value in arguments.items():
        problem = _prompt_argument_problem(value)
        if problem is None and key == "customer_oid":
            try:
                checked[key] = parse_customer_oid(value)
            except InvalidInput as error:
                problem = error.detail
        if problem is not None:
            raise MCPError(INVALID_PARAMS, f"Invalid arguments: argument '{key}': {problem}")
    return checked


def _prompt_argument_problem(value: Any) -> str | None:
    if not isinstance(value, str):
        return "must be a string"
    breaks = any(unicodedata.category(ch) in ("Cc", "Zl", "Zp") for ch in value)
    if breaks or first_invisible(value) is not None:
        return "must not contain control, line-break, invisible or formatting characters"
    return None


def build_server(
    database: Callable[[], Database],
    *,
    allow_writes: bool,
    notifier: ResourceNotifier | None = None,
    session_of: SessionOf = lambda _: None,
) -> BankMcpServer:
    """An MCP server whose tools run their work on ``database()``.

    Every tool is registered; the write tools are listed and run only where writes are
    allowed (``BankMcpServer.writes_allowed``): ``allow_writes`` for the bank itself. With a
    ``notifier`` it takes resource subscriptions (and says so in its capabilities), keyed
    by ``session_of(request context)``: for a transport that keeps sessions.
    """
    server = BankMcpServer(database, allow_writes=allow_writes)
    for spec in TOOLS:
        server.add_tool(
            spec.function,
            name=spec.name,
            title=spec.title,
            description=spec.description,
            annotations=spec.annotations,
        )
        registered = server._tool_manager.get_tool(spec.name)
        assert registered is not None
        registered.parameters = lean_input_schema(registered.parameters)
        if registered.fn_metadata.output_schema is not None:
            registered.fn_metadata.output_schema = outline_output_schema(
                registered.fn_metadata.output_schema
            )
    _add_resources_and_prompts(server)
    if notifier is not None:
        subscribe, unsubscribe = subscription_handlers(notifier, server.database, session_of)
        # The SDK's MCPServer has no decorator for these; its low-level server takes them.
        lowlevel = server._lowlevel_server
        lowlevel.add_request_handler("resources/subscribe", SubscribeRequestParams, subscribe)
        lowlevel.add_request_handler("resources/unsubscribe", UnsubscribeRequestParams, unsubscribe)
    return server


def _add_resources_and_prompts(server: BankMcpServer) -> None:
    async def read_resource(call: Callable[[Session], BaseModel | bytes]) -> str:
        """Resources speak JSON; a domain error is a resource error with the REST wording."""
        try:
            found = await server.database().run(call)
        except BankError as error:
            raise ResourceError(error.detail) from None
        return found.decode() if isinstance(found, bytes) else found.model_dump_json()

    @server.resource(
        "bank://customers",
        name="customers",
        title="Customers",
        mime_type="application/json",
        description="The first 100 customers (customer_oid and name) and how many there are.",
    )
    async def customers_resource() -> str:
        return await read_resource(lambda s: customers.search_customers(s, limit=100))

    @server.resource(
        "bank://customers/{customer_oid}/summary",
        name="customer_summary",
        title="Portfolio summary",
        mime_type="application/json",
        description="One customer's portfolio summary in US dollars.",
    )
    async def summary_resource(customer_oid: str) -> str:
        return await read_resource(lambda s: portfolio.read_summary(s, customer_oid))

    @server.resource(
        "bank://customers/{customer_oid}/portfolio",
        name="customer_portfolio",
        title="Portfolio",
        mime_type="application/json",
        description="One customer's holdings, accounts, derivative positions and portfolio "
        "summary (as_of: the bank's day), as GET /user-portfolio/{customer_oid} gives them "
        "without the transactions and spending. Subscribe to hear when they move.",
    )
    async def portfolio_resource(customer_oid: str) -> str:
        return await read_resource(
            lambda s: portfolio.read_portfolio(
                s, customer_oid, sections=PORTFOLIO_RESOURCE
            ).to_json(set(portfolio.PORTFOLIO_SECTIONS) - PORTFOLIO_RESOURCE)
        )

    @server.resource(
        "bank://customers/{customer_oid}/transactions",
        name="customer_transactions",
        title="Recent transactions",
        mime_type="application/json",
        description=f"One customer's {RECENT_TRANSACTIONS} newest transactions, newest first, "
        "with how many there are in all. Subscribe to hear of new ones.",
    )
    async def transactions_resource(customer_oid: str) -> str:
        return await read_resource(
            lambda s: portfolio.read_transactions(
                s, customer_oid, TransactionFilter(), limit=RECENT_TRANSACTIONS
            )
        )

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


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    from core.settings import add_database_url_option, get_settings

    settings = get_settings()
    parser = argparse.ArgumentParser(
        prog="python mcp_server.py",
        description="Serve the Dummy Bank as MCP tools over stdio, for a client that launches it.",
        epilog="Each option defaults to its BANK_* variable, from the environment or a .env "
        "file in the current directory. For MCP over HTTP, run python main.py: it serves "
        "/mcp beside the REST API, on --host and --port.",
    )
    add_database_url_option(parser)
    parser.add_argument(
        "--allow-writes",
        action=argparse.BooleanOptionalAction,
        default=settings.mcp_allow_writes,
        help="list and allow the tools that register and delete customers "
        "(BANK_MCP_ALLOW_WRITES; now %(default)s)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    from core.settings import get_settings
    from db import open_database, use_bank_secret
    from synthetic.seeding import prepare_database

    args = parse_args(argv)
    settings = get_settings().model_copy(
        update={"database_url": args.database_url, "mcp_allow_writes": args.allow_writes}
    )
    database = open_database(
        settings.database_url,
        threads=settings.db_threads,
        queue=settings.db_queue,
        queue_timeout=settings.db_queue_timeout,
    )
    prepare_database(database.engine, load_samples=settings.seed_on_empty)
    use_bank_secret(database.engine, settings.cursor_secret)
    served: Callable[[], Database] = partial(_same, database)
    if settings.sandbox:
        from sandboxes.manager import SandboxManager

        # Looked up at every call: a reset or delete made over HTTP is seen at once.
        served = partial(SandboxManager(database, settings).database_for_here, settings.sandbox)

    # Over stdio the client's one connection is the session its subscriptions belong to.
    notifier = ResourceNotifier(settings.mcp_notify_poll_s)
    server = build_server(
        served,
        allow_writes=settings.mcp_allow_writes,
        notifier=notifier,
        session_of=lambda _: "stdio",
    )
    anyio.run(serve_stdio, server, notifier)


def _same(database: Database) -> Database:
    return database


async def serve_stdio(server: BankMcpServer, notifier: ResourceNotifier) -> None:
    """``server`` over stdio until the client closes it, and the notifier beside it."""
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(notifier.run_forever)
        await server.run_stdio_async()
        tasks.cancel_scope.cancel()
