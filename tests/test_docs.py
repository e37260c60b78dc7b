"""/docs and /redoc work with no internet: every asset comes from the app itself; the README's
examples of instructions run as written and answer what it shows."""

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient

from services.idempotency import KeyReused
from tests.helpers import PROJECT, require_or_skip


class _AssetLinks(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href") and value:
                self.links.append(value)


def asset_links(html: str) -> list[str]:
    parser = _AssetLinks()
    parser.feed(html)
    # Swagger UI's page script names the spec URL in code rather than in a tag.
    return parser.links + re.findall(r"url: '([^']+)'", html)


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_every_asset_a_docs_page_references_is_served_by_the_app(
    client: TestClient, page: str
) -> None:
    response = client.get(page)
    assert response.status_code == 200
    links = asset_links(response.text)
    assert any(link.endswith(".js") for link in links), links
    for link in links:
        assert link.startswith("/"), f"{page} loads {link} from outside the app"
        assert client.get(link).status_code == 200, link


def render(url: str, profile: Path) -> str:
    """The DOM of ``url`` after headless Chromium ran its scripts, with no other host reachable."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        require_or_skip("chromium", "Chromium is not installed (apt-get install chromium)")
    assert chromium is not None
    result = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={profile}",
            # Any host but this one fails to resolve: a CDN link could not load.
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            "--virtual-time-budget=20000",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout


def test_swagger_ui_renders_every_operation(live_server: str, tmp_path: Path) -> None:
    paths = httpx2.get(f"{live_server}/openapi.json").json()["paths"]
    dom = render(f"{live_server}/docs", tmp_path)
    rendered = set(re.findall(r'class="opblock-summary-path" data-path="([^"]+)"', dom))
    assert rendered == set(paths)


def test_redoc_renders_every_operation(live_server: str, tmp_path: Path) -> None:
    document = httpx2.get(f"{live_server}/openapi.json").json()
    dom = render(f"{live_server}/redoc", tmp_path)
    for operations in document["paths"].values():
        for operation in operations.values():
            assert operation["summary"] in dom


INSTRUCTIONS = "### Instructions: transfers, payments and orders"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def readme_section(heading: str) -> str:
    """The README from ``heading`` to the next heading of its level or above."""
    text = (PROJECT / "README.md").read_text()
    start = text.index(heading + "\n")
    found = re.search(r"^#{1,3} ", text[start + len(heading) :], re.MULTILINE)
    return text[start : start + len(heading) + found.start()] if found else text[start:]


def examples(section: str) -> list[tuple[str, str | None, str]]:
    """Each shell block of the section, with the language and text of the answer shown right
    after it (a ``json`` or ``text`` block), if one is."""
    blocks = list(FENCE.finditer(section))
    found: list[tuple[str, str | None, str]] = []
    for block, following in zip(blocks, [*blocks[1:], None], strict=True):
        if block.group(1) != "sh":
            continue
        shown = (
            following is not None
            and following.group(1) in ("json", "text")
            and not section[block.end() : following.start()].strip()
        )
        if shown and following is not None:
            found.append((block.group(2), following.group(1), following.group(2)))
        else:
            found.append((block.group(2), None, ""))
    return found


def run_examples(commands: list[str], base_url: str, folder: Path) -> list[str]:
    """Run the blocks one after the other in one shell, as a reader pastes them into one
    terminal; what each printed."""
    script = "set -euo pipefail\n" + "".join(
        f"printf '\\n@@ example {n} @@\\n'\n{block}\n" for n, block in enumerate(commands)
    )
    script = script.replace("http://127.0.0.1:3000", base_url)
    finished = subprocess.run(
        ["bash", "-c", script], cwd=folder, capture_output=True, text=True, timeout=120
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr
    parts = re.split(r"\n@@ example \d+ @@\n", finished.stdout)
    assert len(parts) == len(commands) + 1, finished.stdout
    return parts[1:]


def contains(actual: Any, shown: Any) -> bool:
    """Whether an answer holds what a trimmed copy of it shows: the keys shown with their
    values, the list items shown in their order (an empty list only for an empty one)."""
    if isinstance(shown, dict):
        return isinstance(actual, dict) and all(
            key in actual and contains(actual[key], value) for key, value in shown.items()
        )
    if isinstance(shown, list):
        if not isinstance(actual, list) or (not shown and actual):
            return False
        remaining = iter(actual)
        return all(any(contains(item, wanted) for item in remaining) for wanted in shown)
    if isinstance(shown, bool) or isinstance(actual, bool):
        return shown is actual
    return bool(actual == shown)


def shows(actual: str, shown: str) -> bool:
    """Whether the printed text holds the lines shown, in their order; ``...`` in a line
    stands for any characters, and a line of ``...`` alone for any lines."""
    lines = iter(actual.splitlines())
    for wanted in shown.splitlines():
        if wanted.strip() == "...":
            continue
        pattern = re.compile(".*".join(re.escape(part) for part in wanted.split("...")))
        if not any(pattern.fullmatch(line.rstrip()) for line in lines):
            return False
    return True


def test_the_readme_instructions_run_as_written(live_server: str, tmp_path: Path) -> None:
    if shutil.which("curl") is None:
        require_or_skip("curl", "curl is not installed")
    blocks = examples(readme_section(INSTRUCTIONS))
    assert sum(language is not None for _, language, _ in blocks) >= 10
    printed = run_examples([commands for commands, _, _ in blocks], live_server, tmp_path)
    for (commands, language, shown), output in zip(blocks, printed, strict=True):
        if language == "json":
            assert contains(json.loads(output), json.loads(shown)), (commands, output)
        elif language == "text":
            assert shows(output, shown), (commands, output)
        else:
            assert '"detail"' not in output, (commands, output)


def test_the_readme_names_every_rule_an_instruction_can_break() -> None:
    sources = [
        path.read_text()
        for path in PROJECT.rglob("*.py")
        if not {".venv", "tests"} & set(path.relative_to(PROJECT).parts)
    ]
    raised = {rule for text in sources for rule in re.findall(r'Refused\(\s*"(\w+)"', text)}
    raised.add(KeyReused("any").rule)
    section = readme_section(INSTRUCTIONS)
    listed = re.findall(r"^\| `(\w+)` \| .* \| (\d{3}) \|$", section, re.MULTILINE)
    assert {rule for rule, _ in listed} == raised
    assert {status for _, status in listed} == {"422"}


def test_the_readme_registration_examples_leave_no_customer_behind(
    live_server: str, tmp_path: Path
) -> None:
    # Read in order, the README's later sections count on the five samples alone.
    if shutil.which("curl") is None:
        require_or_skip("curl", "curl is not installed")
    readme = (PROJECT / "README.md").read_text()
    blocks = [
        block.group(2)
        for block in FENCE.finditer(readme)
        if block.group(1) == "sh" and "/register-customer" in block.group(2)
    ]
    assert len(blocks) == 2, blocks
    before = httpx2.get(f"{live_server}/customers").json()
    printed = run_examples(blocks, live_server, tmp_path)
    assert all('"detail"' not in output for output in printed), printed
    assert printed[0].count("Customer and all associated data deleted successfully") == 2
    assert httpx2.get(f"{live_server}/customers").json() == before
