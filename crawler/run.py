"""Runs crawls from other code (CLI, scheduler, demo): each crawl in its own `crawler.worker` process.

A subprocess because Twisted's reactor cannot be restarted within a process, and because a crash,
a kill or a runaway page then never takes the caller down with it.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from crawler.config import CrawlConfig
from store.accounts import list_accounts
from store.db import make_engine, make_session_factory
from store.errors import NotFound

# The folder that holds the `crawler` package (a checkout or site-packages): put on the worker's
# PYTHONPATH, so `python -m crawler.worker` runs this same code whatever the working directory.
PACKAGE_ROOT = Path(__file__).resolve().parent.parent
REPO_ROOT = PACKAGE_ROOT  # kept for callers that used the old name
STOP_GRACE = 10.0  # seconds a crawl process gets to record its runs after SIGTERM, before SIGKILL


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
    seconds: float = 0.0  # wall time, process start-up included
    crawl_seconds: float = 0.0  # from the first crawl process starting its crawl to the last one ending
    pages: int = 0  # responses received, all processes together
    processes: int = 0
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


def worker_command(*, scrapy_settings: Mapping[str, Any] | None = None) -> list[str]:
    """The worker's command line; what it crawls travels on its stdin (see `worker_request`)."""
    command = [sys.executable, "-m", "crawler.worker"]
    for name, value in (scrapy_settings or {}).items():
        command += ["--set", f"{name}={json.dumps(value)}"]
    return command


def worker_request(
    config: CrawlConfig,
    *,
    account_ids: Sequence[int] | None = None,
    region_code: str | None = None,
    all_accounts: bool = False,
) -> str:
    """The JSON the worker reads on stdin: configuration and scope, however many accounts."""
    if account_ids is None and not region_code and not all_accounts:
        raise ValueError("name the accounts to crawl: account_ids, region_code or all_accounts=True")
    return json.dumps(
        {
            "config": json.loads(config.to_json()),
            "account_ids": None if account_ids is None else [int(a) for a in account_ids],
            "region": region_code,
            "all": all_accounts,
            "parent_pid": os.getpid(),
        }
    )


def site_of(source: Mapping[str, Any] | None) -> str:
    """The site (scheme-less origin) an account's source lives on: politeness is per site."""
    source = source or {}
    url = source.get("url") or next(iter(source.get("articles") or []), "")
    return urlsplit(str(url)).netloc.lower()


def plan_shards(accounts: Sequence[Any], processes: int) -> list[list[int]]:
    """Accounts split into at most `processes` groups, every site's accounts in one group.

    Per-site concurrency and delays are enforced inside a crawl process, so a site must never be
    crawled by two processes of one crawl; many sites spread over the processes.
    """
    by_site: dict[str, list[int]] = {}
    for account in accounts:
        by_site.setdefault(site_of(account.source), []).append(account.id)
    shards: list[list[int]] = [[] for _ in range(max(1, min(processes, len(by_site))))]
    for _site, ids in sorted(by_site.items(), key=lambda item: (-len(item[1]), item[0])):
        min(shards, key=len).extend(ids)
    return [sorted(shard) for shard in shards if shard]


def select_accounts(
    config: CrawlConfig, account_ids: Sequence[int] | None, region_code: str | None, all_accounts: bool
) -> list[Any]:
    if account_ids is None and not region_code and not all_accounts:
        raise ValueError("name the accounts to crawl: account_ids, region_code or all_accounts=True")
    engine = make_engine(config.database_url)
    try:
        with make_session_factory(engine)() as session:
            # Named accounts are crawled whatever their status; a region or "all" takes active ones.
            if account_ids is not None:
                return list_accounts(session=session, account_ids=account_ids)
            return list_accounts(session=session, region_code=region_code, status="active")
    finally:
        engine.dispose()


def start_worker(
    config: CrawlConfig,
    account_ids: Sequence[int] | None = None,
    *,
    region_code: str | None = None,
    all_accounts: bool = False,
    scrapy_settings: Mapping[str, Any] | None = None,
    stdout: Any = subprocess.PIPE,
    stderr: Any = None,
) -> subprocess.Popen[str]:
    """Starts one `crawler.worker` process and hands it the configuration on its stdin."""
    request = worker_request(
        config, account_ids=account_ids, region_code=region_code, all_accounts=all_accounts
    )
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(PACKAGE_ROOT), environment.get("PYTHONPATH")])
    )
    process = subprocess.Popen(
        worker_command(scrapy_settings=scrapy_settings),
        stdin=subprocess.PIPE,
        stdout=stdout,
        stderr=stderr,
        text=True,
        encoding="utf-8",
        env=environment,
    )
    assert process.stdin is not None
    process.stdin.write(request)
    process.stdin.close()
    return process


def crawl_accounts(
    config: CrawlConfig,
    account_ids: Sequence[int] | None = None,
    *,
    region_code: str | None = None,
    all_accounts: bool = False,
    scrapy_settings: Mapping[str, Any] | None = None,
    on_event: Callable[[dict[str, Any]], None] | None = None,
    timeout: float | None = None,
    processes: int | None = None,
) -> CrawlSummary:
    """Crawls the accounts (by id, by region, or all active ones) and returns one summary per run.

    The accounts are split by site over `processes` crawl processes (default: the
    configuration's `processes`). Progress arrives through `on_event` as dicts:
    {"event": "accounts"|"runs"|"progress"|"run"|"done", ...}. `scrapy_settings` overrides crawler
    settings for this crawl (tests use it to drop the delays).
    """
    started = time.monotonic()
    accounts = select_accounts(config, account_ids, region_code, all_accounts)
    if account_ids is not None:
        missing = sorted(set(account_ids) - {account.id for account in accounts})
        if missing:
            shown = ", ".join(map(str, missing[:20])) + (" ..." if len(missing) > 20 else "")
            raise NotFound(f"no account with id {shown}; nothing was crawled (see `govwatch accounts list`)")
    summary = CrawlSummary()
    names = {account.id: account.name for account in accounts}
    if on_event is not None:
        on_event({"event": "accounts", "account_ids": list(names), "names": names})
    if not accounts:
        summary.seconds = time.monotonic() - started
        return summary
    shards = plan_shards(accounts, processes or config.processes)
    events: queue.Queue[tuple[int, dict[str, Any] | None]] = queue.Queue()
    workers: list[tuple[subprocess.Popen[str], Any]] = []
    run_ids: list[int] = []
    spans: list[tuple[float, float]] = []
    with contextlib.ExitStack() as files:
        try:
            for number, shard in enumerate(shards):
                log_file = files.enter_context(
                    tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace")
                )
                process = start_worker(config, shard, scrapy_settings=scrapy_settings, stderr=log_file)
                workers.append((process, log_file))
                threading.Thread(target=_read_events, args=(number, process, events), daemon=True).start()
            _collect(events, len(workers), timeout, summary, spans, names, on_event, run_ids)
            for process, log_file in workers:
                code = process.wait()
                if code != 0:
                    summary.returncode = summary.returncode or code
                    log_file.seek(0)
                    summary.log_tail += log_file.read()[-4000:]
        except BaseException:
            # SIGTERM, Ctrl-C or a timeout: the workers stop with us, then any run they could not
            # close is recorded as interrupted (its counts are those stored with its posts).
            stop_workers([process for process, _ in workers])
            close_interrupted(config, run_ids)
            raise
        finally:
            for process, _ in workers:
                if process.poll() is None:
                    process.kill()
                    process.wait()
    summary.processes = len(workers)
    if spans:
        summary.crawl_seconds = max(end for _, end in spans) - min(begin for begin, _ in spans)
    summary.seconds = time.monotonic() - started
    return summary


def _collect(
    events: queue.Queue[tuple[int, dict[str, Any] | None]],
    running: int,
    timeout: float | None,
    summary: CrawlSummary,
    spans: list[tuple[float, float]],
    names: dict[int, str],
    on_event: Callable[[dict[str, Any]], None] | None,
    run_ids: list[int] | None = None,
) -> None:
    """Merges the crawl processes' events until every process has closed its output."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while running:
        wait = None if deadline is None else max(0.0, deadline - time.monotonic())
        try:
            _, event = events.get(timeout=wait)
        except queue.Empty:
            raise subprocess.TimeoutExpired("crawler.worker", timeout or 0) from None
        if event is None:
            running -= 1
            continue
        kind = event.get("event")
        if kind == "accounts":
            continue  # announced by crawl_accounts, for all the processes at once
        if kind == "runs" and run_ids is not None:
            run_ids.extend(int(v) for v in event.get("runs", {}).values())
        if kind == "run":
            summary.runs.append(
                RunSummary(
                    event["account_id"],
                    event["run_id"],
                    event["status"],
                    event["counts"],
                    event["error"],
                    names.get(event["account_id"]),
                )
            )
        elif kind == "crawled" and "started_at" in event:
            spans.append((event["started_at"], event["finished_at"]))
        elif kind == "done":
            summary.pages += int(event.get("pages", 0))
        if on_event is not None:
            on_event(event)


def stop_workers(processes: Sequence[subprocess.Popen[str]], grace: float = STOP_GRACE) -> None:
    """SIGTERM every worker (Scrapy then closes its runs), SIGKILL those still running after `grace`."""
    for process in processes:
        if process.poll() is None:
            with contextlib.suppress(OSError):
                process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace
    for process in processes:
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def close_interrupted(config: CrawlConfig, run_ids: Sequence[int]) -> None:
    """Runs the workers left 'running' become 'interrupted' (best effort: we are stopping)."""
    if not run_ids:
        return
    from store.crawl_runs import interrupt_runs

    engine = make_engine(config.database_url)
    try:
        with make_session_factory(engine).begin() as session:
            interrupt_runs(session=session, run_ids=run_ids)
    except Exception:  # the database is gone too: `crawl status` shows them by their dead pid
        pass
    finally:
        engine.dispose()


def _read_events(number: int, process: subprocess.Popen[str], events: queue.Queue[Any]) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        event = _event(line)
        if event is not None:
            events.put((number, event))
    events.put((number, None))


def _event(line: str) -> dict[str, Any] | None:
    line = line.strip()
    if not line.startswith("{"):
        return None
    try:
        event = json.loads(line)
    except json.JSONDecodeError:
        return None
    return event if isinstance(event, dict) else None
