"""/docs and /redoc work with no internet: every asset comes from the app itself. The README
and the documentation site in docs/ hold true: the site builds with no warning (a broken link
or anchor fails it), every shell block a reader would paste runs as written against a live
bank and answers what the page shows, and the tables that name the code's rules name them
all."""

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient

from core.settings import Settings
from scripts.stress import serve
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


FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
NOT_RUN = re.compile(r"<!-- not run: (.+?) -->\n$")

PAGES = ["README.md", *sorted(f"docs/{path.name}" for path in (PROJECT / "docs").glob("*.md"))]
"""Every page a reader meets: the README and each page of the site."""

NOT_RUN_BLOCKS = {
    ("README.md", "./scripts/serve"),
    ("README.md", ".venv/bin/mkdocs serve"),
    ("docs/data.md", ".venv/bin/python seed.py --customers 100000 --seed 1"),
    ("docs/index.md", "./scripts/serve"),
    ("docs/index.md", "./scripts/serve --port 3001 --database-url sqlite:///other.db"),
    ("docs/index.md", "uvicorn main:app --host 127.0.0.1 --port 3000 --reload"),
    ("docs/index.md", ".venv/bin/python reset_database.py"),
    ("docs/reliability.md", ".venv/bin/python -m scripts.stress load"),
    ("docs/scale.md", "export BANK_DATABASE_URL=postgresql+psycopg://bank:secret@db.internal:5432/bank"),
    ("docs/scale.md", ".venv/bin/python -m scripts.books"),
    ("docs/scale.md", ".venv/bin/python bench/bench_api.py"),
    ("docs/time.md", ".venv/bin/python -m examples.monitor_month"),
}  # fmt: skip
"""The shell blocks the tests do not run, by page and first command: each is marked on its page
with ``<!-- not run: reason -->``. A block added to a page runs unless it is marked and
listed here."""


def page_text(page: str) -> str:
    return (PROJECT / page).read_text()


def shell_blocks(text: str) -> list[tuple[str, str | None, str, str | None]]:
    """Each shell block of a page: its commands, the language and text of the answer shown
    right after it (a ``json`` or ``text`` block), if one is, and why it is not run, if it
    is marked so."""
    blocks = list(FENCE.finditer(text))
    found: list[tuple[str, str | None, str, str | None]] = []
    followers: list[re.Match[str] | None] = [*blocks[1:], None]
    for block, following in zip(blocks, followers[: len(blocks)], strict=True):
        if block.group(1) != "sh":
            continue
        marked = NOT_RUN.search(text[: block.start()])
        reason = marked.group(1) if marked else None
        shown = (
            following is not None
            and following.group(1) in ("json", "text")
            and not text[block.end() : following.start()].strip()
        )
        if shown and following is not None:
            found.append((block.group(2), following.group(1), following.group(2), reason))
        else:
            found.append((block.group(2), None, "", reason))
    return found


def runnable_blocks(page: str) -> list[tuple[str, str | None, str]]:
    return [
        (commands, language, shown)
        for commands, language, shown, reason in shell_blocks(page_text(page))
        if reason is None
    ]


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


@pytest.fixture
def fresh_bank(tmp_path: Path) -> Iterator[str]:
    """A live server on a new sample bank of its own: a page's examples count on the five
    samples as a fresh install holds them (the instructions' ids start at 1)."""
    with serve(f"sqlite:///{tmp_path / 'bank.db'}") as base_url:
        yield base_url


@pytest.mark.parametrize("page", [page for page in PAGES if runnable_blocks(page)])
def test_every_shell_block_runs_as_written(page: str, fresh_bank: str, tmp_path: Path) -> None:
    if shutil.which("curl") is None:
        require_or_skip("curl", "curl is not installed")
    blocks = runnable_blocks(page)
    folder = tmp_path / "reader"
    folder.mkdir()
    printed = run_examples([commands for commands, _, _ in blocks], fresh_bank, folder)
    for (commands, language, shown), output in zip(blocks, printed, strict=True):
        if language == "json":
            assert contains(json.loads(output), json.loads(shown)), (commands, output)
        elif language == "text":
            assert shows(output, shown), (commands, output)
        else:
            assert '"detail"' not in output, (commands, output)


def test_the_blocks_not_run_are_marked_with_a_reason_and_listed() -> None:
    marked = set()
    for page in PAGES:
        for commands, _, _, reason in shell_blocks(page_text(page)):
            if reason is not None:
                assert len(reason.split()) >= 4, (page, reason)
                marked.add((page, commands.splitlines()[0].split("  #")[0].rstrip()))
    assert marked == NOT_RUN_BLOCKS


def test_the_instructions_examples_show_their_answers() -> None:
    # Most of the instructions' examples are checked against the answer they show.
    blocks = runnable_blocks("docs/instructions.md")
    assert sum(language is not None for _, language, _ in blocks) >= 10


def test_the_pages_name_every_rule_an_instruction_can_break() -> None:
    sources = [
        path.read_text()
        for path in PROJECT.rglob("*.py")
        if not {".venv", "tests"} & set(path.relative_to(PROJECT).parts)
    ]
    raised = {rule for text in sources for rule in re.findall(r'Refused\(\s*"(\w+)"', text)}
    raised.add(KeyReused("any").rule)
    listed = re.findall(
        r"^\| `(\w+)` \| .* \| (\d{3}) \|$", page_text("docs/instructions.md"), re.MULTILINE
    )
    assert {rule for rule, _ in listed} == raised
    assert {status for _, status in listed} == {"422"}


def test_the_registration_examples_leave_no_customer_behind(
    live_server: str, tmp_path: Path
) -> None:
    # Read in order, the later examples count on the five samples alone.
    if shutil.which("curl") is None:
        require_or_skip("curl", "curl is not installed")
    blocks = [
        block.group(2)
        for block in FENCE.finditer(page_text("docs/api.md"))
        if block.group(1) == "sh" and "/register-customer" in block.group(2)
    ]
    assert len(blocks) == 2, blocks
    before = httpx2.get(f"{live_server}/customers").json()
    printed = run_examples(blocks, live_server, tmp_path)
    assert all('"detail"' not in output for output in printed), printed
    assert printed[0].count("Customer and all associated data deleted successfully") == 2
    assert httpx2.get(f"{live_server}/customers").json() == before


class _LoadedAssets(HTMLParser):
    """What a page makes the browser load: scripts, style sheets, icons, images, frames."""

    def __init__(self) -> None:
        super().__init__()
        self.loaded: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag in ("script", "img", "iframe") and found.get("src"):
            self.loaded.append(found["src"] or "")
        if tag == "link" and found.get("href") and found.get("rel") != "canonical":
            self.loaded.append(found["href"] or "")


def test_the_site_builds_with_no_warning_and_loads_nothing_from_elsewhere(
    tmp_path: Path,
) -> None:
    # Strict: a broken link, a missing anchor or a page left out of the nav fails the build.
    finished = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        check=False,
    )
    assert finished.returncode == 0, finished.stderr
    built = {path.relative_to(tmp_path).as_posix() for path in tmp_path.rglob("*.html")}
    assert {page.removeprefix("docs/").replace(".md", ".html") for page in PAGES[1:]} <= built
    assert (tmp_path / "images" / "customer-john-doe.png").exists()
    for page in tmp_path.rglob("*.html"):
        parser = _LoadedAssets()
        parser.feed(page.read_text())
        remote = [link for link in parser.loaded if re.match(r"(\w+:)?//", link)]
        assert remote == [], page.name


def test_the_readme_links_to_every_page_of_the_site() -> None:
    readme = page_text("README.md")
    for page in PAGES[1:]:
        assert f"]({page})" in readme, page


def test_the_configuration_page_lists_every_setting() -> None:
    prefix = str(Settings.model_config.get("env_prefix", ""))
    settings = {f"{prefix}{name}".upper() for name in Settings.model_fields}
    listed = re.findall(r"^\| `(BANK_\w+)` \|", page_text("docs/configuration.md"), re.MULTILINE)
    assert sorted(listed) == sorted(settings)
