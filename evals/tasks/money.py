"""Tasks that move money: transfers between the customer's accounts (in one currency and
across two), a bill paid again, a payment scheduled for a day, a scheduled payment
cancelled."""

from datetime import date, timedelta
from decimal import Decimal

from sqlmodel import col, select

from core.errors import Refused
from evals.kinds.base import day_label, month_label
from evals.tasks import actions
from evals.tasks.kinds import (
    Draft,
    Drawing,
    TaskKind,
    account_token,
    exact_changes,
    task_kind,
    today_token,
)
from evals.tasks.schemas import InstructionMatch, StatusChange
from evals.tasks.views import AccountInfo, CustomerView, money_words
from models import InstructionStatus, Transaction
from schemas.instructions import Payee, PayeeIn, PaymentIn, TransferIn
from services.instructions import checked_payee, plan_payment, plan_transfer

QUARTER = Decimal("0.25")
BILLS = {
    "utilities": "utilities bill",
    "phone": "phone bill",
    "insurance": "insurance premium",
    "rent": "rent",
    "mortgage": "mortgage payment",
    "education": "tuition",
    "taxes": "tax payment",
}
"""The bills a customer pays again, as the customer calls them."""


def payee_token(oid: str, name: str) -> str:
    return f"payee:{oid}:{name.casefold()}"


def payment_in(
    account: AccountInfo, amount: Decimal, payee: Payee, execute_on: date | None = None
) -> PaymentIn:
    return PaymentIn(
        from_account_id=account.id,
        amount=amount,
        payee=PayeeIn(**actions.payee_fields(payee)),
        execute_on=execute_on,
    )


def paid_to(payee: Payee, account: AccountInfo, amount: Decimal) -> dict[str, str]:
    """What a payment's details must say: the account it leaves, the amount, and the payee's
    own account, as the payee list gives it."""
    fields = {"from_account_id": str(account.id), "amount": str(amount)}
    for name, value in actions.payee_fields(payee).items():
        if name != "name":
            fields[f"payee.{name}"] = value
    return fields


def transfer_pairs(
    view: CustomerView, same_currency: bool
) -> list[tuple[AccountInfo, AccountInfo]]:
    accounts = [a for a in view.transfer_accounts() if view.called(a)]
    return [
        (source, target)
        for source in accounts
        for target in accounts
        if source.id != target.id and (source.currency == target.currency) == same_currency
    ]


@task_kind
class Transfer(TaskKind):
    name = "transfer"
    difficulty = "direct"
    summary = "move an amount between two of the customer's accounts in one currency"

    def draft(self, drawing: Drawing, view: CustomerView) -> Draft | None:
        pairs = transfer_pairs(view, same_currency=True)
        if not pairs:
            return None
        source, target = drawing.rng.choice(pairs)
        amount = drawing.nice_amount(source.balance * QUARTER)
        if amount is None:
            return None
        order = TransferIn(from_account_id=source.id, to_account_id=target.id, amount=amount)
        rehearsal = drawing.rehearse(lambda: plan_transfer(drawing.session, view.oid, order))
        if isinstance(rehearsal, Refused):
            return None
        said = money_words(amount, source.currency)
        return Draft(
            kind=self,
            customer_oid=view.oid,
            text=f"Move {said} from {view.called(source)} to {view.called(target)}.",
            explanation=f"{said} leave account {source.id} and reach account {target.id}.",
            gold_calls=[actions.transfer(view.oid, source.id, target.id, amount)],
            footprint={account_token(source.id), account_token(target.id), today_token(view.oid)},
            accounts=exact_changes(view, rehearsal),
            instructions=[transfer_made(source, target, times=1)],
        )


def transfer_made(source: AccountInfo, target: AccountInfo, times: int) -> InstructionMatch:
    return InstructionMatch(
        kind="transfer",
        match={"from_account_id": str(source.id), "to_account_id": str(target.id)},
        times=times,
        status="executed" if times else None,
    )


@task_kind
class CrossCurrencyTransfer(TaskKind):
    name = "transfer_fx"
    difficulty = "direct"
    summary = "move an amount to an account in another currency, at the bank's rate"

    def draft(self, drawing: Drawing, view: CustomerView) -> Draft | None:
        pairs = transfer_pairs(view, same_currency=False)
        if not pairs:
            return None
        source, target = drawing.rng.choice(pairs)
        amount = drawing.nice_amount(source.balance * QUARTER)
        if amount is None:
            return None
        order = TransferIn(from_account_id=source.id, to_account_id=target.id, amount=amount)
        rehearsal = drawing.rehearse(lambda: plan_transfer(drawing.session, view.oid, order))
        if isinstance(rehearsal, Refused) or rehearsal.conversion is None:
            return None
        in_currency = [a for a in view.open_accounts if a.currency == source.currency]
        named = f"my {source.currency} account" if len(in_currency) == 1 else view.called(source)
        said = money_words(amount, source.currency)
        rate = rehearsal.conversion
        return Draft(
            kind=self,
            customer_oid=view.oid,
            text=f"Move {said} from {named} to {view.called(target)}.",
            explanation=f"{said} leave account {source.id}; account {target.id} receives "
            f"{rate.received} {target.currency} at the bank's rate {rate.rate.normalize()} "
            f"(the mid rate {rate.mid_rate.normalize()} less its margin).",
            gold_calls=[actions.transfer(view.oid, source.id, target.id, amount)],
            footprint={account_token(source.id), account_token(target.id), today_token(view.oid)},
            accounts=exact_changes(view, rehearsal),
            instructions=[transfer_made(source, target, times=1)],
        )


@task_kind
class PayBillAgain(TaskKind):
    name = "pay_bill_again"
    difficulty = "find"
    summary = "pay last month's bill of a category again, to the same payee"

    def draft(self, drawing: Drawing, view: CustomerView) -> Draft | None:
        last_day = drawing.as_of.replace(day=1) - timedelta(days=1)
        first_day = last_day.replace(day=1)
        names = {p.name for p in view.payees}
        t = Transaction
        rows = drawing.session.exec(
            select(col(t.merchant), col(t.currency), col(t.amount), col(t.category)).where(
                t.customer_oid == view.oid,
                t.transaction_date >= first_day,
                t.transaction_date <= last_day,
                t.amount < 0,
                col(t.merchant).in_(names),
                col(t.category).in_(list(BILLS)),
            )
        ).all()
        by_category: dict[str, list[tuple[str, str, Decimal]]] = {}
        for merchant, currency, amount, category in rows:
            by_category.setdefault(category or "", []).append((merchant or "", currency, -amount))
        # One bill of the kind that month: "last month's rent" then means one payment.
        single = sorted(c for c, bills in by_category.items() if len(bills) == 1)
        if not single:
            return None
        category = drawing.rng.choice(single)
        ((merchant, currency, amount),) = by_category[category]
        payee = view.payee_named(merchant)
        account = view.only_checking(currency)
        if payee is None or payee.currency != currency or account is None:
            return None
        order = payment_in(account, amount, payee)
        rehearsal = drawing.rehearse(
            lambda: plan_payment(drawing.session, view.oid, order, checked_payee(order))
        )
        if isinstance(rehearsal, Refused) or rehearsal.status != InstructionStatus.executed:
            return None
        month = month_label(f"{first_day:%Y-%m}")
        return Draft(
            kind=self,
            customer_oid=view.oid,
            text=f"Pay last month's {BILLS[category]} ({month}) again: the same amount to the "
            "same payee.",
            explanation=f"Pay {money_words(amount, currency)} to {payee.name} today, from "
            f"account {account.id}, into the account the payee list gives.",
            gold_calls=[actions.payment(view.oid, account.id, amount, payee)],
            footprint={
                account_token(account.id),
                today_token(view.oid),
                payee_token(view.oid, payee.name),
            },
            accounts=exact_changes(view, rehearsal),
            instructions=[
                InstructionMatch(
                    kind="payment",
                    match={"payee.name": payee.name},
                    times=1,
                    status="executed",
                    fields=paid_to(payee, account, amount),
                )
            ],
        )


def payable(view: CustomerView) -> list[tuple[Payee, AccountInfo]]:
    """Payees a payment can name without doubt (one payee of the name, one checking account
    in its currency), with that account."""
    found = []
    for payee in view.payees:
        account = view.only_checking(payee.currency)
        if account is not None and view.payee_named(payee.name) is payee:
            found.append((payee, account))
    return found


@task_kind
class SchedulePayment(TaskKind):
    name = "schedule_payment"
    difficulty = "find"
    summary = "schedule a payment to a known payee for a later day"

    def draft(self, drawing: Drawing, view: CustomerView) -> Draft | None:
        choices = payable(view)
        if not choices:
            return None
        payee, account = drawing.rng.choice(choices)
        day = drawing.as_of + timedelta(days=drawing.rng.randint(5, 45))
        amount = drawing.nice_amount(min(Decimal(1000), max(account.balance, Decimal(0))))
        if amount is None:
            return None
        order = payment_in(account, amount, payee, execute_on=day)
        rehearsal = drawing.rehearse(
            lambda: plan_payment(drawing.session, view.oid, order, checked_payee(order))
        )
        if isinstance(rehearsal, Refused) or rehearsal.status != InstructionStatus.scheduled:
            return None
        said = money_words(amount, payee.currency)
        return Draft(
            kind=self,
            customer_oid=view.oid,
            text=f"Schedule a payment of {said} to {payee.name} on {day_label(day)}.",
            explanation=f"A payment of {said} to {payee.name} from account {account.id}, "
            f"scheduled for {day}: nothing is booked today.",
            gold_calls=[actions.payment(view.oid, account.id, amount, payee, execute_on=day)],
            footprint={payee_token(view.oid, payee.name)},
            instructions=[
                InstructionMatch(
                    kind="payment",
                    match={"payee.name": payee.name},
                    times=1,
                    status="scheduled",
                    fields={**paid_to(payee, account, amount), "execute_on": day.isoformat()},
                )
            ],
        )


@task_kind
class CancelPayment(TaskKind):
    name = "cancel_payment"
    difficulty = "find"
    summary = "cancel the scheduled payment to a payee (scheduled by the set's setup if need be)"

    def draft(self, drawing: Drawing, view: CustomerView) -> Draft | None:
        choices = payable(view)
        if not choices:
            return None
        payee, account = drawing.rng.choice(choices)
        # Drawn whether or not it is needed: the draws after it stay the same either way.
        day = drawing.as_of + timedelta(days=drawing.rng.randint(7, 28))
        waiting = [
            i.instruction_id
            for i in view.scheduled
            if str(i.details.get("payee", {}).get("name", "")).casefold() == payee.name.casefold()
        ]
        if len(waiting) > 1:
            return None
        draft = Draft(
            kind=self,
            customer_oid=view.oid,
            text=f"Cancel my scheduled payment to {payee.name}.",
            explanation=f"The payment to {payee.name} scheduled from account {account.id} is "
            "cancelled; nothing is booked.",
            gold_calls=[],
            footprint={payee_token(view.oid, payee.name)},
            instructions=[
                InstructionMatch(kind="payment", match={"payee.name": payee.name}, times=0)
            ],
        )
        if waiting:
            cancels(draft, waiting[0])
            return draft
        order = payment_in(account, payee.last_amount, payee, execute_on=day)
        rehearsal = drawing.rehearse(
            lambda: plan_payment(drawing.session, view.oid, order, checked_payee(order))
        )
        if isinstance(rehearsal, Refused) or rehearsal.status != InstructionStatus.scheduled:
            return None
        draft.setup = order
        draft.after_setup = cancels
        return draft


def cancels(draft: Draft, instruction_id: int) -> None:
    """Point the cancelling task at its scheduled payment, once it has an id."""
    draft.statuses = [
        StatusChange(item="instruction", id=instruction_id, before="scheduled", after="cancelled")
    ]
    draft.gold_calls = [actions.cancel(draft.customer_oid, instruction_id)]
