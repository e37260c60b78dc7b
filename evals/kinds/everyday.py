"""Questions about accounts and statements: balances, cash, spending, pay and a year's income,
subscriptions."""

import random
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import ClassVar

from evals import evidence
from evals.answers import EXACT, Answer, ListAnswer, NotFound, Tolerance, amount, number
from evals.book import Book, Ledger, Row
from evals.evidence import Call
from evals.kinds.base import (
    Currency,
    CustomerKind,
    CustomerRef,
    Day,
    Month,
    ParameterTypes,
    Params,
    Text,
    add_months,
    choose,
    day_label,
    kind,
    month_label,
    month_of,
    pick_ledger,
    who,
)


def spent(rows: list[Row]) -> Decimal:
    """What card payments took out (refunds, booked positive, give back)."""
    return -sum((row.amount for row in rows), Decimal(0))


@kind
class AccountBalance(CustomerKind):
    name = "account_balance"
    difficulty = "lookup"
    summary = "the balance of one account"
    parameters: ClassVar[ParameterTypes] = {"c": CustomerRef, "a": Text}

    def pick(self, rng: random.Random, book: Book) -> Params | None:
        ledger = pick_ledger(rng, book, lambda found: bool(found.accounts))
        if ledger is None:
            return None
        account = rng.choice(ledger.accounts)
        return {"c": ledger.customer_oid, "a": account.number}

    def words(self, book: Book, ledger: Ledger, p: Params) -> str:
        (account,) = [a for a in ledger.accounts if a.number == p["a"]]
        return (
            f"What is the balance of the {account.account_type} account {account.number} "
            f"that {who(ledger)} holds at {account.institution}?"
        )

    def answer(self, book: Book, ledger: Ledger, p: Params) -> Answer:
        for account in ledger.accounts:
            if account.number == p["a"]:
                return amount(account.balance, account.currency)
        return NotFound(reason=f"the customer has no account {p['a']}")

    def evidence(self, book: Book, p: Params) -> list[Call]:
        return [evidence.accounts(p["c"])]


@kind
class CashInCurrency(CustomerKind):
    name = "cash_in_currency"
    difficulty = "aggregate"
    summary = "the cash of all accounts in one currency"
    parameters: ClassVar[ParameterTypes] = {"c": CustomerRef, "k": Currency}

    def pick(self, rng: random.Random, book: Book) -> Params | None:
        ledger = pick_ledger(rng, book, lambda found: bool(found.accounts))
        if ledger is None:
            return None
        return {"c": ledger.customer_oid, "k": rng.choice(ledger.currencies())}

    def words(self, book: Book, ledger: Ledger, p: Params) -> str:
        return f"How much cash in {p['k']} does {who(ledger)} have, over all accounts?"

    def answer(self, book: Book, ledger: Ledger, p: Params) -> Answer:
        balances = [a.balance for a in ledger.accounts if a.currency == p["k"]]
        return amount(sum(balances, Decimal(0)), p["k"])

    def evidence(self, book: Book, p: Params) -> list[Call]:
        return [evidence.accounts(p["c"])]


def _single_currency(rows: list[Row]) -> str | None:
    currencies = {row.currency for row in rows}
    return currencies.pop() if len(currencies) == 1 else None


@kind
class CategorySpending(CustomerKind):
    name = "category_spending"
    difficulty = "aggregate"
    summary = "card spending in one category in one month"
    parameters: ClassVar[ParameterTypes] = {"c": CustomerRef, "m": Month, "g": Text, "k": Currency}

    def pick(self, rng: random.Random, book: Book) -> Params | None:
        last_month = month_of(book.as_of)
        ledger = pick_ledger(rng, book, lambda found: bool(found.card_payments))
        if ledger is None:
            return None
        groups: dict[tuple[str, str], list[Row]] = defaultdict(list)
        for row in ledger.card_payments:
            if row.category and month_of(row.on) <= last_month:
                groups[month_of(row.on), row.category].append(row)
        usable = sorted(key for key, rows in groups.items() if _single_currency(rows))
        chosen = choose(rng, usable)
        if chosen is None:
            return None
        currency = _single_currency(groups[chosen])
        return {"c": ledger.customer_oid, "m": chosen[0], "g": chosen[1], "k": currency}

    def words(self, book: Book, ledger: Ledger, p: Params) -> str:
        what = p["g"].replace("_", " ")
        return f"How much did {who(ledger)} spend on {what} in {month_label(p['m'])}, by card?"

    def answer(self, book: Book, ledger: Ledger, p: Params) -> Answer:
        rows = [
            row
            for row in ledger.card_payments
            if month_of(row.on) == p["m"] and row.category == p["g"] and row.currency == p["k"]
        ]
        return amount(spent(rows), p["k"])

    def evidence(self, book: Book, p: Params) -> list[Call]:
        return [evidence.spending(p["c"], "category", p["m"], p["m"], p["k"])]


@kind
class MerchantSpending(CustomerKind):
    name = "merchant_spending"
    difficulty = "aggregate"
    summary = "card spending at one merchant between two dates"
    parameters: ClassVar[ParameterTypes] = {
        "c": CustomerRef,
        "n": Text,
        "f": Day,
        "t": Day,
        "k": Currency,
    }

    def pick(self, rng: random.Random, book: Book) -> Params | None:
        ledger = pick_ledger(rng, book, lambda found: bool(found.card_payments))
        if ledger is None:
            return None
        row = rng.choice([r for r in ledger.card_payments if r.merchant])
        first = row.on - timedelta(days=rng.randint(0, 45))
        last = min(book.as_of, row.on + timedelta(days=rng.randint(0, 75)))
        rows = self._rows(ledger, row.merchant or "", first, last)
        currency = _single_currency(rows)
        if currency is None:
            return None
        return {
            "c": ledger.customer_oid,
            "n": row.merchant,
            "f": first.isoformat(),
            "t": last.isoformat(),
            "k": currency,
        }

    @staticmethod
    def _rows(ledger: Ledger, merchant: str, first: date, last: date) -> list[Row]:
        return [
            row
            for row in ledger.card_payments
            if row.merchant == merchant and first <= row.on <= last
        ]

    def words(self, book: Book, ledger: Ledger, p: Params) -> str:
        return (
            f"How much did {who(ledger)} spend at {p['n']} from {day_label(p['f'])} "
            f"to {day_label(p['t'])}?"
        )

    def answer(self, book: Book, ledger: Ledger, p: Params) -> Answer:
        first, last = date.fromisoformat(p["f"]), date.fromisoformat(p["t"])
        rows = [r for r in self._rows(ledger, p["n"], first, last) if r.currency == p["k"]]
        return amount(spent(rows), p["k"])

    def evidence(self, book: Book, p: Params) -> list[Call]:
        return [
            evidence.transactions(
                p["c"], date_from=p["f"], date_to=p["t"], transaction_type="card_payment"
            )
        ]


@kind
class TransactionCount(CustomerKind):
    name = "transaction_count"
    difficulty = "aggregate"
    summary = "how many transactions fall between two dates"
    parameters: ClassVar[ParameterTypes] = {"c": CustomerRef, "f": Day, "t": Day}

    def pick(self, rng: random.Random, book: Book) -> Params | None:
        ledger = pick_ledger(rng, book, lambda found: bool(found.rows))
        if ledger is None:
            return None
        middle = rng.choice(ledger.rows).on
        first = middle - timedelta(days=rng.randint(0, 30))
        last = middle + timedelta(days=rng.randint(0, 30))
        return {"c": ledger.customer_oid, "f": first.isoformat(), "t": last.isoformat()}

    def words(self, book: Book, ledger: Ledger, p: Params) -> str:
        return (
            f"How many transactions did {who(ledger)} have from {day_label(p['f'])} "
            f"to {day_label(p['t'])}, both days included?"
        )

    def answer(self, book: Book, ledger: Ledger, p: Params) -> Answer:
        first, last = date.fromisoformat(p["f"]), date.fromisoformat(p["t"])
        return number(sum(1 for row in ledger.rows if first <= row.on <= last))

    def evidence(self, book: Book, p: Params) -> list[Call]:
        return [evidence.transactions(p["c"], date_from=p["f"], date_to=p["t"], every_page=False)]

    def tolerance(self, book: Book, p: Params) -> Tolerance | None:
        return EXACT


def _salaries(ledger: Ledger, employer: str) -> list[Row]:
    return [
        row
        for row in ledger.rows
        if row.kind == "deposit" and row.category == "income" and row.merchant == employer
    ]


@kind
class LatestSalary(CustomerKind):
    name = "latest_salary"
    difficulty = "lookup"
    summary = "the latest salary payment from the customer's employer"
    parameters: ClassVar[ParameterTypes] = {"c": CustomerRef, "n": Text}

    def pick(self, rng: random.Random, book: Book) -> Params | None:
        ledger = pick_ledger(rng, book, lambda found: found.employer() is not None)
        if ledger is None:
            return None
        return {"c": ledger.customer_oid, "n": ledger.employer()}

    def words(self, book: Book, ledger: Ledger, p: Params) -> str:
        return f"How much was the latest salary payment {who(ledger)} received from {p['n']}?"

    def answer(self, book: Book, ledger: Ledger, p: Params) -> Answer:
        paid = _salaries(ledger, p["n"])
        if not paid:
            return NotFound(reason=f"no salary from {p['n']}")
        return amount(paid[-1].amount, paid[-1].currency)

    def evidence(self, book: Book, p: Params) -> list[Call]:
        return [evidence.transactions(p["c"], transaction_type="deposit", every_page=False)]


def year_to(day: date) -> tuple[date, date]:
    """The twelve months that end on ``day``: from the day after the same date a year before
    (the day after 28 February when that date does not exist)."""
    before = date(day.year - 1, day.month, min(day.day, 28 if day.month == 2 else day.day))
    return before + timedelta(days=1), day


def _income(book: Book, ledger: Ledger) -> list[Row]:
    """Pay, pensions and business receipts booked in the twelve months to the market's
    last day: every credit of category income."""
    first, last = year_to(book.as_of)
    return [
        row
        for row in ledger.rows
        if row.category == "income" and row.amount > 0 and first <= row.on <= last
    ]


@kind
class AnnualIncome(CustomerKind):
    name = "annual_income"
    difficulty = "aggregate"
    summary = "the pay, pension or revenue booked over the last twelve months, to the cent"
    parameters: ClassVar[ParameterTypes] = {"c": CustomerRef, "k": Currency}

    def pick(self, rng: random.Random, book: Book) -> Params | None:
        ledger = pick_ledger(
            rng, book, lambda found: _single_currency(_income(book, found)) is not None
        )
        if ledger is None:
            return None
        return {"c": ledger.customer_oid, "k": _single_currency(_income(book, ledger))}

    def words(self, book: Book, ledger: Ledger, p: Params) -> str:
        first, last = year_to(book.as_of)
        return (
            f"How much income (pay, pension or business revenue) did {who(ledger)} receive "
            f"from {day_label(first)} to {day_label(last)}, in {p['k']}?"
        )

    def answer(self, book: Book, ledger: Ledger, p: Params) -> Answer:
        paid = [row.amount for row in _income(book, ledger) if row.currency == p["k"]]
        return amount(sum(paid, Decimal(0)), p["k"])

    def evidence(self, book: Book, p: Params) -> list[Call]:
        return [evidence.profile(p["c"], p["k"])]


SUBSCRIPTION_MONTHS = 3


def subscriptions(ledger: Ledger, months: list[str]) -> list[str]:
    """Merchants of subscriptions the customer paid in every one of ``months``."""
    paid: dict[str, set[str]] = defaultdict(set)
    for row in ledger.card_payments:
        if row.category == "subscriptions" and row.merchant and month_of(row.on) in months:
            paid[row.merchant].add(month_of(row.on))
    return sorted(merchant for merchant, seen in paid.items() if seen == set(months))


def last_months(book: Book) -> list[str]:
    newest = month_of(book.as_of)
    return [add_months(newest, -back) for back in range(SUBSCRIPTION_MONTHS - 1, -1, -1)]


@kind
class Subscriptions(CustomerKind):
    name = "subscriptions"
    difficulty = "aggregate"
    summary = "the subscriptions paid in each of the last three months"

    def pick(self, rng: random.Random, book: Book) -> Params | None:
        months = last_months(book)
        ledger = pick_ledger(rng, book, lambda found: bool(subscriptions(found, months)))
        return None if ledger is None else {"c": ledger.customer_oid}

    def words(self, book: Book, ledger: Ledger, p: Params) -> str:
        months = last_months(book)
        return (
            f"Which subscriptions did {who(ledger)} pay for in every month from "
            f"{month_label(months[0])} to {month_label(months[-1])}? Name the merchants."
        )

    def answer(self, book: Book, ledger: Ledger, p: Params) -> Answer:
        return ListAnswer(value=subscriptions(ledger, last_months(book)), ordered=False)

    def evidence(self, book: Book, p: Params) -> list[Call]:
        first = f"{last_months(book)[0]}-01"
        return [
            evidence.transactions(
                p["c"],
                date_from=first,
                date_to=book.as_of.isoformat(),
                transaction_type="card_payment",
            )
        ]

    def tolerance(self, book: Book, p: Params) -> Tolerance | None:
        return None
