"""The project's map holds: the root keeps only the files the owner fixed, every package says
what it holds, and imports run only downwards, with no circle.

The layers, from the top: the entry points at the root; the MCP server and the explorer;
the HTTP layer; the answer key; the sandboxes; the sample and synthetic data; the services;
the analysis; the schemas; the market; the database plumbing; the tables; ``core``. A module
may import its own package and anything below its layer, never a sibling package of its own
layer nor anything above it.
"""

import ast
import re
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

from tests.helpers import PROJECT

LAYERS: tuple[frozenset[str], ...] = tuple(
    frozenset(names.split())
    for names in (
        "main seed reset_database mcp_server",
        "bank_mcp explorer",
        "api",
        "evals",
        "sandboxes",
        "synthetic",
        "services",
        "analysis",
        "schemas",
        "market",
        "db",
        "models",
        "core",
    )
)
"""Top first. The first layer's modules are the root's entry points."""

ROOT_FILES = {
    "main.py", "db.py", "models.py", "seed.py", "reset_database.py", "mcp_server.py",
    "test_api.py", "test_registration.py", "conftest.py",
    "requirements.txt", "requirements-dev.txt", "README.md", "pyproject.toml", "alembic.ini",
    "mkdocs.yml", ".gitignore",
}  # fmt: skip
"""What the root may hold beside folders: the owner's files, the configuration (the
documentation site's too), and ``mcp_server.py``, which MCP clients' configurations name."""

NOT_LAYERED = {"tests", "scripts", "bench", "examples", "migrations", "docs"}
"""Folders of programs that sit above everything (or beside it) and may import anything."""


def layer_of(module: str) -> int:
    top = module.split(".")[0]
    return next(index for index, names in enumerate(LAYERS) if top in names)


def project_modules() -> dict[str, Path]:
    """Every layered module of the project by its dotted name."""
    found = {}
    for path in PROJECT.rglob("*.py"):
        relative = path.relative_to(PROJECT)
        if relative.parts[0] in NOT_LAYERED or relative.parts[0].startswith("."):
            continue
        if relative.name.startswith("test_") or relative.name == "conftest.py":
            continue
        name = ".".join(relative.with_suffix("").parts).removesuffix(".__init__")
        found[name] = path
    return found


def imports_of(path: Path, known: Iterable[str]) -> set[str]:
    """The project modules a file imports anywhere in it (inside functions and
    ``TYPE_CHECKING`` blocks too), resolved to the modules that define them."""
    known = set(known)
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # ``from package import module`` imports that module; ``from module import name``,
            # the module.
            names = [f"{node.module}.{alias.name}" for alias in node.names] + [node.module]
        for name in names:
            if name in known:
                found.add(name)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    return {name: imports_of(path, modules) - {name} for name, path in modules.items()}


def upward_imports(graph: Mapping[str, set[str]]) -> list[str]:
    """Imports of a higher layer, or of a sibling package of the same layer."""
    wrong = []
    for module, imported in graph.items():
        for target in imported:
            same_package = module.split(".")[0] == target.split(".")[0]
            if not same_package and layer_of(target) <= layer_of(module):
                wrong.append(f"{module} -> {target}")
    return sorted(wrong)


def circles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """Each circle of imports, found by a depth-first walk, as the modules along it."""
    found: list[list[str]] = []
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(module: str) -> None:
        state[module] = "open"
        path.append(module)
        for target in sorted(graph.get(module, ())):
            if state.get(target) == "open":
                found.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target)
        path.pop()
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module)
    return found


def test_the_root_holds_only_the_owners_files_and_folders() -> None:
    # What the repository holds, not what running the bank leaves (banking.db, a .env).
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=PROJECT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    files = {name for name in tracked if "/" not in name}
    assert "main.py" in files
    assert files - ROOT_FILES == set()


def layout_table() -> dict[str, str]:
    """The layout page's table: what each row's first cell names, with the row's text."""
    text = (PROJECT / "docs" / "layout.md").read_text()
    rows: dict[str, str] = {}
    for first, rest in re.findall(r"^\| (.+?) \| (.+) \|$", text, re.MULTILINE):
        for name in re.findall(r"`([^`]+)`", first):
            rows[name.rstrip("/")] = rest
    return rows


def test_the_layout_table_names_every_folder_and_root_module() -> None:
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=PROJECT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    top = {name.split("/")[0] for name in tracked if "/" in name and not name.startswith(".")}
    modules = {name for name in tracked if "/" not in name and name.endswith(".py")}
    table = layout_table()
    # The tests' fixtures are named in the row of the tests.
    assert sorted((top | modules) - set(table) - {"conftest.py"}) == []
    assert "`conftest.py`" in table["tests"]


def test_the_layout_table_names_every_module_of_each_package() -> None:
    table = layout_table()
    for package in sorted({name.split(".")[0] for name in project_modules()} - LAYERS[0]):
        if package in ("db", "models"):
            continue
        folder = PROJECT / package
        parts = {
            path.stem if path.is_file() else path.name
            for path in folder.iterdir()
            if (path.suffix == ".py" or (path / "__init__.py").exists())
            and path.stem not in ("__init__", "__main__")
        }
        named = set(re.findall(r"`([\w.]+?)/?`", table[package]))
        assert sorted(parts - named) == [], package


def test_every_module_has_a_layer() -> None:
    unplaced = sorted(
        name for name in project_modules() if not any(name.split(".")[0] in n for n in LAYERS)
    )
    assert unplaced == []


def test_every_package_opens_with_what_it_holds_and_who_may_import_it() -> None:
    for name, path in project_modules().items():
        if path.name != "__init__.py":
            continue
        docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        assert len(docstring.split()) >= 20, f"{name}: its docstring should say what it holds"


def test_imports_run_only_downwards() -> None:
    assert upward_imports(import_graph()) == []


def test_no_module_imports_itself_back() -> None:
    assert circles(import_graph()) == []


@pytest.mark.parametrize(
    ("graph", "upward", "circle"),
    [
        ({"services.portfolio": {"api.params"}}, ["services.portfolio -> api.params"], []),
        ({"explorer.pages": {"bank_mcp.tools"}}, ["explorer.pages -> bank_mcp.tools"], []),
        ({"core.money": {"models"}, "models": {"core.money"}}, ["core.money -> models"], 1),
        ({"synthetic.book": {"synthetic.generator"}, "synthetic.generator": {"synthetic.book"}},
         [], 1),
        ({"api.routes": {"services.portfolio"}, "services.portfolio": set()}, [], []),
    ],
)  # fmt: skip
def test_the_checks_catch_what_they_are_for(
    graph: dict[str, set[str]], upward: list[str], circle: list[object] | int
) -> None:
    assert upward_imports(graph) == upward
    assert len(circles(graph)) == (circle if isinstance(circle, int) else 0)
