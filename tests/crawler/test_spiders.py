"""Spider callbacks on saved pages: what each yields (items, next requests) given what is stored."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from scrapy.http import HtmlResponse, Request, TextResponse
from scrapy.utils.test import get_crawler

from crawler.items import ErrorItem, GoneItem, PostItem
from crawler.plan import AccountPlan
from crawler.spiders import FeedSpider, GovsiteSpider, WechatSpider, WeiboSpider
from store.posts import KnownPost

FIXTURES = Path(__file__).parent / "fixtures"
NOW = datetime(2026, 1, 22, 4, 0, tzinfo=UTC)
SITE = "http://sample.test"


def plan(
    kind: str, url: str | None, known: dict[str, KnownPost] | None = None, **options: Any
) -> AccountPlan:
    return AccountPlan(account_id=7, name="测试账号", kind=kind, url=url, options=options, now=NOW, run_id=1,
                       known=known or {}, incremental=True)  # fmt: skip


def known(key: str, url: str, hours_ago: float, status: str = "live") -> KnownPost:
    return KnownPost(key, url, NOW - timedelta(hours=hours_ago), "hash", status)


def spider(cls: type, account_plan: AccountPlan) -> Any:
    return cls.from_crawler(get_crawler(cls), plans=[account_plan])


def response(url: str, name: str, meta: dict[str, Any], cls: type = HtmlResponse) -> Any:
    request = Request(url, meta={"account_id": 7, "post_url": url, **meta})
    headers = {"Content-Type": "application/json" if name.endswith(".json") else "text/html"}
    return cls(url=url, body=(FIXTURES / name).read_bytes(), request=request, headers=headers)


def start_requests(instance: Any) -> list[Request]:
    async def collect() -> list[Request]:
        return [request async for request in instance.start()]

    return asyncio.run(collect())


def test_wechat_start_reads_the_index_and_rechecks_recent_articles() -> None:
    recent = known("biz/1/1", f"{SITE}/s/recent", 10)
    old = known("biz/2/1", f"{SITE}/s/old", 24 * 30)
    instance = spider(WechatSpider, plan("wechat", f"{SITE}/index.xml", {"biz/1/1": recent, "biz/2/1": old}))
    requests = start_requests(instance)
    assert [(r.url, r.meta["role"]) for r in requests] == [(f"{SITE}/index.xml", "listing"),
                                                         (f"{SITE}/s/recent", "recheck")]  # fmt: skip
    assert all(r.meta["account_id"] == 7 and r.errback == instance.on_error for r in requests)


def test_wechat_article_notice_and_waf() -> None:
    instance = spider(WechatSpider, plan("wechat", None, articles=[f"{SITE}/s/a"]))
    (item,) = instance.parse_article(response(f"{SITE}/s/a", "wechat_article.html", {"key": None}))
    assert isinstance(item, PostItem) and item.key.endswith("/2650000001/1") and item.account_id == 7
    assert (
        item.body.startswith(b"<!DOCTYPE html>")
        and item.title == "呼和浩特市召开2026年优化营商环境工作推进会"
    )

    (gone,) = instance.parse_article(response(f"{SITE}/s/d", "wechat_deleted.html", {"key": "biz/6/1"}))
    assert isinstance(gone, GoneItem) and (gone.key, gone.status) == ("biz/6/1", "deleted")
    assert b"\xe8\xaf\xa5\xe5\x86\x85\xe5\xae\xb9" in gone.body  # the notice page is kept as evidence

    (blocked,) = instance.parse_article(response(f"{SITE}/s/w", "wechat_waf.html", {"key": None}))
    assert isinstance(blocked, ErrorItem) and blocked.blocked and "WAF" in blocked.message
    assert "sample.test" in instance.blocked_hosts  # later requests to the site are not sent


def test_wechat_index_skips_settled_articles_and_stops_paging() -> None:
    index = response(f"{SITE}/wechat/hhht-wechat/index.xml", "wechat_index.xml", {"page": 1})
    links = [
        r
        for r in spider(WechatSpider, plan("wechat", index.url)).parse_index(index)
        if isinstance(r, Request)
    ]
    assert len(links) == 6 and {r.meta["role"] for r in links} == {"detail"}
    # One of them stored a month ago: not fetched again, and it would stop the paging.
    first = links[0]
    settled = known("x", first.url, 24 * 30)
    output = list(spider(WechatSpider, plan("wechat", index.url, {"x": settled})).parse_index(index))
    assert first.url not in {r.url for r in output if isinstance(r, Request)} and len(output) == 5


def test_feed_vanished_recent_post_is_deleted_but_not_an_older_one() -> None:
    listed = response(f"{SITE}/feeds/nmg.xml", "feed_rss.xml", {"page": 1})
    stored = {
        "nmg-gov-99": known("nmg-gov-99", None, 3),  # newer than the oldest entry, gone from the feed
        "nmg-gov-01": known("nmg-gov-01", None, 24 * 10),  # older than everything listed: fell off
        "nmg-gov-61": known("nmg-gov-61", None, 8),
    }
    output = list(spider(FeedSpider, plan("feed", listed.url, stored)).parse_listing(listed))
    assert sorted(i.key for i in output if isinstance(i, PostItem)) == [
        f"nmg-gov-{n}" for n in (61, 62, 63, 64, 65)
    ]
    assert [(i.key, i.status) for i in output if isinstance(i, GoneItem)] == [("nmg-gov-99", "deleted")]


def test_truncated_feed_keeps_whole_entries_and_proves_no_deletion() -> None:
    listed = response(f"{SITE}/fault/truncated.xml", "feed_truncated.xml", {"page": 1})
    stored = {"gone": known("gone", None, 24 * 300)}
    output = list(spider(FeedSpider, plan("feed", listed.url, stored)).parse_listing(listed))
    assert [type(i).__name__ for i in output] == ["ErrorItem", "PostItem", "PostItem"]


def test_weibo_long_posts_are_completed_and_login_walls_block() -> None:
    url = f"{SITE}/api/container/getIndex?containerid=1076036012345678"
    instance = spider(WeiboSpider, plan("weibo", url, cookies={"SUB": "x"}))
    output = list(instance.parse_listing(response(url, "weibo_page1.json", {"page": 1}, TextResponse)))
    posts = [i for i in output if isinstance(i, PostItem)]
    requests = [r for r in output if isinstance(r, Request)]
    assert [p.key for p in posts] == ["5100000000000021", "5100000000000022", "5100000000000024"]
    assert [(r.url, r.meta["role"]) for r in requests] == [
        (f"{SITE}/statuses/show?id=5100000000000023", "long"),
        (f"{url}&since_id=5100000000000025", "listing"),
    ]
    assert requests[0].headers.get("Cookie") == b"SUB=x" and requests[0].meta["block_on_429"]

    shown = response(f"{SITE}/statuses/show?id=5100000000000023", "weibo_show_long.json",
                     {"key": "5100000000000023"}, TextResponse)  # fmt: skip
    (full,) = instance.parse_status(shown)
    assert full.text.endswith("详情请咨询区教育局。")
    (refused,) = instance.parse_listing(response(url, "hand_weibo_login.json", {"page": 1}, TextResponse))
    assert isinstance(refused, ErrorItem) and refused.blocked and 7 in instance.blocked_accounts


def test_govsite_list_requests_articles_and_next_page() -> None:
    url = f"{SITE}/gov/hhht/xwdt/index.html"
    instance = spider(GovsiteSpider, plan("govsite", url, list_selector="ul.list_news li"))
    output = list(instance.parse_list(response(url, "gov_trs_list.html", {"page": 1})))
    assert [r.meta["role"] for r in output] == ["detail"] * 4 + ["listing"]
    assert output[-1].url == f"{SITE}/gov/hhht/xwdt/index_1.html" and output[-1].meta["page"] == 2

    detail = output[0]
    page = response(detail.url, "gov_trs_detail.html", dict(detail.meta))
    (item,) = instance.parse_detail(page)
    assert isinstance(item, PostItem) and item.key == detail.meta["key"] and "堃实向上" in item.text
    (gone,) = instance.parse_detail(response(detail.url, "gov_withdrawn.html", dict(detail.meta)))
    assert isinstance(gone, GoneItem) and gone.status == "deleted"


def test_a_page_that_breaks_a_parser_becomes_an_error_on_the_run() -> None:
    instance = spider(GovsiteSpider, plan("govsite", f"{SITE}/list.html"))
    broken = response(f"{SITE}/list.html", "gov_trs_list.html", {"page": 1})
    instance.plans[7].options["detail_pattern"] = "("  # a bad pattern slipped past validation
    (error,) = instance.parse_list(broken)
    assert (
        isinstance(error, ErrorItem)
        and "could not parse the page" in error.message
        and broken.url in error.message
    )
