"""Weibo's mobile JSON timeline, paged by since_id; long texts and vanished posts via statuses/show."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar
from urllib.parse import urlsplit

from scrapy.http import Request, Response

from crawler.parsing.weibo import parse_weibo_page, show_url
from crawler.plan import AccountPlan
from crawler.spiders.base import AccountSpider, ListingMixin, Output, content_type, now


class WeiboSpider(ListingMixin, AccountSpider):
    name = "weibo"
    kind = "weibo"
    # 432 is Weibo's "blocked", 418 its anti-crawler teapot; 429 here means back off, not wait and retry.
    blocking_statuses: ClassVar[frozenset[int]] = frozenset({403, 418, 429, 432})

    def make_request(
        self, plan: AccountPlan, url: str, callback: Any, *, role: str, priority: int = 0, **meta: Any
    ) -> Request:
        return super().make_request(
            plan, url, callback, role=role, priority=priority, block_on_429=True, **meta
        )

    def start_requests_for(self, plan: AccountPlan) -> Iterable[Request]:
        assert plan.url is not None
        yield self.make_request(plan, plan.url, self.parse_listing, role="listing", page=1)

    def parse_listing(self, response: Response) -> Output:
        yield from self.guard(response, self._parse_listing)

    def _parse_listing(self, response: Response) -> Output:
        plan = self.plan_for(response)
        result = parse_weibo_page(response.url, response.body, content_type(response), fetched_at=now())
        if result.blocked:
            yield self.block_account(
                plan, response.url, result.error or "Weibo refuses this account's cookies"
            )
            return
        yield from self.page_errors(plan, response, result)
        if result.status != "ok":
            return
        for post in result.posts:
            if not post.truncated:
                yield self.post_item(plan, post, response)
            elif plan.needs_fetch(post.key, None, post.published_at) and post.detail_url:
                # The timeline cuts long posts short; storing that would read as an edit next time.
                yield self.make_request(plan, post.detail_url, self.parse_status, role="long", key=post.key)
        yield from self.continue_listing(plan, response, result, self.parse_listing)

    def listing_done(self, plan: AccountPlan, state: dict[str, Any], response: Response) -> Output:
        # Gone from the timeline is not proof: ask statuses/show about each one before marking it.
        for key, _known in self.vanished(plan, state):
            yield self.make_request(
                plan, show_url(response.url, key), self.parse_status, role="verify", key=key
            )

    def parse_status(self, response: Response) -> Output:
        yield from self.guard(response, self._parse_status)

    def _parse_status(self, response: Response) -> Output:
        plan = self.plan_for(response)
        result = parse_weibo_page(response.url, response.body, content_type(response), fetched_at=now())
        key = response.meta["key"]
        if result.blocked:
            yield self.block_account(
                plan, response.url, result.error or "Weibo refuses this account's cookies"
            )
        elif result.status == "ok" and result.posts:
            yield self.post_item(plan, result.posts[0], response, key=key)
        elif result.status in ("deleted", "unavailable"):
            known = plan.known.get(key)
            yield self.gone_item(
                plan, key, known.url if known else None, result.status, result.error or "", response
            )
        else:
            yield from self.page_errors(plan, response, result)

    def on_http_error(self, plan: AccountPlan, request: Request, response: Response) -> Output:
        if response.status in self.blocking_statuses:
            host = urlsplit(request.url).hostname
            yield self.block_host(
                plan, request.url, f"HTTP {response.status} from {host} (Weibo rate limit or block)"
            )
            return
        yield from super().on_http_error(plan, request, response)
