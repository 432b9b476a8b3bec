"""Crawler throughput: 10,000 WeChat-shaped article pages from the local sample site into SQLite.

Prints pages per second with storage, and the same crawl with a pipeline that stores nothing, in
the same run; storage may cost at most 30% extra. Politeness is off: the site is our own 127.0.0.1.
"""

from __future__ import annotations

import os
import statistics
import tempfile
from pathlib import Path
from typing import Any

from crawler.run import crawl_accounts
from govwatch.context import crawl_config, upgrade_store
from govwatch.sample_site.bench_server import BenchSite
from govwatch.settings import Settings
from store.accounts import ensure_organization, upsert_account

ACCOUNTS = 10
ARTICLES_PER_ACCOUNT = 1000
SITES = 2  # the accounts live on this many sites (ports), so the crawl can use one process per site
TARGET_PAGES_PER_SECOND = 300
MAX_STORAGE_OVERHEAD = 1.30
REPEATS = 3  # the best of these counts: other load on the machine only ever slows a run down
FAST: dict[str, Any] = {  # against our own 127.0.0.1 sites only
    "DOWNLOAD_DELAY": 0,
    "AUTOTHROTTLE_ENABLED": False,
    "CONCURRENT_REQUESTS": 32,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 32,
    "LOG_LEVEL": "ERROR",
}
NULL_PIPELINES = {"crawler.pipelines.ValidationPipeline": 100, "crawler.pipelines.NullPipeline": 800}


def prepare(directory: Path, sites: list[BenchSite]) -> tuple[Settings, list[int]]:
    settings = Settings(
        data_dir=directory, database_url=f"sqlite:///{directory / 'bench.db'}", redis_url=None
    )
    session_factory = upgrade_store(settings)
    ids = []
    with session_factory.begin() as session:
        organization = ensure_organization(session=session, name="基准测试单位", region_code="150100")
        for number in range(ACCOUNTS):
            account, _ = upsert_account(
                session=session,
                platform="wechat",
                handle=f"gh_bench{number}",
                fields={
                    "name": f"基准测试账号{number}",
                    "organization_id": organization.id,
                    "region_code": "150100",
                    "source": {
                        "kind": "wechat",
                        "url": f"{sites[number % len(sites)].url}/bench/{number}/index.xml",
                        "max_pages": 20,
                    },
                },
            )
            ids.append(account.id)
    return settings, ids


def crawl_once(sites: list[BenchSite], *, store: bool) -> tuple[float, float, int]:
    """(seconds the crawl processes spent crawling, seconds with their start-up, responses fetched)."""
    with tempfile.TemporaryDirectory(prefix="govwatch-bench-") as directory:
        settings, ids = prepare(Path(directory), sites)
        overrides = dict(FAST) if store else {**FAST, "ITEM_PIPELINES": NULL_PIPELINES}
        summary = crawl_accounts(crawl_config(settings), ids, scrapy_settings=overrides, processes=len(sites))
        if not summary.ok:
            raise RuntimeError(f"the benchmark crawl failed:\n{summary.log_tail}")
        if store:
            stored = summary.totals.get("new", 0)
            if stored != ACCOUNTS * ARTICLES_PER_ACCOUNT:
                raise RuntimeError(f"expected {ACCOUNTS * ARTICLES_PER_ACCOUNT} stored posts, got {stored}")
        return summary.crawl_seconds, summary.seconds, summary.pages


def main() -> bool:
    # The sample site's benchmark pages, served by a lean asyncio server so that the CPU goes to
    # the crawler being measured (see govwatch/sample_site/bench_server.py).
    sites = [BenchSite(ARTICLES_PER_ACCOUNT).start() for _ in range(SITES)]
    try:
        store_times: list[tuple[float, float]] = []
        null_times: list[tuple[float, float]] = []
        for _ in range(REPEATS):  # interleaved, so drift hits both alike
            crawl, wall, _ = crawl_once(sites, store=False)
            null_times.append((crawl, wall))
            crawl, wall, pages = crawl_once(sites, store=True)
            store_times.append((crawl, wall))
    finally:
        for site in sites:
            site.stop()
    articles = ACCOUNTS * ARTICLES_PER_ACCOUNT
    with_storage = min(t for t, _ in store_times)
    without = min(t for t, _ in null_times)
    rate = articles / with_storage
    ratio = with_storage / without
    print(
        f"crawled {articles} WeChat-shaped article pages ({pages} responses with index pages and robots.txt) "
        f"from {SITES} local sites into SQLite, {SITES} crawl processes, politeness off"
    )
    for label, times in (("with storage", store_times), ("storing nothing", null_times)):
        crawl = min(t for t, _ in times)
        wall = min(w for _, w in times)
        print(
            f"  {label:16s} {crawl:6.2f} s crawling  {articles / crawl:6.1f} pages/s   "
            f"({wall:.2f} s and {articles / wall:.1f} pages/s with process start-up; "
            f"runs: {', '.join(f'{t:.2f}' for t, _ in times)})"
        )
    print(
        f"  storage costs    x{ratio:.2f}   (targets: at least {TARGET_PAGES_PER_SECOND} pages/s "
        "with storage, "
        f"at most x{MAX_STORAGE_OVERHEAD:.2f})"
    )
    typical = statistics.median(t for t, _ in store_times) / statistics.median(t for t, _ in null_times)
    print(f"  (medians instead of best runs: x{typical:.2f})")
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"  machine: {os.cpu_count()} CPUs, load average {load} (other processes slow every figure above)")
    ok = rate >= TARGET_PAGES_PER_SECOND and ratio <= MAX_STORAGE_OVERHEAD
    print("  targets met" if ok else "  TARGETS MISSED")
    return ok


if __name__ == "__main__":
    main()
