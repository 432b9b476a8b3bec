"""Feeds (RSS 2.0, Atom, JSON Feed): RSSHub and WeChat-to-RSS bridges, government sites' own feeds."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from scrapy.http import Request, Response

from crawler.parsing.feed import parse_feed
from crawler.plan import AccountPlan
from crawler.spiders.base import AccountSpider, ListingMixin, Output, content_type, now


class FeedSpider(ListingMixin, AccountSpider):
    name = "feed"
    kind = "feed"

    def start_requests_for(self, plan: AccountPlan) -> Iterable[Request]:
        assert plan.url is not None
        yield self.make_request(plan, plan.url, self.parse_listing, role="listing", page=1)

    def parse_listing(self, response: Response) -> Output:
        yield from self.guard(response, self._parse_listing)

    def _parse_listing(self, response: Response) -> Output:
        plan = self.plan_for(response)
        result = parse_feed(response.url, response.body, content_type(response), fetched_at=now())
        yield from self.page_errors(plan, response, result)
        for post in result.posts:
            yield self.post_item(plan, post, response)
        yield from self.continue_listing(plan, response, result, self.parse_listing)

    def listing_done(self, plan: AccountPlan, state: dict[str, Any], response: Response) -> Output:
        # A feed has no page per post to ask: a recent post that left the feed was deleted.
        for key, known in self.vanished(plan, state):
            yield self.gone_item(plan, key, known.url, "deleted", "no longer in the feed")
