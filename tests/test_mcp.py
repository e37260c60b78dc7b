"""The MCP server, driven by the SDK's own client in memory, over stdio and over HTTP."""

import json
import os
import re
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient
from mcp import Client, ClientSession, StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from sqlalchemy import Engine

from bank_mcp import tools as mcp_tools
from bank_mcp.server import build_server
from db import Database
from synthetic.samples import SAMPLE_CUSTOMERS
from tests.helpers import JANE, JOHN, PROJECT, UNKNOWN

pytestmark = pytest.mark.anyio

READ_TOOLS = {
    "bank_find_customers",
    "bank_customer_exists",
    "bank_customer_profile",
    "bank_portfolio_summary",
    "bank_risk",
    "bank_holdings",
    "bank_accounts",
    "bank_transactions",
    "bank_spending",
    "bank_derivatives",
    "bank_market_data",
    "bank_price_history",
    "bank_payees",
    "bank_instructions",
    "bank_changes",
}
WRITE_TOOLS = {
    "bank_register_customer",
    "bank_delete_customer",
    "bank_transfer",
    "bank_pay",
    "bank_cancel_payment",
    "bank_order",
}


@asynccontextmanager
async def connect(engine: Engine, *, allow_writes: bool = False) -> AsyncIterator[Client]:
    database = Database(engine, threads=2, queue=16, queue_timeout=5)
    server = build_server(lambda: database, allow_writes=allow_writes)
    async with Client(server) as client:
        yield client


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    structured: dict[str, Any] | None = result.structured_content
    assert structured is not None
    return structured


async def error_text(client: Client, tool: str, **arguments: Any) -> str:
    result = await client.call_tool(tool, arguments)
    assert result.is_error
    text: str = result.content[0].text  # type: ignore[union-attr]
    return text


async def test_tools_have_schemas_descriptions_and_annotations(engine: Engine) -> None:
    async with connect(engine) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert set(tools) == READ_TOOLS
    for name, tool in tools.items():
        assert len(name) <= 56 and name.startswith("bank_")
        assert tool.description and len(tool.description) > 60
        assert tool.input_schema["type"] == "object"
        assert tool.output_schema and tool.output_schema["type"] == "object"
        assert tool.annotations and tool.annotations.read_only_hint is True
        assert tool.annotations.destructive_hint is False
    transactions = tools["bank_transactions"].input_schema["properties"]
    # The REST query's names; the tool's earlier names are taken too, unlisted.
    assert {"from", "to", "type", "symbol", "min_amount", "max_amount"} <= set(transactions)
    assert {"order", "limit", "cursor"} <= set(transactions)
    assert transactions["limit"]["maximum"] == 100
    assert tools["bank_portfolio_summary"].input_schema["required"] == ["customer_oid"]


@pytest.mark.parametrize("allow_writes", [False, True])
async def test_the_tool_listing_is_lean(engine: Engine, allow_writes: bool) -> None:
    # An agent pays for the whole listing in its context on every session.
    async with connect(engine, allow_writes=allow_writes) as client:
        tools = (await client.list_tools()).tools
    sizes = {
        tool.name: len(json.dumps(tool.model_dump(mode="json", by_alias=True, exclude_none=True)))
        for tool in tools
    }
    assert sum(sizes.values()) / len(sizes) <= 2048, sizes
    for tool in tools:
        listed = json.dumps(tool.input_schema)
        for noise in ('"title"', '"examples"', '{"type": "null"}', '"$defs"', '"$ref"'):
            assert noise not in listed, (tool.name, noise)
        assert tool.description and len(tool.description) <= 400, tool.name
        assert tool.output_schema and set(tool.output_schema["properties"]) >= set(
            tool.output_schema.get("required", [])
        )


async def test_the_listing_keeps_the_constraints_that_matter(engine: Engine) -> None:
    async with connect(engine, allow_writes=True) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    transactions = tools["bank_transactions"].input_schema["properties"]
    assert transactions["type"]["enum"][:2] == ["deposit", "withdrawal"]
    assert transactions["min_amount"]["pattern"] and transactions["from"]["format"] == "date"
    assert transactions["cursor"] == {
        "maxLength": 500,
        "type": "string",
        "description": "next_cursor of the previous page.",
    }
    assert tools["bank_holdings"].input_schema["properties"]["currency"]["enum"] == [
        "USD",
        "EUR",
        "GBP",
    ]
    payee = tools["bank_pay"].input_schema["properties"]["payee"]
    assert payee["required"] == ["name"] and payee["additionalProperties"] is False
    assert payee["properties"]["routing_number"]["pattern"]
    profile = tools["bank_register_customer"].input_schema["properties"]["profile"]
    assert profile["properties"]["risk_tolerance"]["enum"] == [
        "conservative",
        "moderate",
        "aggressive",
    ]
    outline = tools["bank_transactions"].output_schema
    assert outline is not None
    assert outline["properties"]["next_cursor"] == {"type": ["string", "null"]}
    assert outline["properties"]["transactions"] == {"type": "array"}
    assert "total" in outline["required"]


async def test_filters_take_the_rest_names_and_the_earlier_ones(engine: Engine) -> None:
    async with connect(engine) as mcp:
        rest_names = {"from": "2025-01-01", "to": "2026-06-30", "type": "buy"}
        earlier = {"date_from": "2025-01-01", "date_to": "2026-06-30", "transaction_type": "buy"}
        by_rest = await call(mcp, "bank_transactions", customer_oid=JOHN, **rest_names)
        assert by_rest["total"] > 0
        assert {row["transaction_type"] for row in by_rest["transactions"]} == {"buy"}
        assert by_rest == await call(mcp, "bank_transactions", customer_oid=JOHN, **earlier)
        both = await call(mcp, "bank_transactions", customer_oid=JOHN, **rest_names, **earlier)
        assert both == by_rest
        week = {"from": "2026-09-21", "to": "2026-09-25"}
        closes = await call(mcp, "bank_price_history", symbol="BTC", **week)
        assert closes == await call(
            mcp, "bank_price_history", symbol="BTC", date_from="2026-09-21", date_to="2026-09-25"
        )
        assert len(closes["closes"]) == 5


async def test_a_filter_given_under_both_names_with_different_values_is_refused(
    engine: Engine,
) -> None:
    async with connect(engine) as mcp:
        clash = await error_text(
            mcp, "bank_transactions", customer_oid=JOHN, type="buy", transaction_type="sell"
        )
        assert clash == (
            "Invalid arguments: 'type' and 'transaction_type' are two names of one argument, "
            "given different values: give one of them"
        )
        dates = await error_text(
            mcp, "bank_price_history", symbol="BTC", to="2026-09-25", date_to="2026-09-24"
        )
        assert "'to' and 'date_to' are two names of one argument" in dates
        bad = await error_text(mcp, "bank_transactions", customer_oid=JOHN, **{"from": "May"})
        assert bad.startswith("Invalid arguments: argument 'from': ")


async def test_write_tools_exist_only_when_allowed(engine: Engine, client: TestClient) -> None:
    async with connect(engine, allow_writes=True) as mcp:
        tools = {tool.name: tool for tool in (await mcp.list_tools()).tools}
        assert set(tools) == READ_TOOLS | WRITE_TOOLS
        assert tools["bank_delete_customer"].annotations.destructive_hint is True  # type: ignore[union-attr]
        assert tools["bank_register_customer"].annotations.read_only_hint is False  # type: ignore[union-attr]

        registered = await call(mcp, "bank_register_customer", name="  Agent Made ")
        assert registered["name"] == "Agent Made"
        oid = registered["customer_oid"]
        assert client.get(f"/customer/{oid}/exists").json()["exists"] is True
        duplicate = await error_text(mcp, "bank_register_customer", name="Again", customer_oid=oid)
        assert duplicate == f"Customer with CustomerOID '{oid}' already exists"

        deleted = await call(mcp, "bank_delete_customer", customer_oid=oid.upper())
        assert deleted == {
            "customer_oid": oid,
            "message": "Customer and all associated data deleted successfully",
        }
        assert client.get(f"/customer/{oid}/exists").json()["exists"] is False

    async with connect(engine, allow_writes=False) as mcp:
        assert {tool.name for tool in (await mcp.list_tools()).tools} == READ_TOOLS
        result = await mcp.call_tool("bank_delete_customer", {"customer_oid": JOHN})
        assert result.is_error
        assert "Writes are not allowed here" in result.content[0].text  # type: ignore[union-attr]
        assert client.get(f"/customer/{JOHN}/exists").json()["exists"] is True


@pytest.mark.parametrize(
    ("tool", "arguments", "path", "params"),
    [
        ("bank_customer_exists", {}, "/customer/{oid}/exists", {}),
        ("bank_customer_profile", {}, "/customer/{oid}/profile", {}),
        (
            "bank_customer_profile",
            {"currency": "GBP"},
            "/customer/{oid}/profile",
            {"currency": "GBP"},
        ),
        ("bank_portfolio_summary", {}, "/customer/{oid}/summary", {}),
        (
            "bank_portfolio_summary",
            {"currency": "EUR"},
            "/customer/{oid}/summary",
            {"currency": "EUR"},
        ),
        ("bank_risk", {"currency": "EUR"}, "/customer/{oid}/risk", {"currency": "EUR"}),
        ("bank_holdings", {}, "/customer/{oid}/assets", {}),
        ("bank_accounts", {"currency": "GBP"}, "/customer/{oid}/accounts", {"currency": "GBP"}),
        ("bank_transactions", {}, "/customer/{oid}/transactions", {"limit": 12}),
        (
            "bank_transactions",
            {"transaction_type": "buy", "order": "asc", "limit": 3, "date_from": "2025-01-01"},
            "/customer/{oid}/transactions",
            {"type": "buy", "order": "asc", "limit": 3, "from": "2025-01-01"},
        ),
        ("bank_spending", {"group_by": "month"}, "/customer/{oid}/spending", {"group_by": "month"}),
        ("bank_derivatives", {"status": "open"}, "/customer/{oid}/derivatives", {"status": "open"}),
    ],
)
async def test_every_tool_answers_what_the_rest_endpoint_answers(
    engine: Engine,
    client: TestClient,
    tool: str,
    arguments: dict[str, Any],
    path: str,
    params: dict[str, Any],
) -> None:
    async with connect(engine) as mcp:
        for oid in (JOHN, JANE):
            structured = await call(mcp, tool, customer_oid=oid, **arguments)
            rest = client.get(path.format(oid=oid), params=params).json()
            # The URL of the next page is REST's own; MCP clients use next_cursor.
            rest.pop("next", None)
            structured.pop("next", None)
            assert structured == rest


async def test_find_customers_and_market_data_match_rest(
    engine: Engine, client: TestClient
) -> None:
    async with connect(engine) as mcp:
        found = await call(mcp, "bank_find_customers", name="SMITH")
        assert found["customers"] == [{"customer_oid": JANE, "name": "Jane Smith"}]
        first = await call(mcp, "bank_find_customers", limit=2)
        assert first["total"] == 5 and first["remaining"] == 3
        second = await call(mcp, "bank_find_customers", limit=2, cursor=first["next_cursor"])
        rest = client.get("/customers").json()
        assert first["customers"] + second["customers"] == rest[:4]

        quotes = await call(mcp, "bank_market_data", symbols=["AAPL", "BTC"])
        assert quotes == client.get("/market-data", params={"symbols": "AAPL,BTC"}).json()
        week = {"date_from": "2026-09-21", "date_to": "2026-09-25"}
        closes = await call(mcp, "bank_price_history", symbol="BTC", **week)
        rest = client.get(
            "/market-data/BTC/history", params={"from": "2026-09-21", "to": "2026-09-25"}
        )
        assert closes == rest.json() and len(closes["closes"]) == 5


async def test_the_profile_tool_registers_and_reads_a_declared_profile(
    engine: Engine, client: TestClient
) -> None:
    profile = {"founded_on": "2003-03-03", "email": "office@example.net", "esg_investing": True}
    async with connect(engine, allow_writes=True) as mcp:
        registered = await call(mcp, "bank_register_customer", name="Agent Co", profile=profile)
        oid = registered["customer_oid"]
        found = await call(mcp, "bank_customer_profile", customer_oid=oid)
        assert found == client.get(f"/customer/{oid}/profile").json()
        assert (found["kind"], found["founded_on"], found["esg_investing"]) == (
            "company",
            "2003-03-03",
            True,
        )
        text = (await mcp.call_tool("bank_customer_profile", {"customer_oid": JANE})).content[0]
        assert "Jane Smith, person, 35; risk tolerance aggressive" in text.text  # type: ignore[union-attr]
        bad = await error_text(
            mcp, "bank_register_customer", name="Agent Two", profile={"esg_investing": "yes"}
        )
        assert "profile.esg_investing" in bad
        unknown = await error_text(mcp, "bank_customer_profile", customer_oid=UNKNOWN)
        assert unknown == client.get(f"/api/customers/{UNKNOWN}").json()["detail"]


async def test_paging_transactions_says_how_much_is_left(engine: Engine) -> None:
    async with connect(engine) as mcp:
        seen, cursor = [], None
        while True:
            page = await call(mcp, "bank_transactions", customer_oid=JOHN, limit=30, cursor=cursor)
            seen += [t["id"] for t in page["transactions"]]
            assert page["remaining"] == page["total"] - len(seen)
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert len(seen) == len(set(seen)) == page["total"]
        result = await mcp.call_tool("bank_transactions", {"customer_oid": JOHN, "limit": 5})
        text = result.content[0].text  # type: ignore[union-attr]
        assert text.startswith(f"5 of {page['total']} transactions; {page['total'] - 5} more")


async def test_errors_are_tool_errors_with_the_rest_wording(
    engine: Engine, client: TestClient
) -> None:
    async with connect(engine) as mcp:
        unknown = await error_text(mcp, "bank_portfolio_summary", customer_oid=UNKNOWN)
        assert unknown == client.get(f"/customer/{UNKNOWN}/summary").json()["detail"]
        malformed = await error_text(mcp, "bank_holdings", customer_oid="invalid-oid")
        assert malformed == client.get("/customer/invalid-oid/assets").json()["detail"]
        bad_range = await error_text(
            mcp,
            "bank_transactions",
            customer_oid=JOHN,
            date_from="2026-06-01",
            date_to="2026-01-01",
        )
        rest = client.get(
            f"/customer/{JOHN}/transactions", params={"from": "2026-06-01", "to": "2026-01-01"}
        )
        assert bad_range == rest.json()["detail"]
        forged = await error_text(mcp, "bank_transactions", customer_oid=JOHN, cursor="forged")
        assert forged.startswith("cursor: not a cursor this API issued")
        currency = await error_text(mcp, "bank_accounts", customer_oid=JOHN, currency="XYZ")
        assert "use one of EUR, GBP, USD" in currency
        symbols = await error_text(mcp, "bank_market_data", symbols=["AAPL", "NOPE"])
        assert symbols == "Unknown symbols: NOPE"
        too_many = await error_text(mcp, "bank_transactions", customer_oid=JOHN, limit=1000)
        assert "limit" in too_many and "100" in too_many
        for text in (unknown, malformed, bad_range, forged, too_many):
            assert "Traceback" not in text and text != "Error executing tool"


async def test_every_default_answer_fits_in_8_kb(engine: Engine) -> None:
    largest = 0
    async with connect(engine) as mcp:
        for sample in SAMPLE_CUSTOMERS:
            for tool in READ_TOOLS - {
                "bank_find_customers",
                "bank_market_data",
                "bank_price_history",
            }:
                result = await mcp.call_tool(tool, {"customer_oid": sample.customer_oid})
                assert not result.is_error
                size = len(json.dumps(result.structured_content).encode())
                text = result.content[0].text  # type: ignore[union-attr]
                assert size < 8192, (tool, sample.name, size)
                assert len(text.encode()) < 8192
                largest = max(largest, size)
        for tool, arguments in (
            ("bank_find_customers", {}),
            ("bank_price_history", {"symbol": "BTC"}),
            (
                "bank_market_data",
                {
                    "symbols": [
                        "AAPL",
                        "MSFT",
                        "GOOGL",
                        "AMZN",
                        "TSLA",
                        "NVDA",
                        "JNJ",
                        "SAP",
                        "SPY",
                        "QQQ",
                    ]
                },
            ),
        ):
            result = await mcp.call_tool(tool, arguments)
            assert len(json.dumps(result.structured_content).encode()) < 8192
    print(f"largest default tool response: {largest} bytes")


async def test_resources_and_prompt(engine: Engine) -> None:
    async with connect(engine) as mcp:
        resources = {str(r.uri) for r in (await mcp.list_resources()).resources}
        assert resources == {"bank://customers"}
        templates = {
            t.uri_template for t in (await mcp.list_resource_templates()).resource_templates
        }
        assert templates == {
            "bank://customers/{customer_oid}/summary",
            "bank://customers/{customer_oid}/portfolio",
            "bank://customers/{customer_oid}/transactions",
        }
        listing = json.loads((await mcp.read_resource("bank://customers")).contents[0].text)  # type: ignore[union-attr]
        assert listing["total"] == 5
        summary = json.loads(
            (await mcp.read_resource(f"bank://customers/{JOHN}/summary")).contents[0].text  # type: ignore[union-attr]
        )
        assert summary["customer_oid"] == JOHN and summary["base_currency"] == "USD"
        book = json.loads(
            (await mcp.read_resource(f"bank://customers/{JOHN}/portfolio")).contents[0].text  # type: ignore[union-attr]
        )
        assert book["portfolio_summary"]["as_of"] == summary["as_of"]
        assert book["assets"] and "transactions" not in book and "spending" not in book
        recent = json.loads(
            (await mcp.read_resource(f"bank://customers/{JOHN}/transactions")).contents[0].text  # type: ignore[union-attr]
        )
        assert recent["customer_oid"] == JOHN and len(recent["transactions"]) == 50
        assert recent["total"] > 50
        prompt = await mcp.get_prompt("portfolio_review", {"customer_oid": JOHN})
        text = prompt.messages[0].content.text  # type: ignore[union-attr]
        assert JOHN in text and "bank_portfolio_summary" in text


async def test_stdio_transport(database_url: str) -> None:
    parameters = StdioServerParameters(
        command=sys.executable,
        args=["mcp_server.py"],
        cwd=str(PROJECT),
        env={**os.environ, "BANK_DATABASE_URL": database_url, "BANK_MCP_ALLOW_WRITES": "false"},
    )
    async with stdio_client(parameters) as (read, write), ClientSession(read, write) as session:
        initialized = await session.initialize()
        assert initialized.server_info.name == "dummy-bank"
        tools = {tool.name for tool in (await session.list_tools()).tools}
        assert tools == READ_TOOLS
        result = await session.call_tool("bank_customer_exists", {"customer_oid": JOHN})
        assert result.structured_content == {
            "customer_oid": JOHN,
            "exists": True,
            "name": "John Doe",
        }
        failed = await session.call_tool("bank_holdings", {"customer_oid": UNKNOWN})
        assert failed.is_error
        assert failed.content[0].text == f"Customer with CustomerOID '{UNKNOWN}' not found"  # type: ignore[union-attr]


async def test_streamable_http_on_the_running_api(live_server: str) -> None:
    async with (
        httpx2.AsyncClient(timeout=30) as http,
        streamable_http_client(f"{live_server}/mcp", http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        tools = {tool.name for tool in (await session.list_tools()).tools}
        assert tools == READ_TOOLS
        result = await session.call_tool("bank_portfolio_summary", {"customer_oid": JOHN})
        rest = (await http.get(f"{live_server}/customer/{JOHN}/summary")).json()
        assert result.structured_content == rest
        failed = await session.call_tool("bank_customer_exists", {"customer_oid": "invalid-oid"})
        assert failed.is_error and "Invalid CustomerOID format" in failed.content[0].text  # type: ignore[union-attr]
        assert (await http.get(f"{live_server}/no-such-path")).json()["detail"] == "Not Found"


async def test_text_answers_read_like_a_statement(engine: Engine) -> None:
    async with connect(engine) as mcp:
        holdings = await mcp.call_tool("bank_holdings", {"customer_oid": JOHN})
        text = holdings.content[0].text  # type: ignore[union-attr]
        assert "E+" not in text
        for held in holdings.structured_content["holdings"]:
            quantity = mcp_tools._quantity(Decimal(str(held["quantity"])))
            price = f"{Decimal(str(held['current_price'])):,.2f} {held['currency']}"
            value = f"USD {Decimal(str(held['market_value_base'])):,.2f}"
            assert f"{held['symbol']}: {quantity} \u00d7 {price} = {value}" in text, text
        derivatives = await mcp.call_tool("bank_derivatives", {"customer_oid": JOHN})
        lines = derivatives.content[0].text  # type: ignore[union-attr]
        for position in derivatives.structured_content["derivative_transactions"]:
            if position["strike"] is not None:
                strike = f"@ {Decimal(str(position['strike'])):,.2f} {position['currency']}"
                assert strike in lines, lines
        quotes = await mcp.call_tool("bank_market_data", {"symbols": ["AAPL"]})
        quote = quotes.structured_content["quotes"][0]
        expected = f"AAPL {Decimal(str(quote['price'])):,.2f} {quote['currency']} (1d "
        assert quotes.content[0].text.startswith(expected)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("quantity", "text"),
    [("1E+2", "100"), ("100.00000000", "100"), ("0.25000000", "0.25"), ("1250.5", "1,250.5")],
)
def test_quantities_are_written_without_exponent_or_trailing_zeros(
    quantity: str, text: str
) -> None:
    assert mcp_tools._quantity(Decimal(quantity)) == text


@pytest.mark.parametrize(
    ("price", "text"),
    [
        ("228.400000", "228.40 USD"),
        ("94420.494", "94,420.49 USD"),
        ("0.5", "0.50 USD"),
        ("0.000123", "0.000123 USD"),
        ("0", "0.00 USD"),
    ],
)
def test_prices_have_two_decimals_unless_under_one_unit(price: str, text: str) -> None:
    assert mcp_tools._price(Decimal(price), "USD") == text


async def test_counts_in_text_answers_agree_with_their_nouns(engine: Engine) -> None:
    async with connect(engine) as mcp:

        async def first_line(tool: str, **arguments: Any) -> str:
            result = await mcp.call_tool(tool, arguments)
            assert not result.is_error, result.content
            text: str = result.content[0].text  # type: ignore[union-attr]
            return text.splitlines()[0]

        assert await first_line("bank_find_customers", name="smith") == "1 matching customer:"
        assert await first_line("bank_find_customers", limit=2) == (
            "5 matching customers; 3 more (pass next_cursor):"
        )
        summary = await first_line("bank_portfolio_summary", customer_oid=JOHN)
        assert "; 6 holdings, " in summary and "; 1 open derivative position; " in summary
        jane = await first_line("bank_portfolio_summary", customer_oid=JANE)
        assert "; 2 open derivative positions; " in jane
        opened = await first_line("bank_derivatives", customer_oid=JOHN, status="open")
        assert opened == "1 derivative position:"
        assert await first_line("bank_derivatives", customer_oid=JOHN) == (
            "2 derivative positions:"
        )
        one = await first_line("bank_transactions", customer_oid=JOHN, type="buy", limit=1)
        assert re.fullmatch(
            r"1 of \d+ transactions; \d+ more after these \(pass next_cursor\):", one
        )
        day = await first_line(
            "bank_price_history", symbol="BTC", **{"from": "2026-09-25"}, to="2026-09-25"
        )
        assert day.endswith(", 1 close:")
        assert (await first_line("bank_accounts", customer_oid=JANE)).endswith(" in 3 accounts:")


def mcp_page_snippets() -> dict[str, dict[str, Any]]:
    """The MCP client configurations the MCP page gives, by the name of their marker."""
    text = (PROJECT / "docs" / "mcp.md").read_text()
    found = re.findall(r"<!-- mcp-snippet: ([a-z-]+) -->\n```json\n(.*?)```", text, re.DOTALL)
    return {name: json.loads(body) for name, body in found}


def test_the_mcp_page_gives_a_snippet_for_each_client_format() -> None:
    snippets = mcp_page_snippets()
    assert set(snippets) == {"desktop-stdio", "editor-servers", "project-http"}
    assert "command" in snippets["desktop-stdio"]["mcpServers"]["dummy-bank"]
    assert snippets["editor-servers"]["servers"]["dummy-bank"]["type"] == "stdio"
    assert snippets["project-http"]["mcpServers"]["dummy-bank"]["type"] == "http"


@pytest.mark.parametrize("name", ["desktop-stdio", "editor-servers"])
async def test_mcp_page_stdio_snippet_starts_a_working_server(name: str, database_url: str) -> None:
    servers = mcp_page_snippets()[name]
    entry = (servers.get("mcpServers") or servers["servers"])["dummy-bank"]

    def here(value: str) -> str:
        return value.replace("/path/to/dummy-bank", str(PROJECT)).replace(
            "${workspaceFolder}", str(PROJECT)
        )

    # The snippet's own database would be the clone's banking.db; tests use their own.
    env = {key: here(value) for key, value in entry.get("env", {}).items()}
    assert env["BANK_DATABASE_URL"] == f"sqlite:///{PROJECT}/banking.db"
    parameters = StdioServerParameters(
        command=here(entry["command"]),
        args=[here(arg) for arg in entry["args"]],
        env={**os.environ, **env, "BANK_DATABASE_URL": database_url},
    )
    async with stdio_client(parameters) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        assert {tool.name for tool in (await session.list_tools()).tools} == READ_TOOLS
        result = await session.call_tool("bank_customer_exists", {"customer_oid": JOHN})
        assert result.structured_content == {
            "customer_oid": JOHN,
            "exists": True,
            "name": "John Doe",
        }


async def test_mcp_page_http_snippet_reaches_the_running_bank(live_server: str) -> None:
    entry = mcp_page_snippets()["project-http"]["mcpServers"]["dummy-bank"]
    assert entry["url"] == "http://127.0.0.1:3000/mcp"
    url = entry["url"].replace("http://127.0.0.1:3000", live_server)
    async with (
        httpx2.AsyncClient(timeout=30) as http,
        streamable_http_client(url, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        assert {tool.name for tool in (await session.list_tools()).tools} == READ_TOOLS
