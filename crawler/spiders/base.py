"""The base of every spider: per-account plans, requests tagged with their account, readable errors."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import TimeoutError as TwistedTimeoutError
from twisted.python.failure import Failure

from crawler.items import ErrorItem, GoneItem, PostItem
from crawler.ledger import RunLedger
from crawler.middlewares import HostBlocked, drop_queued
from crawler.parsing.base import PageResult, ParsedPost
from crawler.plan import AccountPlan

log = logging.getLogger(__name__)

Item = PostItem | GoneItem | ErrorItem
Output = Iterator[Item | Request]


def now() -> datetime:
    return datetime.now(UTC)


def content_type(response: Response) -> str | None:
    value = response.headers.get("Content-Type")
    return value.decode("latin-1") if value else None


class AccountSpider(scrapy.Spider):
    """Crawls many accounts of one source kind; every request carries its account in `meta`.

    Spiders only parse: the plans (what is stored already) come from the worker, items go to the
    pipelines. `start()` is the Scrapy >= 2.13 entry point, so scrapy-redis' RedisSpider (which
    only has `start_requests()`) is not used: with Redis only its scheduler and dupefilter are.
    """

    kind: ClassVar[str]
    # Blocking answers of this kind of site: back off for the run, alert once, never retry in a loop.
    blocking_statuses: ClassVar[frozenset[int]] = frozenset()

    def __init__(
        self,
        plans: Iterable[AccountPlan] = (),
        ledger: RunLedger | None = None,
        emit: Callable[[dict[str, Any]], None] | None = None,
        round: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.plans = {plan.account_id: plan for plan in plans}
        self.ledger = ledger or RunLedger({p.account_id: p.run_id for p in self.plans.values() if p.run_id})
        self.emit = emit or (lambda event: None)
        self.round = round
        self.blocked_hosts: dict[str, str] = {}
        self.blocked_accounts: dict[int, str] = {}

    # ---- start and finish -------------------------------------------------------------------
    async def start(self) -> Any:
        for plan in self.plans.values():
            for request in self.start_requests_for(plan):
                yield request

    def start_requests_for(self, plan: AccountPlan) -> Iterable[Request]:
        raise NotImplementedError

    # ---- requests ---------------------------------------------------------------------------
    def make_request(
        self,
        plan: AccountPlan,
        url: str,
        callback: Callable[[Response], Any],
        *,
        role: str,
        priority: int = 0,
        **meta: Any,
    ) -> Request:
        meta = {"account_id": plan.account_id, "role": role, "post_url": url, **meta}
        if not plan.obey_robots:
            meta["dont_obey_robotstxt"] = True
        headers = plan.headers
        if "Cookie" in headers:
            # Cookies come from the account's configuration, not from the shared cookie jar.
            meta["dont_merge_cookies"] = True
        return Request(
            url, callback=callback, errback=self.on_error, meta=meta, headers=headers, priority=priority
        )

    def plan_for(self, response: Response | Request) -> AccountPlan:
        return self.plans[response.meta["account_id"]]

    # ---- items ------------------------------------------------------------------------------
    def post_item(
        self,
        plan: AccountPlan,
        post: ParsedPost,
        response: Response,
        *,
        key: str | None = None,
        **fallback: Any,
    ) -> PostItem:
        return PostItem(
            account_id=plan.account_id,
            key=key or post.key,
            url=post.url or response.meta.get("post_url") or response.url,
            text=post.text,
            fetched_at=now(),
            title=post.title or (None if post.untitled else fallback.get("title")),
            author=post.author or post.account,
            published_at=post.published_at or fallback.get("published_at"),
            metrics=dict(post.metrics),
            is_original=post.is_original,
            body=response.body,
            content_type=content_type(response),
            links=list(post.links),
        )

    def gone_item(
        self,
        plan: AccountPlan,
        key: str,
        url: str | None,
        status: str,
        reason: str,
        response: Response | None = None,
    ) -> GoneItem:
        return GoneItem(
            account_id=plan.account_id,
            key=key,
            url=url,
            status=status,
            reason=reason,
            fetched_at=now(),
            body=response.body if response is not None else None,
            content_type=content_type(response) if response is not None else None,
        )

    def error_item(
        self, plan: AccountPlan | int, url: str, message: str, *, blocked: bool = False
    ) -> ErrorItem:
        account_id = plan if isinstance(plan, int) else plan.account_id
        return ErrorItem(account_id=account_id, url=url, message=message, blocked=blocked)

    def page_errors(self, plan: AccountPlan, response: Response, result: PageResult) -> Output:
        if result.error:
            yield self.error_item(plan, response.url, result.error, blocked=result.blocked)

    # ---- blocking ---------------------------------------------------------------------------
    def block_host(self, plan: AccountPlan, url: str, message: str) -> ErrorItem:
        """Stops every request to the site for this run; logged once, recorded on each affected run."""
        host = urlsplit(url).hostname or ""
        if host not in self.blocked_hosts:
            log.warning(
                "%s blocks this crawl: %s. Backing off from %s until the next run.", host, message, host
            )
            self.blocked_hosts[host] = f"skipped: {host} blocked this crawl earlier ({message})"
            drop_queued(self.crawler, host, self.blocked_hosts[host])
        return self.error_item(plan, url, message, blocked=True)

    def block_account(self, plan: AccountPlan, url: str, message: str) -> ErrorItem:
        if plan.account_id not in self.blocked_accounts:
            log.warning(
                "account %s (%s) is refused: %s. Backing off until the next run.",
                plan.account_id,
                plan.name,
                message,
            )
            self.blocked_accounts[plan.account_id] = f"skipped: {message}"
        return self.error_item(plan, url, message, blocked=True)

    # ---- errors -----------------------------------------------------------------------------
    def guard(self, response: Response, parse: Callable[[Response], Output]) -> Output:
        """Runs a parse step; an unexpected exception becomes an error on the run, not a lost crawl."""
        try:
            yield from parse(response)
        except Exception as error:  # the callback boundary: record with the URL and go on
            log.exception("account %s: could not parse %s", response.meta.get("account_id"), response.url)
            plan = self.plan_for(response)
            yield self.error_item(
                plan,
                response.url,
                f"could not parse the page ({error.__class__.__name__}: {error}) at {response.url}",
            )

    def on_error(self, failure: Failure) -> Output:
        request: Request = failure.request  # type: ignore[attr-defined]
        plan = self.plans.get(request.meta.get("account_id", -1))
        if plan is None:
            return
        url = request.url
        if failure.check(HostBlocked):
            yield ErrorItem(plan.account_id, url, str(failure.value), blocked=True, alerted=True)
            return
        if failure.check(HttpError):
            response: Response = failure.value.response  # type: ignore[union-attr]
            yield from self.on_http_error(plan, request, response)
            return
        if failure.check(IgnoreRequest) and "robots.txt" in str(failure.value):
            host = urlsplit(url).hostname
            yield self.error_item(
                plan,
                url,
                f'robots.txt of {host} forbids {url} (set "robots": false in the '
                "source only with the site's permission)",
            )
            return
        yield self.error_item(plan, url, describe_failure(failure, request, self.settings))

    def on_http_error(self, plan: AccountPlan, request: Request, response: Response) -> Output:
        status = response.status
        if status in self.blocking_statuses:
            yield self.block_host(plan, request.url, f"HTTP {status} from {urlsplit(request.url).hostname}")
            return
        message = f"HTTP {status} {http_reason(status)} at {request.url}"
        if status == 429:
            wait = request.meta.get("retry_after_gave_up")
            if wait:
                message += f" (Retry-After {wait:.0f} s is longer than we wait within one run)"
        yield self.error_item(plan, request.url, message)


def http_reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def describe_failure(failure: Failure, request: Request, settings: Any) -> str:
    """A download failure in words, with the URL where it happened."""
    from scrapy.exceptions import DownloadCancelledError, DownloadTimeoutError
    from twisted.internet.defer import CancelledError

    url = request.url
    retries = request.meta.get("retry_times", 0)
    tried = f" (after {retries} retries)" if retries else ""
    error = failure.value
    if failure.check(DownloadTimeoutError, TwistedTimeoutError):
        timeout = float(request.meta.get("download_timeout") or settings.getfloat("DOWNLOAD_TIMEOUT"))
        return f"no answer within {timeout:g} s{tried} at {url}"
    if failure.check(DownloadCancelledError, CancelledError):
        # Scrapy cancels a download when the body passes DOWNLOAD_MAXSIZE (announced or while
        # streaming); a crawl being stopped also cancels, but then the run says it was stopped.
        limit = request.meta.get("download_maxsize") or settings.getint("DOWNLOAD_MAXSIZE")
        return f"response larger than the {limit}-byte limit (download cancelled): not stored at {url}"
    name = error.__class__.__name__ if error is not None else "error"
    return f"download failed{tried}: {name}: {error} at {url}"


class ListingMixin:
    """Paging through a listing: stop at known posts (incremental), remember what was listed."""

    def continue_listing(
        self,
        plan: AccountPlan,
        response: Response,
        result: PageResult,
        callback: Callable[[Response], Any],
        **meta: Any,
    ) -> Output:
        state = dict(response.meta.get("listing") or {"seen": [], "oldest": None, "clean": True})
        page = response.meta.get("page", 1)
        state["seen"] = [*state["seen"], *(post.key for post in result.posts)]
        dates = [post.published_at for post in result.posts if post.published_at is not None]
        if dates:
            oldest = min(dates).isoformat()
            state["oldest"] = min(filter(None, [state["oldest"], oldest]), key=datetime.fromisoformat)
        state["clean"] = state["clean"] and result.status == "ok" and not result.incomplete
        # Incremental: once a page shows a post stored earlier and past its recheck window, the
        # rest of the listing is known ground.
        wanted = not plan.incremental or not any(
            plan.is_known_and_settled(post.key, post.detail_url or post.url, post.published_at)
            for post in result.posts
        )
        if result.next and result.posts and page < plan.max_pages and wanted:
            yield self.make_request(  # type: ignore[attr-defined]
                plan, result.next, callback, role="listing", page=page + 1, listing=state, **meta
            )
            return
        yield from self.listing_done(plan, state, response)

    def listing_done(self, plan: AccountPlan, state: dict[str, Any], response: Response) -> Output:
        """Called once the whole listing was read; spiders that can spot vanished posts override it."""
        return iter(())

    @staticmethod
    def vanished(plan: AccountPlan, state: dict[str, Any]) -> list[tuple[str, Any]]:
        if not state.get("clean") or not state.get("oldest"):
            return []  # a listing we could not read whole proves nothing about missing posts
        return plan.vanished(set(state["seen"]), datetime.fromisoformat(state["oldest"]))
