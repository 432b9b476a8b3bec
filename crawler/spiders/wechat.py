"""WeChat articles: an index of article links (a bridge's feed or a history page), then each article."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from scrapy.http import Request, Response

from crawler.parsing.wechat import (
    NOTICE_MESSAGES,
    article_ids,
    article_key,
    parse_wechat_article,
    parse_wechat_index,
)
from crawler.plan import AccountPlan
from crawler.spiders.base import AccountSpider, ListingMixin, Output, content_type, now


class WechatSpider(ListingMixin, AccountSpider):
    name = "wechat"
    kind = "wechat"

    def start_requests_for(self, plan: AccountPlan) -> Iterable[Request]:
        if plan.url:
            yield self.make_request(plan, plan.url, self.parse_index, role="listing", page=1, priority=10)
        for url in plan.options.get("articles") or []:
            if plan.needs_fetch(None, url, None):
                yield self.article_request(plan, url, key=plan.key_for_url(url))
        # Stored recent articles are read again even when the index dropped them: deletions show there.
        for key, known in plan.recheck_targets():
            assert known.url is not None
            yield self.article_request(plan, known.url, key=key, role="recheck")

    def article_request(
        self, plan: AccountPlan, url: str, *, key: str | None, role: str = "detail", **meta: Any
    ) -> Request:
        return self.make_request(plan, url, self.parse_article, role=role, key=key, **meta)

    def parse_index(self, response: Response) -> Output:
        yield from self.guard(response, self._parse_index)

    def _parse_index(self, response: Response) -> Output:
        plan = self.plan_for(response)
        result = parse_wechat_index(response.url, response.body, content_type(response), fetched_at=now())
        yield from self.page_errors(plan, response, result)
        for entry in result.posts:
            url = entry.detail_url or entry.url
            if url and plan.needs_fetch(entry.key, url, entry.published_at):
                known_key = entry.key if entry.key in plan.known else plan.key_for_url(url)
                yield self.article_request(
                    plan, url, key=known_key, listed_title=entry.title, listed_published=entry.published_at
                )
        yield from self.continue_listing(plan, response, result, self.parse_index)

    def parse_article(self, response: Response) -> Output:
        yield from self.guard(response, self._parse_article)

    def _parse_article(self, response: Response) -> Output:
        plan = self.plan_for(response)
        url = response.meta["post_url"]
        result = parse_wechat_article(url, response.body, content_type(response), fetched_at=now())
        if result.status == "ok":
            yield self.post_item(
                plan,
                result.posts[0],
                response,
                title=response.meta.get("listed_title"),
                published_at=response.meta.get("listed_published"),
            )
        elif result.status in ("deleted", "violation", "unavailable"):
            # A notice is a status of the post this URL stood for, never content.
            key = response.meta.get("key") or article_key(article_ids("", url), url)
            yield self.gone_item(plan, key, url, result.status, NOTICE_MESSAGES[result.status], response)
        elif result.status == "waf":
            yield self.block_host(
                plan, url, f"{urlsplit(url).hostname} answered with a verification (WAF) page at {url}"
            )
        else:
            yield from self.page_errors(plan, response, result)
