"""The five sample customers' answers, byte for byte, against a recorded fingerprint.

A refactor or a speed-up must not change a single byte of what clients get;
a change of the data or of the arithmetic must change this file on purpose:
``BANK_RECORD_ANSWERS=1 ./scripts/test tests/test_sample_answers.py -k sqlite``
records the new fingerprints (then review the diff of the JSON file).
"""

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

from fastapi.testclient import TestClient

from core.settings import Settings
from main import create_app
from synthetic.samples import SAMPLE_CUSTOMERS

RECORDED = Path(__file__).with_name("sample_answers.json")
REPLAYED_HEADERS = ("content-type", "link", "x-total-count")


def paths() -> Iterator[str]:
    yield "/customers"
    yield "/customers?limit=2"
    yield "/customers?name=smi"
    yield "/market-data"
    yield "/market-data?symbols=AAPL,BTC"
    yield "/market-data/AAPL/history"
    yield "/market-data/BTC/history?from=2026-01-01&to=2026-03-01"
    for sample in SAMPLE_CUSTOMERS:
        oid = sample.customer_oid
        yield f"/user-portfolio/{oid}"
        yield f"/user-portfolio/{oid}?currency=EUR"
        yield f"/user-portfolio/{oid}?currency=gbp"
        yield f"/user-portfolio/{oid}?sections=assets,portfolio_summary&transactions_limit=3"
        for section in ("summary", "assets", "accounts", "transactions", "spending"):
            yield f"/customer/{oid}/{section}"
        yield f"/customer/{oid}/derivatives"
        yield f"/customer/{oid}/exists"
        yield f"/customer/{oid}/summary?currency=EUR"
        yield f"/customer/{oid}/transactions?limit=3&order=asc"
        yield f"/customer/{oid}/transactions?type=buy&from=2025-01-01&min_amount=-5000"
        yield f"/customer/{oid}/spending?group_by=month&currency=GBP"
        yield f"/customer/{oid}/derivatives?status=open"


def fingerprint(client: TestClient, path: str) -> str:
    response = client.get(path)
    headers = {name: response.headers.get(name) for name in REPLAYED_HEADERS}
    # The base URL of a Link or next is the test client's; the bytes around it are what count.
    body = response.content.replace(b"http://testserver", b"")
    text = f"{response.status_code}|{json.dumps(headers, sort_keys=True)}|".encode() + body
    return hashlib.sha256(text.replace(b"http://testserver", b"")).hexdigest()


def test_sample_answers_are_byte_for_byte_the_recorded_ones(database_url: str) -> None:
    # Cursors are signed: a secret of the test's own keeps their bytes from run to run.
    settings = Settings(database_url=database_url, cursor_secret="recorded-sample-answers")
    with TestClient(create_app(settings)) as client:
        answers = {path: fingerprint(client, path) for path in paths()}
    if os.environ.get("BANK_RECORD_ANSWERS") == "1":
        RECORDED.write_text(json.dumps(answers, indent=1) + "\n")
    recorded = json.loads(RECORDED.read_text())
    changed = [path for path in answers if answers[path] != recorded.get(path)]
    assert not changed, f"{len(changed)} answers changed, the first: {changed[:5]}"
    assert set(recorded) == set(answers)
