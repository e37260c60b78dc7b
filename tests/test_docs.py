"""/docs and /redoc work with no internet: every asset comes from the app itself."""

import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import httpx2
import pytest
from fastapi.testclient import TestClient

from tests.helpers import require_or_skip


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
