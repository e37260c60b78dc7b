"""Sandboxes: isolated, resettable copies of the bank, one per test or evaluation episode.

``storage`` makes and drops the copies (a file on SQLite, a database on PostgreSQL),
``registry`` keeps the list every worker reads, ``manager`` opens a worker's connections
to them, ``faults`` decides which calls fail, ``trace`` records them, and ``middleware``
points a request at the sandbox its ``X-Bank-Sandbox`` header names.
"""
