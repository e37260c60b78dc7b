"""Tasks that trade: buy for about an amount, buy more of the largest stock, sell the largest
position down under a share of the holdings, close an option position.

Fills are fixed by the rules (the day's close and the spread), so the only tolerance is what
the text leaves open: "about 2,000 dollars" takes any quantity whose cost is within a tenth
of it, "sell enough" any sale that brings the position under the share and not five points
below it (or a whole unit more than the least).
"""

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from core.errors import Refused
from evals.tasks import actions
from evals.tasks.kinds import (
    Draft,
    Drawing,
    Rehearsal,
    TaskKind,
    account_token,
    exact_changes,
    held,
    task_kind,
)
from evals.tasks.schemas import AccountChange, HoldingChange, InstructionMatch, StatusChange
from evals.tasks.views import CustomerView, money_words, units_words
from schemas.instructions import OrderIn
from schemas.summary import Holding
from services.orders import QUANTITY_PLACES, plan_close, plan_trade

ABOUT = Decimal("0.10")
"""How far "about" an amount may be: a tenth either way."""
BELOW = Decimal(5)
"""Percentage points under the target share that "enough" still allows."""
SHARE_COUNTS = tuple(Decimal(n) for n in (1, 2, 3, 5, 10, 15, 20, 25, 50))
HUNDRED = Decimal(100)


def symbol_token(oid: str, symbol: str) -> str:
    return f"symbol:{oid}:{symbol}"


def step_of(asset_type: str) -> Decimal:
    return Decimal(1).scaleb(-QUANTITY_PLACES.get(asset_type, 4))


def traded(side: str, symbol: str, times: int) -> InstructionMatch:
    return InstructionMatch(
        kind="order",
        match={"side": side, "symbol": symbol},
        times=times,
        status="executed" if times else None,
    )


def cash_between(view: CustomerView, gold: Rehearsal, *ends: Rehearsal) -> list[AccountChange]:
    """The settlement account's change: the gold one, accepted anywhere between the changes
    of the smallest and the largest quantity the text allows (``ends``)."""
    (change,) = exact_changes(view, gold)
    deltas = sorted(end.deltas[change.account_id] for end in ends)
    return [change.model_copy(update={"low": deltas[0], "high": deltas[-1]})]


def order_footprint(view: CustomerView, symbol: str, rehearsal: Rehearsal) -> set[str]:
    return {symbol_token(view.oid, symbol), *(account_token(a) for a in rehearsal.deltas)}


def single_row(view: CustomerView, holding: Holding) -> bool:
    """Held in one account: the order settles in it, with no choice to make."""
    return view.asset_rows[holding.symbol] == 1


@task_kind
class BuyForAmount(TaskKind):
    name = "buy_amount"
    difficulty = "direct"
    summary = "buy about an amount's worth of a stock or fund"

    def draft(self, drawing: Drawing, view: CustomerView) -> Draft | None:
        cash: dict[str, Decimal] = {}
        for account in view.open_accounts:
            if account.account_type == "brokerage":
                cash[account.currency] = max(
                    cash.get(account.currency, Decimal(0)), account.available
                )
        spread_over = {h.symbol for h in view.holdings if not single_row(view, h)}
        symbols = [
            info.symbol
            for info in drawing.market.instruments.values()
            if info.asset_type in ("stock", "etf")
            and info.currency in cash
            and info.symbol not in spread_over
            and drawing.tradable(info.symbol)
        ]
        if not symbols:
            return None
        symbol = drawing.rng.choice(symbols)
        info = drawing.market.instruments[symbol]
        close = drawing.market.prices[symbol].values[-1]
        # At least five units' worth, so that whole units stay within "about".
        amount = drawing.nice_amount(
            min(cash[info.currency] * Decimal("0.3"), Decimal(5000)), close * 5
        )
        if amount is None:
            return None

        def buy(
            quantity: Decimal | None = None, spend: Decimal | None = None
        ) -> Rehearsal | Refused:
            order = OrderIn(side="buy", symbol=symbol, quantity=quantity, amount=spend)
            return drawing.rehearse(lambda: plan_trade(drawing.session, view.oid, order))

        gold = buy(spend=amount)
        if isinstance(gold, Refused) or gold.fill is None:
            return None
        step = step_of(info.asset_type)
        price = gold.fill.price
        least = (amount * (1 - ABOUT) / price).quantize(step, rounding=ROUND_CEILING)
        most = (amount * (1 + ABOUT) / price).quantize(step, rounding=ROUND_FLOOR)
        fewest, largest = buy(quantity=least), buy(quantity=most)
        if isinstance(fewest, Refused) or isinstance(largest, Refused):
            return None
        before = held(view, symbol)
        said = money_words(amount, info.currency)
        return Draft(
            kind=self,
            customer_oid=view.oid,
            text=f"Buy about {said}' worth of {symbol}.",
            explanation=f"Buy {units_words(gold.fill.quantity)} {symbol} at {price.normalize()} "
            f"(by amount; from {units_words(least)} to {units_words(most)} units is about "
            f"{said}), paid from the brokerage account with the commission.",
            gold_calls=[actions.order(view.oid, "buy", symbol, amount=amount)],
            footprint=order_footprint(view, symbol, gold),
            accounts=cash_between(view, gold, fewest, largest),
            holdings=[
                HoldingChange(
                    symbol=symbol,
                    quantity_before=before,
                    quantity_after=before + gold.fill.quantity,
                    low=before + least,
                    high=before + most,
                )
            ],
            instructions=[traded("buy", symbol, times=1)],
        )


@task_kind
class BuyMoreOfLargest(TaskKind):
    name = "buy_more"
    difficulty = "find"
    summary = "buy a number of shares more of the stock the customer holds most of"

    def draft(self, drawing: Drawing, view: CustomerView) -> Draft | None:
        stocks = [h for h in view.holdings if h.asset_type == "stock"]
        if not stocks:
            return None
        by_value = sorted(stocks, key=lambda h: h.market_value_base, reverse=True)
        by_units = sorted(stocks, key=lambda h: h.quantity, reverse=True)
        top = by_value[0]
        # "Most of" read either way (by value, by shares) must name the same stock.
        if by_units[0] is not top or any(
            len(ranked) > 1 and key(ranked[1]) == key(top)
            for ranked, key in ((by_value, _value), (by_units, _units))
        ):
            return None
        if not single_row(view, top) or not drawing.tradable(top.symbol):
            return None
        cash = sum(
            (a.available for a in view.open_accounts
             if a.account_type == "brokerage" and a.currency == top.currency),
            Decimal(0),
        )  # fmt: skip
        counts = [n for n in SHARE_COUNTS if n * top.current_price <= cash / 2]
        if not counts:
            return None
        count = drawing.rng.choice(counts)
        order = OrderIn(side="buy", symbol=top.symbol, quantity=count)
        rehearsal = drawing.rehearse(lambda: plan_trade(drawing.session, view.oid, order))
        if isinstance(rehearsal, Refused) or rehearsal.fill is None:
            return None
        noun = "share" if count == 1 else "shares"
        return Draft(
            kind=self,
            customer_oid=view.oid,
            text=f"Buy {units_words(count)} more {noun} of the stock I hold most of.",
            explanation=f"{top.symbol} is the stock held most of (by value and by shares): buy "
            f"{units_words(count)} at {rehearsal.fill.price.normalize()}, with the commission.",
            gold_calls=[actions.order(view.oid, "buy", top.symbol, quantity=count)],
            footprint=order_footprint(view, top.symbol, rehearsal),
            accounts=exact_changes(view, rehearsal),
            holdings=[
                HoldingChange(
                    symbol=top.symbol,
                    quantity_before=top.quantity,
                    quantity_after=top.quantity + count,
                    low=top.quantity + count,
                    high=top.quantity + count,
                )
            ],
            instructions=[traded("buy", top.symbol, times=1)],
        )


def _value(holding: Holding) -> Decimal:
    return holding.market_value_base


def _units(holding: Holding) -> Decimal:
    return holding.quantity


@task_kind
class SellToShare(TaskKind):
    name = "sell_to_weight"
    difficulty = "compute"
    summary = "sell enough of the largest position to bring it under a share of the holdings"

    def draft(self, drawing: Drawing, view: CustomerView) -> Draft | None:
        holdings = view.holdings
        if len(holdings) < 2 or holdings[0].market_value_base <= holdings[1].market_value_base:
            return None
        top = holdings[0]
        if not single_row(view, top) or not drawing.tradable(top.symbol) or top.quantity <= 0:
            return None
        total = sum((h.market_value_base for h in holdings), Decimal(0))
        share = top.market_value_base / total * HUNDRED
        target = (share - 3) // 5 * 5
        if target < 10:
            return None
        unit = top.market_value_base / top.quantity  # one unit's value, in US dollars

        def after(quantity: Decimal) -> Decimal:
            """The position's share of the holdings after selling ``quantity``, in percent."""
            left = top.market_value_base - quantity * unit
            return left / (total - quantity * unit) * HUNDRED

        def least_to_reach(percent: Decimal) -> Decimal:
            """The fewest units to sell for a share under ``percent``."""
            x = percent / HUNDRED
            bound = (top.market_value_base - x * total) / (unit * (1 - x))
            found = (bound / step).quantize(Decimal(1), rounding=ROUND_FLOOR) * step + step
            while after(found - step) < percent and found > step:
                found -= step
            while after(found) >= percent:
                found += step
            return found

        step = step_of(top.asset_type)
        least = least_to_reach(target)
        most = least_to_reach(target - BELOW) - step
        # Rounding up to a whole unit is enough as well.
        most = max(most, least.quantize(Decimal(1), rounding=ROUND_CEILING))
        most = min(most, top.quantity)
        if least > top.quantity or most < least:
            return None

        def sell(quantity: Decimal) -> Rehearsal | Refused:
            order = OrderIn(side="sell", symbol=top.symbol, quantity=quantity)
            return drawing.rehearse(lambda: plan_trade(drawing.session, view.oid, order))

        gold, largest = sell(least), sell(most)
        if isinstance(gold, Refused) or isinstance(largest, Refused):
            return None
        return Draft(
            kind=self,
            customer_oid=view.oid,
            text=f"Sell enough of my largest position to bring it under {target}% of what I hold.",
            explanation=f"{top.symbol} is {share:.2f}% of the holdings' market value. Selling "
            f"{units_words(least)} units (the least) brings it to {after(least):.4f}%; any sale "
            f"from {units_words(least)} to {units_words(most)} units leaves it under {target}%"
            f" and not under {target - BELOW}% (or sells a whole unit more than the least).",
            gold_calls=[actions.order(view.oid, "sell", top.symbol, quantity=least)],
            footprint=order_footprint(view, top.symbol, gold),
            accounts=cash_between(view, gold, largest, gold),
            holdings=[
                HoldingChange(
                    symbol=top.symbol,
                    quantity_before=top.quantity,
                    quantity_after=top.quantity - least,
                    low=top.quantity - most,
                    high=top.quantity - least,
                )
            ],
            instructions=[traded("sell", top.symbol, times=1)],
        )


@task_kind
class CloseOption(TaskKind):
    name = "close_option"
    difficulty = "find"
    summary = "close the customer's one open option position on an underlying"

    def draft(self, drawing: Drawing, view: CustomerView) -> Draft | None:
        options = [p for p in view.positions if p.instrument_type == "option"]
        underlyings = sorted(
            {
                p.underlying_symbol
                for p in options
                if sum(o.underlying_symbol == p.underlying_symbol for o in options) == 1
                and p.expiry_date >= drawing.as_of
                and drawing.tradable(p.underlying_symbol)
            }
        )
        if not underlyings:
            return None
        underlying = drawing.rng.choice(underlyings)
        (position,) = [p for p in options if p.underlying_symbol == underlying]
        order = OrderIn(side="close", derivative_id=position.id)
        rehearsal = drawing.rehearse(lambda: plan_close(drawing.session, view.oid, order))
        if isinstance(rehearsal, Refused) or rehearsal.position is None:
            return None
        closed = rehearsal.position
        contracts = f"{position.contracts} {position.option_type} contract" + (
            "s" if position.contracts != 1 else ""
        )
        return Draft(
            kind=self,
            customer_oid=view.oid,
            text=f"Close my option position on {underlying}.",
            explanation=f"Close position {position.id} ({position.side} {contracts}) at "
            f"{closed.price.normalize()} a unit (the model value less or plus half the option "
            "spread), with the commission.",
            gold_calls=[actions.close(view.oid, position.id)],
            footprint={f"position:{position.id}", *(account_token(a) for a in rehearsal.deltas)},
            accounts=exact_changes(view, rehearsal),
            statuses=[StatusChange(item="position", id=position.id, before="open", after="closed")],
            instructions=[
                InstructionMatch(
                    kind="order",
                    match={"side": "close", "derivative_id": str(position.id)},
                    times=1,
                    status="executed",
                )
            ],
        )
