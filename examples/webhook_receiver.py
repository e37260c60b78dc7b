"""A receiver of a sandbox's webhook that checks every delivery's signature (stdlib only).

    python examples/webhook_receiver.py --port 8081 --secret whsec_...

then register ``http://127.0.0.1:8081/`` with ``POST /sandboxes/{sandbox_id}/webhooks``.
It answers 204 to a delivery whose ``Bank-Signature`` is right and at most five minutes
old, and prints its change as a line of JSON (once per ``Bank-Delivery-Id``: a retry of a
delivery it has seen is answered, not printed again); anything else gets 400.
"""

import argparse
import hashlib
import hmac
import json
import sys
import time
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOLERANCE_S = 300


def verify(secret: str, header: str, body: bytes) -> bool:
    """Whether ``header`` (t=<unix>,v1=<hex>) signs ``body`` with ``secret``, recently."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    if not fields.get("t", "").isdigit() or abs(time.time() - int(fields["t"])) > TOLERANCE_S:
        return False  # a replay of an old delivery, or no timestamp
    signed = fields["t"].encode() + b"." + body
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields.get("v1", ""))


def handler(secret: str) -> type[BaseHTTPRequestHandler]:
    seen: set[str] = set()

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if not verify(secret, self.headers.get("Bank-Signature", ""), body):
                self.send_response(400)
                self.end_headers()
                return
            delivery_id = self.headers["Bank-Delivery-Id"]
            if delivery_id not in seen:
                seen.add(delivery_id)
                print(json.dumps(json.loads(body)), flush=True)
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass  # stdout carries the changes alone

    return Receiver


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081, help="0 for any free port")
    parser.add_argument("--secret", required=True, help="the webhook's secret (whsec_...)")
    args = parser.parse_args(argv)
    server = ThreadingHTTPServer((args.host, args.port), handler(args.secret))
    print(f"listening on http://{args.host}:{server.server_port}/", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
