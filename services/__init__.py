"""The bank's operations, one module per domain, shared by REST, MCP and the scripts.

Functions take a session first and raise the domain errors of ``errors.py``;
they never know about HTTP.
"""
