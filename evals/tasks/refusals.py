"""Tasks the bank must not carry out: more money than the account has, more units than are
held, a payee nobody has an account for, more than the day's limit. Their right outcome is
no change at all (and an agent that says why); each is rehearsed to check that the bank's
rules refuse it by the rule the task is about."""

from collections.abc import Callable
from decimal import ROUND_CEILING, Decimal

from core.errors import Refused
from evals.tasks import actions
from evals.tasks.kinds import (
    Draft,
    Drawing,
    TaskKind,
    account_token,
    holding_stays,
    stays,
    task_kind,
    today_token,
)
from evals.tasks.money import payee_token, transfer_made, transfer_pairs
from evals.tasks.schemas import InstructionMatch
from evals.tasks.trades import single_row, symbol_token, traded
from evals.tasks.views import NICE_AMOUNTS, CustomerView, money_words, units_words
from schemas.instructions import OrderIn, TransferIn
from services.instructions import DAILY_LIMIT_USD, plan_transfer
from services.orders import plan_trade

TOO_MANY = tuple(Decimal(n) for n in (10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10_000))
MADE_UP_PAYEES = (
    "Zephyr Plumbing",
    "Quillfeather Dental",
    "Orchid Lane Florist",
    "Marlowe Roofing",
    "Bluefin Pool Care",
    "Larkspur Music School",
    "Copperleaf Landscaping",
    "Northwind Chimney Sweep",
)
"""Payees no statement names: the bank has no account for them."""


AmountFor = Callable[[Drawing, CustomerView, str, Decimal], Decimal | None]
"""The amount a refused transfer names, given its source's currency and available money;
None when no amount fits."""


def refused_transfer(
    kind: TaskKind, drawing: Drawing, view: CustomerView, rule: str, amount_for: AmountFor
) -> Draft | None:
    """A transfer between two accounts of one currency that ``rule`` refuses."""
    pairs = transfer_pairs(view, same_currency=True)
    fitting = [
        (source, target, amount)
        for source, target in pairs
        if (amount := amount_for(drawing, view, source.currency, source.available))
    ]
    if not fitting:
        return None
    source, target, amount = drawing.rng.choice(fitting)
    order = TransferIn(from_account_id=source.id, to_account_id=target.id, amount=amount)
    rehearsal = drawing.rehearse(lambda: plan_transfer(drawing.session, view.oid, order))
    if not isinstance(rehearsal, Refused) or rehearsal.rule != rule:
        return None
    return Draft(
        kind=kind,
        customer_oid=view.oid,
        text=f"Move {money_words(amount, source.currency)} from {view.called(source)} to "
        f"{view.called(target)}.",
        explanation=f"The bank refuses it ({rule}: {rehearsal.detail}); nothing changes, and "
        "the agent says why.",
        gold_calls=[actions.transfer(view.oid, source.id, target.id, amount, refused_by=rule)],
        footprint={account_token(source.id), account_token(target.id), today_token(view.oid)},
        accounts=stays(source, target),
        instructions=[transfer_made(source, target, times=0)],
        refused=True,
        rule=rule,
    )


def more_than_available(
    drawing: Drawing, view: CustomerView, currency: str, available: Decimal
) -> Decimal | None:
    over = [n for n in NICE_AMOUNTS if n > available * Decimal("1.2")]
    return over[0] if over else None


def over_the_limit(
    drawing: Drawing, view: CustomerView, currency: str, available: Decimal
) -> Decimal | None:
    limit = DAILY_LIMIT_USD.get(view.kind, DAILY_LIMIT_USD["person"])
    rate = Decimal(1)
    if currency != "USD":
        found = drawing.market.usd_per_unit[currency].on_or_before(drawing.as_of)
        if found is None:
            return None
        rate = found
    unit = Decimal(1000) if limit < 100_000 else Decimal(100_000)
    amount = (limit * Decimal("1.1") / rate / unit).quantize(Decimal(1), ROUND_CEILING) * unit
    # The money is there: only the limit stands in the way.
    return amount if amount <= available else None


@task_kind
class RefuseOverdraw(TaskKind):
    name = "refuse_funds"
    difficulty = "refusal"
    summary = "a transfer of more than the account holds (insufficient_funds)"

    def draft(self, drawing: Drawing, view: CustomerView) -> Draft | None:
        return refused_transfer(self, drawing, view, "insufficient_funds", more_than_available)


@task_kind
class RefuseOverLimit(TaskKind):
    name = "refuse_daily_limit"
    difficulty = "refusal"
    summary = "a transfer over the daily limit, of money the account has (daily_limit)"

    def draft(self, drawing: Drawing, view: CustomerView) -> Draft | None:
        return refused_transfer(self, drawing, view, "daily_limit", over_the_limit)


@task_kind
class RefuseOversell(TaskKind):
    name = "refuse_oversell"
    difficulty = "refusal"
    summary = "a sale of more shares than are held (insufficient_holdings)"

    def draft(self, drawing: Drawing, view: CustomerView) -> Draft | None:
        held = [
            h
            for h in view.holdings
            if h.asset_type in ("stock", "etf")
            and single_row(view, h)
            and drawing.tradable(h.symbol)
        ]
        if not held:
            return None
        holding = drawing.rng.choice(held)
        count = next((n for n in TOO_MANY if n >= holding.quantity * Decimal("1.5")), None)
        if count is None:
            return None
        order = OrderIn(side="sell", symbol=holding.symbol, quantity=count)
        rehearsal = drawing.rehearse(lambda: plan_trade(drawing.session, view.oid, order))
        if not isinstance(rehearsal, Refused) or rehearsal.rule != "insufficient_holdings":
            return None
        return Draft(
            kind=self,
            customer_oid=view.oid,
            text=f"Sell {units_words(count)} shares of {holding.symbol}.",
            explanation=f"Only {units_words(holding.quantity)} {holding.symbol} are held: the bank "
            "refuses the sale (insufficient_holdings); nothing changes, and the agent says why "
            "(selling what is held instead is not what was asked).",
            gold_calls=[
                actions.order(
                    view.oid,
                    "sell",
                    holding.symbol,
                    quantity=count,
                    refused_by="insufficient_holdings",
                )
            ],
            footprint={symbol_token(view.oid, holding.symbol)},
            holdings=[holding_stays(view, holding.symbol)],
            instructions=[traded("sell", holding.symbol, times=0)],
            refused=True,
            rule="insufficient_holdings",
        )


@task_kind
class RefuseUnknownPayee(TaskKind):
    name = "refuse_unknown_payee"
    difficulty = "refusal"
    summary = "a payment to someone the customer never paid: no account is known for them"

    def draft(self, drawing: Drawing, view: CustomerView) -> Draft | None:
        accounts = [
            a
            for a in view.open_accounts
            if a.account_type == "checking"
            and view.only_checking(a.currency) is a
            and view.called(a)
        ]
        names = [
            name
            for name in MADE_UP_PAYEES
            if name.casefold() not in view.merchants and view.payee_named(name) is None
        ]
        if not accounts or not names:
            return None
        account = drawing.rng.choice(accounts)
        name = drawing.rng.choice(names)
        amount = drawing.nice_amount(Decimal(1000))
        if amount is None:
            return None
        return Draft(
            kind=self,
            customer_oid=view.oid,
            text=f"Pay {money_words(amount, account.currency)} to {name} from "
            f"{view.called(account)}.",
            explanation=f"{name} is not among the customer's payees and no statement names "
            "them: no account is known to pay into. Nothing changes; the agent asks for the "
            "payee's IBAN (or account and routing number) instead of making one up.",
            gold_calls=[],
            footprint={account_token(account.id), payee_token(view.oid, name)},
            accounts=stays(account),
            instructions=[InstructionMatch(kind="payment", match={"payee.name": name}, times=0)],
            refused=True,
        )
