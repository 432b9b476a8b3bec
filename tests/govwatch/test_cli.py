"""The CLI end to end, in a subprocess against a real SQLite file, as a user would run it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.govwatch.test_registry_import import GOOD_ROWS, HEADER, write_csv


def run_cli(tmp_path: Path, *args: str, stdin: str | None = None, env: dict[str, str] | None = None):
    environment = {**os.environ, "GOVWATCH_DATA_DIR": str(tmp_path / "var"), "COLUMNS": "200", **(env or {})}
    environment.pop("GOVWATCH_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "govwatch", *args],
        capture_output=True,
        text=True,
        input=stdin,
        env=environment,
        cwd=tmp_path,
        timeout=120,
    )


def test_db_upgrade_creates_the_database(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "db", "upgrade")
    assert result.returncode == 0, result.stderr
    assert "at revision 0007" in result.stdout
    assert (tmp_path / "var" / "govwatch.db").exists()


def test_import_list_and_reimport(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "reg.csv", [HEADER, *GOOD_ROWS])
    first = run_cli(tmp_path, "accounts", "import", str(path))
    assert first.returncode == 0, first.stdout + first.stderr
    assert "3 rows, 3 created, 0 updated, 0 unchanged" in first.stdout
    again = run_cli(tmp_path, "accounts", "import", str(path))
    assert "0 created, 0 updated, 3 unchanged" in again.stdout
    listed = run_cli(tmp_path, "accounts", "list", "--region", "150100")
    assert (
        "hhht_fabu" in listed.stdout and "1234567" in listed.stdout and "www.nmg.gov.cn" not in listed.stdout
    )
    assert "2 account(s)" in listed.stdout


def test_invalid_rows_exit_nonzero_with_row_numbers(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "reg.csv", [HEADER, *GOOD_ROWS, ["x", "qq", "q", "u", "150100", "", "", "", ""]]
    )
    result = run_cli(tmp_path, "accounts", "import", str(path))
    assert result.returncode == 1
    assert "row 5: unknown platform 'qq'" in result.stdout
    assert "nothing imported" in result.stdout
    assert "0 account(s)" in run_cli(tmp_path, "accounts", "list").stdout


def test_users_add_prompts_for_the_password(tmp_path: Path) -> None:
    result = run_cli(
        tmp_path,
        "users",
        "add",
        "li",
        "--role",
        "reviewer",
        "--region",
        "150000",
        stdin="s3cret-pass\ns3cret-pass\n",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    listed = run_cli(tmp_path, "users", "list")
    assert "li" in listed.stdout and "reviewer" in listed.stdout and "150000" in listed.stdout
    refused = run_cli(
        tmp_path, "users", "add", "op", "--role", "operator", env={"GOVWATCH_NEW_USER_PASSWORD": "abcdefgh"}
    )
    assert refused.returncode == 2
    assert "needs at least one account" in refused.stdout


@pytest.mark.parametrize(
    "command", [["--help"], ["accounts", "--help"], ["users", "--help"], ["db", "--help"]]
)
def test_help_is_available(tmp_path: Path, command: list[str]) -> None:
    assert run_cli(tmp_path, *command).returncode == 0
