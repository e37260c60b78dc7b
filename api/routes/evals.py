"""Agent evaluations: the answer key (questions with gold answers, and their grading) and
task sets (instructions with a gold end state, graded by the state the agent leaves).

For the harness, never for the agent under test: these routes are no MCP tools, need the
full key when keys are set, and ``BANK_EVAL_ENABLED=false`` leaves them out altogether.
Sent with ``X-Bank-Sandbox`` they act on that sandbox, and stay out of its trace and its
faults, which are the agent's.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from api.access import full_key_only
from api.answers import answer
from api.http_errors import error_responses
from core.errors import Conflict
from db import Database, DatabaseDep
from evals import ROUTE_PREFIX
from evals.key import choice_pattern, grade, make_key, parse_choice
from evals.kinds import DIFFICULTIES, KINDS
from evals.schemas import GRADE_BODY_BYTES, MAX_QUESTIONS, AnswerKey, Grade, GradeRequest
from evals.tasks.draw import make_task_set
from evals.tasks.grading import grade_tasks
from evals.tasks.kinds import TASK_KINDS
from evals.tasks.schemas import (
    MAX_TASKS,
    TASK_DIFFICULTIES,
    TaskGrade,
    TaskGradeRequest,
    TaskSet,
)

full_access = full_key_only(
    "The answer key needs the full API key: the agent under test must not read it"
)


GRADE_PATH = f"{ROUTE_PREFIX}/grade"

router = APIRouter(
    prefix=ROUTE_PREFIX,
    tags=["evaluation"],
    dependencies=[Depends(full_access)],
    responses=error_responses(e403="A read-only API key, or a sandbox key."),
)


@router.get(
    "/questions",
    summary="An answer key: questions with gold answers from the bank's current state",
    response_model=AnswerKey,
    responses=error_responses(e400="An unknown kind or difficulty, or a count out of range."),
)
async def read_questions(
    database: DatabaseDep,
    count: Annotated[
        int, Query(ge=1, le=MAX_QUESTIONS, description=f"How many questions, 1 to {MAX_QUESTIONS}.")
    ] = 50,
    seed: Annotated[
        int, Query(ge=0, lt=2**63, description="The same seed on the same state, the same key.")
    ] = 1,
    kinds: Annotated[
        str | None,
        Query(
            max_length=1000,
            description="Comma-separated kinds to ask (all by default): " + ", ".join(KINDS),
            json_schema_extra={"pattern": choice_pattern(KINDS)},
        ),
    ] = None,
    difficulty: Annotated[
        str | None,
        Query(
            max_length=100,
            description="Comma-separated difficulties (all by default): " + ", ".join(DIFFICULTIES),
            json_schema_extra={"pattern": choice_pattern(DIFFICULTIES)},
        ),
    ] = None,
) -> Response:
    """Questions a user would ask, each with its typed gold answer, grading tolerance, the
    customers it concerns, and the REST and MCP calls that answer it. Kinds are asked in
    turn, so a key of a few dozen questions has every kind the bank's data allows."""
    chosen_kinds = parse_choice(kinds, KINDS, "kinds")
    chosen_difficulties = parse_choice(difficulty, DIFFICULTIES, "difficulty")
    return await answer(
        database,
        lambda session: make_key(
            session,
            seed=seed,
            count=count,
            kinds=chosen_kinds,
            difficulties=chosen_difficulties,
        ),
    )


@router.post(
    GRADE_PATH.removeprefix(ROUTE_PREFIX),
    summary="Grade an agent's answers against the key",
    response_model=Grade,
    responses=error_responses(
        e400="A body that is not a list of {question_id, answer} (the field is named). An "
        "answer of the wrong type is no 400: it is graded wrong, with the reason.",
        e413=f"A body over {GRADE_BODY_BYTES // 1024} KiB.",
    ),
)
async def grade_answers(body: GradeRequest, database: DatabaseDep) -> Response:
    """Right or wrong per answer with the expected answer and the reason, and the score in
    all, by kind and by difficulty. The gold answers are worked out again on the current
    state; an id this bank did not issue, exactly as written, is graded
    ``unknown_question``."""
    return await answer(database, lambda session: grade(session, body.answers))


def drawn_where(database: Database) -> str:
    """Where a task set lives, sealed into its ids: ``bank`` or the sandbox's id."""
    return database.sandbox_id or "bank"


@router.get(
    "/tasks",
    summary="A task set: instructions in a customer's words, each with its gold end state",
    response_model=TaskSet,
    responses=error_responses(
        e400="An unknown kind or difficulty, or a count out of range.",
        e409="Not in a sandbox, or in one created without writes (the agent could not "
        "act), or the bank changed while the tasks were drawn.",
    ),
)
async def read_tasks(
    database: DatabaseDep,
    count: Annotated[
        int, Query(ge=1, le=MAX_TASKS, description=f"How many tasks, 1 to {MAX_TASKS}.")
    ] = 10,
    seed: Annotated[
        int, Query(ge=0, lt=2**63, description="The same seed on the same state, the same tasks.")
    ] = 1,
    kinds: Annotated[
        str | None,
        Query(
            max_length=1000,
            description="Comma-separated kinds (all by default): " + ", ".join(TASK_KINDS),
            json_schema_extra={"pattern": choice_pattern(TASK_KINDS)},
        ),
    ] = None,
    difficulty: Annotated[
        str | None,
        Query(
            max_length=100,
            description="Comma-separated difficulties (all by default): "
            + ", ".join(TASK_DIFFICULTIES),
            json_schema_extra={"pattern": choice_pattern(TASK_DIFFICULTIES)},
        ),
    ] = None,
) -> Response:
    """Tasks drawn from the current state by the seed (kinds in turn, no two touching the
    same rows), each with the customer, the text, the calls that carry it out and the
    expected change of state worked out by the bank's own rules; tasks to refuse expect no
    change. Every call makes a new set: it applies the set's setup (a payment scheduled so
    that a task can cancel it), takes the baseline and keeps both for grading."""
    chosen_kinds = parse_choice(kinds, TASK_KINDS, "kinds")
    chosen_difficulties = parse_choice(difficulty, TASK_DIFFICULTIES, "difficulty")
    if database.allow_writes is None:
        # Drawing applies the set's setup: the sample bank is changed only by instructions.
        raise Conflict(
            "Tasks are drawn in a sandbox, where the agent acts and the setup may be applied: "
            'create one with "allow_writes": true and send its X-Bank-Sandbox header'
        )
    if database.allow_writes is False:
        raise Conflict(
            "This sandbox was created without writes: the agent could not carry out a task. "
            'Create one with "allow_writes": true'
        )
    where = drawn_where(database)
    return await answer(
        database,
        lambda session: make_task_set(
            session,
            seed=seed,
            count=count,
            where=where,
            kinds=chosen_kinds,
            difficulties=chosen_difficulties,
        ),
        write=True,
    )


@router.post(
    "/tasks/grade",
    summary="Grade a task set by the state the agent left",
    response_model=TaskGrade,
    responses=error_responses(
        e400="Neither or both of task_set_id and task_ids, or an id this bank did not issue "
        "(the field is named).",
        e404="A task set drawn in another sandbox or in the bank, or one that is gone (a "
        "sandbox's reset clears its sets).",
    ),
)
async def grade_task_set(body: TaskGradeRequest, database: DatabaseDep) -> Response:
    """Per task: each required change (within what the text leaves open), the instructions
    that carry it out (one, or none for a task to refuse) and the collateral on its
    customer; for the set: every change no task asked for, anywhere in the bank (another
    customer's rows, an instruction given twice), and the score by kind and difficulty."""
    where = drawn_where(database)
    return await answer(database, lambda session: grade_tasks(session, body, where))
