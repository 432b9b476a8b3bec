"""Faults real sites have: each is recorded on the account's run with its URL, and the crawl goes on."""

from __future__ import annotations

from sqlalchemy import select

from govwatch.sample_site import SampleSite
from govwatch.settings import Settings
from store.models import Post
from tests.crawler.conftest import add_account, crawl


def feed(store, site: SampleSite, name: str, path: str, **options) -> int:
    return add_account(store, name, {"kind": "feed", "url": f"{site.url}{path}", **options})


def posts_of(store, account_id: int) -> list[Post]:
    with store() as session:
        return list(session.scalars(select(Post).where(Post.account_id == account_id)))


def test_http_faults_bad_feeds_and_blocks(site: SampleSite, crawl_settings: Settings, store) -> None:
    site.config.slow_seconds = 2.5
    ids = {
        "forbidden": feed(store, site, "forbidden", "/fault/403.xml"),
        "retry-after": feed(store, site, "retry-after", "/fault/429.xml"),
        "retry-after-long": feed(store, site, "retry-after-long", "/fault/429-forever.xml"),
        "flaky": feed(store, site, "flaky", "/fault/flaky.xml"),
        "slow": feed(store, site, "slow", "/fault/slow.xml"),
        "oversize": feed(store, site, "oversize", "/fault/oversize.xml"),
        "oversize-stream": feed(store, site, "oversize-stream", "/fault/oversize-stream.xml"),
        "truncated": feed(store, site, "truncated", "/fault/truncated.xml"),
        "broken-json": feed(store, site, "broken-json", "/fault/broken.json"),
        "not-a-feed": feed(store, site, "not-a-feed", "/fault/not-a-feed.xml"),
        "bad-config": add_account(store, "bad-config", {"kind": "rss", "url": f"{site.url}/feeds/nmg.xml"}),
        "weibo-login": add_account(
            store,
            "weibo-login",
            {
                "kind": "weibo",
                "cookies": "SUB=x",
                "url": f"{site.url}/fault/weibo-login/api/container/getIndex?containerid=1076032",
            },
        ),
        "weibo-no-cookie": add_account(
            store,
            "weibo-no-cookie",
            {"kind": "weibo", "url": f"{site.url}/api/container/getIndex?containerid=1076036012345678"},
        ),
        "healthy": feed(store, site, "healthy", "/feeds/nmg.xml"),
    }
    summary = crawl(
        crawl_settings,
        list(ids.values()),
        DOWNLOAD_TIMEOUT=1,
        DOWNLOAD_MAXSIZE=1024 * 1024,
        GOVWATCH_RETRY_AFTER_MAX=30,
    )
    runs = {run.name: run for run in summary.runs}
    assert set(runs) == set(ids)

    def check(name: str, status: str, *fragments: str) -> None:
        run = runs[name]
        assert run.status == status, (name, run.status, run.error)
        for fragment in fragments:
            assert fragment in (run.error or ""), (name, run.error)

    check("forbidden", "failed", f"HTTP 403 Forbidden at {site.url}/fault/403.xml")
    check("retry-after", "ok")
    assert site.requests["/fault/429.xml"] == 2  # one 429, then a retry after the asked second
    check("retry-after-long", "failed", "HTTP 429", "Retry-After 3600 s")
    assert site.requests["/fault/429-forever.xml"] == 1
    check("flaky", "ok")
    assert site.requests["/fault/flaky.xml"] == 2
    check("slow", "failed", f"no answer within 1 s (after 2 retries) at {site.url}/fault/slow.xml")
    check("oversize", "failed", "larger than the 1048576-byte limit", f"{site.url}/fault/oversize.xml")
    check("oversize-stream", "failed", "larger than the 1048576-byte limit", "/fault/oversize-stream.xml")
    check("truncated", "partial", "malformed feed", f"{site.url}/fault/truncated.xml")
    assert len(posts_of(store, ids["truncated"])) == 2  # the complete entries are kept, the cut one is not
    check("broken-json", "failed", "malformed JSON Feed", "/fault/broken.json")
    check("not-a-feed", "failed", "not an RSS, Atom or JSON feed", "/fault/not-a-feed.xml")
    check("bad-config", "failed", "source configuration: source kind 'rss' is not one of")
    check("weibo-login", "blocked", "ok:-100")
    check("weibo-no-cookie", "blocked", "ok:-100")
    assert site.requests["/fault/weibo-login/api/container/getIndex?containerid=1076032"] == 1  # not retried
    check("healthy", "ok")
    assert len(posts_of(store, ids["healthy"])) == 5  # the faults elsewhere cost this account nothing


def test_robots_txt_forbids_a_feed_unless_the_account_waives_it(
    site: SampleSite, crawl_settings: Settings, store
) -> None:
    # A crawl of its own, with the default timeout: under the 1-second one above, a loaded machine
    # could miss robots.txt itself, and Scrapy then allows everything.
    forbidden = feed(store, site, "robots", "/private/feed.xml")
    waived = feed(store, site, "robots-waived", "/private/feed.xml?waived", robots=False)
    runs = {run.name: run for run in crawl(crawl_settings, [forbidden, waived]).runs}
    assert runs["robots"].status == "failed" and "robots.txt of 127.0.0.1 forbids" in runs["robots"].error
    assert posts_of(store, forbidden) == []
    assert runs["robots-waived"].status == "ok", runs["robots-waived"].error
    assert posts_of(store, waived)


def test_a_waf_page_blocks_the_site_for_the_run_and_is_never_stored(
    site: SampleSite, crawl_settings: Settings, store
) -> None:
    account_id = add_account(
        store, "waf", {"kind": "wechat", "url": f"{site.url}/fault/waf/index.xml"}, platform="wechat"
    )
    # Politeness as deployed (one request at a time, a delay): the block lands before the next request.
    summary = crawl(
        crawl_settings,
        [account_id],
        CONCURRENT_REQUESTS_PER_DOMAIN=1,
        DOWNLOAD_DELAY=1.0,
        DOWNLOAD_DELAY_JITTER=0,
    )
    (run,) = summary.runs
    assert run.status == "blocked" and "verification (WAF) page" in run.error
    assert posts_of(store, account_id) == []
    articles = [path for path in site.requests if path.startswith("/fault/waf/s/")]
    assert len(articles) == 1  # after the first WAF page the other two articles are not requested


def test_weibo_432_backs_off_from_the_site_and_alerts_once(
    site: SampleSite, crawl_settings: Settings, store
) -> None:
    blocked = add_account(
        store,
        "weibo-432",
        {
            "kind": "weibo",
            "cookies": "SUB=x",
            "url": f"{site.url}/fault/weibo-432/api/container/getIndex?containerid=1076031",
        },
    )
    other = add_account(
        store,
        "赛罕发布",
        {
            "kind": "weibo",
            "cookies": "SUB=x",
            "url": f"{site.url}/api/container/getIndex?containerid=1076036012345678",
        },
    )
    summary = crawl(
        crawl_settings,
        [blocked, other],
        CONCURRENT_REQUESTS_PER_DOMAIN=1,
        DOWNLOAD_DELAY=1.0,
        DOWNLOAD_DELAY_JITTER=0,
    )
    runs = {run.account_id: run for run in summary.runs}
    assert (
        runs[blocked].status == "blocked"
        and runs[blocked].error == "HTTP 432 from 127.0.0.1 (Weibo rate limit or block)"
    )
    # 432 is an answer to the crawler's address: the other account on the same site waits too.
    assert runs[other].status == "blocked" and runs[other].error.startswith(
        "skipped: 127.0.0.1 blocked this crawl"
    )
    assert site.requests["/fault/weibo-432/api/container/getIndex?containerid=1076031"] == 1
    assert not any(path.startswith("/api/container/getIndex") for path in site.requests)
