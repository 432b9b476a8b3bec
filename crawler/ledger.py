"""Per-account bookkeeping of a crawl run: counts, errors, blocked or not, and the final status."""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from store.crawl_runs import finish_run, update_run_counts

log = logging.getLogger(__name__)

STORED = ("new", "updated", "unchanged", "deleted", "unavailable", "gone_unseen")
MAX_ERRORS_KEPT = 50
MAX_ERRORS_SHOWN = 10


@dataclass
class RunOutcome:
    account_id: int
    run_id: int
    status: str
    counts: dict[str, int]
    error: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "run_id": self.run_id,
            "status": self.status,
            "counts": self.counts,
            "error": self.error,
        }


# Scrapy's close reasons when the crawl was stopped from outside (SIGTERM, Ctrl-C, parent gone).
INTERRUPTED_REASONS = frozenset({"shutdown", "cancelled", "interrupted"})


def decide(
    counts: Mapping[str, int], errors: list[str], blocked: bool, reason: str
) -> tuple[str, str | None]:
    """The run's status and the error text a user reads."""
    stored = sum(counts.get(name, 0) for name in STORED)
    shown = list(errors[:MAX_ERRORS_SHOWN])
    total = counts.get("errors", len(errors))
    if total > len(shown):
        shown.append(f"(and {total - len(shown)} more errors)")
    if reason != "finished":
        shown.insert(0, f"the crawl stopped before finishing ({reason})")
    text = "\n".join(shown) or None
    if blocked:
        return "blocked", text
    if reason in INTERRUPTED_REASONS:
        return "interrupted", text
    if errors and stored == 0:
        return "failed", text
    if errors or reason != "finished":
        return "partial", text
    return "ok", None


class RunLedger:
    """Bookkeeping for the runs of this process (standalone crawls)."""

    def __init__(
        self, run_ids: Mapping[int, int], emit: Callable[[dict[str, Any]], None] | None = None
    ) -> None:
        self.run_ids = dict(run_ids)
        self.emit = emit or (lambda event: None)
        self._counts: dict[int, Counter[str]] = {account_id: Counter() for account_id in self.run_ids}
        self._errors: dict[int, list[str]] = {account_id: [] for account_id in self.run_ids}
        self._blocked: set[int] = set()
        # The reactor records pages and errors while the storage thread records what it stored.
        self._lock = threading.RLock()

    # ---- recording --------------------------------------------------------------------------
    def add(self, account_id: int, counts: Mapping[str, int]) -> None:
        if account_id in self.run_ids:
            with self._lock:
                self._counts[account_id].update({k: v for k, v in counts.items() if v})

    def error(self, account_id: int, message: str, *, blocked: bool = False) -> bool:
        """Records an error; returns False when the same message was already recorded for the run."""
        if account_id not in self.run_ids:
            return False
        with self._lock:
            if blocked:
                self._blocked.add(account_id)
            self._counts[account_id]["errors"] += 1
            errors = self._errors[account_id]
            if message in errors:
                return False
            if len(errors) < MAX_ERRORS_KEPT:
                errors.append(message)
            return True

    # ---- reading ----------------------------------------------------------------------------
    def counts(self, account_id: int) -> dict[str, int]:
        with self._lock:
            return dict(self._counts.get(account_id, {}))

    def errors(self, account_id: int) -> list[str]:
        with self._lock:
            return list(self._errors.get(account_id, []))

    def is_blocked(self, account_id: int) -> bool:
        return account_id in self._blocked

    # ---- writing ----------------------------------------------------------------------------
    def write_counts(
        self,
        session: Session,
        account_ids: Iterable[int],
        pending: Mapping[int, Mapping[str, int]] | None = None,
    ) -> None:
        """Writes each run's counts (plus `pending`, what the open transaction is storing)."""
        for account_id in account_ids:
            if account_id in self.run_ids:
                counts = Counter(self.counts(account_id))
                counts.update((pending or {}).get(account_id, {}))
                update_run_counts(session=session, run_id=self.run_ids[account_id], counts=dict(counts))

    def finish(
        self, session_factory: sessionmaker[Session], account_ids: Iterable[int], reason: str
    ) -> list[RunOutcome]:
        outcomes = []
        with session_factory.begin() as session:
            for account_id in account_ids:
                if account_id not in self.run_ids:
                    continue
                counts = self.counts(account_id)
                status, error = decide(counts, self.errors(account_id), self.is_blocked(account_id), reason)
                run_id = self.run_ids[account_id]
                finish_run(session=session, run_id=run_id, status=status, counts=counts, error=error)
                outcomes.append(RunOutcome(account_id, run_id, status, counts, error))
        for outcome in outcomes:
            self.emit({"event": "run", **outcome.to_json()})
        return outcomes


class RedisRunLedger(RunLedger):
    """Bookkeeping shared by the processes of one distributed round, kept on Redis.

    Each process adds its counts and errors; the last process of a spider to leave the round
    writes the final status (the others only refresh the counts).
    """

    def __init__(
        self,
        run_ids: Mapping[int, int],
        client: Any,
        prefix: str,
        emit: Callable[[dict[str, Any]], None] | None = None,
        ttl: int = 7 * 24 * 3600,
    ) -> None:
        super().__init__(run_ids, emit)
        self.client = client
        self.prefix = prefix
        self.ttl = ttl

    def _key(self, account_id: int, part: str) -> str:
        return f"{self.prefix}:run:{self.run_ids[account_id]}:{part}"

    def add(self, account_id: int, counts: Mapping[str, int]) -> None:
        if account_id not in self.run_ids:
            return
        key = self._key(account_id, "counts")
        with self.client.pipeline() as pipe:
            for name, value in counts.items():
                if value:
                    pipe.hincrby(key, name, value)
            pipe.expire(key, self.ttl)
            pipe.execute()

    def error(self, account_id: int, message: str, *, blocked: bool = False) -> bool:
        if account_id not in self.run_ids:
            return False
        with self.client.pipeline() as pipe:
            if blocked:
                pipe.set(self._key(account_id, "blocked"), 1, ex=self.ttl)
            pipe.hincrby(self._key(account_id, "counts"), "errors", 1)
            pipe.sadd(self._key(account_id, "error_set"), message)
            pipe.expire(self._key(account_id, "error_set"), self.ttl)
            results = pipe.execute()
        is_new = bool(results[-2])
        if is_new:
            key = self._key(account_id, "errors")
            if self.client.llen(key) < MAX_ERRORS_KEPT:
                self.client.rpush(key, message)
            self.client.expire(key, self.ttl)
        return is_new

    def counts(self, account_id: int) -> dict[str, int]:
        if account_id not in self.run_ids:
            return {}
        raw = self.client.hgetall(self._key(account_id, "counts"))
        return {_text(k): int(v) for k, v in raw.items()}

    def errors(self, account_id: int) -> list[str]:
        if account_id not in self.run_ids:
            return []
        return [_text(m) for m in self.client.lrange(self._key(account_id, "errors"), 0, -1)]

    def is_blocked(self, account_id: int) -> bool:
        return account_id in self.run_ids and bool(self.client.exists(self._key(account_id, "blocked")))

    def finish_shared(
        self,
        session_factory: sessionmaker[Session],
        account_ids: Iterable[int],
        reason: str,
        *,
        last: bool,
        lost_workers: int = 0,
    ) -> list[RunOutcome]:
        account_ids = list(account_ids)
        with self.client.lock(f"{self.prefix}:finish-lock", timeout=60, blocking_timeout=60):
            if not last:
                with session_factory.begin() as session:
                    self.write_counts(session, account_ids)
                return []
            if lost_workers:
                for account_id in account_ids:
                    self.error(
                        account_id,
                        f"{lost_workers} crawl process(es) of this round stopped answering; "
                        "pages they held may be missing until the next run",
                    )
            return self.finish(session_factory, account_ids, reason)


class RunLedgerExtension:
    """The crawl-run bookkeeping as a Scrapy extension: pages fetched, errors, items dropped, and
    each run's final status once the spider closes (after the storage pipeline stored its batches).

    The spider carries the ledger of its runs (`spider.ledger`, handed in by the worker) and, in a
    distributed round, the round (`spider.round`); a spider without a ledger (inspect) is left alone.
    """

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.database_url: str = crawler.settings.get("GOVWATCH_DATABASE_URL") or ""
        signals = crawler.signals
        from scrapy import signals as names

        signals.connect(self.response_received, signal=names.response_received)
        signals.connect(self.item_scraped, signal=names.item_scraped)
        signals.connect(self.item_dropped, signal=names.item_dropped)
        signals.connect(self.spider_closed, signal=names.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Any) -> RunLedgerExtension:
        return cls(crawler)

    def _ledger(self, spider: Any = None) -> RunLedger | None:
        spider = spider if spider is not None else getattr(self.crawler, "spider", None)
        ledger = getattr(spider, "ledger", None)
        return ledger if isinstance(ledger, RunLedger) else None

    def response_received(self, response: Any, request: Any, spider: Any = None) -> None:
        ledger = self._ledger(spider)
        account_id = request.meta.get("account_id")
        if ledger is not None and account_id is not None:
            ledger.add(account_id, {"pages": 1})

    def item_scraped(self, item: Any, response: Any = None, spider: Any = None) -> None:
        from crawler.items import ErrorItem

        ledger = self._ledger(spider)
        if ledger is None or not isinstance(item, ErrorItem):
            return
        if ledger.error(item.account_id, item.message, blocked=item.blocked) and not item.alerted:
            log.warning("account %s: %s", item.account_id, item.message)

    def item_dropped(self, item: Any, response: Any, exception: Exception, spider: Any = None) -> None:
        ledger = self._ledger(spider)
        account_id = getattr(item, "account_id", None)
        if ledger is not None and account_id is not None:
            ledger.error(account_id, f"not stored: {exception}")

    def spider_closed(self, spider: Any, reason: str) -> list[RunOutcome]:
        ledger = self._ledger(spider)
        if ledger is None or not self.database_url:
            return []
        from crawler.pipelines import shared_engine
        from store.db import make_session_factory

        session_factory = make_session_factory(shared_engine(self.database_url))
        account_ids = list(getattr(spider, "plans", {}) or ledger.run_ids)
        crawl_round = getattr(spider, "round", None)
        if crawl_round is None:
            return ledger.finish(session_factory, account_ids, reason)
        last, lost = crawl_round.leave_spider(spider.name)
        assert isinstance(ledger, RedisRunLedger)  # a round always comes with the shared ledger
        return ledger.finish_shared(session_factory, account_ids, reason, last=last, lost_workers=lost)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def dump_event(event: Mapping[str, Any]) -> str:
    return json.dumps(event, ensure_ascii=False, default=str)
