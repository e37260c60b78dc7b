"""The API plus one benchmark-only route: prebuilt bytes, the server's own ceiling.

``GET /__ceiling`` answers ``BENCH_CEILING_BYTES`` bytes of JSON built once at
import, through the same app, middleware and server as every other route.
Used only by ``bench/bench_api.py``; the API itself never serves it.
"""

import json
import os

from fastapi import Response

from main import app

_SIZE = int(os.environ.get("BENCH_CEILING_BYTES", "16000"))
_BODY = json.dumps({"padding": "x" * max(_SIZE - 15, 0)}).encode()


@app.get("/__ceiling", include_in_schema=False)
async def ceiling() -> Response:
    return Response(_BODY, media_type="application/json")
