"""A scripted stand-in for an agent: it answers a question by making the calls of its
evidence and reading the answer off the responses, as an agent would.

It never looks at the gold answer. The tests use it over REST to show that every
question of every kind can be answered from what the API says, and that what the API
says agrees with the key's own arithmetic; the example in ``examples/`` uses it over MCP.
It reads the question's ``kind``, ``parameters`` and ``evidence``, and the key's
``as_of``; the responses are the same JSON over REST and MCP, except where noted.
"""

from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

Json = Any
Reader = Callable[[dict[str, Any], list[Json], date], Json]
READERS: dict[str, Reader] = {}


def reads(name: str) -> Callable[[Reader], Reader]:
    def register(reader: Reader) -> Reader:
        READERS[name] = reader
        return reader

    return register


def answer(question: dict[str, Any], results: list[Json], as_of: date) -> Json:
    """The answer to ``question`` from the responses to its evidence, in order."""
    if any(isinstance(r, dict) and "error" in r for r in results):
        return None
    return READERS[question["kind"]](question, results, as_of)


# Making the calls: one response per call of the evidence, every page of a paged one.


async def collect_rest(
    get: Callable[[str, dict[str, str]], Awaitable[tuple[int, Json]]], call: dict[str, Any]
) -> Json:
    """The response to one call over REST: ``get(path, query)`` gives (status, body)."""

    async def page(cursor: str | None) -> Json:
        query = {**call["query"], **({"cursor": cursor} if cursor else {})}
        status, body = await get(call["path"], query)
        if status >= 400:
            return {
                "error": status,
                "detail": body.get("detail") if isinstance(body, dict) else body,
            }
        return body

    return await _every_page(page, call["paged"])


async def collect_mcp(
    call_tool: Callable[[str, dict[str, Any]], Awaitable[tuple[bool, Json]]],
    call: dict[str, Any],
) -> Json:
    """The response to one call over MCP: ``call_tool(name, arguments)`` gives
    (is_error, structured content or the error text)."""

    async def page(cursor: str | None) -> Json:
        arguments = {**call["mcp_arguments"], **({"cursor": cursor} if cursor else {})}
        failed, body = await call_tool(call["mcp_tool"], arguments)
        return {"error": True, "detail": body} if failed else body

    return await _every_page(page, call["paged"])


async def _every_page(page: Callable[[str | None], Awaitable[Json]], paged: bool) -> Json:
    """The first page, or with ``paged`` every page's transactions in one answer."""
    body = await page(None)
    while paged and isinstance(body, dict) and "error" not in body and body.get("next_cursor"):
        more = await page(body["next_cursor"])
        if "error" in more:
            return more
        body = {**more, "transactions": body["transactions"] + more["transactions"]}
    return body


# Reading the answers.


def exact(value: Json) -> Decimal:
    """A JSON number as the exact decimal it was written as."""
    return Decimal(str(value))


def _param(question: dict[str, Any], name: str) -> Any:
    return question["parameters"][name]


def _holding(results: list[Json], symbol: str) -> dict[str, Any] | None:
    return next((h for h in results[-1]["holdings"] if h["symbol"] == symbol), None)


@reads("account_balance")
def _balance(q: dict[str, Any], results: list[Json], as_of: date) -> Json:
    for account in results[0]["bank_accounts"]:
        if account["account_number"] == _param(q, "a"):
            return {"amount": str(exact(account["balance"])), "currency": account["currency"]}
    return None


@reads("cash_in_currency")
def _cash(q: dict[str, Any], results: list[Json], as_of: date) -> Json:
    for line in results[0]["cash_by_currency"]:
        if line["currency"] == _param(q, "k"):
            return {"amount": str(exact(line["balance"])), "currency": line["currency"]}
    return {"amount": "0", "currency": _param(q, "k")}


def _group(results: list[Json], key: str) -> Json:
    return next((str(exact(g["total"])) for g in results[0]["groups"] if g["key"] == key), "0")


@reads("category_spending")
def _category(q: dict[str, Any], results: list[Json], as_of: date) -> Json:
    return {"amount": _group(results, _param(q, "g")), "currency": results[0]["base_currency"]}


@reads("top_category_by_name")
def _top_category(q: dict[str, Any], results: list[Json], as_of: date) -> Json:
    groups = results[-1]["groups"]
    return max(groups, key=lambda g: exact(g["total"]))["key"] if groups else None


@reads("empty_month")
def _empty_month(q: dict[str, Any], results: list[Json], as_of: date) -> Json:
    if not results[0]["groups"]:
        return None  # nothing at all that month: the statements do not cover it
    return _category(q, results, as_of)


@reads("merchant_spending")
def _merchant(q: dict[str, Any], results: list[Json], as_of: date) -> Json:
    paid = [t for t in results[0]["transactions"] if t["merchant"] == _param(q, "n")]
    return str(-sum((exact(t["amount"]) for t in paid), Decimal(0)))


@reads("transaction_count")
def _count(q: dict[str, Any], results: list[Json], as_of: date) -> Json:
    return results[0]["total"]


@reads("latest_salary")
def _salary(q: dict[str, Any], results: list[Json], as_of: date) -> Json:
    for t in results[0]["transactions"]:  # newest first
        if t["merchant"] == _param(q, "n") and t["category"] == "income":
            return {"amount": str(exact(t["amount"])), "currency": t["currency"]}
    return None


@reads("annual_income")
def _annual_income(q: dict[str, Any], results: list[Json], as_of: date) -> Json:
    found = results[0]
    return {"amount": str(exact(found["annual_income"])), "currency": found["base_currency"]}


@reads("last_purchase")
def _last_purchase(q: dict[str, Any], results: list[Json], as_of: date) -> Json:
    bought = results[0]["transactions"]  # newest first
    return bought[0]["transaction_date"] if bought else None


@reads("subscriptions")
def _subscriptions(q: dict[str, Any], results: list[Json], as_of: date) -> Json:
    query = q["evidence"][0]["query"]
    first, last = date.fromisoformat(query["from"]), date.fromisoformat(query["to"])
    months = {f"{d:%Y-%m}" for d in (first + timedelta(n) for n in range((last - first).days + 1))}
    seen: dict[str, set[str]] = {}
    for t in results[0]["transactions"]:
        if t["category"] == "subscriptions" and t["merchant"]:
            seen.setdefault(t["merchant"], set()).add(t["transaction_date"][:7])
    return sorted(merchant for merchant, paid in seen.items() if paid == months)


@reads("holding_quantity")
def _quantity(q: dict[str, Any], results: list[Json], as_of: date) -> Json:
    holding = _holding(results, _param(q, "s"))
    return str(exact(holding["quantity"])) if holding else "0"


@reads("largest_holding")
def _largest(q: dict[str, Any], results: list[Json], as_of: date) -> Json:
    holdings = results[0]["holdings"]
    if not holdings:
        return None
    return max(holdings, key=lambda h: exact(h["market_value_base"]))["symbol"]


@reads("unrealized_gain")
def _gain(q: dict[str, Any], results: list[Json], as_of: date) -> Json:
    holding = _holding(results, _param(q, "s"))
    if holding is None:
        return None
    return {"amount": str(exact(holding["unrealized_gain"])), "currency": holding["currency"]}


@reads("holding_value_by_name")
def _holding_value(q: dict[str, Any], results: list[Json], as_of: date) -> Json:
    holding = _holding(results, _param(q, "s"))
    value = exact(holding["market_value_base"]) if holding else Decimal(0)
    return {"amount": str(value), "currency": results[-1]["base_currency"]}


@reads("net_worth")
def _net_worth(q: dict[str, Any], results: list[Json], as_of: date) -> Json:
    summary = results[0]
    return {
        "amount": str(exact(summary["totals"]["net_worth"])),
        "currency": summary["base_currency"],
    }


@reads("portfolio_beta")
def _beta(q: dict[str, Any], results: list[Json], as_of: date) -> Json:
    beta = results[0]["beta"]
    return None if beta is None else str(exact(beta))


@reads("value_at_risk_99")
def _var(q: dict[str, Any], results: list[Json], as_of: date) -> Json:
    risk = results[0]
    if risk["volatility_percent"] is None:
        return None
    row = next(
        r for r in risk["value_at_risk"] if (r["confidence_percent"], r["horizon_days"]) == (99, 1)
    )
    return {"amount": str(exact(row["historical_var"])), "currency": risk["base_currency"]}


@reads("worst_stress_scenario")
def _worst(q: dict[str, Any], results: list[Json], as_of: date) -> Json:
    return results[0]["worst_scenario"]


@reads("closing_price")
def _close(q: dict[str, Any], results: list[Json], as_of: date) -> Json:
    for point in results[0]["closes"]:
        if point["date"] == _param(q, "d"):
            return str(exact(point["close"]))
    return None


@reads("unknown_symbol")
def _unknown_symbol(q: dict[str, Any], results: list[Json], as_of: date) -> Json:
    return None  # the quote was found after all: the question is not for this agent


@reads("price_change")
def _change(q: dict[str, Any], results: list[Json], as_of: date) -> Json:
    quote = results[0]["quotes"][0]
    change = quote["change_30d" if _param(q, "w") == "30d" else "change_1y"]
    return str(exact(change["change_percent"])) if change else None


@reads("expiring_derivatives")
def _expiring(q: dict[str, Any], results: list[Json], as_of: date) -> Json:
    window = _param(q, "w")
    return sum(
        1
        for d in results[0]["derivative_transactions"]
        if 0 <= (date.fromisoformat(d["expiry_date"]) - as_of).days <= window
    )


def _matches(found: Json, name: str) -> list[str]:
    customers = found if isinstance(found, list) else found["customers"]
    return [c["customer_oid"] for c in customers if c["name"].casefold() == name.casefold()]


@reads("customer_by_name")
def _by_name(q: dict[str, Any], results: list[Json], as_of: date) -> Json:
    found = _matches(results[0], _param(q, "n"))
    return None if not found else found[0] if len(found) == 1 else found


@reads("rank_net_worth")
def _rank(q: dict[str, Any], results: list[Json], as_of: date) -> Json:
    names = [call["query"]["name"] for call in q["evidence"][0::2]]
    worth = [exact(summary["totals"]["net_worth"]) for summary in results[1::2]]
    return [name for _, name in sorted(zip(worth, names, strict=True), reverse=True)]


@reads("unknown_customer")
def _unknown_customer(q: dict[str, Any], results: list[Json], as_of: date) -> Json:
    return None  # no such customer (had it existed, a real agent would look further)
