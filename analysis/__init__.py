"""Portfolio arithmetic on plain values, never the database: valuation and currency
conversion (``valuation``), the summary (``summary``), returns and volatility
(``performance``), derivatives exposure (``exposure``), option pricing (``pricing``) and
what the books say of an investor's risk tolerance and experience (``profiles``).

Imports ``core/``, ``schemas/`` (the shapes it fills), the tables' vocabularies and the
market's calendars. The services call it; it never calls them.
"""
