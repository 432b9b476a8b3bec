"""A registry of 50,000 accounts is crawled and listed from the command line (ids travel on stdin)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import delete, func, select, update

from bench.scale_bench import build
from store.db import make_engine, make_session_factory
from store.models import Account, CrawlRun

ACCOUNTS = 50_000


def govwatch(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVWATCH_")}
    env.update({"GOVWATCH_DATA_DIR": str(tmp_path), "GOVWATCH_CRAWL_PROCESSES": "1", "COLUMNS": "200"})
    return subprocess.run(
        [sys.executable, "-m", "govwatch", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=900,
    )


def test_fifty_thousand_accounts_are_crawled_and_listed(tmp_path: Path) -> None:
    url = build(tmp_path, ACCOUNTS)
    factory = make_session_factory(make_engine(url))
    with factory.begin() as session:
        # No source at all (nothing leaves 127.0.0.1): every run fails at once with a readable
        # error, which is all this test needs: one crawl process handed 50,000 account ids.
        session.execute(update(Account).values(source={}))
        session.execute(delete(CrawlRun))  # accounts that were never crawled
    result = govwatch(tmp_path, "crawl", "run", "--all", "--json")
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout)
    assert len(summary["runs"]) == ACCOUNTS
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(CrawlRun)) == ACCOUNTS
        assert session.scalar(select(func.count()).where(CrawlRun.status == "running")) == 0
    listed = govwatch(tmp_path, "accounts", "list", "--limit", "3")
    assert listed.returncode == 0 and f"{ACCOUNTS} account(s), 3 shown from 1" in listed.stdout
    status = govwatch(tmp_path, "crawl", "status", "--limit", "5")
    assert status.returncode == 0 and f"{ACCOUNTS} accounts, 5 shown" in status.stdout
