"""Grading a task set: the bank's rows now against the baseline kept with the set.

Per task, every expected change is checked (within what the text leaves open), and the new
instructions that belong to it (by the fields that identify it: the accounts of a transfer,
a payee's name, an order's symbol and side) are counted: one, or none for a task to refuse.
Everything else is collateral: a change to a customer's rows that no task of the set owns,
an instruction no task asked for, the same instruction given twice, any change to another
customer (found by the fingerprint) or to the bank. A task passes when it is done and its
customer has no collateral.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlmodel import Session

from core.errors import InvalidInput
from evals.tasks.draw import read_set_id, read_task_id, stored_set
from evals.tasks.kinds import TASK_KINDS
from evals.tasks.schemas import (
    TASK_DIFFICULTIES,
    AccountChange,
    Check,
    Collateral,
    InstructionMatch,
    Task,
    TaskGrade,
    TaskGradeRequest,
    TaskResult,
    TaskSet,
    TaskTally,
)
from evals.tasks.state import (
    CustomerState,
    CustomerSums,
    Fingerprint,
    NewInstruction,
    read_customers,
    read_fingerprint,
    read_new_instructions,
    rows_booked_since,
)


def grade_tasks(session: Session, request: TaskGradeRequest, where: str) -> TaskGrade:
    """Grade a whole set, or the tasks named (all of one set)."""
    numbers: list[int] | None = None
    if request.task_ids is None:
        field_name = "task_set_id"
        token = read_set_id(request.task_set_id or "", where)
    else:
        field_name = "task_ids"
        found = [
            read_task_id(text, where, f"task_ids[{index}]")
            for index, text in enumerate(request.task_ids)
        ]
        if len({token for token, _ in found}) > 1:
            raise InvalidInput("task_ids: the tasks must all be of one task set")
        token = found[0][0]
        numbers = sorted({number for _, number in found})
    task_set, baseline, fingerprint = stored_set(session, token, field_name)
    if numbers is not None and numbers[-1] >= len(task_set.tasks):
        raise InvalidInput("task_ids: not a task of this task set")
    return grade_set(session, task_set, baseline, fingerprint, numbers)


@dataclass
class Findings:
    """What moved, sorted out: new instructions by the task they belong to, and collateral."""

    matched: dict[int, list[NewInstruction]] = field(default_factory=lambda: defaultdict(list))
    collateral: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    """By customer: changes no task owns."""


def grade_set(
    session: Session,
    task_set: TaskSet,
    baseline: dict[str, CustomerState],
    fingerprint: Fingerprint,
    numbers: list[int] | None = None,
) -> TaskGrade:
    tasks = task_set.tasks
    now = read_customers(session, sorted(baseline))
    findings = Findings()
    for oid, before in sorted(baseline.items()):
        mine = [(number, task) for number, task in enumerate(tasks) if task.customer_oid == oid]
        compare_customer(session, oid, before, now.get(oid), mine, findings)
    results = [
        judge(number, tasks[number], baseline, now, findings)
        for number in (numbers if numbers is not None else range(len(tasks)))
    ]
    collateral = [
        Collateral(customer_oid=oid, what=what)
        for oid, items in sorted(findings.collateral.items())
        for what in items
    ]
    collateral += [
        Collateral(customer_oid=task.customer_oid, what=what)
        for number, task in enumerate(tasks)
        for what in repeats(task, findings.matched[number])
    ]
    collateral += compare_others(session, fingerprint, set(baseline))
    return TaskGrade(
        task_set_id=task_set.task_set_id,
        as_of=task_set.as_of,
        total=tally(r.passed for r in results),
        collateral_changes=len(collateral),
        by_kind=grouped(results, lambda r: r.kind, TASK_KINDS),
        by_difficulty=grouped(results, lambda r: r.difficulty, TASK_DIFFICULTIES),
        results=results,
        collateral=collateral,
    )


def compare_customer(
    session: Session,
    oid: str,
    before: CustomerState,
    after: CustomerState | None,
    mine: list[tuple[int, Task]],
    findings: Findings,
) -> None:
    """Sort out what moved for one customer: what the tasks own is theirs to check; the
    rest is collateral."""
    said = findings.collateral[oid]
    if after is None:
        said.append("the customer is gone")
        return
    expected = [task.expected for _, task in mine]
    accounts = {str(c.account_id) for e in expected for c in e.accounts}
    symbols = {h.symbol for e in expected for h in e.holdings}
    statuses = {(s.item, str(s.id)) for e in expected for s in e.statuses}
    for account_id in sorted(set(before.accounts) | set(after.accounts), key=int):
        was, now = before.accounts.get(account_id), after.accounts.get(account_id)
        if account_id not in accounts and was != now:
            said.append(f"account {account_id}: {account_words(was)} before, "
                        f"{account_words(now)} now")  # fmt: skip
    for symbol in sorted(set(before.holdings) | set(after.holdings)):
        if symbol in symbols:
            continue
        was_held, now_held = before.holdings.get(symbol, 0), after.holdings.get(symbol, 0)
        if was_held != now_held:
            said.append(f"{symbol}: {units(was_held)} held before, {units(now_held)} now")
    for item, was_states, now_states in (
        ("position", before.positions, after.positions),
        ("instruction", before.instructions, after.instructions),
    ):
        for item_id, status in sorted(was_states.items()):
            if (item, item_id) not in statuses and now_states.get(item_id) != status:
                said.append(f"{item} {item_id}: {status} before, "
                            f"{now_states.get(item_id, 'gone')} now")  # fmt: skip
    for instruction in read_new_instructions(session, oid, set(before.instructions)):
        owner = next(
            (
                number
                for number, task in mine
                if any(matches(m, instruction) for m in task.expected.instructions)
            ),
            None,
        )
        if owner is None:
            said.append(f"{describe(instruction)}: no task asked for it")
        else:
            findings.matched[owner].append(instruction)


def judge(
    number: int,
    task: Task,
    baseline: dict[str, CustomerState],
    now: dict[str, CustomerState],
    findings: Findings,
) -> TaskResult:
    before, after = baseline[task.customer_oid], now.get(task.customer_oid)
    expected = task.expected
    checks = []
    if after is None:
        checks.append(Check(what="customer", expected="still there", found="gone", ok=False))
        after = CustomerState(
            accounts={}, holdings={}, positions={}, instructions={}, transactions=0,
            last_transaction=0,
        )  # fmt: skip
    for account in expected.accounts:
        was = before.accounts.get(str(account.account_id))
        now_account = after.accounts.get(str(account.account_id))
        start = was.balance if was is not None else account.balance_before
        delta = now_account.balance - start if now_account is not None else None
        checks.append(
            Check(
                what=f"account {account.account_id}: change of balance",
                expected=change_words(account),
                found=f"{delta:+,.2f} {account.currency}" if delta is not None else "no account",
                ok=delta is not None and account.low <= delta <= account.high,
            )
        )
    for holding in expected.holdings:
        quantity = after.holdings.get(holding.symbol, Decimal(0))
        wanted = (
            units(holding.quantity_after)
            if holding.low == holding.high
            else f"{units(holding.low)} to {units(holding.high)} "
            f"({units(holding.quantity_after)} by the gold instruction)"
        )
        checks.append(
            Check(
                what=f"{holding.symbol}: units held",
                expected=wanted,
                found=units(quantity),
                ok=holding.low <= quantity <= holding.high,
            )
        )
    for status in expected.statuses:
        states = after.positions if status.item == "position" else after.instructions
        current = states.get(str(status.id), "gone")
        checks.append(
            Check(
                what=f"{status.item} {status.id}: status",
                expected=status.after,
                found=current,
                ok=current == status.after,
            )
        )
    for match in expected.instructions:
        checks += instruction_checks(match, findings.matched[number])
    collateral = findings.collateral[task.customer_oid] + repeats(task, findings.matched[number])
    done = all(check.ok for check in checks)
    failed = next((c for c in checks if not c.ok), None)
    reason = ""
    if failed is not None:
        reason = f"{failed.what}: expected {failed.expected}, found {failed.found}"
    elif collateral:
        reason = f"collateral: {collateral[0]}"
    return TaskResult(
        task_id=task.task_id,
        kind=task.kind,
        difficulty=task.difficulty,
        customer_oid=task.customer_oid,
        text=task.text,
        passed=done and not collateral,
        done=done,
        checks=checks,
        collateral=collateral,
        reason=reason,
    )


def instruction_checks(match: InstructionMatch, found: list[NewInstruction]) -> list[Check]:
    mine = [instruction for instruction in found if matches(match, instruction)]
    about = ", ".join(f"{name} {value}" for name, value in match.match.items())
    checks = [
        Check(
            what=f"new {match.kind} instructions with {about}",
            expected=str(match.times),
            found=str(len(mine)),
            ok=len(mine) == match.times,
        )
    ]
    if not mine or not match.times:
        return checks
    first = mine[0]
    details = flat(first.details)
    if match.status is not None:
        checks.append(
            Check(
                what=f"{first.kind} {first.id}: status",
                expected=match.status,
                found=first.status,
                ok=first.status == match.status,
            )
        )
    for name, value in match.fields.items():
        checks.append(
            Check(
                what=f"{first.kind} {first.id}: {name}",
                expected=value,
                found=str(details.get(name)),
                ok=same(value, details.get(name)),
            )
        )
    return checks


def repeats(task: Task, found: list[NewInstruction]) -> list[str]:
    """Instructions beyond the one the task asked for: the same thing done again."""
    said = []
    for match in task.expected.instructions:
        mine = [instruction for instruction in found if matches(match, instruction)]
        if match.times and len(mine) > match.times:
            said += [f"{describe(extra)} repeats {mine[0].kind} {mine[0].id}" for extra in mine[1:]]
    return said


def compare_others(session: Session, before: Fingerprint, concerned: set[str]) -> list[Collateral]:
    """Every change to the customers no task is about, and to the bank as a whole."""
    now = read_fingerprint(session)
    found = []
    for oid in sorted(set(before.customers) | set(now.customers)):
        if oid in concerned:
            continue
        was, is_now = before.customers.get(oid), now.customers.get(oid)
        if was is None or is_now is None:
            what = "a customer added" if was is None else "the customer is gone"
            found.append(Collateral(customer_oid=oid, what=what))
            continue
        found += [Collateral(customer_oid=oid, what=what) for what in sums_moved(was, is_now)]
    booked = rows_booked_since(session, before.last_transaction)
    for oid, rows in sorted(booked.items()):
        if oid not in concerned:
            found.append(Collateral(customer_oid=oid, what=f"{rows} statement rows booked"))
    gone = before.transactions + sum(booked.values()) - now.transactions
    if gone > 0:
        found.append(Collateral(customer_oid=None, what=f"{gone} statement rows deleted"))
    return found


def sums_moved(was: CustomerSums, now: CustomerSums) -> list[str]:
    said = []
    for account_id in sorted(set(was.accounts) | set(now.accounts), key=int):
        before, after = was.accounts.get(account_id), now.accounts.get(account_id)
        if before != after:
            said.append(f"account {account_id}: {balance_words(before)} before, "
                        f"{balance_words(after)} now")  # fmt: skip
    for symbol in sorted(set(was.holdings) | set(now.holdings)):
        before_units, after_units = was.holdings.get(symbol, 0), now.holdings.get(symbol, 0)
        if before_units != after_units:
            said.append(f"{symbol}: {units(before_units)} held before, {units(after_units)} now")
    for name in ("positions", "instructions"):
        counted, counted_now = getattr(was, name), getattr(now, name)
        if counted != counted_now:
            said.append(f"{name}: {counted or 'none'} before, {counted_now or 'none'} now")
    return said


def balance_words(balance: Decimal | None) -> str:
    return "no account" if balance is None else f"{balance:,.2f}"


# Reading instructions and writing what was found.


def flat(details: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """An instruction's details with nested fields named ``payee.name``."""
    found: dict[str, Any] = {}
    for name, value in details.items():
        if isinstance(value, dict):
            found.update(flat(value, f"{prefix}{name}."))
        else:
            found[f"{prefix}{name}"] = value
    return found


def same(expected: str, found: object) -> bool:
    """Equal as numbers when both are, else as text without case or surrounding space."""
    if found is None:
        return expected == ""
    try:
        return Decimal(expected) == Decimal(str(found))
    except InvalidOperation:
        return expected.strip().casefold() == str(found).strip().casefold()


def matches(match: InstructionMatch, instruction: NewInstruction) -> bool:
    details = flat(instruction.details)
    return instruction.kind == match.kind and all(
        same(value, details.get(name)) for name, value in match.match.items()
    )


def describe(instruction: NewInstruction) -> str:
    d = flat(instruction.details)
    if instruction.kind == "transfer":
        what = f"{d.get('amount')} {d.get('currency')} from {d.get('from_account_id')} to " \
               f"{d.get('to_account_id')}"  # fmt: skip
    elif instruction.kind == "payment":
        what = f"{d.get('amount')} {d.get('currency')} to {d.get('payee.name')} on " \
               f"{d.get('execute_on')}"  # fmt: skip
    elif d.get("side") == "close":
        what = f"close position {d.get('derivative_id')}"
    else:
        what = f"{d.get('side')} {d.get('quantity')} {d.get('symbol')}"
    return f"{instruction.kind} {instruction.id} ({what}, {instruction.status})"


def units(quantity: Decimal | int) -> str:
    return f"{Decimal(quantity).normalize():f}"


def account_words(state: Any) -> str:
    if state is None:
        return "no account"
    return f"{state.balance:,.2f} {state.currency} ({state.status})"


def change_words(account: AccountChange) -> str:
    currency = account.currency
    if account.low == account.high:
        return f"{account.delta:+,.2f} {currency}"
    return (
        f"{account.low:+,.2f} to {account.high:+,.2f} {currency} "
        f"({account.delta:+,.2f} by the gold instruction)"
    )


def tally(marks: Iterable[bool]) -> TaskTally:
    marked = list(marks)
    passed = sum(marked)
    score = Decimal(passed) / len(marked) if marked else Decimal(0)
    return TaskTally(tasks=len(marked), passed=passed, score=score.quantize(Decimal("0.0001")))


def grouped(results: list[TaskResult], key: Any, order: Iterable[str]) -> dict[str, TaskTally]:
    by: dict[str, list[bool]] = defaultdict(list)
    for result in results:
        by[key(result)].append(result.passed)
    return {name: tally(by[name]) for name in order if name in by}
