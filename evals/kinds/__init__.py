"""Kinds of question: how each picks its subject, asks, answers and shows its evidence.

A kind is a class registered with ``@kind``. Its parameters (a small JSON object: a
customer, an account, a month...) are all a question is: they are written into the
question's id, and the gold answer is computed again from them and the bank's current
state whenever the question is asked or graded. So a write that changes an answer
changes it in the key, and grading needs no stored key.

``base`` holds what a kind is made of; ``everyday``, ``investing``, ``risk`` and ``across`` hold
the kinds by subject, and importing this package registers them all in ``KINDS``.
"""

from evals.kinds import across, everyday, investing, risk
from evals.kinds.base import DIFFICULTIES, KINDS, Difficulty, Kind, Params

__all__ = [
    "DIFFICULTIES",
    "KINDS",
    "Difficulty",
    "Kind",
    "Params",
    "across",
    "everyday",
    "investing",
    "risk",
]
