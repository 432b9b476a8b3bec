"""`govwatch demo` runs end to end on a fresh SQLite database, as `make demo` does."""

import sqlite3
from pathlib import Path

from tests.govwatch.test_cli import run_cli


def test_demo_runs_end_to_end_and_can_run_again(tmp_path: Path) -> None:
    data_dir = tmp_path / "demo"
    # A second run starts from a fresh database and gives the same result; it is given the
    # folder as a relative path, which the crawl processes must see as the same folder.
    for given in (str(data_dir), "demo"):
        result = run_cli(tmp_path, "demo", "--data-dir", given)
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
