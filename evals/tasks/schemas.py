"""What the task routes take and give: tasks with their expected change of state, the calls
that carry them out, the request to grade them and the grade."""

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from core.money import Decimal8, Money

TaskDifficulty = Literal["direct", "find", "compute", "refusal"]
TASK_DIFFICULTIES: tuple[TaskDifficulty, ...] = ("direct", "find", "compute", "refusal")
"""direct: the text says everything the instruction needs; find: the agent must look
something up first (a holding, a payee's account, a payment's id); compute: it must work a
quantity out; refusal: the bank must not do it, and the agent should say why."""
MAX_TASKS = 100
TASK_ID_LENGTH = 1000


class Action(BaseModel):
    """One call that carries a task out: the REST request beside the MCP tool call that
    does the same."""

    purpose: str
    method: Literal["POST", "DELETE"]
    path: str
    body: dict[str, Any] | None = None
    mcp_tool: str
    mcp_arguments: dict[str, Any]
    refused_by: str | None = Field(
        default=None,
        description="For a task that must be refused: the bank rule that refuses this call "
        "(what an agent might try; the bank changes nothing).",
    )


class AccountChange(BaseModel):
    """An account's balance: what it was, the gold change, and the changes accepted."""

    account_id: int
    currency: str
    balance_before: Money
    delta: Money = Field(description="The change the gold instruction makes; 0 to stay put.")
    low: Money = Field(description="The smallest change accepted (equal to delta when the "
                       "text fixes it).")  # fmt: skip
    high: Money = Field(description="The largest change accepted.")


class HoldingChange(BaseModel):
    """The quantity held of one symbol (over all the customer's accounts)."""

    symbol: str
    quantity_before: Decimal8
    quantity_after: Decimal8 = Field(description="After the gold instruction.")
    low: Decimal8 = Field(description="The smallest quantity after accepted.")
    high: Decimal8 = Field(description="The largest quantity after accepted.")


class StatusChange(BaseModel):
    """A position closed, or a scheduled payment cancelled."""

    item: Literal["position", "instruction"]
    id: int
    before: str
    after: str


class InstructionMatch(BaseModel):
    """New instructions of the customer that belong to the task: those whose details have
    every ``match`` field. ``times`` of them must appear (1, or 0 for a task to refuse), each
    with the ``fields`` given (details as text; a payee's fields as ``payee.name``...)."""

    kind: Literal["transfer", "payment", "order"]
    match: dict[str, str]
    times: int = Field(ge=0, le=1)
    status: Literal["executed", "scheduled"] | None = None
    fields: dict[str, str] = Field(default_factory=dict)


class Untouched(BaseModel):
    """The customer's rows no task of the set should change, as they were."""

    accounts: dict[str, Money] = Field(description="Account id: balance.")
    holdings: dict[str, Decimal8] = Field(description="Symbol: quantity.")
    positions: dict[str, str] = Field(description="Derivative id: status.")
    instructions: dict[str, str] = Field(description="Instruction id: status.")


class Expected(BaseModel):
    """The change of state the bank's rules give the task: every row that must change (and
    how far it may), the instructions that must appear, and what must stay as it was."""

    outcome: Literal["changed", "unchanged"]
    rule: str | None = Field(
        description="For a task to refuse: the rule the bank refuses it by, or null when the "
        "agent should decline by itself (a payee whose account nobody knows)."
    )
    explanation: str = Field(description="The right outcome in words.")
    accounts: list[AccountChange] = Field(default_factory=list)
    holdings: list[HoldingChange] = Field(default_factory=list)
    statuses: list[StatusChange] = Field(default_factory=list)
    instructions: list[InstructionMatch] = Field(default_factory=list)
    untouched: Untouched


class Task(BaseModel):
    task_id: str = Field(description="Signed with the bank's secret; send it back as issued.")
    kind: str
    difficulty: TaskDifficulty
    customer_oid: str = Field(description="The customer who gives the instruction.")
    text: str = Field(description="The instruction in the customer's words, for the agent.")
    expected: Expected
    gold_calls: list[Action] = Field(
        description="The calls that carry the task out (none for a task to refuse, or the "
        "call the bank refuses)."
    )


class SetupStep(BaseModel):
    """Something the bank did for a task before its baseline was taken (a payment scheduled
    so that a task can ask to cancel it)."""

    customer_oid: str
    purpose: str
    instruction_id: int


class TaskSet(BaseModel):
    task_set_id: str = Field(description="What POST /eval/tasks/grade takes.")
    as_of: date = Field(description="The bank's day: orders fill at its closes.")
    seed: int
    count: int = Field(
        description="Tasks in the set: fewer than asked for when the bank has too few "
        "distinct tasks of the kinds asked."
    )
    setup: list[SetupStep]
    tasks: list[Task]


class TaskGradeRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"task_set_id": "tasks.eyJ..."}]}
    )

    task_set_id: str | None = Field(default=None, max_length=TASK_ID_LENGTH)
    task_ids: list[str] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_TASKS,
        description="Instead of task_set_id: some tasks of one set.",
    )

    @model_validator(mode="after")
    def _one_of(self) -> "TaskGradeRequest":
        if (self.task_set_id is None) == (self.task_ids is None):
            raise ValueError("task_set_id, task_ids: give exactly one of them")
        if self.task_ids and any(len(task_id) > TASK_ID_LENGTH for task_id in self.task_ids):
            raise ValueError(f"task_ids: an id has at most {TASK_ID_LENGTH} characters")
        return self


class Check(BaseModel):
    what: str
    expected: str
    found: str
    ok: bool


class TaskResult(BaseModel):
    task_id: str
    kind: str
    difficulty: TaskDifficulty
    customer_oid: str
    text: str
    passed: bool = Field(description="done, and nothing else changed for its customer.")
    done: bool = Field(
        description="Every required change happened, within its tolerance (for a task to "
        "refuse: nothing changed)."
    )
    checks: list[Check]
    collateral: list[str] = Field(
        description="Changes to the customer's rows that no task of the set asked for, or an "
        "instruction given twice."
    )
    reason: str = Field(description="Why it failed, in a few words; empty when passed.")


class Collateral(BaseModel):
    customer_oid: str | None = Field(description="Whose rows; null for the bank as a whole.")
    what: str


class TaskTally(BaseModel):
    tasks: int
    passed: int
    score: Decimal8 = Field(description="passed / tasks, to four places.")


class TaskGrade(BaseModel):
    task_set_id: str
    as_of: date
    total: TaskTally
    collateral_changes: int = Field(
        description="Changes no task asked for, anywhere in the bank (also duplicates)."
    )
    by_kind: dict[str, TaskTally]
    by_difficulty: dict[str, TaskTally]
    results: list[TaskResult]
    collateral: list[Collateral]
