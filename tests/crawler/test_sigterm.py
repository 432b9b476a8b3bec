"""SIGTERM to `govwatch crawl run` (a timeout, systemd, cron): workers stop with it, runs say interrupted."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from crawler.liveness import pid_alive
from govwatch.sample_site import SampleSite
from store.db import make_engine, make_session_factory
from store.models import CrawlRun, Post

REGISTRY = Path(__file__).resolve().parents[2] / "govwatch" / "sample" / "registry.csv"


def environment(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVWATCH_")}
    env.update(
        {
            "GOVWATCH_DATA_DIR": str(data_dir),
            "GOVWATCH_CRAWL_DELAY": "0",
            "GOVWATCH_CRAWL_CONCURRENCY_PER_SITE": "1",
            "GOVWATCH_CRAWL_PROCESSES": "2",
            "COLUMNS": "200",
        }
    )
    return env


def govwatch(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "govwatch", *args],
        capture_output=True,
        text=True,
        env=environment(tmp_path / "var"),
        cwd=tmp_path,
        timeout=180,
    )


def test_sigterm_stops_the_workers_records_interrupted_runs_and_a_rerun_resumes(tmp_path: Path) -> None:
    with SampleSite() as site:
        registry = tmp_path / "registry.csv"
        registry.write_text(
            REGISTRY.read_text(encoding="utf-8").replace("{site}", site.url), encoding="utf-8"
        )
        assert govwatch(tmp_path, "db", "upgrade").returncode == 0
        assert govwatch(tmp_path, "accounts", "import", str(registry)).returncode == 0
        factory = make_session_factory(make_engine(f"sqlite:///{tmp_path / 'var' / 'govwatch.db'}"))

        def count(model: type) -> int:
            with factory() as session:
                return int(session.scalar(select(func.count()).select_from(model)) or 0)

        site.config.latency = 0.3  # slow enough to be stopped halfway
        process = subprocess.Popen(
            [sys.executable, "-m", "govwatch", "crawl", "run", "--all"],
            env=environment(tmp_path / "var"),
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 90
        while count(Post) < 3 and time.monotonic() < deadline:
            assert process.poll() is None, process.communicate()
            time.sleep(0.1)
        with factory() as session:
            hosts = {run.host for run in session.scalars(select(CrawlRun))}
        worker_pids = {int(host.rsplit("pid=", 1)[1]) for host in hosts if host and "pid=" in host}
        assert worker_pids
        stopped_at = time.monotonic()
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
        assert process.returncode == 130, (out, err)
        assert time.monotonic() - stopped_at < 20
        assert "Traceback" not in out + err and "terminated" in err
        assert not any(pid_alive(pid) for pid in worker_pids)  # no worker crawls on

        stored = count(Post)
        time.sleep(1.0)
        assert count(Post) == stored  # nothing is written after the stop
        with factory() as session:
            runs = list(session.scalars(select(CrawlRun)))
        statuses = {run.status for run in runs}
        assert "running" not in statuses and "interrupted" in statuses, statuses
        assert not any(
            "BrokenPipe" in (run.error or "") or "could not store" in (run.error or "") for run in runs
        )
        # True counts: what the runs say they stored is what is in the database.
        assert sum(run.counts.get("new", 0) for run in runs) == stored

        status = govwatch(tmp_path, "crawl", "status", "--failures", "--json")
        assert status.returncode == 0
        shown = {row["status"] for row in json.loads(status.stdout)}
        assert "interrupted" in shown and "running" not in shown

        site.config.latency = 0
        resumed = govwatch(tmp_path, "crawl", "run", "--all", "--json")
        assert resumed.returncode == 0, resumed.stderr
        assert {run["status"] for run in json.loads(resumed.stdout)["runs"]} == {"ok"}
        live = sum(1 for account in site.state.accounts for post in account.posts if post.status == "live")
        assert count(Post) == live
