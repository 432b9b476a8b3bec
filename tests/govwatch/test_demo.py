"""`govwatch demo` runs end to end on a fresh SQLite database, as `make demo` does."""

import sqlite3
from pathlib import Path

from tests.govwatch.test_cli import run_cli


def test_demo_runs_end_to_end_and_can_run_again(tmp_path: Path) -> None:
    data_dir = tmp_path / "demo"
    for _ in range(2):  # a second run starts from a fresh database and gives the same result
        result = run_cli(tmp_path, "demo", "--data-dir", str(data_dir))
        assert result.returncode == 0, result.stdout + result.stderr
        assert "9 accounts created" in result.stdout
    with sqlite3.connect(data_dir / "govwatch.db") as connection:
        assert connection.execute("select count(*) from accounts").fetchone() == (9,)
        statuses = dict(
            connection.execute("select status, count(*) from crawl_runs group by status").fetchall()
        )
        assert statuses == {"ok": 9}
        posts = connection.execute("select count(*) from posts where status = 'live'").fetchone()[0]
    assert posts > 20
    assert f"{posts} live posts" in result.stdout
    # Portal users for the sample accounts, with their passwords and how to open the portal.
    for username in ("demo-reviewer", "demo-lead", "demo-operator"):
        assert username in result.stdout
    assert "govwatch serve" in result.stdout
    with sqlite3.connect(data_dir / "govwatch.db") as connection:
        roles = dict(connection.execute("select username, role from users").fetchall())
    assert roles["demo-reviewer"] == "reviewer" and roles["demo-lead"] == "lead"
    assert roles["demo-operator"] == "operator"
