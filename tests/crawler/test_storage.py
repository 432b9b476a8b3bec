"""store/posts.py, store/snapshots.py and store/crawl_runs.py on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from store.accounts import ensure_organization, upsert_account
from store.crawl_runs import (
    INTERRUPTED,
    finish_run,
    latest_runs,
    list_account_crawl_status,
    mark_runs_interrupted,
    previous_run_statuses,
    start_run,
    update_run_counts,
)
from store.errors import InvalidInput
from store.models import Post, PostVersion, Snapshot
from store.posts import (
    PostInput,
    StatusInput,
    content_hash,
    count_posts,
    find_post,
    list_known_posts,
    list_post_versions,
    mark_posts_status,
    upsert_posts,
)
from store.snapshots import put_snapshots, read_snapshot, snapshot_sha256

T0 = datetime(2026, 1, 22, 2, 30, tzinfo=UTC)


def make_account(session_factory, handle: str = "gh_1") -> int:
    with session_factory.begin() as session:
        organization = ensure_organization(
            session=session, name="呼和浩特市人民政府办公室", region_code="150100"
        )
        account, _ = upsert_account(
            session=session,
            platform="wechat",
            handle=handle,
            fields={"name": "呼和浩特发布", "organization_id": organization.id, "region_code": "150100"},
        )
        return account.id


@pytest.fixture
def account_id(session_factory) -> int:
    return make_account(session_factory)


def post(key: str, text: str, **kwargs) -> PostInput:
    kwargs.setdefault("title", f"标题 {key}")
    kwargs.setdefault("published_at", T0)
    kwargs.setdefault("snapshot", f"<html>{key} {text}</html>".encode())
    kwargs.setdefault("content_type", "text/html; charset=utf-8")
    return PostInput(source_key=key, text=text, **kwargs)


def test_snapshots_are_content_addressed_compressed_and_deduplicated(session_factory) -> None:
    page = ("<html>" + "政务公开 " * 2000 + "</html>").encode()
    with session_factory.begin() as session:
        shas = put_snapshots(session=session, blobs=[(page, "text/html"), (page, "text/html"), (b"x", None)])
    assert shas[0] == shas[1] == snapshot_sha256(page)
    with session_factory.begin() as session:
        assert put_snapshots(session=session, blobs=[(page, "text/html")]) == [shas[0]]
    with session_factory() as session:
        assert session.query(Snapshot).count() == 2
        stored = session.get(Snapshot, shas[0])
        assert stored.size == len(page) and len(stored.data) < len(page) / 10
        assert read_snapshot(session=session, sha256=shas[0]) == page


def test_upsert_inserts_then_versions_edits_and_keeps_unchanged(session_factory, account_id: int) -> None:
    with session_factory.begin() as session:
        result = upsert_posts(
            session=session,
            account_id=account_id,
            posts=[post("a", "第一条"), post("b", "第二条", metrics={"reads": 10})],
        )
    assert (result.new, result.updated, result.unchanged) == (2, 0, 0)

    with session_factory.begin() as session:
        result = upsert_posts(
            session=session,
            account_id=account_id,
            posts=[
                post("a", "第一条", metrics={"likes": 3}),  # same content, new metrics
                post("b", "第二条（已更正）"),  # edited
                post("c", "第三条"),
            ],
        )
    assert (result.new, result.updated, result.unchanged) == (1, 1, 1)

    with session_factory() as session:
        a = find_post(session=session, account_id=account_id, source_key="a")
        b = find_post(session=session, account_id=account_id, source_key="b")
        assert (a.version, a.status, a.likes) == (1, "live", 3)
        assert (b.version, b.status, b.text, b.reads) == (2, "edited", "第二条（已更正）", 10)
        versions = list_post_versions(session=session, post_id=b.id)
        assert [(v.version, v.status, v.text) for v in versions] == [
            (1, "live", "第二条"),
            (2, "edited", "第二条（已更正）"),
        ]
        assert versions[0].snapshot_sha256 != versions[1].snapshot_sha256 == b.snapshot_sha256
        assert b.content_hash == content_hash(b.title, b.text)


def test_same_key_twice_in_one_batch_is_one_post(session_factory, account_id: int) -> None:
    with session_factory.begin() as session:
        result = upsert_posts(
            session=session, account_id=account_id, posts=[post("a", "一"), post("a", "一 改")]
        )
    assert (result.new, result.updated) == (1, 1)
    with session_factory() as session:
        assert session.query(Post).count() == 1
        assert session.query(PostVersion).count() == 2


def test_deletion_keeps_text_and_content_snapshot(session_factory, account_id: int) -> None:
    with session_factory.begin() as session:
        upsert_posts(session=session, account_id=account_id, posts=[post("a", "证据文本"), post("b", "正常")])
    with session_factory() as session:
        evidence = find_post(session=session, account_id=account_id, source_key="a").snapshot_sha256
    notice = "<html>该内容已被发布者删除</html>".encode()
    with session_factory.begin() as session:
        result = mark_posts_status(
            session=session,
            account_id=account_id,
            changes=[
                StatusInput("a", "deleted", snapshot=notice, content_type="text/html"),
                StatusInput("b", "violation"),
                StatusInput("never-seen", "deleted"),
            ],
        )
    assert (result.deleted, result.unknown) == (2, 1)
    with session_factory.begin() as session:  # recorded twice: no new version
        mark_posts_status(session=session, account_id=account_id, changes=[StatusInput("a", "deleted")])
    with session_factory() as session:
        a = find_post(session=session, account_id=account_id, source_key="a")
        assert (a.status, a.version, a.text, a.snapshot_sha256) == ("deleted", 2, "证据文本", evidence)
        assert read_snapshot(session=session, sha256=evidence).decode().endswith("证据文本</html>")
        last = list_post_versions(session=session, post_id=a.id)[-1]
        assert (last.status, last.text) == ("deleted", "证据文本")
        assert read_snapshot(session=session, sha256=last.snapshot_sha256) == notice
        assert count_posts(session=session, account_id=account_id) == {"deleted": 1, "violation": 1}

    # A post seen again with content after a notice (a listing glitch) is live again, as a new version.
    with session_factory.begin() as session:
        result = upsert_posts(session=session, account_id=account_id, posts=[post("a", "证据文本")])
    assert result.updated == 1
    with session_factory() as session:
        a = find_post(session=session, account_id=account_id, source_key="a")
        assert (a.status, a.version) == ("live", 3)


def test_bad_input_is_refused(session_factory, account_id: int) -> None:
    with session_factory.begin() as session, pytest.raises(InvalidInput):
        upsert_posts(session=session, account_id=account_id, posts=[post("k" * 256, "x")])
    with session_factory.begin() as session, pytest.raises(InvalidInput):
        mark_posts_status(session=session, account_id=account_id, changes=[StatusInput("a", "live")])


def test_known_posts_are_recent_first(session_factory, account_id: int) -> None:
    with session_factory.begin() as session:
        upsert_posts(
            session=session,
            account_id=account_id,
            posts=[
                post("old", "旧", published_at=T0 - timedelta(days=100)),
                post("new", "新", published_at=T0),
                post("undated", "无日期", published_at=None),
            ],
        )
    with session_factory() as session:
        known = list_known_posts(session=session, account_id=account_id, since=T0 - timedelta(days=30))
    assert {k.source_key for k in known} == {"new", "undated"}


def test_crawl_runs_lifecycle_and_status_listing(session_factory, account_id: int) -> None:
    other = make_account(session_factory, handle="gh_2")
    never = make_account(session_factory, handle="gh_3")
    with session_factory.begin() as session:
        first = start_run(session=session, account_id=account_id, host="h1", started_at=T0)
        finish_run(session=session, run_id=first.id, status="ok", counts={"new": 2})
        failed = start_run(session=session, account_id=other, host="h1", started_at=T0)
        finish_run(
            session=session, run_id=failed.id, status="failed", error="HTTP 403 Forbidden at http://x/"
        )
        stale = start_run(
            session=session, account_id=account_id, host="h1", started_at=T0 + timedelta(hours=1)
        )
        update_run_counts(session=session, run_id=stale.id, counts={"pages": 3})
    with session_factory() as session:
        assert previous_run_statuses(session=session, account_ids=[account_id, other]) == {
            account_id: "running",
            other: "failed",
        }
        assert previous_run_statuses(
            session=session, account_ids=[account_id], exclude_run_ids=[stale.id]
        ) == {account_id: "ok"}
    with session_factory.begin() as session:
        closed = mark_runs_interrupted(
            session=session, account_ids=[account_id, other], is_abandoned=lambda r: True
        )
    assert closed == [stale.id]
    with session_factory() as session:
        runs = latest_runs(session=session)
        assert runs[account_id].id == stale.id and runs[account_id].error == INTERRUPTED
        assert runs[account_id].counts == {"pages": 3}
        order = [(a.id, r.status if r else None) for a, r in list_account_crawl_status(session=session)]
    assert order == [(other, "failed"), (account_id, "interrupted"), (never, None)]
    with session_factory.begin() as session, pytest.raises(InvalidInput):
        finish_run(session=session, run_id=first.id, status="running")


def test_links_are_stored_with_the_post_and_each_version(session_factory, account_id) -> None:
    first = [{"href": "https://mp.weixin.qq.com/s/related", "text": "往期回顾"}]
    with session_factory.begin() as session:
        upsert_posts(session=session, account_id=account_id, posts=[post("k1", "正文", links=first)])
        upsert_posts(session=session, account_id=account_id, posts=[post("k2", "没有链接的帖子")])
    edited = [{"href": "http://bet.example/", "text": "点击领取"}, *first]
    with session_factory.begin() as session:
        upsert_posts(session=session, account_id=account_id, posts=[post("k1", "正文改过", links=edited)])
        # A post stored before links were read gets them on its next sighting, without a version.
        upsert_posts(session=session, account_id=account_id, posts=[post("k2", "没有链接的帖子", links=[])])
    with session_factory() as session:
        stored = find_post(session=session, account_id=account_id, source_key="k1")
        assert stored is not None and stored.links == edited and stored.version == 2
        versions = list_post_versions(session=session, post_id=stored.id)
        assert [v.links for v in versions] == [first, edited]
        plain = find_post(session=session, account_id=account_id, source_key="k2")
        assert plain is not None and plain.links == [] and plain.version == 1
