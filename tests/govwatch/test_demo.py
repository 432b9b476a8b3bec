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
        assessed = connection.execute("select count(distinct account_id) from assessments").fetchone()[0]
    assert posts > 20
    assert f"{posts} live posts" in result.stdout
    # It ends by assessing the sample month and writing its reports, and says where they are.
    assert assessed == 9 and "assessment 20" in result.stdout
    reports = sorted((data_dir / "reports").glob("govwatch-report-*"))
    assert {p.suffix for p in reports} == {".xlsx", ".pdf", ".html"}
    assert all(str(p) in result.stdout for p in reports)
    # The scheduler's jobs ran once over the demo data, and the demo says how to run the service.
    assert "job account_findings" in result.stdout and ": ok;" in result.stdout
    assert "govwatch run" in result.stdout
    with sqlite3.connect(data_dir / "govwatch.db") as connection:
        jobs = dict(connection.execute("select job, status from job_runs").fetchall())
    assert jobs.get("account_findings") == "ok" and jobs.get("classify") == "ok"
    # Portal users for the sample accounts, with their passwords and how to open the portal.
    for username in ("demo-reviewer", "demo-lead", "demo-operator"):
        assert username in result.stdout
    assert "govwatch serve" in result.stdout
    with sqlite3.connect(data_dir / "govwatch.db") as connection:
        roles = dict(connection.execute("select username, role from users").fetchall())
    assert roles["demo-reviewer"] == "reviewer" and roles["demo-lead"] == "lead"
    assert roles["demo-operator"] == "operator"
