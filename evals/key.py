"""The answer key: questions drawn from the bank's state by a seed, and their grading.

A question id is its kind and parameters, sealed like a page cursor, so only ids this
bank issued are read back, and nothing needs storing: grading decodes the id and works
the gold answer out again on the bank as it is now.
"""

import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal

from sqlmodel import Session

from core.errors import InvalidInput
from core.paging import seal, unseal
from evals.answers import judge
from evals.book import Book
from evals.kinds import DIFFICULTIES, KINDS, Kind, Params
from evals.schemas import (
    MAX_QUESTIONS,
    AnswerKey,
    GivenAnswer,
    Grade,
    Graded,
    Question,
    Tally,
)

MISSES_PER_KIND = 8
"""Draws in a row that give nothing new before a kind is left out of the rest of a key."""


def question_id(kind: Kind, params: Params) -> str:
    return f"{kind.name}.{seal({'k': kind.name, 'p': params})}"


def read_question_id(text: str) -> tuple[Kind, Params] | None:
    """The kind and parameters of an id this bank issued, written exactly as issued."""
    name, _, token = text.partition(".")
    data = unseal(token)
    if data is None or data.get("k") != name or name not in KINDS:
        return None
    params = data.get("p")
    # Signed is not enough: whoever holds the secret could seal anything.
    if not isinstance(params, dict) or not KINDS[name].reads(params):
        return None
    return KINDS[name], params


def parse_choice(text: str | None, allowed: Iterable[str], field: str) -> list[str]:
    """A comma-separated filter, every item checked; empty means all of them."""
    known = list(allowed)
    chosen = [item.strip() for item in (text or "").split(",") if item.strip()]
    unknown = [item for item in chosen if item not in known]
    if unknown:
        raise InvalidInput(
            f"{field}: unknown {', '.join(repr(u) for u in unknown)}; "
            f"choose among {', '.join(known)}"
        )
    return chosen


def choice_pattern(allowed: Iterable[str]) -> str:
    """What ``parse_choice`` accepts, for the schema: known names, commas, spaces."""
    item = "(" + "|".join(allowed) + ")"
    return rf"^\s*{item}?\s*(,\s*{item}?\s*)*$"


def make_key(
    session: Session,
    *,
    seed: int,
    count: int,
    kinds: Sequence[str] = (),
    difficulties: Sequence[str] = (),
) -> AnswerKey:
    """``count`` questions of the kinds asked, cycling through them, in an order the seed
    shuffles; the same seed on the same state gives the same key."""
    if not 1 <= count <= MAX_QUESTIONS:
        raise InvalidInput(f"count: must be 1 to {MAX_QUESTIONS}")
    chosen = [
        kind
        for kind in KINDS.values()
        if (not kinds or kind.name in kinds)
        and (not difficulties or kind.difficulty in difficulties)
    ]
    # No kind of the difficulty asked: an empty key, as when the data has no such question.
    book = Book(session)
    rng = random.Random(f"answer-key:{seed}")
    questions: dict[str, Question] = {}
    misses = dict.fromkeys((kind.name for kind in chosen), 0)
    while len(questions) < count and chosen:
        for kind in list(chosen):
            if len(questions) == count:
                break
            params = kind.pick(rng, book)
            if params is None or (found := question_id(kind, params)) in questions:
                misses[kind.name] += 1
                if misses[kind.name] >= MISSES_PER_KIND:
                    chosen.remove(kind)
                continue
            misses[kind.name] = 0
            questions[found] = ask(book, kind, params, found)
    ordered = list(questions.values())
    rng.shuffle(ordered)
    return AnswerKey(as_of=book.as_of, seed=seed, count=len(ordered), questions=ordered)


def ask(book: Book, kind: Kind, params: Params, found: str) -> Question:
    return Question(
        question_id=found,
        kind=kind.name,
        difficulty=kind.difficulty,
        question=kind.ask(book, params),
        answer=kind.gold(book, params),
        tolerance=kind.tolerance(book, params),
        customers=kind.customers(params),
        parameters=params,
        evidence=kind.evidence(book, params),
    )


def grade(session: Session, answers: Sequence[GivenAnswer]) -> Grade:
    """Each answer judged against the gold answer on the current state, with totals.

    Every answer gets a verdict: one that cannot be read as its question's type is wrong,
    with the reason. The first answer to a question counts; a later one is marked
    ``duplicate`` and left out of the totals. An id this bank did not issue, written
    otherwise than issued, or with parameters its kind does not take, is an
    ``unknown_question``, counted wrong."""
    book = Book(session)
    first: dict[str, int] = {}
    results = []
    for index, given in enumerate(answers):
        decoded = read_question_id(given.question_id)
        # Duplicates are found on the question, not on how its id was written.
        key = question_id(*decoded) if decoded else given.question_id
        if key in first or decoded is None:
            duplicate = key in first
            results.append(
                Graded(
                    question_id=given.question_id,
                    kind=decoded[0].name if decoded else None,
                    difficulty=decoded[0].difficulty if decoded else None,
                    status="duplicate" if duplicate else "unknown_question",
                    correct=False,
                    expected=None,
                    given=given.answer,
                    reason=f"answered before, at answers[{first[key]}]: only that answer counts"
                    if duplicate
                    else "not a question this bank issued",
                )
            )
            continue
        first[key] = index
        kind, params = decoded
        gold = kind.gold(book, params)
        right, reason = judge(gold, kind.tolerance(book, params), given.answer)
        results.append(
            Graded(
                question_id=given.question_id,
                kind=kind.name,
                difficulty=kind.difficulty,
                status="correct" if right else "wrong",
                correct=right,
                expected=gold,
                given=given.answer,
                reason=reason,
            )
        )
    counted = [result for result in results if result.status != "duplicate"]
    by_kind: dict[str, list[bool]] = defaultdict(list)
    by_difficulty: dict[str, list[bool]] = defaultdict(list)
    for result in counted:
        by_kind[result.kind or "unknown_question"].append(result.correct)
        by_difficulty[result.difficulty or "unknown_question"].append(result.correct)
    order = {name: i for i, name in enumerate([*KINDS, *DIFFICULTIES, "unknown_question"])}
    return Grade(
        as_of=book.as_of,
        total=tally(r.correct for r in counted),
        by_kind={k: tally(v) for k, v in sorted(by_kind.items(), key=lambda i: order[i[0]])},
        by_difficulty={
            k: tally(v) for k, v in sorted(by_difficulty.items(), key=lambda i: order[i[0]])
        },
        results=results,
    )


def tally(marks: Iterable[bool]) -> Tally:
    marked = list(marks)
    right = sum(marked)
    score = Decimal(right) / len(marked) if marked else Decimal(0)
    return Tally(questions=len(marked), correct=right, score=score.quantize(Decimal("0.0001")))
