"""`govwatch classify`: the resumable job and its store queries, on a real database file."""

from __future__ import annotations

import hashlib
from collections import Counter

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from classifier import Classifier
from govwatch.commands.classify import print_findings_table
from scheduler.jobs import classify_posts
from store.findings import count_unclassified_posts, list_findings, list_unclassified_posts
from store.models import Account, Finding, Organization, Post, PostClassification, Region

POSTS = [
    ("会议通知", "市政府召开常务会议，研究部署安全生产工作。"),
    ("年货节", "正宗草原羊肉限时特价，加微信下单，满200包邮！"),
    (None, "紧急扩散！网传明天全市停水三天，转发给家人！"),
    ("低保公示", "低保对象张建军，身份证号110101199003074514，救助金额2000元。"),
    ("天气", "今天白天多云转晴，气温零下8度到3度，请注意保暖。"),
    (None, "国产精品无码|亚洲av在线观看|免费毛片视频|成人影院\n关于做好防汛工作的通知"),
    ("学习", "会议要求各部门必需坚持人民至上，及时拔款支持重点项目。"),
] * 3  # 21 posts: several batches of 4


def add_posts(session_factory: sessionmaker[Session]) -> list[int]:
    with session_factory.begin() as session:
        session.add(Region(code="150000", name="内蒙古自治区", level=1))
        session.add(Region(code="150100", name="呼和浩特市", parent_code="150000", level=2))
        session.flush()
        organization = Organization(name="呼和浩特市人民政府办公室", region_code="150100")
        session.add(organization)
        session.flush()
        account = Account(
            platform="wechat", handle="gh_test", name="呼和浩特发布",
            organization_id=organization.id, region_code="150100",
        )  # fmt: skip
        session.add(account)
        session.flush()
        ids = []
        for number, (title, text) in enumerate(POSTS):
            post = Post(
                account_id=account.id, source_key=f"post-{number}", title=title, text=text,
                content_hash=hashlib.sha256(text.encode()).hexdigest(), status="live",
            )  # fmt: skip
            session.add(post)
            session.flush()
            ids.append(post.id)
        deleted = Post(account_id=account.id, source_key="gone", title=None, text="加微信下单，全场包邮",
                       content_hash="x", status="deleted")  # fmt: skip
        session.add(deleted)
        return ids


def marker_count(session_factory: sessionmaker[Session]) -> int:
    with session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(PostClassification)) or 0)


def test_interrupted_run_resumes_without_duplicates(
    session_factory: sessionmaker[Session], shipped: Classifier
) -> None:
    ids = add_posts(session_factory)
    # A run killed after its first batch: that batch is committed, nothing else.
    first = classify_posts(session_factory, shipped, batch_size=4, max_batches=1)
    assert first.posts == 4 and first.batches == 1
    assert marker_count(session_factory) == 4
    # The restart finishes the rest.
    second = classify_posts(session_factory, shipped, batch_size=4)
    assert second.posts == len(ids) - 4
    assert marker_count(session_factory) == len(ids)
    # A third run finds nothing to do.
    assert classify_posts(session_factory, shipped, batch_size=4).posts == 0

    with session_factory() as session:
        findings = list(session.scalars(select(Finding)))
        pairs = Counter((f.post_id, f.category) for f in findings)
        assert max(pairs.values()) == 1, "a post got the same finding twice"
        by_post: dict[int, set[str]] = {}
        for finding in findings:
            assert finding.post_id is not None
            by_post.setdefault(finding.post_id, set()).add(finding.category)
        posts = {p.id: p for p in session.scalars(select(Post))}
        for finding in findings:
            assert finding.post_id is not None
            post = posts[finding.post_id]
            assert finding.account_id == post.account_id
            assert finding.model_version == shipped.model_version
            assert finding.rules_version == shipped.rules_version
            assert finding.state == "open"
            for span in finding.spans:
                field_text = (post.title if span.get("field") == "title" else post.text) or ""
                assert field_text[span["start"] : span["end"]] == span["text"]
                assert {"start", "end", "text", "source"} <= set(span)
        # Every copy of a post got the same findings; the deleted post was left alone.
        for offset in range(len(POSTS) // 3):
            copies = [by_post.get(ids[offset + k * 7], set()) for k in range(3)]
            assert copies[0] == copies[1] == copies[2]
        assert by_post.get(ids[1], set()) >= {"marketing"}
        assert by_post.get(ids[3], set()) >= {"privacy"}
        assert by_post.get(ids[5]) == {"harmful"}
        assert by_post.get(ids[6], set()) >= {"expression"}
        assert ids[0] not in by_post and ids[4] not in by_post
        assert all(posts[p].status != "deleted" for p in by_post)


def test_edited_post_is_classified_again(session_factory: sessionmaker[Session], shipped: Classifier) -> None:
    ids = add_posts(session_factory)
    classify_posts(session_factory, shipped, batch_size=50)
    with session_factory.begin() as session:
        post = session.get(Post, ids[0])
        assert post is not None
        post.text = "请加微信下单，原价199元，现价99元，包邮！"
        post.version = 2
        post.status = "edited"
    with session_factory() as session:
        pending = list_unclassified_posts(
            session=session,
            model_version=shipped.model_version,
            rules_version=shipped.rules_version,
            limit=10,
        )
        assert [p.id for p in pending] == [ids[0]]
    report = classify_posts(session_factory, shipped, batch_size=50)
    assert report.posts == 1 and report.findings.get("marketing") == 1
    with session_factory() as session:
        assert (
            count_unclassified_posts(
                session=session, model_version=shipped.model_version, rules_version=shipped.rules_version
            )
            == 0
        )
        found = list_findings(session=session, post_id=ids[0])
        assert [f.category for f in found] == ["marketing"] and found[0].post_version == 2
        markers = list(
            session.scalars(select(PostClassification).where(PostClassification.post_id == ids[0]))
        )
        assert len(markers) == 1 and markers[0].post_version == 2


def test_new_versions_classify_everything_again(
    session_factory: sessionmaker[Session], shipped: Classifier
) -> None:
    ids = add_posts(session_factory)
    classify_posts(session_factory, shipped, batch_size=50)
    with session_factory() as session:
        assert count_unclassified_posts(session=session, model_version="other", rules_version="r") == len(ids)


def test_findings_table_prints(
    session_factory: sessionmaker[Session], shipped: Classifier, capsys: pytest.CaptureFixture[str]
) -> None:
    from rich.console import Console

    add_posts(session_factory)
    classify_posts(session_factory, shipped, batch_size=50)
    print_findings_table(session_factory, limit=5, out=Console(width=200, force_terminal=False))
    output = capsys.readouterr().out
    assert "harmful" in output and "呼和浩特发布" in output
