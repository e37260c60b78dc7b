"""Evidence: the API calls that together answer a question, over REST and over MCP.

Each call is written once here, as the REST request (path and query) beside the MCP
tool call that asks the same, so a question's evidence is true for either way in.
"""

from typing import Any
from urllib.parse import urlencode

from pydantic import BaseModel, Field, computed_field

REST_PAGE = 500
MCP_PAGE = 100


class Call(BaseModel):
    """One call of a question's evidence."""

    purpose: str = Field(description="What this call contributes to the answer.")
    method: str = "GET"
    path: str
    query: dict[str, str] = Field(default_factory=dict)
    mcp_tool: str = Field(description="The MCP tool that answers the same.")
    mcp_arguments: dict[str, Any] = Field(default_factory=dict)
    paged: bool = Field(
        default=False,
        description="Follow the pages (next_cursor) to the end: the answer needs every one.",
    )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def url(self) -> str:
        """The REST request, ready to send."""
        return self.path + (f"?{urlencode(self.query)}" if self.query else "")


def _currency(currency: str | None) -> dict[str, str]:
    return {"currency": currency} if currency else {}


def find_customer(name: str) -> Call:
    return Call(
        purpose=f"find the customer named {name}",
        path="/customers",
        query={"name": name},
        mcp_tool="bank_find_customers",
        mcp_arguments={"name": name},
    )


def customer_exists(customer_oid: str) -> Call:
    return Call(
        purpose="check whether the customer exists",
        path=f"/customer/{customer_oid}/exists",
        mcp_tool="bank_customer_exists",
        mcp_arguments={"customer_oid": customer_oid},
    )


def accounts(customer_oid: str, currency: str | None = None) -> Call:
    return Call(
        purpose="the customer's accounts and cash by currency",
        path=f"/customer/{customer_oid}/accounts",
        query=_currency(currency),
        mcp_tool="bank_accounts",
        mcp_arguments={"customer_oid": customer_oid, **_currency(currency)},
    )


def holdings(customer_oid: str, currency: str | None = None) -> Call:
    return Call(
        purpose="the customer's holdings, valued"
        + (f" in {currency}" if currency else " in the base currency"),
        path=f"/customer/{customer_oid}/assets",
        query=_currency(currency),
        mcp_tool="bank_holdings",
        mcp_arguments={"customer_oid": customer_oid, **_currency(currency)},
    )


def risk(customer_oid: str) -> Call:
    return Call(
        purpose="the risk of the customer's holdings: beta, value at risk, stress tests",
        path=f"/customer/{customer_oid}/risk",
        mcp_tool="bank_risk",
        mcp_arguments={"customer_oid": customer_oid},
    )


def profile(customer_oid: str, currency: str) -> Call:
    return Call(
        purpose=f"the customer's profile, with its income over the last twelve months in "
        f"{currency}",
        path=f"/customer/{customer_oid}/profile",
        query={"currency": currency},
        mcp_tool="bank_customer_profile",
        mcp_arguments={"customer_oid": customer_oid, "currency": currency},
    )


def summary(customer_oid: str, currency: str) -> Call:
    return Call(
        purpose=f"the customer's net worth and analysis in {currency}",
        path=f"/customer/{customer_oid}/summary",
        query={"currency": currency},
        mcp_tool="bank_portfolio_summary",
        mcp_arguments={"customer_oid": customer_oid, "currency": currency},
    )


def transactions(
    customer_oid: str,
    *,
    date_from: str | None = None,
    date_to: str | None = None,
    transaction_type: str | None = None,
    symbol: str | None = None,
    every_page: bool = True,
) -> Call:
    """The customer's transactions, newest first; with ``every_page`` false, the first
    page is enough (what is wanted is the newest, or only the total)."""
    filters = {"from": date_from, "to": date_to, "type": transaction_type, "symbol": symbol}
    query = {name: value for name, value in filters.items() if value}
    tool_names = {
        "from": "date_from",
        "to": "date_to",
        "type": "transaction_type",
        "symbol": "symbol",
    }
    size = REST_PAGE if every_page else 100
    return Call(
        purpose="the customer's transactions"
        + (f" of type {transaction_type}" if transaction_type else "")
        + (f" in {symbol}" if symbol else "")
        + (f" from {date_from} to {date_to}" if date_from and date_to else ""),
        path=f"/customer/{customer_oid}/transactions",
        query={**query, "limit": str(size)},
        mcp_tool="bank_transactions",
        mcp_arguments={
            **{tool_names[name]: value for name, value in query.items()},
            "customer_oid": customer_oid,
            "limit": min(size, MCP_PAGE),
        },
        paged=every_page,
    )


def spending(
    customer_oid: str, group_by: str, from_month: str, to_month: str, currency: str
) -> Call:
    arguments = {
        "group_by": group_by,
        "from_month": from_month,
        "to_month": to_month,
        "currency": currency,
    }
    return Call(
        purpose=f"the customer's card spending by {group_by}, {from_month} to {to_month}",
        path=f"/customer/{customer_oid}/spending",
        query=arguments,
        mcp_tool="bank_spending",
        mcp_arguments={"customer_oid": customer_oid, **arguments},
    )


def derivatives(customer_oid: str, status: str) -> Call:
    return Call(
        purpose=f"the customer's {status} option and futures positions",
        path=f"/customer/{customer_oid}/derivatives",
        query={"status": status},
        mcp_tool="bank_derivatives",
        mcp_arguments={"customer_oid": customer_oid, "status": status},
    )


def quotes(symbol: str) -> Call:
    return Call(
        purpose=f"{symbol}'s latest close and its changes",
        path="/market-data",
        query={"symbols": symbol},
        mcp_tool="bank_market_data",
        mcp_arguments={"symbols": [symbol]},
    )


def price_history(symbol: str, date_from: str, date_to: str) -> Call:
    return Call(
        purpose=f"{symbol}'s daily closes from {date_from} to {date_to}",
        path=f"/market-data/{symbol}/history",
        query={"from": date_from, "to": date_to},
        mcp_tool="bank_price_history",
        mcp_arguments={"symbol": symbol, "date_from": date_from, "date_to": date_to},
    )
