"""The REST routes, one router per domain; ``main.py`` includes ``ROUTERS`` in this order,
then the sandboxes' and the answer key's routers. A handler parses, calls a service and
answers; the rules live in ``services/``. Only ``main.py`` imports the routers."""

from typing import Any

from api.routes import changes, customers, instructions, market, openbanking, portfolio, system

ROUTERS = (
    customers.router,
    portfolio.router,
    instructions.writing,
    instructions.router,
    market.router,
    changes.router,
    system.router,
    openbanking.router,
)

TAGS: list[dict[str, Any]] = [
    {
        "name": "customers",
        "description": "Who banks here: list and search customers (a page at a time), "
        "check whether an id is registered, register (with an optional profile) and delete "
        "customers, and read a customer's profile.",
    },
    {
        "name": "portfolio",
        "description": "One customer's money: the whole portfolio, or one section of it "
        "(summary, holdings, accounts, transactions, spending, derivatives), valued in "
        "USD, EUR or GBP as of the market's last day. Start with the summary.",
    },
    {
        "name": "instructions",
        "description": "What a customer tells the bank to do: transfers between its accounts, "
        "payments (today or scheduled, cancellable), market orders and closing option "
        "positions. Each is checked against the bank's rules (a refusal is a 422 naming the "
        "rule, and changes nothing), booked whole in the statement with a reference back, and "
        "may be retried safely with an Idempotency-Key.",
    },
    {
        "name": "market data",
        "description": "The instruments the bank prices: latest closes with their changes, "
        "and each one's daily history.",
    },
    {
        "name": "changes",
        "description": "What changed, in commit order: a feed of typed changes (rows booked, "
        "balances and holdings moved, instructions, customers registered or deleted), each "
        "with the ids to fetch the rest, read a page at a time from a cursor; in the bank or "
        "in a sandbox.",
    },
    {"name": "system", "description": "Whether the service and its database are up."},
    {
        "name": "openbanking mcp",
        "description": "The calls of the OpenBanking MCP server written alongside the original "
        "bank, with its field names: point it at this bank unchanged. Built from the same "
        "services as the sections; each answer says its conventions in its fields.",
    },
    {
        "name": "sandboxes",
        "description": "Isolated banks, one per test or evaluation episode: create one, send "
        "its id as the X-Bank-Sandbox header, reset it, delete it.",
    },
    {
        "name": "evaluation",
        "description": "The answer key for evaluating an agent: questions with gold answers "
        "computed from the bank's (or a sandbox's) current state, and a grader. For the "
        "harness only: no MCP tool reaches them, and they need the full API key.",
    },
]
"""The tags' descriptions, in the order the documentation shows them."""
