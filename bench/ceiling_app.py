"""The API plus one benchmark-only route: prebuilt bytes, the server's own ceiling.

``GET /__ceiling/{size}`` answers ``size`` bytes of JSON built once, through the
same app, middleware and server as every other route. Used only by
``bench/bench_api.py``; the API itself never serves it.
"""

import json
from functools import cache

from fastapi import Response

from main import app


@cache
def _body(size: int) -> bytes:
    return json.dumps({"padding": "x" * max(size - 15, 0)}).encode()


@app.get("/__ceiling/{size}", include_in_schema=False)
async def ceiling(size: int) -> Response:
    return Response(_body(min(size, 10_000_000)), media_type="application/json")
