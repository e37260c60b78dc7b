"""Counts written in English: the noun agrees with the number."""

import pytest

from core.text import count_of


@pytest.mark.parametrize(
    ("count", "noun", "plural", "text"),
    [
        (0, "holding", None, "0 holdings"),
        (1, "holding", None, "1 holding"),
        (2, "open derivative position", None, "2 open derivative positions"),
        (1, "matching customer", None, "1 matching customer"),
        (10516, "customer", None, "10,516 customers"),
        (1, "entry", "entries", "1 entry"),
        (3, "entry", "entries", "3 entries"),
    ],
)
def test_the_noun_agrees_with_the_count(
    count: int, noun: str, plural: str | None, text: str
) -> None:
    assert count_of(count, noun, plural) == text
