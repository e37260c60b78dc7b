"""The MCP server over stdio, for an MCP client that launches it: ``python mcp_server.py``.

The server itself is ``bank_mcp/``; this file stays at the top because client
configurations name it. ``--help`` lists its options.
"""

from bank_mcp.server import main

if __name__ == "__main__":
    main()
