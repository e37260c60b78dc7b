"""The answer key for agent evaluations: questions with gold answers, and their grading.

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
from db import DatabaseDep
from evals import ROUTE_PREFIX
from evals.key import choice_pattern, grade, make_key, parse_choice
from evals.kinds import DIFFICULTIES, KINDS
from evals.schemas import GRADE_BODY_BYTES, MAX_QUESTIONS, AnswerKey, Grade, GradeRequest

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
