"""Typed answers, their tolerance, and how a given answer is judged against the gold one.

A gold answer is one of six types: an amount with its currency, a number, a date, a
string, a list (ordered or not), or "not found". An agent's answer may be any JSON value,
written as an agent naturally would (``1234.5``, ``"1,234.50 EUR"``, ``{"amount": ...,
"currency": ...}``) or as the key writes its own (``{"type": "amount", "value": ...,
"currency": ...}``). What cannot be read as the question's type is wrong, and the reason
says what was expected: the grader grades, it does not refuse. The ways of saying there
is no answer (``null``, ``"not found"``) fit every question and are simply wrong where
there is one.
"""

import re
import unicodedata
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, TypeAdapter, ValidationError, field_serializer

NOT_FOUND_WORDS = frozenset({"not found", "not_found", "no data", "unknown", "unanswerable"})


class Tolerance(BaseModel):
    """A numeric answer is right when it is within ``max(absolute, relative * |gold|)``."""

    absolute: Decimal = Field(description="Largest difference accepted, in the answer's unit.")
    relative: Decimal = Field(
        default=Decimal(0), description="Largest difference accepted, as a share of the answer."
    )

    @field_serializer("absolute", "relative")
    def _text(self, value: Decimal) -> str:
        return str(value)

    def accepts(self, given: Decimal, gold: Decimal) -> bool:
        return abs(given - gold) <= max(self.absolute, self.relative * abs(gold))


HALF_CENT = Tolerance(absolute=Decimal("0.005"))
"""Amounts to the cent."""
EXACT = Tolerance(absolute=Decimal(0))


class AmountAnswer(BaseModel):
    type: Literal["amount"] = "amount"
    value: str = Field(description="The amount, exact, as text (e.g. '1234.50').")
    currency: str


class NumberAnswer(BaseModel):
    type: Literal["number"] = "number"
    value: str = Field(description="The number, exact, as text.")


class DateAnswer(BaseModel):
    type: Literal["date"] = "date"
    value: date


class StringAnswer(BaseModel):
    type: Literal["string"] = "string"
    value: str


class ListAnswer(BaseModel):
    type: Literal["list"] = "list"
    value: list[str]
    ordered: bool = Field(description="Whether the order of the items is part of the answer.")


class NotFound(BaseModel):
    type: Literal["not_found"] = "not_found"
    reason: str = Field(description="Why the data cannot answer the question.")


Answer = Annotated[
    AmountAnswer | NumberAnswer | DateAnswer | StringAnswer | ListAnswer | NotFound,
    Field(discriminator="type"),
]
AnswerAdapter: TypeAdapter[Answer] = TypeAdapter(Answer)


def amount(value: Decimal, currency: str, places: int = 2) -> AmountAnswer:
    return AmountAnswer(value=f"{value:.{places}f}", currency=currency)


def number(value: Decimal | int) -> NumberAnswer:
    """Written without the storage scale's trailing zeros (50, not 50.00000000)."""
    return NumberAnswer(value=f"{Decimal(value).normalize():f}")


def as_written(gold: Answer) -> Any:
    """The gold answer as an agent would send it to the grader."""
    match gold:
        case AmountAnswer():
            return {"amount": gold.value, "currency": gold.currency}
        case NotFound():
            return None
        case DateAnswer():
            return gold.value.isoformat()
        case _:
            return gold.value


class WrongType(ValueError):
    """The given answer cannot be read as the question's type: ``judge`` grades it wrong."""


def normalise(text: str) -> str:
    """Case, accents' composition, surrounding quotes and punctuation, runs of spaces."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(folded.split()).strip(" .,;:'\"`")


def says_not_found(given: Any) -> bool:
    if given is None:
        return True
    if isinstance(given, dict):
        return given.get("not_found") is True or given.get("type") == "not_found"
    return isinstance(given, str) and normalise(given) in NOT_FOUND_WORDS


_NOISE = str.maketrans("", "", ",_ $\u20ac\u00a3")
"""Thousands separators, spaces and currency signs, which say nothing about the value."""
_NUMBER_TEXT = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def _read_number(given: Any, what: str) -> Decimal:
    if isinstance(given, bool) or not isinstance(given, int | float | str):
        raise WrongType(f"expected {what}")
    text = str(given).translate(_NOISE).strip().rstrip("%").strip()
    if not _NUMBER_TEXT.fullmatch(text):
        raise WrongType(f"expected {what}, got {str(given)[:40]!r}")
    try:
        value = Decimal(text)
    except InvalidOperation as error:  # pragma: no cover - the pattern admits only numbers
        raise WrongType(f"expected {what}") from error
    if not value.is_finite():
        raise WrongType(f"expected {what}")
    return value


_AMOUNT_TEXT = re.compile(r"^\s*([A-Za-z]{3})?\s*([^A-Za-z]+?)\s*([A-Za-z]{3})?\s*$")
AMOUNT_FORMS = 'an amount: a number, text like \'1234.50 EUR\', or {"amount", "currency"}'


def _read_amount(given: Any) -> tuple[Decimal, str | None]:
    if isinstance(given, dict):
        if set(given) - {"amount", "value", "currency", "type"}:
            raise WrongType(f"expected {AMOUNT_FORMS}")
        raw = given.get("amount", given.get("value"))
        currency = given.get("currency")
        if currency is not None and not isinstance(currency, str):
            raise WrongType("currency must be a three-letter code")
        return _read_number(raw, AMOUNT_FORMS), currency
    if isinstance(given, str):
        found = _AMOUNT_TEXT.match(given)
        if found is None or (found.group(1) and found.group(3)):
            raise WrongType(f"expected {AMOUNT_FORMS}, got {given[:40]!r}")
        return _read_number(found.group(2), AMOUNT_FORMS), found.group(1) or found.group(3)
    return _read_number(given, AMOUNT_FORMS), None


def judge(gold: Any, tolerance: Tolerance | None, given: Any) -> tuple[bool, str]:
    """Whether ``given`` (any JSON value) is right, and in a few words why not."""
    try:
        return _judge(gold, tolerance, unwrapped(given))
    except WrongType as error:
        return False, str(error)


def unwrapped(given: Any) -> Any:
    """An answer object as the key writes it (``{"type": "date", "value": ...}``), as an
    agent would write the same; anything else as it is."""
    if isinstance(given, dict) and "type" in given and given.get("type") != "not_found":
        try:
            return as_written(AnswerAdapter.validate_python(given))
        except ValidationError:
            return given
    return given


def _judge(gold: Any, tolerance: Tolerance | None, given: Any) -> tuple[bool, str]:
    if isinstance(gold, NotFound):
        if says_not_found(given):
            return True, ""
        return False, "the data cannot answer this: the right answer says so (null)"
    if says_not_found(given):
        return False, "there is an answer in the data"
    tolerance = tolerance or EXACT
    match gold:
        case AmountAnswer():
            value, currency = _read_amount(given)
            if currency is not None and currency.upper() != gold.currency:
                return False, f"in {currency.upper()}, not {gold.currency}"
            if tolerance.accepts(value, Decimal(gold.value)):
                return True, ""
            return False, f"off by {value - Decimal(gold.value)}"
        case NumberAnswer():
            value = _read_number(given, "a number")
            if tolerance.accepts(value, Decimal(gold.value)):
                return True, ""
            return False, f"off by {value - Decimal(gold.value)}"
        case DateAnswer():
            if not isinstance(given, str):
                raise WrongType("expected a date written YYYY-MM-DD")
            try:
                day = date.fromisoformat(given.strip())
            except ValueError as error:
                raise WrongType(
                    f"expected a date written YYYY-MM-DD, got {given[:40]!r}"
                ) from error
            return (day == gold.value, "" if day == gold.value else "another day")
        case StringAnswer():
            if not isinstance(given, str | int | float) or isinstance(given, bool):
                raise WrongType("expected a string")
            right = normalise(str(given)) == normalise(gold.value)
            return right, "" if right else "another answer"
        case ListAnswer():
            if not isinstance(given, list) or not all(
                isinstance(item, str | int | float) and not isinstance(item, bool) for item in given
            ):
                raise WrongType("expected a list of strings")
            mine = [normalise(str(item)) for item in given]
            theirs = [normalise(item) for item in gold.value]
            if gold.ordered:
                right = mine == theirs
                return right, "" if right else "other items or another order"
            missing, extra = set(theirs) - set(mine), set(mine) - set(theirs)
            if not missing and not extra:
                return True, ""
            return False, f"{len(missing)} missing, {len(extra)} not in the answer"
    raise AssertionError(f"unknown gold answer {gold!r}")  # pragma: no cover
