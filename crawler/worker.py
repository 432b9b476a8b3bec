"""`python -m crawler.worker`: one crawl process, standalone or one of several sharing a Redis round.

It selects the accounts, opens a crawl run for each, builds their plans, runs the four spiders in
one Twisted reactor, and writes progress events as JSON lines on stdout (read by `crawler.run`).
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings as ScrapySettings
from sqlalchemy.orm import Session, sessionmaker

from crawler.config import CrawlConfig
from crawler.ledger import RedisRunLedger, RunLedger, RunOutcome, dump_event
from crawler.liveness import ABANDONED_AFTER, is_abandoned, pid_alive, this_host
from crawler.plan import build_plans
from crawler.spiders import SPIDERS
from store.accounts import list_accounts
from store.crawl_runs import mark_runs_interrupted, start_run
from store.db import make_engine, make_session_factory

__all__ = ["ABANDONED_AFTER", "is_abandoned", "pid_alive", "this_host"]

log = logging.getLogger(__name__)

DEFAULT_REDIS_PREFIX = "govwatch:crawl"


def open_runs(
    session_factory: sessionmaker[Session],
    account_ids: Sequence[int],
    host: str,
    *,
    keep_run_ids: set[int] = frozenset(),  # type: ignore[assignment]
) -> dict[int, int]:
    """Closes runs a dead process left 'running', then opens one run per account."""
    with session_factory.begin() as session:
        mark_runs_interrupted(
            session=session,
            account_ids=account_ids,
            is_abandoned=is_abandoned,
            exclude_run_ids=list(keep_run_ids),
        )
        return {
            account_id: start_run(session=session, account_id=account_id, host=host).id
            for account_id in account_ids
        }


class EventWriter:
    """JSON lines on a stream, one per event, flushed at once (the parent shows progress from them).

    When the parent has gone (the pipe is closed), events are dropped instead of raising into the
    pipeline that just stored the posts, and `on_parent_gone` is called once (it stops the crawl).
    """

    def __init__(self, stream: Any = None, on_parent_gone: Callable[[], None] | None = None) -> None:
        self.stream = stream if stream is not None else sys.stdout
        self.lock = threading.Lock()
        self.parent_gone = False
        self.on_parent_gone = on_parent_gone

    def __call__(self, event: Mapping[str, Any]) -> None:
        with self.lock:
            if self.parent_gone:
                return
            try:
                self.stream.write(dump_event(event) + "\n")
                self.stream.flush()
            except (BrokenPipeError, ValueError, OSError):
                self.parent_gone = True
                log.warning("the parent process has gone; stopping the crawl")
                if self.on_parent_gone is not None:
                    self.on_parent_gone()


def scrapy_settings(config: CrawlConfig, overrides: Mapping[str, Any] | None = None) -> ScrapySettings:
    result = ScrapySettings()
    result.setmodule("crawler.settings", priority="project")
    result.set("GOVWATCH_DATABASE_URL", config.database_url, priority="project")
    # The operator's politeness settings (GOVWATCH_CRAWL_*); `--set` overrides still win.
    politeness = {
        "DOWNLOAD_DELAY": config.delay,
        "AUTOTHROTTLE_START_DELAY": config.delay,
        "AUTOTHROTTLE_ENABLED": config.delay > 0,
        "CONCURRENT_REQUESTS_PER_DOMAIN": config.concurrency_per_site,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(config.concurrency_per_site),
        "DOWNLOAD_TIMEOUT": config.timeout,
        "DOWNLOAD_MAXSIZE": config.max_bytes,
        "DOWNLOAD_WARNSIZE": min(config.max_bytes, 4 * 1024 * 1024),
    }
    for name, value in politeness.items():
        result.set(name, value, priority="project")
    for name, value in (overrides or {}).items():
        result.set(name, value, priority="cmdline")
    return result


def crawl_in_process(
    config: CrawlConfig,
    *,
    account_ids: Sequence[int] | None = None,
    region_code: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    emit: Callable[[dict[str, Any]], None] | None = None,
) -> list[RunOutcome]:
    """Crawls the accounts in this process. Twisted's reactor cannot restart: call it once per process."""
    emit = emit or (lambda event: None)
    overrides = dict(overrides or {})
    session_factory = make_session_factory(make_engine(config.database_url))
    with session_factory() as session:
        if account_ids is not None:
            # Named accounts are crawled whatever their status; a region or --all takes active ones.
            accounts = list_accounts(session=session, account_ids=account_ids)
        else:
            accounts = list_accounts(session=session, region_code=region_code, status="active")
    ids = [account.id for account in accounts]
    emit({"event": "accounts", "account_ids": ids, "names": {a.id: a.name for a in accounts}})
    if not ids:
        return []
    host = this_host()
    crawl_round = None
    if config.redis_url:
        import redis

        from crawler.distributed import join_round

        client = redis.Redis.from_url(config.redis_url)
        prefix = str(overrides.pop("GOVWATCH_REDIS_PREFIX", DEFAULT_REDIS_PREFIX))
        crawl_round = join_round(client, prefix, ids)
        run_ids = crawl_round.shared_runs(
            ids, lambda missing, keep: open_runs(session_factory, missing, host, keep_run_ids=keep)
        )
        ledger: RunLedger = RedisRunLedger(run_ids, client, crawl_round.key, emit)
        emit({"event": "round", "round": crawl_round.round_id, "worker": crawl_round.worker_id})
    else:
        overrides.pop("GOVWATCH_REDIS_PREFIX", None)
        run_ids = open_runs(session_factory, ids, host)
        ledger = RunLedger(run_ids, emit)
    emit({"event": "runs", "runs": {str(k): v for k, v in run_ids.items()}})

    plans, invalid = build_plans(session_factory, accounts, run_ids)
    outcomes: list[RunOutcome] = []
    for account_id, message in invalid.items():
        ledger.error(account_id, message)
    if invalid:
        outcomes.extend(ledger.finish(session_factory, list(invalid), "finished"))

    scrapy_config = scrapy_settings(config, overrides)
    if crawl_round is not None:
        assert config.redis_url is not None
        for name, value in crawl_round.scrapy_settings(config.redis_url).items():
            if isinstance(value, dict):  # EXTENSIONS: add to ours, do not replace them
                value = {**scrapy_config.getdict(name), **value}
            scrapy_config.set(name, value, priority="cmdline")
    collected: list[RunOutcome] = []

    def record(event: dict[str, Any]) -> None:
        if event.get("event") == "run":
            collected.append(
                RunOutcome(
                    event["account_id"], event["run_id"], event["status"], event["counts"], event["error"]
                )
            )
        emit(event)

    ledger.emit = record
    started, started_at = time.monotonic(), time.time()
    try:
        if plans:
            process = CrawlerProcess(scrapy_config)  # logs to stderr at LOG_LEVEL (WARNING unless overridden)
            # Scrapy filters by level at its handler only: without this, every page still builds
            # the log records of "Crawled (200)" and "Scraped from" just to drop them.
            logging.getLogger("scrapy").setLevel(scrapy_config.get("LOG_LEVEL"))
            for kind, spider_cls in SPIDERS.items():
                kind_plans = [plan for plan in plans if plan.kind == kind]
                if kind_plans:
                    process.crawl(spider_cls, plans=kind_plans, ledger=ledger, emit=emit, round=crawl_round)
            process.start()
    finally:
        if crawl_round is not None:
            crawl_round.leave()
    emit(
        {
            "event": "crawled",
            "seconds": round(time.monotonic() - started, 3),
            "started_at": started_at,
            "finished_at": time.time(),
        }
    )
    return outcomes + collected


def stop_with_parent(parent_pid: int | None) -> None:
    """Ask Linux to send this process SIGTERM when its parent dies (Scrapy then stops gracefully)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        log.debug("prctl(PR_SET_PDEATHSIG) is not available")
    if parent_pid is not None and os.getppid() != parent_pid:  # it died before prctl: stop now
        os.kill(os.getpid(), signal.SIGTERM)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m crawler.worker",
        description=__doc__,
        epilog="The crawl configuration (crawler.config.CrawlConfig as JSON) is read from stdin.",
    )
    scope = parser.add_mutually_exclusive_group(required=False)
    scope.add_argument("--accounts", help="comma-separated account ids")
    scope.add_argument("--region", help="a region code: its active accounts and those of its sub-regions")
    scope.add_argument("--all", action="store_true", help="every active account")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=JSON",
        help="a Scrapy setting for this crawl, e.g. DOWNLOAD_DELAY=0",
    )
    args = parser.parse_args(argv)
    overrides: dict[str, Any] = {}
    for item in args.set:
        name, _, value = item.partition("=")
        try:
            overrides[name] = json.loads(value)
        except json.JSONDecodeError:
            overrides[name] = value
    # stdin: {"config": CrawlConfig, "account_ids": [...] | null, "region": ..., "all": ...}, so
    # that 50,000 account ids never meet the kernel's limit on a command line; or, for a person
    # running it by hand, the bare CrawlConfig with the scope given as options.
    request = json.loads(sys.stdin.read())
    if "config" in request:
        config = CrawlConfig(**request["config"])
        account_ids = request.get("account_ids")
        region_code = request.get("region")
        if account_ids is None and not region_code and not request.get("all"):
            parser.error("stdin names no accounts (account_ids, region or all)")
    else:
        config = CrawlConfig(**request)
        if not (args.accounts or args.region or args.all):
            parser.error("one of --accounts, --region or --all is required")
        account_ids = [int(a) for a in args.accounts.split(",") if a.strip()] if args.accounts else None
        region_code = args.region
    stop_with_parent(request.get("parent_pid"))
    # A crawl allocates millions of short-lived objects (requests, responses, trees); Python's
    # default cyclic GC thresholds make it scan the long-lived heap over and over.
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
    emit = EventWriter(on_parent_gone=lambda: os.kill(os.getpid(), signal.SIGTERM))
    outcomes = crawl_in_process(
        config, account_ids=account_ids, region_code=region_code, overrides=overrides, emit=emit
    )
    from crawler import pipelines

    emit(
        {
            "event": "done",
            "pages": pipelines.fetched_pages,
            "runs": [outcome.to_json() for outcome in outcomes],
        }
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
