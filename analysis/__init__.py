"""Portfolio arithmetic on plain values, never the database: valuation and currency
conversion (``valuation``), the summary (``summary``), returns and volatility
(``performance``), derivatives exposure (``exposure``) and option pricing (``pricing``).

Imports ``core/``, ``schemas/`` (the shapes it fills) and the market's calendars. The
services call it; it never calls them.
"""
