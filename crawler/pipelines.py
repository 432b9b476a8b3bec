"""Item pipelines: validate what spiders read, then store it in batches, one transaction per batch."""

from __future__ import annotations

import logging
import time
from collections import defaultdict, deque
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import DropItem
from sqlalchemy.exc import DBAPIError, IntegrityError

from crawler.items import ErrorItem, GoneItem, PostItem
from crawler.ledger import RunLedger
from store.db import make_engine, make_session_factory
from store.posts import (
    GONE_STATUSES,
    MAX_KEY_LENGTH,
    METRICS,
    PostInput,
    StatusInput,
    mark_posts_status,
    upsert_posts,
)

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from sqlalchemy import Engine

log = logging.getLogger(__name__)

MAX_TEXT_CHARS = 2_000_000
MAX_FUTURE = timedelta(days=1)
_engines: dict[str, Engine] = {}
_writers: dict[str, ThreadPoolExecutor] = {}
# Responses this process received (all spiders): each process of a distributed round reports its share.
fetched_pages = 0


def shared_engine(url: str) -> Engine:
    """One engine per database per process: the spiders of one crawl share its connection pool."""
    if url not in _engines:
        _engines[url] = make_engine(url)
    return _engines[url]


def shared_writer(url: str) -> ThreadPoolExecutor:
    """One writer thread per database per process: batches are stored in order, off the reactor.

    The reactor keeps fetching and parsing while a batch is written or waits for SQLite's write
    lock (held by another crawl process); sqlite3 and psycopg release the GIL while they wait.
    """
    if url not in _writers:
        _writers[url] = ThreadPoolExecutor(max_workers=1, thread_name_prefix="govwatch-store")
    return _writers[url]


class ValidationPipeline:
    """Refuses items that would store something wrong; the reason reaches the crawl run."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ValidationPipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        if isinstance(item, PostItem):
            self._check_key(item.key, item.url)
            if not isinstance(item.text, str) or not (item.text.strip() or (item.title or "").strip()):
                raise DropItem(f"post {item.key} has neither text nor title at {item.url}")
            if len(item.text) > MAX_TEXT_CHARS:
                raise DropItem(
                    f"post {item.key} has {len(item.text)} characters (limit {MAX_TEXT_CHARS}) at {item.url}"
                )
            if item.published_at is not None:
                if item.published_at.tzinfo is None:
                    raise DropItem(f"post {item.key} has a date without a time zone at {item.url}")
                if item.published_at > datetime.now(UTC) + MAX_FUTURE:
                    # A date in the future is a parsing slip, not a reason to lose the post.
                    item.published_at = None
            for name, value in list(item.metrics.items()):
                if name not in METRICS or not isinstance(value, int) or value < 0:
                    item.metrics.pop(name)
        elif isinstance(item, GoneItem):
            self._check_key(item.key, item.url)
            if item.status not in GONE_STATUSES:
                raise DropItem(f"unknown post status {item.status!r} at {item.url}")
        elif not isinstance(item, ErrorItem):
            raise DropItem(f"unexpected item {type(item).__name__}")
        return item

    @staticmethod
    def _check_key(key: object, url: str | None) -> None:
        if not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH:
            raise DropItem(f"invalid post key {str(key)[:60]!r} at {url}")


class StoragePipeline:
    """Upserts posts and status changes per account, in batches, each batch one transaction.

    A batch that fails is retried (another crawl process may have inserted the same post at the
    same moment); what still fails is recorded on the crawl run, and the crawl goes on.
    """

    MAX_PENDING = 4

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        settings = crawler.settings
        self.database_url: str = settings.get("GOVWATCH_DATABASE_URL") or ""
        self.batch_size = settings.getint("GOVWATCH_BATCH_SIZE", 200)
        self.batch_seconds = settings.getfloat("GOVWATCH_BATCH_SECONDS", 5.0)
        self.buffer: list[PostItem | GoneItem] = []
        self.pending: deque[Future[None]] = deque()
        self.last_flush = time.monotonic()
        crawler.signals.connect(self.response_received, signal=signals.response_received)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StoragePipeline:
        return cls(crawler)

    @property
    def ledger(self) -> RunLedger:
        return self.crawler.spider.ledger  # type: ignore[union-attr]

    def open_spider(self) -> None:
        if not self.database_url:
            raise RuntimeError("GOVWATCH_DATABASE_URL is not set: the storage pipeline has nowhere to write")
        self.session_factory = make_session_factory(shared_engine(self.database_url))
        self.writer = shared_writer(self.database_url)

    def response_received(self, response: Response, request: Any, spider: Any = None) -> None:
        global fetched_pages
        fetched_pages += 1

    def process_item(self, item: Any) -> Any:
        if isinstance(item, ErrorItem):
            return item  # recorded on its run by the ledger extension (crawler.ledger)
        self.buffer.append(item)
        if len(self.buffer) >= self.batch_size or time.monotonic() - self.last_flush >= self.batch_seconds:
            self.flush()
        return item

    def close_spider(self) -> None:
        self.flush()
        while self.pending:
            self.pending.popleft().result()

    def flush(self) -> None:
        """Hands the buffered items to the writer thread (waiting if it is MAX_PENDING batches behind)."""
        batch, self.buffer = self.buffer, []
        self.last_flush = time.monotonic()
        if not batch:
            return
        by_account: dict[int, list[PostItem | GoneItem]] = defaultdict(list)
        for item in batch:
            by_account[item.account_id].append(item)
        while self.pending and self.pending[0].done():
            self.pending.popleft()
        while len(self.pending) >= self.MAX_PENDING:  # back-pressure: never hold more than this in memory
            self.pending.popleft().result()
        self.pending.append(self.writer.submit(self._write, by_account, len(batch)))

    def _write(self, by_account: dict[int, list[PostItem | GoneItem]], size: int) -> None:
        """In the writer thread: store one batch, retrying what another process may have raced."""
        for attempt in range(1, 4):
            try:
                self._store(by_account)
                return
            except (IntegrityError, DBAPIError) as error:
                if attempt == 3:
                    self._give_up(by_account, error)
                    return
                # Another crawl process stored the same post meanwhile, or the database was busy.
                log.info("storing %d items failed (%s); retrying", size, error.__class__.__name__)
                time.sleep(0.2 * attempt)
            except Exception as error:  # the batch boundary: record, roll back (done by begin()), go on
                self._give_up(by_account, error)
                return

    def _store(self, by_account: dict[int, list[PostItem | GoneItem]]) -> None:
        staged: dict[int, dict[str, int]] = {}
        with self.session_factory.begin() as session:
            for account_id, items in by_account.items():
                posts = [_post_input(i) for i in items if isinstance(i, PostItem)]
                gone = [_status_input(i) for i in items if isinstance(i, GoneItem)]
                result = upsert_posts(session=session, account_id=account_id, posts=posts)
                result.add(mark_posts_status(session=session, account_id=account_id, changes=gone))
                counts = result.counts()
                if "unknown" in counts:
                    counts["gone_unseen"] = counts.pop("unknown")
                staged[account_id] = counts
            # Counts go into the same transaction as the posts, so a run never claims what was lost.
            self.ledger.write_counts(session, staged.keys(), staged)
        for account_id, counts in staged.items():
            self.ledger.add(account_id, counts)
            self.crawler.spider.emit({"event": "progress", "account_id": account_id, "counts": counts})  # type: ignore[union-attr]

    def _give_up(self, by_account: dict[int, list[PostItem | GoneItem]], error: Exception) -> None:
        for account_id, items in by_account.items():
            keys = ", ".join(i.key for i in items[:5])
            log.error(
                "account %s: could not store %d items (%s ...): %s",
                account_id,
                len(items),
                keys,
                error,
                exc_info=error,
            )
            self.ledger.error(
                account_id,
                f"could not store {len(items)} posts ({keys} ...): {error.__class__.__name__}: "
                f"{str(error)[:300]}",
            )


class NullPipeline:
    """Stores nothing: the benchmark's baseline, to measure what storage costs."""

    def process_item(self, item: Any) -> Any:
        return item


def _post_input(item: PostItem) -> PostInput:
    return PostInput(
        source_key=item.key,
        text=item.text,
        title=item.title,
        url=item.url,
        author=(item.author or "")[:200] or None,
        published_at=item.published_at,
        fetched_at=item.fetched_at,
        metrics=item.metrics,
        is_original=item.is_original,
        snapshot=item.body or None,
        content_type=item.content_type,
        links=item.links,
    )


def _status_input(item: GoneItem) -> StatusInput:
    return StatusInput(
        source_key=item.key,
        status=item.status,
        fetched_at=item.fetched_at,
        snapshot=item.body or None,
        content_type=item.content_type,
    )
