"""Questions about risk: the book's beta, its one-day value at risk, its worst stress test.

The key works these out from the raw closes, rates and holdings by its own arithmetic:
today's holdings over the last 252 daily returns on SPY's trading days, each price and
rate the last one on or before each day, in US dollars. It asks only about customers
without open derivatives (whose value the key would have to reprice), and the stress
question only where no bond needs a duration and one scenario is clearly the worst.
"""

import math
import random
from datetime import date
from decimal import Decimal
from itertools import pairwise

from evals import evidence
from evals.answers import Answer, NotFound, StringAnswer, Tolerance, amount, number
from evals.book import Book, Ledger
from evals.evidence import Call
from evals.kinds.base import CustomerKind, Params, kind, pick_ledger, who
from market.model import SPECS
from market.scenarios import SCENARIOS

RETURNS = 252
BETA_PLACES = Decimal("0.0001")
BETA = Tolerance(absolute=Decimal("0.0005"))
"""The bank shows four places; floats summed in another order differ in the last one."""
VAR = Tolerance(absolute=Decimal("0.05"), relative=Decimal("0.0001"))
"""A quantile of a year of P&L summed in floats, to the cent: a few cents either way."""


def _window(book: Book) -> list[date]:
    return [day for day, _ in book.closes("SPY")][-(RETURNS + 1) :]


def _on_days(points: list[tuple[date, Decimal]], days: list[date]) -> list[float]:
    """The last value on or before each day (1 where there is none: US dollars)."""
    found, last, index = [], 1.0, 0
    for day in days:
        while index < len(points) and points[index][0] <= day:
            last = float(points[index][1])
            index += 1
        found.append(last)
    return found


def _returns(book: Book, symbol: str, days: list[date]) -> list[float]:
    closes = _on_days(book.closes(symbol), days)
    rates = _on_days(book.rates(book.instruments[symbol][1]), days)
    values = [c * r for c, r in zip(closes, rates, strict=True)]
    return [b / a - 1 for a, b in pairwise(values)]


def _values(book: Book, ledger: Ledger) -> dict[str, float]:
    return {s: float(book.value(s, q, "USD")) for s, q in ledger.holdings.items() if q}


def _daily_pnl(book: Book, ledger: Ledger) -> list[float]:
    days = _window(book)
    pnl = [0.0] * (len(days) - 1)
    for symbol, worth in _values(book, ledger).items():
        for i, r in enumerate(_returns(book, symbol, days)):
            pnl[i] += worth * r
    return pnl


def _plain(ledger: Ledger) -> bool:
    """Holdings, and no open derivative."""
    held = any(quantity for quantity in ledger.holdings.values())
    return held and not any(p.status == "open" for p in ledger.positions)


def beta(book: Book, ledger: Ledger) -> Decimal:
    total = sum(_values(book, ledger).values())
    book_returns = [x / total for x in _daily_pnl(book, ledger)]
    market = _returns(book, "SPY", _window(book))
    mean_b, mean_m = sum(book_returns) / len(book_returns), sum(market) / len(market)
    covariance = sum((b - mean_b) * (m - mean_m) for b, m in zip(book_returns, market, strict=True))
    variance = sum((m - mean_m) ** 2 for m in market)
    return Decimal(repr(covariance / variance)).quantize(BETA_PLACES)


def value_at_risk_99(book: Book, ledger: Ledger) -> Decimal:
    """The 1% quantile of the daily P&L (linear between the order statistics), negative."""
    ordered = sorted(_daily_pnl(book, ledger))
    position = (len(ordered) - 1) * 0.01
    low = math.floor(position)
    value = ordered[low] + (position - low) * (ordered[low + 1] - ordered[low])
    return Decimal(repr(min(value, 0.0))).quantize(Decimal("0.01"))


def stress_losses(book: Book, ledger: Ledger) -> list[tuple[float, str]]:
    """(P&L in US dollars, scenario name) of every scenario, worst first: each holding moves
    by its factor loadings times the shocks, and by the dollar's move if priced in another
    currency."""
    outcomes = []
    for scenario in SCENARIOS:
        shocks = dict(scenario.shocks)
        total = 0.0
        for symbol, worth in _values(book, ledger).items():
            spec = SPECS[symbol]
            local = max(sum(b * shocks.get(f, 0.0) for f, b in spec.loadings), -1.0)
            currency = 1.0 if spec.currency == "USD" else 1.0 - shocks.get("usd", 0.0)
            total += worth * ((1 + local) * currency - 1)
        outcomes.append((total, scenario.name))
    return sorted(outcomes)


def _clear_worst(book: Book, ledger: Ledger) -> bool:
    if not _plain(ledger) or any(SPECS[s].maturity for s in ledger.holdings):
        return False
    (worst, _), (second, _) = stress_losses(book, ledger)[:2]
    value = sum(_values(book, ledger).values())
    return worst < 0 and second - worst > 0.01 * value


@kind
class PortfolioBeta(CustomerKind):
    name = "portfolio_beta"
    difficulty = "lookup"
    summary = "the beta of the customer's holdings against SPY over the last 252 trading days"

    def pick(self, rng: random.Random, book: Book) -> Params | None:
        ledger = pick_ledger(rng, book, _plain)
        return None if ledger is None else {"c": ledger.customer_oid}

    def words(self, book: Book, ledger: Ledger, p: Params) -> str:
        return (
            f"What is the beta against SPY of the holdings of {who(ledger)}, measured on "
            "the last 252 trading days in US dollars?"
        )

    def answer(self, book: Book, ledger: Ledger, p: Params) -> Answer:
        if not _plain(ledger):
            return NotFound(reason="the customer holds nothing, or holds open derivatives")
        return number(beta(book, ledger))

    def evidence(self, book: Book, p: Params) -> list[Call]:
        return [evidence.risk(p["c"])]

    def tolerance(self, book: Book, p: Params) -> Tolerance | None:
        return BETA


@kind
class ValueAtRisk99(CustomerKind):
    name = "value_at_risk_99"
    difficulty = "lookup"
    summary = "the one-day 99% historical value at risk of the customer's holdings"

    def pick(self, rng: random.Random, book: Book) -> Params | None:
        ledger = pick_ledger(rng, book, _plain)
        return None if ledger is None else {"c": ledger.customer_oid}

    def words(self, book: Book, ledger: Ledger, p: Params) -> str:
        return (
            f"What is the one-day 99% value at risk of the holdings of {who(ledger)} by "
            "historical simulation over the last 252 trading days, in US dollars? Give the "
            "loss as a negative amount."
        )

    def answer(self, book: Book, ledger: Ledger, p: Params) -> Answer:
        if not _plain(ledger):
            return NotFound(reason="the customer holds nothing, or holds open derivatives")
        return amount(value_at_risk_99(book, ledger), "USD")

    def evidence(self, book: Book, p: Params) -> list[Call]:
        return [evidence.risk(p["c"])]

    def tolerance(self, book: Book, p: Params) -> Tolerance | None:
        return VAR


@kind
class WorstStress(CustomerKind):
    name = "worst_stress_scenario"
    difficulty = "aggregate"
    summary = "the stress scenario in which the customer's holdings lose the most"

    def pick(self, rng: random.Random, book: Book) -> Params | None:
        ledger = pick_ledger(rng, book, lambda found: _clear_worst(book, found))
        return None if ledger is None else {"c": ledger.customer_oid}

    def words(self, book: Book, ledger: Ledger, p: Params) -> str:
        names = ", ".join(s.name for s in SCENARIOS)
        return (
            f"Of the bank's stress scenarios ({names}), in which do the holdings of "
            f"{who(ledger)} lose the most? Answer with the scenario's name."
        )

    def answer(self, book: Book, ledger: Ledger, p: Params) -> Answer:
        if not _plain(ledger):
            return NotFound(reason="the customer holds nothing, or holds open derivatives")
        return StringAnswer(value=stress_losses(book, ledger)[0][1])

    def evidence(self, book: Book, p: Params) -> list[Call]:
        return [evidence.risk(p["c"])]

    def tolerance(self, book: Book, p: Params) -> Tolerance | None:
        return None
