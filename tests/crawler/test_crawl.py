"""Crawls of the sample site: every adapter end to end, then add/edit/delete between crawls."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from govwatch.sample_site import SampleSite
from govwatch.sample_site.content import SampleAccount, SamplePost, wechat_mid, weibo_id
from govwatch.sample_site.pages import gov_detail_path
from govwatch.settings import Settings
from store.crawl_runs import latest_runs
from store.models import Post, PostVersion, Snapshot
from store.posts import list_post_versions
from store.snapshots import read_snapshot
from tests.crawler.conftest import add_account, add_sample_accounts, control, crawl


def expected_key(site: SampleSite, account: SampleAccount, post: SamplePost) -> str:
    """The key the crawler must store each sample post under (independent of the URL form used)."""
    if account.kind == "wechat":
        return f"{account.biz}/{wechat_mid(post)}/1"
    if account.kind == "weibo":
        return weibo_id(post)
    if account.kind == "govsite":
        return gov_detail_path(account, post, site.state.published(post))
    if account.path.endswith(".xml"):
        return f"nmg-gov-{post.number}"
    if account.path.endswith(".atom"):
        return f"tag:toutiao.example,2026:{account.handle}/{post.number}"
    return str(7400000000000000000 + post.number)


def stored(store: sessionmaker[Session], account_id: int) -> dict[str, Post]:
    with store() as session:
        return {p.source_key: p for p in session.scalars(select(Post).where(Post.account_id == account_id))}


def test_first_crawl_reads_every_kind(site: SampleSite, crawl_settings: Settings, store) -> None:
    ids = add_sample_accounts(store, site)
    summary = crawl(crawl_settings, list(ids.values()))
    assert {run.name: run.status for run in summary.runs} == {name: "ok" for name in ids}
    for account in site.state.accounts:
        posts = stored(store, ids[account.name])
        live = {expected_key(site, account, p) for p in account.posts if p.status == "live"}
        assert set(posts) == live, account.name  # notices (deleted, violation, withdrawn) are not content
    with store() as session:
        assert session.scalar(select(func.count()).select_from(PostVersion)) == session.scalar(
            select(func.count()).select_from(Post)
        )  # one version each, nothing counted twice
        assert session.scalar(select(func.count()).where(Post.snapshot_sha256.is_(None))) == 0

    runs = {run.name: run for run in summary.runs}
    assert runs["呼和浩特发布"].counts["gone_unseen"] == 1  # a deleted article the index still links to
    assert runs["新城区发布"].counts["gone_unseen"] == 2  # violation + unavailable notices
    assert runs["呼和浩特市人民政府门户网站"].counts["gone_unseen"] == 1  # the withdrawn page

    hhht = stored(store, ids["呼和浩特市人民政府门户网站"])
    report = next(p for p in hhht.values() if p.title == "呼和浩特市2026年政府工作报告解读")
    assert "堃实向上" in report.text and report.author == "呼和浩特市人民政府办公室"  # GBK decoded
    with store() as session:
        raw = read_snapshot(session=session, sha256=report.snapshot_sha256)
    assert "堃实向上".encode("gb18030") in raw  # the snapshot is the raw page, as served

    weibo = stored(store, ids["赛罕发布"])
    assert weibo["5100000000000023"].text.endswith("详情请咨询区教育局。")  # long text from statuses/show
    assert weibo["5100000000000022"].likes == 10_000  # "1万+"
    # Outbound links are stored with the post (posts.links), made absolute against the page.
    topic = {"href": f"{site.url}/search?containerid=231522type%3D1", "text": "#冬季消防安全#"}
    assert any(topic in (p.links or []) for p in weibo.values())
    assert all(p.links is not None for p in weibo.values())
    nmg = stored(store, ids["内蒙古自治区人民政府"])
    assert nmg["nmg-gov-63"].published_at is None  # an undated feed entry is kept
    wechat = stored(store, ids["呼和浩特发布"])
    assert {p.url.split("/s", 2)[-1][:1] for p in wechat.values()} == {
        "/",
        "?",
    }  # short and long URLs, one key each


def test_second_crawl_stores_exactly_the_changes(site: SampleSite, crawl_settings: Settings, store) -> None:
    ids = add_sample_accounts(store, site)
    crawl(crawl_settings, list(ids.values()))
    before = {name: stored(store, account_id) for name, account_id in ids.items()}
    changes = control(site, "tick")

    summary = crawl(crawl_settings, list(ids.values()))
    runs = {run.name: run for run in summary.runs}
    for account in site.state.accounts:
        change = changes[account.slug]
        run = runs[account.name]
        assert run.status == "ok", (account.name, run.error)
        assert run.counts.get("new") == 1, (account.name, run.counts)
        assert run.counts.get("updated") == 1, (account.name, run.counts)
        assert run.counts.get("deleted", 0) == (1 if change["deleted"] else 0), (account.name, run.counts)
        posts = stored(store, ids[account.name])
        by_number = {p.number: p for p in account.posts}
        added = expected_key(site, account, by_number[change["added"]])
        edited = expected_key(site, account, by_number[change["edited"]])
        assert set(posts) - set(before[account.name]) == {added}
        assert (posts[edited].version, posts[edited].status) == (2, "edited")
        assert "次更新" in posts[edited].text
        unchanged = (
            set(before[account.name])
            - {edited}
            - ({expected_key(site, account, by_number[change["deleted"]])} if change["deleted"] else set())
        )
        assert all(posts[key].version == 1 for key in unchanged), account.name
        if change["deleted"]:
            key = expected_key(site, account, by_number[change["deleted"]])
            gone, old = posts[key], before[account.name][key]
            assert (gone.status, gone.version) == ("deleted", 2)
            # Evidence survives: the post keeps its text and the snapshot of its content.
            assert gone.text == old.text and gone.snapshot_sha256 == old.snapshot_sha256
            with store() as session:
                assert session.get(Snapshot, gone.snapshot_sha256) is not None
                versions = list_post_versions(session=session, post_id=gone.id)
            assert [v.status for v in versions] == ["live", "deleted"]

    # A third crawl with nothing new changes nothing.
    summary = crawl(crawl_settings, list(ids.values()))
    for run in summary.runs:
        assert run.status == "ok" and not {"new", "updated", "deleted"} & set(run.counts), (
            run.name,
            run.counts,
        )


def test_incremental_crawl_stops_paging_at_known_posts(
    site: SampleSite, crawl_settings: Settings, store
) -> None:
    account = site.state.account("hhht-gov")
    assert account is not None
    # recheck_days 0: stored posts are never fetched again, so paging stops on the first known page.
    account_id = add_account(
        store,
        "呼和浩特市政府",
        {
            "kind": "govsite",
            "url": f"{site.url}{account.path}",
            "list_selector": "ul.list_news li",
            "recheck_days": 0,
        },
    )
    first = crawl(crawl_settings, [account_id]).runs[0]
    assert first.counts["pages"] == 3 + 9  # three list pages, nine articles
    control(site, "tick")
    second = crawl(crawl_settings, [account_id]).runs[0]
    # The first list page has the new article and then only known ones: no second page, one article.
    assert second.counts["pages"] == 2 and second.counts["new"] == 1
    with store() as session:
        assert latest_runs(session=session)[account_id].status == "ok"


def test_an_interrupted_run_makes_the_next_one_read_the_whole_listing(
    site: SampleSite, crawl_settings: Settings, store
) -> None:
    account = site.state.account("hhht-gov")
    assert account is not None
    account_id = add_account(
        store,
        "呼和浩特市政府",
        {
            "kind": "govsite",
            "url": f"{site.url}{account.path}",
            "list_selector": "ul.list_news li",
            "recheck_days": 0,
        },
    )
    crawl(crawl_settings, [account_id])
    with store.begin() as session:  # as a killed process leaves it
        run = latest_runs(session=session)[account_id]
        run.status, run.finished_at, run.host = "running", None, "elsewhere pid=1"
    second = crawl(crawl_settings, [account_id]).runs[0]
    # Every list page again; of the articles only the withdrawn one (never stored, so not known).
    assert second.counts["pages"] == 3 + 1 and second.status == "ok"


@pytest.mark.postgres
def test_crawl_into_postgresql(site: SampleSite, postgres_schema: str, tmp_path) -> None:
    from govwatch.context import upgrade_store
    from tests.conftest import POSTGRES_URL

    url = f"{POSTGRES_URL}?options=-csearch_path%3D{postgres_schema}"
    settings = Settings(data_dir=tmp_path, database_url=url, redis_url=None)
    store = upgrade_store(settings)
    ids = add_sample_accounts(store, site)
    summary = crawl(settings, list(ids.values()))
    assert {run.status for run in summary.runs} == {"ok"}
    control(site, "tick")
    summary = crawl(settings, list(ids.values()))
    assert sum(run.counts.get("new", 0) for run in summary.runs) == len(ids)
    with store() as session:
        deleted = select(func.count()).select_from(Post).where(Post.status == "deleted")
        assert session.scalar(deleted) == len(ids)  # one per account, as the tick deleted
