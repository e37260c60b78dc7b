"""Drawing a task set: kinds in turn, customers in an order the seed shuffles, each draft
rehearsed on the bank's rules and rolled back; then the set's setup applied (payments to
cancel, scheduled for real), its baseline taken, and the whole kept in ``eval_task_sets``.

Ids are sealed like question ids, with where the set was drawn (the bank, or a sandbox), so
a set is graded only where it lives: another sandbox, or the bank, refuses it.
"""

import json
import random
import secrets
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from core.errors import Conflict, InvalidInput, NotFound
from core.paging import seal, unseal
from db import begin_write
from evals.tasks import money, refusals, trades
from evals.tasks.kinds import TASK_KINDS, Draft, Drawing, TaskKind
from evals.tasks.schemas import (
    MAX_TASKS,
    Expected,
    SetupStep,
    Task,
    TaskSet,
    Untouched,
)
from evals.tasks.state import CustomerState, Fingerprint, read_customers, read_fingerprint
from models import Customer, EvalTaskSet
from services.changes import BOOKKEEPING, record_change
from services.instructions import pay
from services.market import market_snapshot

KIND_MODULES = (money, trades, refusals)
"""Importing them registers every kind in ``TASK_KINDS``."""
SET_PREFIX = "tasks"
CUSTOMERS_TRIED = 60
"""Customers a kind looks at before it is left out of the rest of a set (all of them in a
bank this small)."""
TASKS_SUBJECT = BOOKKEEPING + "eval_tasks"


def where_words(where: str) -> str:
    return "the bank" if where == "bank" else f"sandbox {where}"


def set_id(token: str, where: str) -> str:
    return f"{SET_PREFIX}.{seal({'t': token, 'w': where})}"


def task_id(kind: str, token: str, number: int, where: str) -> str:
    return f"{kind}.{seal({'k': kind, 't': token, 'n': number, 'w': where})}"


def read_set_id(text: str, where: str, field: str = "task_set_id") -> str:
    """The token of a set id this bank issued here; 400 for any other text, 404 for a set
    drawn elsewhere."""
    prefix, _, sealed = text.partition(".")
    data = unseal(sealed) if prefix == SET_PREFIX else None
    if data is None or set(data) != {"t", "w"} or not isinstance(data["t"], str):
        raise InvalidInput(f"{field}: not a task set id this bank issued")
    return _here(data, where, field)


def read_task_id(text: str, where: str, field: str) -> tuple[str, int]:
    """The set's token and the task's number, of a task id this bank issued here."""
    kind, _, sealed = text.partition(".")
    data = unseal(sealed)
    if (
        data is None
        or set(data) != {"k", "t", "n", "w"}
        or data["k"] != kind
        or not isinstance(data["t"], str)
        or not isinstance(data["n"], int)
    ):
        raise InvalidInput(f"{field}: not a task id this bank issued")
    return _here(data, where, field), data["n"]


def _here(data: dict[str, Any], where: str, field: str) -> str:
    if data["w"] != where:
        raise NotFound(f"{field}: drawn in {where_words(str(data['w']))}, not here: grade it there")
    token: str = data["t"]
    return token


def make_task_set(
    session: Session,
    *,
    seed: int,
    count: int,
    where: str,
    kinds: Sequence[str] = (),
    difficulties: Sequence[str] = (),
) -> TaskSet:
    """Draw ``count`` tasks, set them up, take the baseline and keep the set; the same seed on
    the same state draws the same tasks."""
    if not 1 <= count <= MAX_TASKS:
        raise InvalidInput(f"count: must be 1 to {MAX_TASKS}")
    chosen = [
        kind
        for kind in TASK_KINDS.values()
        if (not kinds or kind.name in kinds)
        and (not difficulties or kind.difficulty in difficulties)
    ]
    begin_write(session)  # rehearsals write in savepoints; all of it is rolled back
    try:
        market = market_snapshot(session)
        drawing = Drawing(session, random.Random(f"tasks:{seed}"), market)
        drafts = draw(drawing, chosen, count)
    finally:
        session.rollback()
    setup = [apply_setup(session, draft) for draft in drafts if draft.setup is not None]
    begin_write(session)
    oids = sorted({draft.customer_oid for draft in drafts})
    baseline = read_customers(session, oids)
    for draft in drafts:
        still(draft, baseline.get(draft.customer_oid))
    fingerprint = read_fingerprint(session)
    token = secrets.token_hex(16)
    owned = owned_by_customer(drafts)
    tasks = [
        Task(
            task_id=task_id(draft.kind.name, token, number, where),
            kind=draft.kind.name,
            difficulty=draft.kind.difficulty,
            customer_oid=draft.customer_oid,
            text=draft.text,
            expected=expected(draft, baseline[draft.customer_oid], owned[draft.customer_oid]),
            gold_calls=draft.gold_calls,
        )
        for number, draft in enumerate(drafts)
    ]
    found = TaskSet(
        task_set_id=set_id(token, where),
        as_of=market.as_of,
        seed=seed,
        count=len(tasks),
        setup=setup,
        tasks=tasks,
    )
    session.add(
        EvalTaskSet(
            token=token,
            as_of=market.as_of,
            seed=seed,
            tasks=kept(found.model_dump()),
            baseline=kept({oid: state.model_dump() for oid, state in baseline.items()}),
            fingerprint=kept(fingerprint.model_dump()),
        )
    )
    record_change(session, TASKS_SUBJECT)
    session.commit()
    return found


def kept(data: Any) -> str:
    """JSON with exact decimals (as text) and dates."""
    return json.dumps(data, default=str, sort_keys=True)


def draw(drawing: Drawing, chosen: list[TaskKind], count: int) -> list[Draft]:
    """Kinds in turn, each drafting for the first customer (in the seed's order) it fits and
    whose rows no draft before touches; a kind that finds none is left out."""
    users = Customer.__table__.c  # type: ignore[attr-defined]
    rows = drawing.session.execute(select(users.customer_oid, users.name).order_by(users.id))
    customers = [(oid, name) for oid, name in rows]
    drafts: list[Draft] = []
    used: set[str] = set()
    rng = drawing.rng
    kinds = list(chosen)
    while len(drafts) < count and kinds:
        for kind in list(kinds):
            if len(drafts) == count:
                break
            order = (
                rng.sample(customers, len(customers))
                if len(customers) <= CUSTOMERS_TRIED
                else [rng.choice(customers) for _ in range(CUSTOMERS_TRIED)]
            )
            found = None
            for oid, name in order:
                draft = kind.draft(drawing, drawing.view(oid, name))
                if draft is not None and not draft.footprint & used:
                    found = draft
                    break
            if found is None:
                kinds.remove(kind)
                continue
            used |= found.footprint
            drafts.append(found)
    rng.shuffle(drafts)
    return drafts


def apply_setup(session: Session, draft: Draft) -> SetupStep:
    """Schedule the payment a task will ask to cancel: a real instruction, before the
    baseline, so that grading sees it there."""
    assert draft.setup is not None and draft.after_setup is not None
    made = pay(session, draft.customer_oid, draft.setup)
    draft.after_setup(draft, made.instruction_id)
    payee = draft.setup.payee.name
    return SetupStep(
        customer_oid=draft.customer_oid,
        purpose=f"a payment to {payee} scheduled for {made.execute_on}, for the task "
        f"'{draft.text}'",
        instruction_id=made.instruction_id,
    )


def still(draft: Draft, state: CustomerState | None) -> None:
    """The rows a draft starts from are as they were drawn: nobody wrote in between."""
    changed = state is None or any(
        (account := state.accounts.get(str(c.account_id))) is None
        or account.balance != c.balance_before
        for c in draft.accounts
    )
    changed = changed or any(
        state is not None and state.holdings.get(h.symbol, 0) != h.quantity_before
        for h in draft.holdings
    )
    if changed:
        raise Conflict("The bank changed while the tasks were drawn: ask for them again")


class Owned:
    """The rows the tasks of one customer may change: everything else must stay."""

    def __init__(self) -> None:
        self.accounts: set[int] = set()
        self.symbols: set[str] = set()
        self.positions: set[int] = set()
        self.instructions: set[int] = set()


def owned_by_customer(drafts: list[Draft]) -> dict[str, Owned]:
    owned: dict[str, Owned] = defaultdict(Owned)
    for draft in drafts:
        mine = owned[draft.customer_oid]
        mine.accounts |= {c.account_id for c in draft.accounts}
        mine.symbols |= {h.symbol for h in draft.holdings}
        for status in draft.statuses:
            (mine.positions if status.item == "position" else mine.instructions).add(status.id)
    return owned


def untouched(state: CustomerState, owned: Owned) -> Untouched:
    return Untouched(
        accounts={i: a.balance for i, a in state.accounts.items() if int(i) not in owned.accounts},
        holdings={s: q for s, q in state.holdings.items() if s not in owned.symbols},
        positions={i: s for i, s in state.positions.items() if int(i) not in owned.positions},
        instructions={
            i: s for i, s in state.instructions.items() if int(i) not in owned.instructions
        },
    )


def expected(draft: Draft, state: CustomerState, owned: Owned) -> Expected:
    return Expected(
        outcome="unchanged" if draft.refused else "changed",
        rule=draft.rule,
        explanation=draft.explanation,
        accounts=draft.accounts,
        holdings=draft.holdings,
        statuses=draft.statuses,
        instructions=draft.instructions,
        untouched=untouched(state, owned),
    )


def stored_set(
    session: Session, token: str, field: str
) -> tuple[TaskSet, dict[str, CustomerState], Fingerprint]:
    """A set kept here, with its baseline and fingerprint; 404 naming ``field`` if none."""
    row = session.get(EvalTaskSet, token)
    if row is None:
        raise NotFound(
            f"{field}: no such task set here (a sandbox's reset clears the sets drawn in it)"
        )
    baseline = {
        oid: CustomerState.model_validate(state) for oid, state in json.loads(row.baseline).items()
    }
    return (
        TaskSet.model_validate(json.loads(row.tasks)),
        baseline,
        Fingerprint.model_validate(json.loads(row.fingerprint)),
    )
