"""Sandboxes: isolated, resettable copies of the bank, one per test or evaluation episode.

``storage`` makes and drops the copies (a file on SQLite, a database on PostgreSQL),
``registry`` keeps the list every worker reads, ``manager`` opens a worker's connections
to them, ``faults`` decides which calls fail, ``trace`` records them, ``clock`` runs a
sandbox forward through days, ``scripts`` holds the events scripted to happen on a later day.
``webhooks`` keeps the URLs a sandbox's changes are sent to, ``webhook_events`` is where those
changes come from, ``delivery`` sends them. What points a request at its sandbox is HTTP, and
lives in ``api/sandbox_middleware.py``.

Built on the services, the sample data (``synthetic/``) and the tables; the answer key, the
HTTP layer and MCP import it.
"""
