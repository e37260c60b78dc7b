"""What a day of a sandbox's clock did, as data: the one shape every effect is returned in.

Each step of a day (``sandboxes/clock.py``) returns the ``Effect`` list of what it wrote;
the clock gathers a day's list and hands it to one place (``sandboxes.clock.record_effects``),
which is where the change feed turns them into its events. The kinds are the feed's names.
"""

from dataclasses import dataclass, field
from typing import Any

MARKET_DAY_CLOSED = "market.day_closed"
PAYOUT_PAID = "payout.paid"
OPTION_EXPIRED = "option.expired"
"""An option at its expiry: ``outcome`` says exercised, assigned, cash_settled or worthless."""
FUTURE_SETTLED = "future.settled"
INSTRUCTION_EXECUTED = "instruction.executed"
INSTRUCTION_REFUSED = "instruction.refused"
TRANSACTION_ADDED = "transaction.added"
BALANCE_CHANGED = "balance.changed"
HOLDING_CHANGED = "holding.changed"


@dataclass(frozen=True)
class Effect:
    """One thing a day did. ``data`` is JSON-ready: amounts and prices as exact strings."""

    kind: str
    customer_oid: str | None
    data: dict[str, Any] = field(default_factory=dict)
