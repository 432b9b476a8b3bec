"""A crawl process killed mid-run leaves a consistent database; the next run loses and duplicates nothing."""

from __future__ import annotations

import signal
import subprocess
import time

from sqlalchemy import func, select, text

from crawler.run import start_worker
from govwatch.context import crawl_config
from govwatch.sample_site import SampleSite
from govwatch.settings import Settings
from store.crawl_runs import INTERRUPTED, list_runs
from store.models import Post, PostVersion
from tests.crawler.conftest import FAST, add_sample_accounts, crawl
from tests.crawler.test_crawl import expected_key


def count_posts(store) -> int:
    with store() as session:
        return session.scalar(select(func.count()).select_from(Post)) or 0


def test_kill_mid_run_then_resume(site: SampleSite, crawl_settings: Settings, store) -> None:
    ids = add_sample_accounts(store, site)
    site.config.latency = 0.05  # slow enough to be killed halfway
    process = start_worker(
        crawl_config(crawl_settings),
        list(ids.values()),
        scrapy_settings={**FAST, "CONCURRENT_REQUESTS_PER_DOMAIN": 2, "GOVWATCH_BATCH_SIZE": 3},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while count_posts(store) < 6 and time.monotonic() < deadline:
        assert process.poll() is None, "the crawl finished before it could be killed"
        time.sleep(0.05)
    assert process.poll() is None
    process.send_signal(signal.SIGKILL)
    process.wait()

    total_live = sum(1 for account in site.state.accounts for post in account.posts if post.status == "live")
    with store() as session:
        assert session.execute(text("PRAGMA integrity_check")).scalar() == "ok"
        halfway = session.scalar(select(func.count()).select_from(Post))
        assert 6 <= halfway < total_live
        # Whole batches only: every stored post has its first version.
        assert session.scalar(select(func.count()).select_from(PostVersion)) == halfway
        running = [run for run in list_runs(session=session) if run.status == "running"]
        assert running  # the killed process could not close its runs

    site.config.latency = 0
    summary = crawl(crawl_settings, list(ids.values()))
    assert {run.status for run in summary.runs} == {"ok"}
    with store() as session:
        posts = list(session.scalars(select(Post)))
        assert len(posts) == total_live == len({(p.account_id, p.source_key) for p in posts})
        assert {p.version for p in posts} == {1}  # nothing stored twice or taken for an edit
        assert session.scalar(select(func.count()).select_from(PostVersion)) == total_live
        stale = [run for run in list_runs(session=session, limit=200) if run.id in {r.id for r in running}]
        assert {(run.status, run.error) for run in stale} == {("interrupted", INTERRUPTED)}
    for account in site.state.accounts:
        live = {expected_key(site, account, p) for p in account.posts if p.status == "live"}
        assert {p.source_key for p in posts if p.account_id == ids[account.name]} == live
