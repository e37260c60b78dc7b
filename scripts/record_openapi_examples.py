"""Record the OpenAPI examples: ask a fresh sample bank every request of
``api.openapi_examples.EXAMPLE_REQUESTS`` and write the answers to ``docs/openapi-examples.json``.

Run after a change to an answer's shape: ``python -m scripts.record_openapi_examples``.
"""

import json
import tempfile

from fastapi.testclient import TestClient

from api.openapi_examples import EXAMPLES_FILE, SHOWN_BASE_URL, ask
from core.settings import Settings
from main import create_app


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        # A secret of its own, so that the recorded cursor stays the same from one run to
        # the next; it signs nothing but this throwaway bank's answers.
        settings = Settings(
            database_url=f"sqlite:///{folder}/bank.db",
            cache_mb=0,
            cursor_secret="recorded-openapi-examples",
        )
        with TestClient(create_app(settings), base_url=SHOWN_BASE_URL) as client:
            examples = ask(
                lambda method, path, body: client.request(method, path, json=body),
                SHOWN_BASE_URL,
            )
    EXAMPLES_FILE.write_text(json.dumps(examples, indent=1, ensure_ascii=False) + "\n")
    print(f"Wrote {len(examples)} examples to {EXAMPLES_FILE}")


if __name__ == "__main__":
    main()
