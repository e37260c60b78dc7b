"""What the answer key's routes take and give: questions, answers to grade, grades."""

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from core.money import Decimal8
from evals.answers import Answer, Tolerance
from evals.evidence import Call
from evals.kinds import Difficulty

MAX_QUESTIONS = 500
MAX_ANSWERS = 1000
GRADE_BODY_BYTES = 1024 * 1024
"""A grade request may be this large: a thousand answers with their ids, and room to spare
(every other body stops at 64 KiB)."""


class Question(BaseModel):
    question_id: str = Field(
        description="Stable id: the same question on the same bank has the same id. It "
        "names what is asked, not the answer, which is computed again when graded."
    )
    kind: str
    difficulty: Difficulty
    question: str = Field(description="The question in plain words, for the agent.")
    answer: Answer = Field(description="The gold answer on the bank's current state.")
    tolerance: Tolerance | None = Field(
        description="How far a numeric answer may be from the gold one and still be right."
    )
    customers: list[str] = Field(description="CustomerOIDs the question concerns.")
    parameters: dict[str, Any] = Field(
        description="What the question is about, as data (c: customer, a: account, s: "
        "symbol, m: month, g: category, n: name or merchant, f/t: dates, k: currency, "
        "w: window)."
    )
    evidence: list[Call] = Field(description="The calls that together answer it.")


class AnswerKey(BaseModel):
    as_of: date = Field(description="The market's last day, on which the bank is valued.")
    seed: int
    count: int = Field(
        description="Questions in this key: fewer than asked for when the bank has too few "
        "distinct questions of the kinds asked."
    )
    questions: list[Question]


class GivenAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question_id: str = Field(max_length=1000)
    answer: JsonValue = Field(
        description="Any JSON value. Read as an amount (1234.5, '1234.50 EUR' or {'amount', "
        "'currency'}), a number, a date (YYYY-MM-DD), a string or a list of strings, as the "
        "question asks; the key's own answer objects ({'type': 'amount', 'value', "
        "'currency'}, ...) are read too. null (or 'not found') says the data cannot answer "
        "the question. What cannot be read as the question's type is graded wrong, with "
        "the reason."
    )


class GradeRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"answers": [{"question_id": "holding_quantity.eyJ...", "answer": 50}]}]
        },
    )

    answers: list[GivenAnswer] = Field(min_length=1, max_length=MAX_ANSWERS)


class Graded(BaseModel):
    question_id: str
    kind: str | None = Field(description="None for an unknown question.")
    difficulty: Difficulty | None
    status: str = Field(
        description="correct, wrong (also for an answer that cannot be read as the "
        "question's type), unknown_question (an id this bank did not issue, or not written "
        "exactly as issued: counted wrong) or duplicate (a question answered before in this "
        "request: not counted)."
    )
    correct: bool
    expected: Answer | None
    given: JsonValue
    reason: str = Field(description="Why it is wrong, in a few words; empty when right.")


class Tally(BaseModel):
    questions: int
    correct: int
    score: Decimal8 = Field(description="correct / questions, to four places.")


class Grade(BaseModel):
    as_of: date
    total: Tally
    by_kind: dict[str, Tally]
    by_difficulty: dict[str, Tally]
    results: list[Graded]
