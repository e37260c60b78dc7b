"""The HTTP layer: routes (``routes/``), the middleware every request passes
(``middleware``: keys, hosts, admission, request ids; ``sandbox_middleware``: the
``X-Bank-Sandbox`` header, faults and the trace; ``cache``: whole answers replayed), request
parameters REST and MCP share (``params``), domain errors turned into HTTP answers
(``http_errors``), JSON answers (``answers``) and the OpenAPI examples.

Sits on the services, sandboxes and the answer key; ``main.py`` assembles it. Only the MCP
server and the explorer import it.
"""
