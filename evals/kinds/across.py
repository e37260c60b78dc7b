"""Questions that start from a name, compare customers, or have no answer in the data."""

import random
import string
import uuid
from datetime import timedelta
from decimal import Decimal
from typing import ClassVar

from core.money import CURRENCIES
from evals import evidence
from evals.answers import (
    Answer,
    ListAnswer,
    NotFound,
    StringAnswer,
    Tolerance,
    amount,
)
from evals.book import Book, Ledger, Row, cents
from evals.evidence import Call
from evals.kinds.base import (
    Currency,
    CustomerKind,
    CustomerRef,
    Customers,
    Day,
    Kind,
    Month,
    ParameterTypes,
    Params,
    Text,
    add_months,
    day_label,
    kind,
    month_label,
    month_of,
    no_customer,
    pick_ledger,
    unique_name,
)
from evals.kinds.everyday import CashInCurrency, CategorySpending, spent
from evals.kinds.investing import ClosingPrice

CASH, SPENDING, PRICE = CashInCurrency(), CategorySpending(), ClosingPrice()
"""The kinds whose answers the unanswerable ones give when the data does answer them."""


@kind
class CustomerByName(Kind):
    name = "customer_by_name"
    difficulty = "lookup"
    summary = "the customer ID of a customer named in full"
    parameters: ClassVar[ParameterTypes] = {"n": Text, "c": CustomerRef}

    def pick(self, rng: random.Random, book: Book) -> Params | None:
        ledger = pick_ledger(rng, book, lambda found: unique_name(book, found))
        return None if ledger is None else {"n": ledger.name, "c": ledger.customer_oid}

    def ask(self, book: Book, p: Params) -> str:
        return f"What is the customer ID of {p['n']}?"

    def gold(self, book: Book, p: Params) -> Answer:
        found = book.named(p["n"])
        if not found:
            return NotFound(reason=f"no customer is named {p['n']}")
        if len(found) == 1:
            return StringAnswer(value=found[0])
        return ListAnswer(value=found, ordered=False)

    def evidence(self, book: Book, p: Params) -> list[Call]:
        return [evidence.find_customer(p["n"])]

    def tolerance(self, book: Book, p: Params) -> Tolerance | None:
        return None


RANKED = 3


@kind
class RankNetWorth(Kind):
    name = "rank_net_worth"
    difficulty = "multi_hop"
    summary = "three customers, named, ranked by net worth"
    parameters: ClassVar[ParameterTypes] = {"cs": Customers, "k": Currency}

    def pick(self, rng: random.Random, book: Book) -> Params | None:
        chosen: list[str] = []
        worth: list[Decimal] = []
        for _ in range(RANKED * 10):
            ledger = pick_ledger(rng, book, lambda found: unique_name(book, found), tries=5)
            if ledger is None or ledger.customer_oid in chosen:
                continue
            value = book.net_worth(ledger, "USD")
            # Far enough apart that rounding never decides the order.
            if all(abs(value - other) > Decimal(1) for other in worth):
                chosen.append(ledger.customer_oid)
                worth.append(value)
            if len(chosen) == RANKED:
                return {"cs": chosen, "k": rng.choice(CURRENCIES)}
        return None

    def ask(self, book: Book, p: Params) -> str:
        names = [book.names[c] for c in p["cs"]]
        return (
            f"Rank {', '.join(names[:-1])} and {names[-1]} by net worth in {p['k']}, largest first."
        )

    def gold(self, book: Book, p: Params) -> Answer:
        ledgers = [book.ledger(c) for c in p["cs"]]
        ranked = []
        for customer_oid, ledger in zip(p["cs"], ledgers, strict=True):
            if ledger is None:
                return no_customer(customer_oid)
            ranked.append((book.net_worth(ledger, p["k"]), ledger.name))
        return ListAnswer(value=[name for _, name in sorted(ranked, reverse=True)], ordered=True)

    def evidence(self, book: Book, p: Params) -> list[Call]:
        calls = []
        for customer_oid in p["cs"]:
            calls.append(evidence.find_customer(book.names.get(customer_oid, customer_oid)))
            calls.append(evidence.summary(customer_oid, p["k"]))
        return calls

    def tolerance(self, book: Book, p: Params) -> Tolerance | None:
        return None


@kind
class HoldingValueByName(CustomerKind):
    name = "holding_value_by_name"
    difficulty = "multi_hop"
    summary = "the value of a named customer's holding in a base currency"
    parameters: ClassVar[ParameterTypes] = {"c": CustomerRef, "s": Text, "k": Currency}

    def pick(self, rng: random.Random, book: Book) -> Params | None:
        ledger = pick_ledger(
            rng, book, lambda found: bool(found.holdings) and unique_name(book, found)
        )
        if ledger is None:
            return None
        return {
            "c": ledger.customer_oid,
            "s": rng.choice(sorted(ledger.holdings)),
            "k": rng.choice(CURRENCIES),
        }

    def ask(self, book: Book, p: Params) -> str:
        return (
            f"What are {book.names[p['c']]}'s {p['s']} holdings worth in {p['k']} at the "
            "latest price?"
        )

    def answer(self, book: Book, ledger: Ledger, p: Params) -> Answer:
        quantity = ledger.holdings.get(p["s"], Decimal(0))
        return amount(cents(book.value(p["s"], quantity, p["k"])), p["k"])

    def evidence(self, book: Book, p: Params) -> list[Call]:
        name = book.names.get(p["c"], str(p["c"]))
        return [evidence.find_customer(name), evidence.holdings(p["c"], p["k"])]

    def tolerance(self, book: Book, p: Params) -> Tolerance | None:
        return Tolerance(absolute=Decimal("0.01"))


def category_totals(ledger: Ledger, month: str) -> list[tuple[Decimal, str]]:
    """(spent, category) of the month's card payments, largest first."""
    totals: dict[str, list[Row]] = {}
    for row in ledger.card_payments:
        if month_of(row.on) == month and row.category:
            totals.setdefault(row.category, []).append(row)
    return sorted(((spent(rows), category) for category, rows in totals.items()), reverse=True)


def _leading_months(ledger: Ledger) -> list[str]:
    """Months whose largest category clearly leads, in one currency."""
    months = sorted({month_of(row.on) for row in ledger.card_payments})
    leading = []
    for month in months:
        ranked = category_totals(ledger, month)
        currencies = {r.currency for r in ledger.card_payments if month_of(r.on) == month}
        if (
            len(currencies) == 1
            and ranked
            and (len(ranked) == 1 or ranked[0][0] > ranked[1][0] * Decimal("1.01"))
        ):
            leading.append(month)
    return leading


@kind
class TopCategoryByName(CustomerKind):
    name = "top_category_by_name"
    difficulty = "multi_hop"
    summary = "where a named customer spent most by card in a month"
    parameters: ClassVar[ParameterTypes] = {"c": CustomerRef, "m": Month, "k": Currency}

    def pick(self, rng: random.Random, book: Book) -> Params | None:
        ledger = pick_ledger(
            rng,
            book,
            lambda found: bool(found.card_payments) and unique_name(book, found),
        )
        if ledger is None:
            return None
        months = _leading_months(ledger)
        if not months:
            return None
        month = rng.choice(months)
        currency = next(r.currency for r in ledger.card_payments if month_of(r.on) == month)
        return {"c": ledger.customer_oid, "m": month, "k": currency}

    def ask(self, book: Book, p: Params) -> str:
        return (
            f"On what did {book.names[p['c']]} spend the most by card in "
            f"{month_label(p['m'])}? Give the spending category."
        )

    def answer(self, book: Book, ledger: Ledger, p: Params) -> Answer:
        ranked = category_totals(ledger, p["m"])
        if not ranked:
            return NotFound(reason=f"no card payments in {p['m']}")
        return StringAnswer(value=ranked[0][1])

    def evidence(self, book: Book, p: Params) -> list[Call]:
        name = book.names.get(p["c"], str(p["c"]))
        return [
            evidence.find_customer(name),
            evidence.spending(p["c"], "category", p["m"], p["m"], p["k"]),
        ]

    def tolerance(self, book: Book, p: Params) -> Tolerance | None:
        return None


@kind
class UnknownCustomer(CustomerKind):
    name = "unknown_customer"
    difficulty = "unanswerable"
    summary = "the cash of a customer ID nobody has"

    def pick(self, rng: random.Random, book: Book) -> Params | None:
        made_up = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        return None if made_up in book.names else {"c": made_up}

    def ask(self, book: Book, p: Params) -> str:
        return f"How much cash does customer {p['c']} hold in USD, over all accounts?"

    def answer(self, book: Book, ledger: Ledger, p: Params) -> Answer:
        return CASH.answer(book, ledger, {**p, "k": "USD"})

    def evidence(self, book: Book, p: Params) -> list[Call]:
        return [evidence.customer_exists(p["c"])]


@kind
class EmptyMonth(CustomerKind):
    """Asked as a category's spending is, of a month the statements do not cover."""

    name = "empty_month"
    difficulty = "unanswerable"
    summary = "spending in a month the customer's statements do not cover"
    parameters: ClassVar[ParameterTypes] = {"c": CustomerRef, "m": Month, "g": Text, "k": Currency}

    def pick(self, rng: random.Random, book: Book) -> Params | None:
        ledger = pick_ledger(rng, book, lambda found: bool(found.card_payments))
        if ledger is None:
            return None
        if rng.random() < 0.5:
            month = add_months(month_of(book.as_of), rng.randint(1, 3))
        else:
            month = add_months(month_of(ledger.rows[0].on), -rng.randint(1, 3))
        category = rng.choice(sorted({r.category or "" for r in ledger.card_payments} - {""}))
        currency = ledger.card_payments[-1].currency
        return {"c": ledger.customer_oid, "m": month, "g": category, "k": currency}

    def answer(self, book: Book, ledger: Ledger, p: Params) -> Answer:
        if not any(month_of(row.on) == p["m"] for row in ledger.rows):
            return NotFound(reason=f"the customer's statements have nothing in {p['m']}")
        return SPENDING.answer(book, ledger, p)

    def words(self, book: Book, ledger: Ledger, p: Params) -> str:
        return SPENDING.words(book, ledger, p)

    def evidence(self, book: Book, p: Params) -> list[Call]:
        return SPENDING.evidence(book, p)


@kind
class UnknownSymbol(Kind):
    name = "unknown_symbol"
    difficulty = "unanswerable"
    summary = "the price of an instrument the bank does not list"
    parameters: ClassVar[ParameterTypes] = {"s": Text, "d": Day}

    def pick(self, rng: random.Random, book: Book) -> Params | None:
        symbol = "".join(rng.choice(string.ascii_uppercase) for _ in range(rng.randint(4, 5)))
        if symbol in book.instruments:
            return None
        day = book.as_of - timedelta(days=rng.randint(0, 30))
        return {"s": symbol, "d": day.isoformat()}

    def ask(self, book: Book, p: Params) -> str:
        return f"What was the closing price of {p['s']} on {day_label(p['d'])}?"

    def gold(self, book: Book, p: Params) -> Answer:
        return PRICE.gold(book, p)

    def evidence(self, book: Book, p: Params) -> list[Call]:
        return [evidence.quotes(p["s"])]
