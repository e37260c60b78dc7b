"""Synthetic customers: a deterministic bank book of any size, streamed into the database.

Customer ``i`` of seed ``S`` is generated from its own random stream
(``Random(f"{S}:{i}")``), so the same N, S and history depth give the same
rows to the byte on any machine, however the work is batched. Amounts are
computed in integer cents; floats only shape the draws.

Each customer has a persona (``personas``) that sets income, pay rhythm,
spending, housing, cash buffer, savings and portfolio; banks in the country
of its currency; is paid by a named employer on business days; pays rent or
a mortgage, utilities, a phone and subscriptions every month; spends by card
at merchants of its city and online (``market/merchants.py``); moves money between
its own accounts, earns interest, pays fees and taxes, gets refunds; and
invests on trading days at the day's price plus spread and commission,
receiving dividends and coupons. Holdings are the sum of their trades,
balances an opening balance plus every booked transaction, and monthly
spending the sum of that month's card payments.

``generator`` draws each customer and writes its rows in batches; ``book``
holds one customer's accounts and bookings; ``statements`` and ``investing``
are what fills them; ``profiles`` is what the customer declares about itself (on
a random stream of its own, so no other figure depends on it); ``bulk_load``
streams them into the database. ``texture`` learns what a customer's statement
looks like from its rows up to a day (its series' days by ``day_rules``), and
``continuation`` draws the days after it
from that, one day at a time (for a sandbox's clock). The five sample customers of the contract are
hand-written (``samples``, their declared profiles included), become rows in
``sample_book`` and are loaded by ``seeding``, which the API's start-up calls.

Imports the market (``market/``), the tables, ``core/`` and the investor rule of
``analysis/profiles``; the samples register their customers through
``services.customers``. Only entry points (``seed.py``, ``main.py``, the MCP
server) and ``sandboxes/`` import this package.
"""
