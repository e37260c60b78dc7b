"""The bank's operations, one module per domain, shared by REST, MCP and the scripts:
customers, their records, the market, the portfolio and its history, the figures kept per
customer by the writes (``books``, ``kept``), the change log every write is recorded in
(``changes``), and the public change feed of typed changes (``events``).

Functions take a session first and raise the domain errors of ``core/errors.py``; they never
know about HTTP. Built on the analysis, the schemas, the market and the tables; the HTTP
layer, MCP, the sandboxes, the sample data and the answer key call them, never the reverse.
"""
