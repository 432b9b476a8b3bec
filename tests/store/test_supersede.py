"""Findings follow their post, on SQLite and PostgreSQL: an edit or a reclassification with new
versions supersedes the post's open findings; decided ones keep their decision."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from store.errors import Conflict
from store.findings import NewFinding, list_newer_findings, record_classification
from store.models import Account, AuditLog, Finding, Organization, Post, Review, User
from store.posts import PostInput, upsert_posts
from store.regions import ensure_region
from store.reviews import (
    Actor,
    QueueFilter,
    claim_finding,
    count_review_queue,
    decide_finding,
    ensure_default_reason_codes,
    ensure_system_user,
    list_review_queue,
    supersede_findings,
)
from store.scopes import Scope
from store.users import create_user

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
MARKETING = NewFinding(category="marketing", score=0.9, source="mk.order_contact", detail={"rules": ["mk"]})
PRIVACY = NewFinding(category="privacy", score=0.8, source="pv.id_card")


@pytest.fixture
def world(session_factory: sessionmaker[Session]) -> dict[str, int]:
    """An account with three posts, each classified once by m1/r1, and a reviewer."""
    with session_factory.begin() as session:
        ensure_default_reason_codes(session=session)
        ensure_region(session=session, code="150102", name="新城区")
        org = Organization(name="宣传部", region_code="150102")
        session.add(org)
        session.flush()
        account = Account(
            platform="wechat", handle="a", name="新城区发布", organization_id=org.id, region_code="150102"
        )
        session.add(account)
        session.flush()
        upsert_posts(
            session=session,
            account_id=account.id,
            posts=[PostInput(source_key=f"p{i}", text=f"加微信下单 {i}", fetched_at=NOW) for i in range(3)],
        )
        posts = list(session.scalars(select(Post).order_by(Post.id)))
        for post in posts:
            record_classification(
                session=session,
                post=post,
                findings=[MARKETING, PRIVACY] if post.source_key == "p0" else [MARKETING],
                model_version="m1",
                rules_version="r1",
                classified_at=NOW - timedelta(days=1),
            )
        reviewer = create_user(
            session=session, username="r1", password="correct-horse-42", role="reviewer", region_code="150100"
        )
        ids = {"account": account.id, "reviewer": reviewer.id}
        ids.update({post.source_key: post.id for post in posts})
        for finding in session.scalars(select(Finding)):
            ids[f"{finding.category}:{next(p.source_key for p in posts if p.id == finding.post_id)}"] = (
                finding.id
            )
        return ids


def reviewer(world: dict[str, int]) -> Actor:
    return Actor(user_id=world["reviewer"], username="r1", role="reviewer")


def edit(session: Session, world: dict[str, int], key: str, text: str) -> Post:
    """The crawler's storage path: a new text for a known source key makes a new post version."""
    result = upsert_posts(
        session=session,
        account_id=world["account"],
        posts=[PostInput(source_key=key, text=text, fetched_at=NOW)],
    )
    assert result.updated == 1
    post = session.get(Post, world[key])
    assert post is not None and post.version == 2 and post.status == "edited"
    return post


def test_an_edit_supersedes_open_findings_and_a_new_one_follows(session_factory, world) -> None:
    with session_factory.begin() as session:
        decide_finding(
            session=session, actor=reviewer(world), finding_id=world["privacy:p0"], decision="confirm",
            reason_code="unmasked_personal_data", expected_version=1, now=NOW,
        )  # fmt: skip
        post = edit(session, world, "p0", "加微信下单，今日特价")
        stored = record_classification(
            session=session, post=post, findings=[MARKETING], model_version="m1", rules_version="r1",
            classified_at=NOW,
        )  # fmt: skip
        assert stored == 1  # the same category again under the same versions: a new finding
    with session_factory() as session:
        old = session.get(Finding, world["marketing:p0"])
        assert old is not None
        assert (old.state, old.post_version, old.version) == ("superseded", 1, 2)
        new = session.scalars(
            select(Finding).where(Finding.post_id == world["p0"], Finding.post_version == 2)
        ).all()
        assert [(f.category, f.state) for f in new] == [("marketing", "open")]
        assert [f.id for f in list_newer_findings(session=session, finding=old)] == [new[0].id]
        # The reviewer's decision stands; the other posts were not touched.
        confirmed = session.get(Finding, world["privacy:p0"])
        assert confirmed is not None and confirmed.state == "confirmed"
        assert session.get(Finding, world["marketing:p1"]).state == "open"  # type: ignore[union-attr]
        # Recorded like an auto-confirm: a review and an audit row by the system user.
        review = session.scalars(select(Review).where(Review.finding_id == old.id)).one()
        system = session.get(User, review.reviewer_id)
        assert system is not None and system.username == "system"
        assert (review.decision, review.from_state, review.to_state) == ("supersede", "open", "superseded")
        assert review.reason_code == "superseded" and "第 1 版 → 第 2 版" in (review.note or "")
        assert review.created_at == NOW
        audit = session.scalars(
            select(AuditLog).where(AuditLog.entity_type == "finding", AuditLog.entity_id == str(old.id))
        ).one()
        assert (audit.actor, audit.action) == ("system", "finding.supersede")
        assert audit.before == {"state": "open"} and audit.after["state"] == "superseded"


def test_other_versions_supersede_open_findings_only(session_factory, world) -> None:
    with session_factory.begin() as session:
        decide_finding(
            session=session, actor=reviewer(world), finding_id=world["marketing:p1"], decision="escalate",
            reason_code="needs_lead", expected_version=1, now=NOW,
        )  # fmt: skip
        decide_finding(
            session=session, actor=reviewer(world), finding_id=world["marketing:p2"], decision="dismiss",
            reason_code="false_positive", expected_version=1, now=NOW,
        )  # fmt: skip
        posts = list(session.scalars(select(Post).order_by(Post.id)))
        done = supersede_findings(
            session=session, posts=posts, model_version="m2", rules_version="r1", now=NOW
        )
        assert sorted(f.id for f in done) == sorted([world["marketing:p0"], world["privacy:p0"]])
        # Run again: nothing is open any more.
        assert (
            supersede_findings(session=session, posts=posts, model_version="m2", rules_version="r1", now=NOW)
            == []
        )
    with session_factory() as session:
        states = {key: session.get(Finding, world[key]).state for key in world if ":" in key}  # type: ignore[union-attr]
        assert states == {
            "marketing:p0": "superseded",
            "privacy:p0": "superseded",
            "marketing:p1": "escalated",  # awaiting a lead's decision: kept
            "marketing:p2": "dismissed",
        }
        note = session.scalars(select(Review.note).where(Review.finding_id == world["marketing:p0"])).one()
        assert note == "已用模型 m2、规则 r1 重新识别"


def test_a_superseded_finding_leaves_the_queue_and_cannot_be_decided(session_factory, world) -> None:
    scope = Scope(user_id=world["reviewer"], username="r1", role="reviewer", region_code="150100")
    target = world["marketing:p1"]
    with session_factory() as session:
        assert target in {
            f.id for f in list_review_queue(session=session, scope=scope, filters=QueueFilter())
        }
        open_before = count_review_queue(session=session, scope=scope, filters=QueueFilter())
    with session_factory.begin() as session:
        post = edit(session, world, "p1", "本周政务信息发布。")
        record_classification(
            session=session, post=post, findings=[], model_version="m1", rules_version="r1", classified_at=NOW
        )
    with session_factory() as session:
        queue = {f.id for f in list_review_queue(session=session, scope=scope, filters=QueueFilter())}
        assert target not in queue
        assert count_review_queue(session=session, scope=scope, filters=QueueFilter()) == open_before - 1
        superseded = QueueFilter(states=("superseded",))
        assert [f.id for f in list_review_queue(session=session, scope=scope, filters=superseded)] == [target]
        finding = session.get(Finding, target)
        assert finding is not None and list_newer_findings(session=session, finding=finding) == []
    for version in (1, 2):  # the page the reviewer had open, or a reloaded one
        with pytest.raises(Conflict, match="已失效"), session_factory.begin() as session:
            decide_finding(
                session=session, actor=reviewer(world), finding_id=target, decision="confirm",
                reason_code="commercial_ad", expected_version=version, now=NOW,
            )  # fmt: skip
    with pytest.raises(Conflict, match="已失效"), session_factory.begin() as session:
        claim_finding(
            session=session,
            actor=reviewer(world),
            finding_id=target,
            now=NOW,
            claim_ttl=timedelta(minutes=30),
        )
    with session_factory() as session:
        assert session.get(Finding, target).state == "superseded"  # type: ignore[union-attr]


def test_a_decision_made_meanwhile_wins_over_superseding(session_factory, world) -> None:
    """The job has read the finding as open; a reviewer confirms it just before the job's UPDATE:
    the decision stands, and the job neither fails nor overwrites it."""
    from sqlalchemy import event

    target = world["marketing:p2"]
    engine = session_factory.kw["bind"]
    # Made earlier, as after any auto-confirm: otherwise the job writes it first, and on SQLite its
    # write lock would make the reviewer wait for the job instead (no race to lose there).
    with session_factory.begin() as session:
        ensure_system_user(session=session)
    decided: list[int] = []

    def reviewer_first(conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.lstrip().upper().startswith("UPDATE FINDINGS") and not decided:
            decided.append(target)
            with session_factory.begin() as other:
                decide_finding(
                    session=other, actor=reviewer(world), finding_id=target, decision="confirm",
                    reason_code="commercial_ad", expected_version=1, now=NOW,
                )  # fmt: skip

    with session_factory.begin() as session:
        posts = list(session.scalars(select(Post).where(Post.id == world["p2"])))
        event.listen(engine, "before_cursor_execute", reviewer_first)
        try:
            done = supersede_findings(
                session=session, posts=posts, model_version="m2", rules_version="r1", now=NOW
            )
        finally:
            event.remove(engine, "before_cursor_execute", reviewer_first)
        assert decided == [target] and done == []
    with session_factory() as session:
        finding = session.get(Finding, target)
        assert finding is not None and (finding.state, finding.version) == ("confirmed", 2)
        decisions = session.scalars(select(Review.decision).where(Review.finding_id == target)).all()
        assert decisions == ["confirm"]
