"""The bank as an MCP server: ``server`` builds it (tools, resources, prompts) and serves it
over stdio or, mounted by ``main.py``, at ``/mcp`` (``transport``: stateless, or in
sessions); ``subscriptions`` takes resource subscriptions and notifies them from the change
feed; ``tools`` holds one function per tool; ``listing`` trims the schemas ``tools/list``
shows.
Not named ``mcp``, which is the SDK's.

Calls the same services as REST and shares its parameters (``api.params``). Only the entry
points (``main.py``, ``mcp_server.py``) import it.
"""
