"""What every kind of question is made of: the ``Kind`` classes, the registry that ``@kind``
fills, the types of their parameters, and the helpers kinds share to pick a customer and
word a date."""

import random
from collections.abc import Callable, Sequence
from datetime import date
from typing import Annotated, Any, ClassVar, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, create_model

from core.money import CURRENCIES
from evals.answers import HALF_CENT, Answer, NotFound, Tolerance
from evals.book import Book, Ledger
from evals.evidence import Call

Difficulty = Literal["lookup", "aggregate", "multi_hop", "unanswerable"]
DIFFICULTIES: tuple[Difficulty, ...] = ("lookup", "aggregate", "multi_hop", "unanswerable")
Params = dict[str, Any]
ParameterTypes = dict[str, Any]
"""A kind's parameters by name, each with its type (the aliases below)."""


def _day(text: str) -> str:
    date.fromisoformat(text)
    if len(text) != len("2026-09-30"):
        raise ValueError("a day is written YYYY-MM-DD")
    return text


def _currency(text: str) -> str:
    if text not in CURRENCIES:
        raise ValueError(f"one of {', '.join(CURRENCIES)}")
    return text


# The types of the parameters kinds take (their one-letter names are the ids' own words:
# an id stays short). A parameter of another type makes an id no question of its kind.
CustomerRef = Annotated[str, Field(min_length=1, max_length=64)]
"""``c``: a CustomerOID as issued (perhaps of nobody, for the unanswerable questions)."""
Customers = Annotated[list[CustomerRef], Field(min_length=2, max_length=10)]
"""``cs``: the customers a question compares."""
Text = Annotated[str, Field(min_length=1, max_length=200)]
"""``a``, ``s``, ``g``, ``n``: an account number, a symbol, a category, a name or merchant."""
Month = Annotated[str, Field(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$")]
"""``m``: a month, YYYY-MM."""
Day = Annotated[str, AfterValidator(_day)]
"""``f``, ``t``, ``d``: a day, YYYY-MM-DD."""
Currency = Annotated[str, AfterValidator(_currency)]
"""``k``: a currency the bank keeps."""

ONE_CUSTOMER: ParameterTypes = {"c": CustomerRef}


class Kind:
    """One kind of question. Subclasses set ``name``, ``difficulty`` and ``parameters``
    and fill the four methods; each reads the bank only through the ``Book``."""

    name: ClassVar[str]
    difficulty: ClassVar[Difficulty]
    summary: ClassVar[str]
    parameters: ClassVar[ParameterTypes]
    """Each parameter's name and type: exactly these make a question of this kind."""
    shape: ClassVar[type[BaseModel]]
    """``parameters`` as a model, made by ``@kind``."""

    def reads(self, p: Any) -> bool:
        """Whether ``p`` are parameters of this kind: the names it takes, of their types."""
        try:
            self.shape.model_validate(p)
        except ValidationError:
            return False
        return True

    def pick(self, rng: random.Random, book: Book) -> Params | None:
        """Parameters of a question this bank can ask, or None when it has none."""
        raise NotImplementedError

    def ask(self, book: Book, p: Params) -> str:
        """The question in plain words, as a user would put it."""
        raise NotImplementedError

    def gold(self, book: Book, p: Params) -> Answer:
        """The right answer on the bank's current state."""
        raise NotImplementedError

    def evidence(self, book: Book, p: Params) -> list[Call]:
        """The calls that together answer it."""
        raise NotImplementedError

    def tolerance(self, book: Book, p: Params) -> Tolerance | None:
        return HALF_CENT

    def customers(self, p: Params) -> list[str]:
        """The customers the question concerns."""
        if "c" in p:
            return [p["c"]]
        return list(p.get("cs", []))


class CustomerKind(Kind):
    """A kind about one customer, ``p["c"]``: when that customer is gone, the answer is
    that there is none; otherwise ``answer`` and ``words`` get the customer's ledger."""

    parameters: ClassVar[ParameterTypes] = ONE_CUSTOMER

    def answer(self, book: Book, ledger: Ledger, p: Params) -> Answer:
        raise NotImplementedError

    def words(self, book: Book, ledger: Ledger, p: Params) -> str:
        raise NotImplementedError

    def gold(self, book: Book, p: Params) -> Answer:
        ledger = book.ledger(p["c"])
        return no_customer(p["c"]) if ledger is None else self.answer(book, ledger, p)

    def ask(self, book: Book, p: Params) -> str:
        ledger = book.ledger(p["c"])
        assert ledger is not None, "a question is asked only of a customer who is there"
        return self.words(book, ledger, p)


KINDS: dict[str, Kind] = {}

K = TypeVar("K", bound=type[Kind])


def kind(cls: K) -> K:
    fields: dict[str, Any] = {name: (kind, ...) for name, kind in cls.parameters.items()}
    cls.shape = create_model(
        f"{cls.__name__}Parameters",
        __config__=ConfigDict(extra="forbid", strict=True),
        **fields,
    )
    KINDS[cls.name] = cls()
    return cls


T = TypeVar("T")


def choose(rng: random.Random, items: Sequence[T]) -> T | None:
    return rng.choice(items) if items else None


SMALL_BANK = 100
"""Up to this many customers, a draw looks at every one before it gives up."""


def pick_ledger(
    rng: random.Random, book: Book, fits: Callable[[Ledger], bool], tries: int = 60
) -> Ledger | None:
    """A customer drawn at random among those that fit, or None after ``tries`` misses
    (in a small bank, only once every customer missed)."""
    customers = book.customers
    if not customers:
        return None
    if len(customers) <= max(tries, SMALL_BANK):
        candidates = [c for c, _ in customers]
        rng.shuffle(candidates)
    else:
        candidates = [rng.choice(customers)[0] for _ in range(tries)]
    for customer_oid in candidates:
        ledger = book.ledger(customer_oid)
        if ledger is not None and fits(ledger):
            return ledger
    return None


def unique_name(book: Book, ledger: Ledger) -> bool:
    return len(book.named(ledger.name)) == 1


def who(ledger: Ledger) -> str:
    return f"{ledger.name} (customer {ledger.customer_oid})"


def no_customer(customer_oid: str) -> NotFound:
    return NotFound(reason=f"no customer {customer_oid}")


def month_label(month: str) -> str:
    return date.fromisoformat(f"{month}-01").strftime("%B %Y")


def day_label(day: date | str) -> str:
    found = date.fromisoformat(day) if isinstance(day, str) else day
    return f"{found.day} {found:%B %Y}"


def month_of(day: date) -> str:
    return f"{day:%Y-%m}"


def add_months(month: str, months: int) -> str:
    year, number = divmod(int(month[:4]) * 12 + int(month[5:]) - 1 + months, 12)
    return f"{year:04d}-{number + 1:02d}"
