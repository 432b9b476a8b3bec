"""Distributed crawling on Redis: processes that crawl the same accounts share one queue and dupefilter.

A *round* is one crawl of a selection of accounts. The first process to start on a selection opens
a round; processes started on the same selection while it is active join it: their start requests
meet in the round's Redis dupefilter (each page is fetched once) and all of them pop the round's
shared queue (scrapy-redis' scheduler). A process leaves when the queue is empty and no other live
process is busy; the last one to leave writes each account's crawl run and retires the round.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import DontCloseSpider, NotConfigured
from scrapy_redis.scheduler import Scheduler as RedisScheduler
from twisted.internet import task

from crawler.middlewares import running_engine

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

log = logging.getLogger(__name__)

ACTIVE_TTL = 30  # seconds a round stays joinable without a heartbeat
HEARTBEAT = 0.5  # seconds between a spider's state reports
STALE_AFTER = 10.0  # a process silent this long is taken for dead
QUIET_FOR = 1.0  # everyone idle and the queue empty this long: the round's work is done
KEEP_AFTER = 3600  # seconds the round's keys stay on Redis after it ends (for inspection)


def selection_id(account_ids: Sequence[int]) -> str:
    return hashlib.sha1(",".join(str(a) for a in sorted(set(account_ids))).encode()).hexdigest()[:12]


@dataclass
class Round:
    client: Any
    prefix: str
    round_id: str
    selection: str
    worker_id: str = field(
        default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
    )
    _stop: threading.Event = field(default_factory=threading.Event)

    @property
    def key(self) -> str:
        return f"{self.prefix}:{self.round_id}"

    @property
    def active_key(self) -> str:
        return f"{self.prefix}:active:{self.selection}"

    def scrapy_settings(self, redis_url: str) -> dict[str, Any]:
        return {
            "SCHEDULER": "crawler.distributed.RoundScheduler",
            "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
            "SCHEDULER_QUEUE_CLASS": "scrapy_redis.queue.PriorityQueue",
            "SCHEDULER_QUEUE_KEY": f"{self.key}:%(spider)s:requests",
            "SCHEDULER_DUPEFILTER_KEY": f"{self.key}:%(spider)s:dupefilter",
            # Other processes still use the queue when this one closes: never flush it on close.
            "SCHEDULER_PERSIST": True,
            "SCHEDULER_IDLE_BEFORE_CLOSE": 0,
            "REDIS_URL": redis_url,
            "GOVWATCH_ROUND": self.key,
            "EXTENSIONS": {"crawler.distributed.RoundCoordinator": 500},
        }

    # ---- the process in the round ---------------------------------------------------------------
    def start_heartbeat(self) -> None:
        def beat() -> None:
            while not self._stop.wait(2.0):
                try:
                    self.client.expire(self.active_key, ACTIVE_TTL)
                    self.client.hset(f"{self.key}:procs", self.worker_id, time.time())
                except Exception:  # Redis hiccup: the next beat tries again
                    log.debug("round heartbeat failed", exc_info=True)

        self.client.hset(f"{self.key}:procs", self.worker_id, time.time())
        threading.Thread(target=beat, name="round-heartbeat", daemon=True).start()

    def leave(self) -> None:
        """The process is done: the last one out retires the round so the next crawl starts afresh."""
        self._stop.set()
        self.client.hdel(f"{self.key}:procs", self.worker_id)
        others = _fresh(self.client.hgetall(f"{self.key}:procs"), STALE_AFTER)
        if not others:
            if _text(self.client.get(self.active_key) or b"") == self.round_id:
                self.client.delete(self.active_key)
            for key in self.client.scan_iter(f"{self.key}:*"):
                self.client.expire(key, KEEP_AFTER)

    def leave_spider(self, spider: str) -> tuple[bool, int]:
        """(whether this was the spider's last live process, how many of its processes died)."""
        workers = f"{self.key}:{spider}:workers"
        self.client.hdel(workers, self.worker_id)
        entries = {_text(k): json.loads(v) for k, v in self.client.hgetall(workers).items()}
        now = time.time()
        live = [k for k, v in entries.items() if now - v["ts"] < STALE_AFTER]
        dead = [k for k, v in entries.items() if now - v["ts"] >= STALE_AFTER]
        return not live, len(dead)

    # ---- crawl runs -------------------------------------------------------------------------------
    def shared_runs(
        self, account_ids: Sequence[int], open_runs: Callable[[Sequence[int], set[int]], dict[int, int]]
    ) -> dict[int, int]:
        """The round's run id of each account; the first process creates them (under a lock)."""
        with self.client.lock(f"{self.key}:runs-lock", timeout=120, blocking_timeout=120):
            existing = {int(k): int(v) for k, v in self.client.hgetall(f"{self.key}:runs").items()}
            missing = [a for a in account_ids if a not in existing]
            if missing:
                created = open_runs(missing, set(existing.values()))
                if created:
                    self.client.hset(f"{self.key}:runs", mapping={str(k): v for k, v in created.items()})
                existing.update(created)
        return {a: existing[a] for a in account_ids if a in existing}


def join_round(client: Any, prefix: str, account_ids: Sequence[int]) -> Round:
    """Joins the active round of this selection of accounts, or opens a new one."""
    selection = selection_id(account_ids)
    active_key = f"{prefix}:active:{selection}"
    for _ in range(10):
        current = client.get(active_key)
        if current:
            crawl_round = Round(client, prefix, _text(current), selection)
            break
        candidate = f"{selection}-{uuid.uuid4().hex[:8]}"
        if client.set(active_key, candidate, nx=True, ex=ACTIVE_TTL):
            crawl_round = Round(client, prefix, candidate, selection)
            break
    else:  # pragma: no cover - only under a storm of rounds expiring as they are read
        raise RuntimeError("could not join or open a crawl round on Redis")
    crawl_round.start_heartbeat()
    log.info("crawl round %s (worker %s)", crawl_round.round_id, crawl_round.worker_id)
    return crawl_round


def _fresh(entries: dict[Any, Any], max_age: float) -> list[str]:
    now = time.time()
    return [_text(k) for k, v in entries.items() if now - float(v) < max_age]


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class RoundScheduler(RedisScheduler):
    """scrapy-redis' scheduler that leaves work on Redis for the other processes of the round.

    Scrapy's engine pulls requests until CONCURRENT_REQUESTS are in its downloader, most of them
    waiting in a per-site slot; with one busy site a single process would take the whole queue.
    This scheduler hands out a request only while fewer than GOVWATCH_REDIS_PREFETCH requests wait
    in this process's download slots.
    """

    crawler: Crawler
    prefetch: int = 2

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RoundScheduler:
        instance = cls.from_settings(crawler.settings)
        instance.stats = crawler.stats
        instance.crawler = crawler
        instance.prefetch = crawler.settings.getint("GOVWATCH_REDIS_PREFETCH", 2)
        return instance

    def _waiting(self) -> int:
        engine = running_engine(self.crawler)
        if engine is None:
            return 0
        downloader = engine.downloader
        # Requests in the downloader not being transferred: queued in a slot, or held by a
        # middleware (the first requests to a site wait there for its robots.txt).
        return len(downloader.active) - sum(len(slot.transferring) for slot in downloader.slots.values())

    def enqueue_request(self, request: Any) -> bool:
        # As scrapy-redis 0.9.1 does, without the `spider` argument Scrapy >= 2.15 deprecates in stats.
        if not request.dont_filter and self.df.request_seen(request):
            self.df.log(request, self.spider)
            return False
        self.queue.push(request)
        if self.stats:
            self.stats.inc_value("scheduler/enqueued/redis")
        return True

    def next_request(self) -> Any:
        if self._waiting() >= self.prefetch:
            return None
        request = self.queue.pop(self.idle_before_close)
        if request is not None and self.stats:
            self.stats.inc_value("scheduler/dequeued/redis")
        return request


class RoundCoordinator:
    """Keeps a spider open while the round has work anywhere, and polls the shared queue often.

    Scrapy closes a spider as soon as its own scheduler is empty; in a round, another process may
    be about to push the next page of a listing. So each spider reports busy/idle on Redis every
    half second and closes only when the queue is empty and every live process has been idle for
    QUIET_FOR seconds.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.loop: task.LoopingCall | None = None
        self.quiet_since: float | None = None
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RoundCoordinator:
        if not crawler.settings.get("GOVWATCH_ROUND"):
            raise NotConfigured
        return cls(crawler)

    def spider_opened(self, spider: Any) -> None:
        self.round: Round = spider.round
        self.key = f"{self.round.key}:{spider.name}:workers"
        self.report("busy")
        self.loop = task.LoopingCall(self.beat)
        self.loop.start(HEARTBEAT, now=False)

    def spider_closed(self, spider: Any) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()

    def report(self, state: str) -> None:
        self.round.client.hset(
            self.key, self.round.worker_id, json.dumps({"state": state, "ts": time.time()})
        )

    def locally_busy(self) -> bool:
        engine = running_engine(self.crawler)
        if engine is None:
            return False
        scraper_slot = getattr(engine.scraper, "slot", None)
        return bool(engine.downloader.active) or (scraper_slot is not None and not scraper_slot.is_idle())

    def beat(self) -> None:
        try:
            self.report("busy" if self.locally_busy() else "idle")
        except Exception:
            log.debug("could not report to Redis", exc_info=True)
        # Wake the engine: Scrapy only polls an empty scheduler every 5 s on its own.
        slot = getattr(running_engine(self.crawler), "_slot", None)
        if slot is not None:
            slot.nextcall.schedule()

    def spider_idle(self, spider: Any) -> None:
        slot = getattr(running_engine(self.crawler), "_slot", None)
        scheduler = getattr(slot, "scheduler", None)
        if scheduler is not None and scheduler.has_pending_requests():
            raise DontCloseSpider
        self.report("idle")
        now = time.time()
        entries = {_text(k): json.loads(v) for k, v in self.round.client.hgetall(self.key).items()}
        busy = [
            k
            for k, v in entries.items()
            if k != self.round.worker_id and v["state"] == "busy" and now - v["ts"] < STALE_AFTER
        ]
        if busy:
            self.quiet_since = None
            raise DontCloseSpider
        if self.quiet_since is None or now - self.quiet_since < QUIET_FOR:
            self.quiet_since = self.quiet_since or now
            raise DontCloseSpider
        # Everyone idle, the queue empty, for QUIET_FOR seconds: the round's work for this spider is done.
