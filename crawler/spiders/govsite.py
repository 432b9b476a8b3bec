"""Government websites: the news list (per-site selectors and pagination), then each article page."""

from __future__ import annotations

from collections.abc import Iterable

from scrapy.http import Request, Response

from crawler.parsing.govsite import govsite_key, parse_govsite_detail, parse_govsite_list
from crawler.plan import AccountPlan
from crawler.spiders.base import AccountSpider, ListingMixin, Output, content_type, now


class GovsiteSpider(ListingMixin, AccountSpider):
    name = "govsite"
    kind = "govsite"

    def start_requests_for(self, plan: AccountPlan) -> Iterable[Request]:
        assert plan.url is not None
        yield self.make_request(plan, plan.url, self.parse_list, role="listing", page=1, priority=10)
        # Recent articles are read again even if the list dropped them: a withdrawn page shows there.
        for key, known in plan.recheck_targets():
            assert known.url is not None
            yield self.make_request(plan, known.url, self.parse_detail, role="recheck", key=key)

    def parse_list(self, response: Response) -> Output:
        yield from self.guard(response, self._parse_list)

    def _parse_list(self, response: Response) -> Output:
        plan = self.plan_for(response)
        page = response.meta.get("page", 1)
        result = parse_govsite_list(
            response.url,
            response.body,
            content_type(response),
            options=plan.options,
            fetched_at=now(),
            page=page,
        )
        yield from self.page_errors(plan, response, result)
        for entry in result.posts:
            url = entry.detail_url or entry.url
            if url and plan.needs_fetch(entry.key, url, entry.published_at):
                yield self.make_request(
                    plan,
                    url,
                    self.parse_detail,
                    role="detail",
                    key=entry.key,
                    listed_title=entry.title,
                    listed_published=entry.published_at,
                )
        yield from self.continue_listing(plan, response, result, self.parse_list)

    def parse_detail(self, response: Response) -> Output:
        yield from self.guard(response, self._parse_detail)

    def _parse_detail(self, response: Response) -> Output:
        plan = self.plan_for(response)
        url = response.meta["post_url"]
        key = response.meta.get("key") or govsite_key(url)
        result = parse_govsite_detail(
            url, response.body, content_type(response), options=plan.options, fetched_at=now()
        )
        if result.status == "ok":
            yield self.post_item(
                plan,
                result.posts[0],
                response,
                key=key,
                title=response.meta.get("listed_title"),
                published_at=response.meta.get("listed_published"),
            )
        elif result.status == "deleted":
            yield self.gone_item(plan, key, url, "deleted", result.error or "withdrawn", response)
        else:
            yield from self.page_errors(plan, response, result)

    def on_http_error(self, plan: AccountPlan, request: Request, response: Response) -> Output:
        role = request.meta.get("role")
        if role == "listing" and request.meta.get("page", 1) > 1 and response.status == 404:
            # Numbered pages (index_3.html, ?page=3) end with a 404: the end of the list, not an error.
            yield from self.listing_done(plan, dict(request.meta.get("listing") or {}), response)
            return
        if role in ("detail", "recheck") and response.status in (404, 410):
            key = request.meta.get("key") or govsite_key(request.meta["post_url"])
            yield self.gone_item(
                plan, key, request.url, "deleted", f"HTTP {response.status} (page removed)", response
            )
            return
        yield from super().on_http_error(plan, request, response)
