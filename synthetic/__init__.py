"""Synthetic customers: a deterministic bank book of any size, streamed into the database.

Customer ``i`` of seed ``S`` is generated from its own random stream
(``Random(f"{S}:{i}")``), so the same N, S and history depth give the same
rows to the byte on any machine, however the work is batched. Amounts are
computed in integer cents; floats only shape the draws.

Each customer has a persona (``personas.py``) that sets income, pay rhythm,
spending, housing, cash buffer, savings and portfolio; banks in the country
of its currency; is paid by a named employer on business days; pays rent or
a mortgage, utilities, a phone and subscriptions every month; spends by card
at merchants of its city and online (``merchants.py``); moves money between
its own accounts, earns interest, pays fees and taxes, gets refunds; and
invests on trading days at the day's price plus spread and commission,
receiving dividends and coupons. Holdings are the sum of their trades,
balances an opening balance plus every booked transaction, and monthly
spending the sum of that month's card payments.

``generator`` draws each customer and writes its rows in batches; ``book``
holds one customer's accounts and bookings; ``statements`` and ``investing``
are what fills them. The loader imports what it needs from here.
"""

from synthetic.book import TRANSACTION_COLUMNS, IdCounters
from synthetic.generator import (
    COLUMNS,
    DEFAULT_HISTORY_MONTHS,
    TABLES,
    CustomerGenerator,
    batches,
    copy_text,
    produce,
    uuid7,
)

__all__ = [
    "COLUMNS",
    "DEFAULT_HISTORY_MONTHS",
    "TABLES",
    "TRANSACTION_COLUMNS",
    "CustomerGenerator",
    "IdCounters",
    "batches",
    "copy_text",
    "produce",
    "uuid7",
]
