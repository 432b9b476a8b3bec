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
    # The table is ordered by score: a limit that shows every finding keeps this independent of
    # how the model ranks the categories.
    print_findings_table(session_factory, limit=len(POSTS), out=Console(width=200, force_terminal=False))
    output = capsys.readouterr().out
    assert "harmful" in output and "呼和浩特发布" in output


class Renamed:
    """The shipped classifier under another model version (a retrained model, as the job sees it)."""

    def __init__(self, inner: Classifier, model_version: str) -> None:
        self.inner = inner
        self.model_version = model_version
        self.rules_version = inner.rules_version

    def classify_many(self, items):
        return self.inner.classify_many(items)


def _states(session: Session, post_id: int) -> list[tuple[str, int, str, str]]:
    rows = session.scalars(select(Finding).where(Finding.post_id == post_id).order_by(Finding.id))
    return [(f.category, f.post_version, f.state, f.model_version) for f in rows]


def test_an_edited_post_supersedes_its_open_findings(
    session_factory: sessionmaker[Session], shipped: Classifier
) -> None:
    from datetime import UTC, datetime

    from store.posts import PostInput, upsert_posts
    from store.reviews import Actor, decide_finding, ensure_default_reason_codes
    from store.users import create_user

    ids = add_posts(session_factory)
    first = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
    classify_posts(session_factory, shipped, batch_size=50, clock=lambda: first)
    marketing_post, privacy_post = ids[1], ids[3]
    with session_factory.begin() as session:
        ensure_default_reason_codes(session=session)
        user = create_user(
            session=session, username="r1", password="correct-horse-42", role="reviewer", region_code="150100"
        )
        privacy = session.scalars(
            select(Finding).where(Finding.post_id == privacy_post, Finding.category == "privacy")
        ).one()
        decide_finding(
            session=session, actor=Actor(user.id, "r1", "reviewer"), finding_id=privacy.id,
            decision="confirm", reason_code="unmasked_personal_data", expected_version=1, now=first,
        )  # fmt: skip
        old = {f.id for f in session.scalars(select(Finding).where(Finding.post_id == marketing_post))}
        assert old and all(f[1:3] == (1, "open") for f in _states(session, marketing_post))
        account_id = session.get(Post, marketing_post).account_id  # type: ignore[union-attr]
        # The crawler's storage path: both posts come back with a new text.
        result = upsert_posts(
            session=session,
            account_id=account_id,
            posts=[
                PostInput(
                    source_key="post-1", title="年货节", text="正宗草原羊肉限时特价，加微信下单，满300包邮！"
                ),
                PostInput(
                    source_key="post-3", title="低保公示", text="低保对象张建军，身份证号110101199003074514。"
                ),
            ],
        )
        assert result.updated == 2
    second = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
    report = classify_posts(session_factory, shipped, batch_size=50, clock=lambda: second)
    assert report.posts == 2
    with session_factory() as session:
        states = _states(session, marketing_post)
        superseded = [s for s in states if s[2] == "superseded"]
        assert superseded and all(s[1] == 1 for s in superseded)
        assert len(superseded) == len(old)
        # Flagged again in the same category under the same versions: a new finding on the new text.
        assert ("marketing", 2, "open", shipped.model_version) in states
        assert report.superseded >= len(old)
        # The confirmed finding keeps its decision; it is not superseded.
        assert session.get(Finding, privacy.id).state == "confirmed"  # type: ignore[union-attr]
        assert ("privacy", 2, "open", shipped.model_version) in _states(session, privacy_post)
        for finding_id in old:
            finding = session.get(Finding, finding_id)
            assert finding is not None and finding.version == 2 and finding.updated_at == second
        # Untouched posts keep their open findings.
        assert all(s[2] == "open" for s in _states(session, ids[5]))


def test_a_new_model_version_supersedes_open_findings_of_the_old(
    session_factory: sessionmaker[Session], shipped: Classifier
) -> None:
    ids = add_posts(session_factory)
    classify_posts(session_factory, shipped, batch_size=50)
    with session_factory.begin() as session:
        dismissed = session.scalars(select(Finding).where(Finding.post_id == ids[5])).first()
        assert dismissed is not None
        dismissed.state = "dismissed"  # as a reviewer's decision leaves it
        open_before = session.scalar(select(func.count()).where(Finding.state == "open"))
    retrained = Renamed(shipped, "m-next")
    report = classify_posts(session_factory, retrained, batch_size=8)
    assert report.posts == len(ids) and report.superseded == open_before
    with session_factory() as session:
        old = session.scalars(select(Finding).where(Finding.model_version == shipped.model_version)).all()
        assert {f.state for f in old} == {"superseded", "dismissed"}
        assert session.get(Finding, dismissed.id).state == "dismissed"  # type: ignore[union-attr]
        new = session.scalars(select(Finding).where(Finding.model_version == "m-next")).all()
        assert new and {f.state for f in new} == {"open"} and {f.post_version for f in new} == {1}
        # The same posts, the same categories: one new finding for each old one.
        assert Counter((f.post_id, f.category) for f in new) == Counter((f.post_id, f.category) for f in old)
