"""The command lines a newcomer types: --help that explains and starts nothing, options that
win over BANK_* variables, and a .env file read like the environment."""

import os
import subprocess
import sys
from pathlib import Path

from scripts.stress import free_port, stop
from tests.helpers import PROJECT, first_answer


def run(*command: str, cwd: Path = PROJECT, **env: str) -> subprocess.CompletedProcess[str]:
    # BANK_* variables of the caller would change the defaults the help shows.
    clean = {name: value for name, value in os.environ.items() if not name.startswith("BANK_")}
    return subprocess.run(
        command,
        cwd=cwd,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_main_help_lists_the_options_and_serves_nothing() -> None:
    result = run(sys.executable, str(PROJECT / "main.py"), "--help")
    assert result.returncode == 0, result.stderr
    for option in ("--host", "--port", "--database-url", "--workers", ".env"):
        assert option in result.stdout
    assert "now 3000" in result.stdout


def test_serve_script_help_starts_no_server() -> None:
    result = run(str(PROJECT / "scripts" / "serve"), "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: scripts/serve [-h] [--host HOST]")
    assert "main.py" not in result.stdout
    assert "Uvicorn running" not in result.stderr


def test_serve_script_errors_name_the_script() -> None:
    result = run(str(PROJECT / "scripts" / "serve"), "--port", "0")
    assert result.returncode == 2
    assert "scripts/serve: error: argument --port: 0 is not between 1 and 65535" in result.stderr


def test_seed_help_explains_every_option_with_its_default() -> None:
    result = run(sys.executable, str(PROJECT / "seed.py"), "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: python seed.py")
    text = " ".join(result.stdout.split())
    for option, default in (
        ("--customers N", "(default 0)"),
        ("--seed S", "(default 1)"),
        ("--batch-size N", "(default 100)"),
        ("--history-months M", "(default 12)"),
        ("--quiet", "(default: shown)"),
        ("--database-url DATABASE_URL", "(BANK_DATABASE_URL; now sqlite:///banking.db)"),
    ):
        described = text.split(f" {option} ", 1)[1].split(" --", 1)[0]
        assert described.endswith(default), (option, described)
        assert len(described) > len(default) + 10, (option, described)


def test_mcp_server_help_lists_its_options() -> None:
    result = run(sys.executable, str(PROJECT / "mcp_server.py"), "--help")
    assert result.returncode == 0, result.stderr
    for option in ("--database-url", "--allow-writes", "python main.py"):
        assert option in result.stdout


def test_every_command_line_shows_its_database_without_the_password() -> None:
    url = "postgresql+psycopg://bank:hunter2@db.internal:5432/bank"
    for script in ("main.py", "mcp_server.py", "seed.py", "reset_database.py"):
        result = run(sys.executable, str(PROJECT / script), "--help", BANK_DATABASE_URL=url)
        assert "hunter2" not in result.stdout
        assert "bank:***@db.internal" in result.stdout


def test_a_bad_port_is_refused_naming_the_option() -> None:
    result = run(sys.executable, str(PROJECT / "main.py"), "--port", "99999")
    assert result.returncode == 2
    assert "argument --port: 99999 is not between 1 and 65535" in result.stderr


def test_dotenv_is_read_and_the_environment_wins_over_it(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("BANK_PORT=4567\nBANK_WORKERS=3\n")
    from_file = run(sys.executable, str(PROJECT / "main.py"), "--help", cwd=tmp_path)
    assert "now 4567" in from_file.stdout
    assert "(BANK_WORKERS; now 3)" in " ".join(from_file.stdout.split())
    overridden = run(
        sys.executable, str(PROJECT / "main.py"), "--help", cwd=tmp_path, BANK_PORT="4568"
    )
    assert "now 4568" in overridden.stdout


def test_options_win_over_bank_variables(tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "main.py",
            "--port",
            str(port),
            "--database-url",
            f"sqlite:///{tmp_path / 'bank.db'}",
        ],
        cwd=PROJECT,
        env={**os.environ, "BANK_PORT": "1", "BANK_DATABASE_URL": "sqlite:////nonexistent/x.db"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        health = first_answer(process, f"http://127.0.0.1:{port}/health")
        assert health.json() == {"status": "healthy", "service": "dummy-bank-api"}
        assert (tmp_path / "bank.db").exists()
    finally:
        stop(process)
