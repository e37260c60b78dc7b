"""Questions about investments and markets: holdings, gains, net worth, prices, derivatives."""

import random
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, ClassVar, Literal

from pydantic import Field

from core.money import CURRENCIES
from evals import evidence
from evals.answers import (
    EXACT,
    AmountAnswer,
    Answer,
    DateAnswer,
    NotFound,
    StringAnswer,
    Tolerance,
    amount,
    number,
)
from evals.book import Book, Ledger, cents
from evals.evidence import Call
from evals.kinds.base import (
    Currency,
    CustomerKind,
    CustomerRef,
    Day,
    Kind,
    ParameterTypes,
    Params,
    Text,
    choose,
    day_label,
    kind,
    pick_ledger,
    who,
)

CONVERTED = Tolerance(absolute=Decimal("0.05"), relative=Decimal("0.00001"))
"""Figures summed over holdings and accounts converted at the day's rates: each line may
be rounded to the cent before the sum, so a few cents either way are the same answer."""


def price_answer(value: Decimal, currency: str) -> AmountAnswer:
    places = max(2, -value.normalize().as_tuple().exponent)  # type: ignore[operator]
    return amount(value, currency, places)


@kind
class HoldingQuantity(CustomerKind):
    name = "holding_quantity"
    difficulty = "lookup"
    summary = "how many units of one instrument the customer holds"
    parameters: ClassVar[ParameterTypes] = {"c": CustomerRef, "s": Text}

    def pick(self, rng: random.Random, book: Book) -> Params | None:
        ledger = pick_ledger(rng, book, lambda found: bool(found.holdings))
        if ledger is None:
            return None
        return {"c": ledger.customer_oid, "s": rng.choice(sorted(ledger.holdings))}

    def words(self, book: Book, ledger: Ledger, p: Params) -> str:
        name = book.instruments[p["s"]][0]
        return f"How many units of {p['s']} ({name}) does {who(ledger)} hold?"

    def answer(self, book: Book, ledger: Ledger, p: Params) -> Answer:
        return number(ledger.holdings.get(p["s"], Decimal(0)))

    def evidence(self, book: Book, p: Params) -> list[Call]:
        return [evidence.holdings(p["c"])]

    def tolerance(self, book: Book, p: Params) -> Tolerance | None:
        return EXACT


@kind
class LastPurchase(CustomerKind):
    name = "last_purchase"
    difficulty = "lookup"
    summary = "the day the customer last bought an instrument"
    parameters: ClassVar[ParameterTypes] = {"c": CustomerRef, "s": Text}

    def pick(self, rng: random.Random, book: Book) -> Params | None:
        ledger = pick_ledger(rng, book, lambda found: bool(_bought(found)))
        if ledger is None:
            return None
        return {"c": ledger.customer_oid, "s": rng.choice(_bought(ledger))}

    def words(self, book: Book, ledger: Ledger, p: Params) -> str:
        return f"On what day did {who(ledger)} last buy {p['s']}?"

    def answer(self, book: Book, ledger: Ledger, p: Params) -> Answer:
        days = [row.on for row in ledger.rows if row.kind == "buy" and row.symbol == p["s"]]
        if not days:
            return NotFound(reason=f"the customer never bought {p['s']}")
        return DateAnswer(value=max(days))

    def evidence(self, book: Book, p: Params) -> list[Call]:
        return [
            evidence.transactions(p["c"], transaction_type="buy", symbol=p["s"], every_page=False)
        ]

    def tolerance(self, book: Book, p: Params) -> Tolerance | None:
        return None


def _bought(ledger: Ledger) -> list[str]:
    return sorted({row.symbol for row in ledger.rows if row.kind == "buy" and row.symbol})


def ranked_holdings(book: Book, ledger: Ledger) -> list[tuple[Decimal, str]]:
    """(value in USD, symbol), largest first."""
    values = [(book.value(s, q, "USD"), s) for s, q in ledger.holdings.items()]
    return sorted(values, reverse=True)


def clear_leader(book: Book, ledger: Ledger) -> bool:
    ranked = ranked_holdings(book, ledger)
    return len(ranked) >= 2 and ranked[0][0] > ranked[1][0] * Decimal("1.005")


@kind
class LargestHolding(CustomerKind):
    name = "largest_holding"
    difficulty = "aggregate"
    summary = "the holding with the largest market value"

    def pick(self, rng: random.Random, book: Book) -> Params | None:
        ledger = pick_ledger(rng, book, lambda found: clear_leader(book, found))
        return None if ledger is None else {"c": ledger.customer_oid}

    def words(self, book: Book, ledger: Ledger, p: Params) -> str:
        return f"Which holding of {who(ledger)} is the largest by market value? Give its symbol."

    def answer(self, book: Book, ledger: Ledger, p: Params) -> Answer:
        ranked = ranked_holdings(book, ledger)
        if not ranked:
            return NotFound(reason="the customer holds no investments")
        return StringAnswer(value=ranked[0][1])

    def evidence(self, book: Book, p: Params) -> list[Call]:
        return [evidence.holdings(p["c"])]

    def tolerance(self, book: Book, p: Params) -> Tolerance | None:
        return None


def average_cost_basis(ledger: Ledger, symbol: str) -> tuple[Decimal, Decimal] | None:
    """(quantity, cost) of a holding rebuilt from its buys and sells by the average-cost
    method (a sell takes out its share of the cost; fees are not cost), or None when the
    trades do not add up to what is held."""
    held, cost = Decimal(0), Decimal(0)
    for row in ledger.rows:
        if row.symbol != symbol or row.quantity is None or row.price is None:
            continue
        units = abs(row.quantity)
        if row.kind == "buy":
            held, cost = held + units, cost + units * row.price
        elif row.kind == "sell" and held:
            held, cost = held - units, cost * (held - units) / held
    if held <= 0 or held != ledger.holdings.get(symbol):
        return None
    return held, cost


@kind
class UnrealizedGain(CustomerKind):
    name = "unrealized_gain"
    difficulty = "aggregate"
    summary = "a holding's unrealized gain by the average-cost method"
    parameters: ClassVar[ParameterTypes] = {"c": CustomerRef, "s": Text}

    def pick(self, rng: random.Random, book: Book) -> Params | None:
        ledger = pick_ledger(
            rng, book, lambda found: any(average_cost_basis(found, s) for s in found.holdings)
        )
        if ledger is None:
            return None
        symbols = sorted(s for s in ledger.holdings if average_cost_basis(ledger, s))
        return {"c": ledger.customer_oid, "s": rng.choice(symbols)}

    def words(self, book: Book, ledger: Ledger, p: Params) -> str:
        currency = book.instruments[p["s"]][1]
        return (
            f"What is the unrealized gain of {who(ledger)} on {p['s']}, in {currency}, by the "
            "average cost of the units bought?"
        )

    def answer(self, book: Book, ledger: Ledger, p: Params) -> Answer:
        basis = average_cost_basis(ledger, p["s"])
        if basis is None:
            return NotFound(reason=f"the customer's {p['s']} trades do not make the holding")
        held, cost = basis
        currency = book.instruments[p["s"]][1]
        return amount(cents(book.value(p["s"], held, currency) - cost), currency)

    def evidence(self, book: Book, p: Params) -> list[Call]:
        return [evidence.holdings(p["c"], book.instruments[p["s"]][1])]

    def tolerance(self, book: Book, p: Params) -> Tolerance | None:
        return Tolerance(absolute=Decimal("0.01"))


@kind
class NetWorth(CustomerKind):
    name = "net_worth"
    difficulty = "aggregate"
    summary = "net worth (cash and investments) in a base currency"
    parameters: ClassVar[ParameterTypes] = {"c": CustomerRef, "k": Currency}

    def pick(self, rng: random.Random, book: Book) -> Params | None:
        ledger = pick_ledger(rng, book, lambda found: bool(found.accounts or found.holdings))
        if ledger is None:
            return None
        return {"c": ledger.customer_oid, "k": rng.choice(CURRENCIES)}

    def words(self, book: Book, ledger: Ledger, p: Params) -> str:
        return (
            f"What is the net worth of {who(ledger)} in {p['k']}: cash plus investments at "
            "the latest prices?"
        )

    def answer(self, book: Book, ledger: Ledger, p: Params) -> Answer:
        return amount(book.net_worth(ledger, p["k"]), p["k"])

    def evidence(self, book: Book, p: Params) -> list[Call]:
        return [evidence.summary(p["c"], p["k"])]

    def tolerance(self, book: Book, p: Params) -> Tolerance | None:
        return CONVERTED


@kind
class ClosingPrice(Kind):
    name = "closing_price"
    difficulty = "lookup"
    summary = "an instrument's close on a given day"
    parameters: ClassVar[ParameterTypes] = {"s": Text, "d": Day}

    def pick(self, rng: random.Random, book: Book) -> Params | None:
        symbol = choose(rng, sorted(book.instruments))
        if symbol is None:
            return None
        year_ago = book.as_of - timedelta(days=365)
        days = [day for day, _ in book.closes(symbol) if day > year_ago]
        day = choose(rng, days)
        return None if day is None else {"s": symbol, "d": day.isoformat()}

    def ask(self, book: Book, p: Params) -> str:
        name = book.instruments[p["s"]][0]
        return f"What was the closing price of {p['s']} ({name}) on {day_label(p['d'])}?"

    def gold(self, book: Book, p: Params) -> Answer:
        if p["s"] not in book.instruments:
            return NotFound(reason=f"the bank knows no instrument {p['s']}")
        day = date.fromisoformat(p["d"])
        for on, close in book.closes(p["s"]):
            if on == day:
                return price_answer(close, book.instruments[p["s"]][1])
        return NotFound(reason=f"{p['s']} has no close on {p['d']}")

    def evidence(self, book: Book, p: Params) -> list[Call]:
        return [evidence.price_history(p["s"], p["d"], p["d"])]

    def tolerance(self, book: Book, p: Params) -> Tolerance | None:
        gold = self.gold(book, p)
        if not isinstance(gold, AmountAnswer):
            return None
        # Half a cent, or less for an instrument priced in cents: a twentieth of a percent.
        return Tolerance(absolute=min(Decimal("0.005"), Decimal(gold.value) / 2000))


def year_before(day: date) -> date:
    """The same day a year earlier (28 February for a 29th)."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


WINDOWS = {"30d": "30 days", "1y": "year"}


@kind
class PriceChange(Kind):
    name = "price_change"
    difficulty = "aggregate"
    summary = "an instrument's change in percent over 30 days or a year"
    parameters: ClassVar[ParameterTypes] = {"s": Text, "w": Literal["30d", "1y"]}

    def pick(self, rng: random.Random, book: Book) -> Params | None:
        symbol = choose(rng, sorted(s for s in book.instruments if book.closes(s)))
        if symbol is None:
            return None
        return {"s": symbol, "w": rng.choice(sorted(WINDOWS))}

    def ask(self, book: Book, p: Params) -> str:
        last = book.closes(p["s"])[-1][0]
        return (
            f"By what percentage did the price of {p['s']} change over the "
            f"{WINDOWS[p['w']]} to {day_label(last)}?"
        )

    def gold(self, book: Book, p: Params) -> Answer:
        closes = book.closes(p["s"]) if p["s"] in book.instruments else []
        if not closes:
            return NotFound(reason=f"no prices of {p['s']}")
        last_day, last = closes[-1]
        since = last_day - timedelta(days=30) if p["w"] == "30d" else year_before(last_day)
        before = book.close_on_or_before(p["s"], since)
        if before is None or not before[1]:
            return NotFound(reason=f"no price of {p['s']} on or before {since}")
        change = (last - before[1]) / before[1] * 100
        return number(change.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))

    def evidence(self, book: Book, p: Params) -> list[Call]:
        return [evidence.quotes(p["s"])]

    def tolerance(self, book: Book, p: Params) -> Tolerance | None:
        return Tolerance(absolute=Decimal("0.01"))


EXPIRY_WINDOWS = (7, 14, 30, 60, 90)
Days = Annotated[int, Field(ge=0, le=3660)]
"""``w`` of expiring derivatives: a window in days."""


@kind
class ExpiringDerivatives(CustomerKind):
    name = "expiring_derivatives"
    difficulty = "aggregate"
    summary = "how many open derivative positions expire within N days"
    parameters: ClassVar[ParameterTypes] = {"c": CustomerRef, "w": Days}

    def pick(self, rng: random.Random, book: Book) -> Params | None:
        ledger = pick_ledger(
            rng, book, lambda found: any(p.status == "open" for p in found.positions)
        )
        if ledger is None:
            return None
        days = [(p.expiry - book.as_of).days for p in ledger.positions if p.status == "open"]
        reaching = [w for w in EXPIRY_WINDOWS if any(0 <= d <= w for d in days)]
        # Mostly a window that holds a position: "none" is too easy a guess to ask often.
        if reaching and rng.random() < 0.8:
            return {"c": ledger.customer_oid, "w": rng.choice(reaching)}
        return {"c": ledger.customer_oid, "w": rng.choice(EXPIRY_WINDOWS)}

    def words(self, book: Book, ledger: Ledger, p: Params) -> str:
        return (
            f"How many open option and futures positions of {who(ledger)} expire within "
            f"{p['w']} days after {day_label(book.as_of)}?"
        )

    def answer(self, book: Book, ledger: Ledger, p: Params) -> Answer:
        within = [
            position
            for position in ledger.positions
            if position.status == "open" and 0 <= (position.expiry - book.as_of).days <= p["w"]
        ]
        return number(len(within))

    def evidence(self, book: Book, p: Params) -> list[Call]:
        return [evidence.derivatives(p["c"], "open")]

    def tolerance(self, book: Book, p: Params) -> Tolerance | None:
        return EXACT
