"""The shapes the bank answers with, over REST and MCP alike: ``common`` (the error body,
patterns), ``customers``, ``portfolio`` and its sections, ``market`` data, the portfolio
``summary``, and the change feed's ``changes``. Field descriptions are written for whoever
reads ``/openapi.json``.

Imports ``core/`` and the market's category taxonomy. The analysis, the services and the
HTTP layer import it; it imports none of them.
"""
