"""Politeness middlewares: back off on 5xx and timeouts, honour Retry-After, stop when blocked."""

from __future__ import annotations

import logging
import time
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response
from scrapy.utils.response import response_status_message

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

log = logging.getLogger(__name__)


class HostBlocked(IgnoreRequest):
    """A request not sent because its site blocked this crawl earlier (already reported once)."""


def running_engine(crawler: Crawler) -> Any:
    """The crawler's engine, or None before the crawl runs (Scrapy >= 2.18 raises instead)."""
    try:
        return crawler.engine
    except (RuntimeError, AttributeError):
        return None


def pause_slot(crawler: Crawler, request: Request, seconds: float) -> None:
    """Holds back every request to the request's site for `seconds`, not just this one.

    Scrapy has no public call for this; the downloader slot's `latercall` is what its own
    DOWNLOAD_DELAY uses to hold a slot, so a longer one is put in its place.
    """
    engine = running_engine(crawler)
    if seconds <= 0 or engine is None:
        return
    try:
        from scrapy.utils.asyncio import call_later

        downloader = engine.downloader
        key = request.meta.get(downloader.DOWNLOAD_SLOT) or downloader.get_slot_key(request)
        slot = downloader.slots.get(key)
        if slot is None:
            return
        if slot.latercall is not None:
            slot.latercall.cancel()
        slot.latercall = call_later(seconds, downloader._latercall, slot)
    except (AttributeError, TypeError):  # a future Scrapy may change slots; then only this request waits
        log.debug("could not pause the download slot of %s", request.url, exc_info=True)


def drop_queued(crawler: Crawler, host: str, message: str) -> int:
    """Fails the requests to `host` already waiting in the downloader (they passed the middlewares
    before the site blocked us). Private Scrapy structures again; on a mismatch they just go out."""
    engine = running_engine(crawler)
    if engine is None:
        return 0
    dropped = 0
    try:
        for slot in engine.downloader.slots.values():
            keep = []
            for request, deferred in list(slot.queue):
                if (urlsplit(request.url).hostname or "") == host:
                    deferred.errback(HostBlocked(message))
                    dropped += 1
                else:
                    keep.append((request, deferred))
            slot.queue.clear()
            slot.queue.extend(keep)
    except (AttributeError, TypeError, ValueError):
        log.debug("could not drop queued requests to %s", host, exc_info=True)
    return dropped


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retries of 5xx and timeouts, with the site paused 2 s, 4 s, 8 s ... before each retry."""

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self.base = settings.getfloat("GOVWATCH_BACKOFF_BASE", 2.0)
        self.cap = settings.getfloat("GOVWATCH_BACKOFF_MAX", 120.0)

    def _retry(self, request: Request, reason: str | Exception | type[Exception]) -> Request | None:
        retry = super()._retry(request, reason)
        if retry is not None:
            attempt = retry.meta.get("retry_times", 1)
            pause_slot(self.crawler, request, min(self.cap, self.base * 2 ** (attempt - 1)))
        return retry


def retry_after_seconds(value: bytes | str | None) -> float | None:
    """Retry-After as seconds: either a number of seconds or an HTTP date."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


class RetryAfterMiddleware:
    """HTTP 429: wait what Retry-After asks (the whole site waits), then retry; give up on long waits.

    Requests with meta `block_on_429` (Weibo) are passed through: there 429 means back off for
    this run, which the spider records once.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.max_wait = crawler.settings.getfloat("GOVWATCH_RETRY_AFTER_MAX", 300.0)
        self.default_wait = crawler.settings.getfloat("GOVWATCH_BACKOFF_BASE", 2.0)
        self.max_retries = crawler.settings.getint("RETRY_TIMES", 3)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryAfterMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Request | Response:
        if response.status != 429 or request.meta.get("block_on_429") or request.meta.get("dont_retry"):
            return response
        wait = retry_after_seconds(response.headers.get("Retry-After"))
        attempts = request.meta.get("retry_429_times", 0)
        if (wait is not None and wait > self.max_wait) or attempts >= self.max_retries:
            request.meta["retry_after_gave_up"] = wait
            return response
        wait = self.default_wait * 2**attempts if wait is None else wait
        log.info(
            "%s answered 429; waiting %.1f s as asked (%s)",
            urlsplit(request.url).hostname,
            wait,
            response_status_message(429),
        )
        pause_slot(self.crawler, request, wait)
        retry = request.replace(dont_filter=True)
        retry.meta["retry_429_times"] = attempts + 1
        return retry


class BlockedHostMiddleware:
    """Drops requests to a site that blocked this crawl (HTTP 432, a WAF page): no retry loops."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BlockedHostMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        spider = self.crawler.spider
        blocked: dict[str, str] = getattr(spider, "blocked_hosts", {})
        host = urlsplit(request.url).hostname or ""
        if host in blocked:
            raise HostBlocked(blocked[host])
        accounts: dict[int, str] = getattr(spider, "blocked_accounts", {})
        account_id = request.meta.get("account_id")
        if account_id in accounts:
            raise HostBlocked(accounts[account_id])


class QuickMetaRefreshMiddleware(MetaRefreshMiddleware):
    """Scrapy's <meta http-equiv="refresh"> redirects (old government sites use them), looked for only
    in pages that mention one: Scrapy's check decodes every page as text first, which is most of
    its cost on pages that have none."""

    def process_response(self, request: Request, response: Response) -> Request | Response:  # type: ignore[override]
        if b"refresh" not in response.body[:8192].lower():
            return response
        return super().process_response(request, response)
