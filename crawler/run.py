"""Runs crawls from other code (CLI, scheduler, demo): each crawl in its own `crawler.worker` process.

A subprocess because Twisted's reactor cannot be restarted within a process, and because a crash,
a kill or a runaway page then never takes the caller down with it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from govwatch.settings import Settings

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass
class RunSummary:
    account_id: int
    run_id: int
    status: str
    counts: dict[str, int]
    error: str | None
    name: str | None = None


@dataclass
class CrawlSummary:
    """What one crawl did: a run per account, and how the worker process ended."""

    runs: list[RunSummary] = field(default_factory=list)
    returncode: int = 0
    seconds: float = 0.0
    log_tail: str = ""  # the worker's last log lines, when it did not end cleanly

    @property
    def totals(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for run in self.runs:
            for name, value in run.counts.items():
                totals[name] = totals.get(name, 0) + value
        return totals

    @property
    def statuses(self) -> dict[str, int]:
        statuses: dict[str, int] = {}
        for run in self.runs:
            statuses[run.status] = statuses.get(run.status, 0) + 1
        return statuses

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def settings_environment(settings: Settings, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment that makes a child process read exactly these settings."""
    env = dict(os.environ if base is None else base)
    for name in type(settings).model_fields:
        variable = f"GOVWATCH_{name.upper()}"
        value = getattr(settings, name)
        if value is None:
            env.pop(variable, None)
        elif isinstance(value, bool):
            env[variable] = "true" if value else "false"
        elif isinstance(value, dict | list):
            env[variable] = json.dumps(value)
        else:
            env[variable] = str(value)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    return env


def worker_command(
    *,
    account_ids: Sequence[int] | None = None,
    region_code: str | None = None,
    all_accounts: bool = False,
    scrapy_settings: Mapping[str, Any] | None = None,
) -> list[str]:
    command = [sys.executable, "-m", "crawler.worker"]
    if account_ids is not None:
        command += ["--accounts", ",".join(str(a) for a in account_ids)]
    elif region_code:
        command += ["--region", region_code]
    elif all_accounts:
        command += ["--all"]
    else:
        raise ValueError("name the accounts to crawl: account_ids, region_code or all_accounts=True")
    for name, value in (scrapy_settings or {}).items():
        command += ["--set", f"{name}={json.dumps(value)}"]
    return command


def crawl_accounts(
    settings: Settings,
    account_ids: Sequence[int] | None = None,
    *,
    region_code: str | None = None,
    all_accounts: bool = False,
    scrapy_settings: Mapping[str, Any] | None = None,
    on_event: Callable[[dict[str, Any]], None] | None = None,
    timeout: float | None = None,
) -> CrawlSummary:
    """Crawls the accounts (by id, by region, or all active ones) and returns one summary per run.

    Progress arrives through `on_event` as dicts: {"event": "accounts"|"runs"|"progress"|"run"|"done", ...}.
    `scrapy_settings` overrides crawler settings for this crawl (tests use it to drop the delays).
    """
    command = worker_command(
        account_ids=account_ids, region_code=region_code, all_accounts=all_accounts, scrapy_settings=scrapy_settings
    )
    started = time.monotonic()
    summary = CrawlSummary()
    names: dict[int, str] = {}
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace") as log_file:
        process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=settings_environment(settings),
            stdout=subprocess.PIPE,
            stderr=log_file,
            text=True,
            encoding="utf-8",
        )
        assert process.stdout is not None
        try:
            for line in process.stdout:
                event = _event(line)
                if event is None:
                    continue
                if event.get("event") == "accounts":
                    names = {int(k): v for k, v in event.get("names", {}).items()}
                elif event.get("event") == "run":
                    summary.runs.append(RunSummary(event["account_id"], event["run_id"], event["status"],
                                                   event["counts"], event["error"], names.get(event["account_id"])))  # fmt: skip
                if on_event is not None:
                    on_event(event)
            summary.returncode = process.wait(timeout=timeout)
        except BaseException:
            process.kill()
            process.wait()
            raise
        if summary.returncode != 0:
            log_file.seek(0)
            summary.log_tail = log_file.read()[-4000:]
    summary.seconds = time.monotonic() - started
    return summary


def _event(line: str) -> dict[str, Any] | None:
    line = line.strip()
    if not line.startswith("{"):
        return None
    try:
        event = json.loads(line)
    except json.JSONDecodeError:
        return None
    return event if isinstance(event, dict) else None
