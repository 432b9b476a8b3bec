"""`govwatch status`, `govwatch scheduler run-job`, `govwatch run` and `govwatch notify`, in subprocesses."""

from __future__ import annotations

import json
from pathlib import Path

from tests.govwatch.test_cli import run_cli


def test_run_job_is_recorded_and_status_shows_it_with_failures_first(tmp_path: Path) -> None:
    assert run_cli(tmp_path, "db", "upgrade").returncode == 0
    ran = run_cli(tmp_path, "scheduler", "run-job", "account_findings", "--arg", "day=2026-10-10", "--json")
    assert ran.returncode == 0, ran.stderr
    outcome = json.loads(ran.stdout)
    assert outcome["status"] == "ok" and outcome["period"] == "2026-10-10"
    # An assessment of a month with no registered account is a successful run that reports nothing.
    assessed = run_cli(tmp_path, "scheduler", "run-job", "assess_month", "--arg", "month=2026-10")
    assert assessed.returncode == 0, assessed.stderr
    assert "assess_month (2026-10:all)" in assessed.stdout
    again = run_cli(tmp_path, "scheduler", "run-job", "account_findings", "--arg", "day=2026-10-10", "--json")
    assert json.loads(again.stdout)["status"] == "skipped"

    status = run_cli(tmp_path, "status", "--json")
    assert status.returncode == 0, status.stderr
    data = json.loads(status.stdout)
    jobs = {job["job"]: job for job in data["jobs"]}
    assert set(jobs) >= {
        "crawl",
        "classify",
        "account_findings",
        "reviewer_digest",
        "deliver",
        "assess_month",
        "retrain",
        "prune_history",
    }
    assert jobs["account_findings"]["last_status"] == "skipped"
    assert jobs["crawl"]["last_status"] is None and jobs["crawl"]["next_run"] is None  # never scheduled yet
    assert data["scheduler"]["active"] is False
    assert jobs["assess_month"]["last_status"] == "ok"
    history = run_cli(tmp_path, "scheduler", "history", "--job", "account_findings", "--json")
    assert [r["status"] for r in json.loads(history.stdout)] == ["skipped", "ok"]
    assert json.loads(history.stdout)[1]["args"] == {"day": "2026-10-10"}
    table = run_cli(tmp_path, "status")
    assert table.returncode == 0 and "not running" in table.stdout and "account_findings" in table.stdout


def test_run_job_refuses_an_unknown_job_or_argument(tmp_path: Path) -> None:
    assert run_cli(tmp_path, "db", "upgrade").returncode == 0
    unknown = run_cli(tmp_path, "scheduler", "run-job", "dance")
    assert unknown.returncode == 2 and "unknown job" in unknown.stderr
    bad = run_cli(tmp_path, "scheduler", "run-job", "classify", "--arg", "colour=blue")
    assert bad.returncode == 2 and "colour" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_run_says_clearly_when_the_web_app_is_missing(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "run", env={"GOVWATCH_WEB_COMMAND": "no-such-web-app"})
    assert result.returncode == 2
    assert (
        "no `govwatch no-such-web-app` command" in result.stderr and "govwatch scheduler run" in result.stderr
    )
    assert "Traceback" not in result.stderr


def test_notify_channel_and_outbox(tmp_path: Path) -> None:
    assert run_cli(tmp_path, "db", "upgrade").returncode == 0
    added = run_cli(
        tmp_path,
        "users",
        "add",
        "lead",
        "--role",
        "admin",
        env={"GOVWATCH_NEW_USER_PASSWORD": "long enough pw"},
    )
    assert added.returncode == 0, added.stderr
    ok = run_cli(
        tmp_path, "notify", "channel", "lead", "--email", "lead@example.org", "--event", "report_ready"
    )
    assert ok.returncode == 0, ok.stderr
    hook = run_cli(
        tmp_path, "notify", "channel", "lead", "--webhook", "https://oapi.dingtalk.com/robot/send?x=1"
    )
    assert hook.returncode == 0, hook.stderr
    assert run_cli(tmp_path, "notify", "channel", "lead", "--email", "not an address").returncode == 1
    assert run_cli(tmp_path, "notify", "channel", "nobody", "--email", "a@b.c").returncode == 1
    listed = run_cli(tmp_path, "notify", "list", "--json")
    assert listed.returncode == 0 and json.loads(listed.stdout) == []


def test_run_supervises_both_processes_and_passes_sigterm_on(tmp_path: Path) -> None:
    assert run_cli(tmp_path, "db", "upgrade").returncode == 0
    import os
    import signal
    import subprocess
    import sys
    import time

    from tests.conftest import REPO_ROOT

    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVWATCH_")}
    # Stand-ins for the web app: one that exits at once, and a long-running one (a second,
    # standby scheduler), so that both of `govwatch run`'s ways of ending are seen.
    env.update({"GOVWATCH_DATA_DIR": str(tmp_path / "var"), "GOVWATCH_SCHEDULER_LEASE_SECONDS": "2"})
    quits = subprocess.run(
        [sys.executable, "-m", "govwatch", "run"],
        env={**env, "GOVWATCH_WEB_COMMAND": "crawl"},
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert quits.returncode != 0
    assert "web exited with status" in quits.stderr and "stopping the other" in quits.stderr
    assert "Traceback" not in quits.stderr

    second_dir = tmp_path / "second"  # a fresh database: no lease row left by the first run
    upgraded = subprocess.run(
        [sys.executable, "-m", "govwatch", "db", "upgrade"],
        env={**env, "GOVWATCH_DATA_DIR": str(second_dir)},
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert upgraded.returncode == 0, upgraded.stderr
    running = subprocess.Popen(
        [sys.executable, "-m", "govwatch", "run"],
        env={**env, "GOVWATCH_WEB_COMMAND": "scheduler run", "GOVWATCH_DATA_DIR": str(second_dir)},
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    from sqlalchemy import create_engine, text

    engine = create_engine(f"sqlite:///{second_dir / 'govwatch.db'}")
    deadline = time.monotonic() + 90
    holder = None
    while time.monotonic() < deadline and holder is None and running.poll() is None:
        try:
            with engine.connect() as connection:
                holder = connection.execute(
                    text("select holder from leases where name = 'scheduler'")
                ).scalar()
        except Exception:
            holder = None
        time.sleep(0.2)
    assert holder, "the scheduler never took its lease"
    running.send_signal(signal.SIGTERM)
    _, stderr = running.communicate(timeout=90)
    assert running.returncode == 0, stderr
    assert "lease released" in stderr and "Traceback" not in stderr
    engine.dispose()
