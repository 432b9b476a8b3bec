"""The review state machine on SQLite and PostgreSQL: transitions, versions, claims, undo, reopen, appeals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from store.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from store.models import Account, Appeal, AuditLog, Finding, Organization, Review
from store.regions import ensure_region
from store.reviews import (
    Actor,
    QueueFilter,
    auto_confirm,
    claim_finding,
    count_matching,
    count_review_queue,
    decide_appeal,
    decide_finding,
    decide_findings,
    ensure_default_reason_codes,
    file_appeal,
    list_review_queue,
    list_review_queue_items,
    reopen_finding,
    save_reason_code,
    undo_decision,
)
from store.scopes import Scope, get_scoped_account, get_scoped_finding, list_scoped_accounts
from store.users import create_user

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
UNDO = timedelta(minutes=10)
CLAIM = timedelta(minutes=30)
DEADLINE = timedelta(days=15)


@pytest.fixture
def world(session_factory: sessionmaker[Session]) -> dict[str, object]:
    with session_factory.begin() as session:
        ensure_default_reason_codes(session=session)
        ensure_region(session=session, code="150102", name="新城区")
        ensure_region(session=session, code="150200", name="包头市")
        org = Organization(name="宣传部", region_code="150102")
        org_b = Organization(name="包头宣传部", region_code="150200")
        session.add_all([org, org_b])
        session.flush()
        a = Account(
            platform="wechat", handle="a", name="新城区发布", organization_id=org.id, region_code="150102"
        )
        b = Account(
            platform="wechat", handle="b", name="包头发布", organization_id=org_b.id, region_code="150200"
        )
        session.add_all([a, b])
        session.flush()
        findings = []
        for i, (account, score) in enumerate([(a, 0.9), (a, 0.8), (a, 0.8), (b, 0.99)]):
            finding = Finding(
                account_id=account.id,
                category="marketing",
                score=score,
                source="r",
                model_version="m",
                rules_version="r",
                created_at=NOW - timedelta(hours=10 - i),
            )
            session.add(finding)
            findings.append(finding)
        session.flush()
        users = {}
        for name, role, region, accounts in (
            ("r1", "reviewer", "150100", ()),
            ("r2", "reviewer", "150100", ()),
            ("lead", "lead", "150100", ()),
            ("op", "operator", None, (a.id,)),
            ("op_b", "operator", None, (b.id,)),
        ):
            users[name] = create_user(
                session=session,
                username=name,
                password="password-1",
                role=role,
                region_code=region,
                account_ids=accounts,
            )
        return {
            "f": [f.id for f in findings],
            "a": a.id,
            "b": b.id,
            "actors": {k: Actor(user_id=u.id, username=u.username, role=u.role) for k, u in users.items()},
            "scopes": {
                k: Scope(
                    user_id=u.id,
                    username=u.username,
                    role=u.role,
                    region_code=u.region_code,
                    account_ids=tuple(x.id for x in u.accounts),
                )
                for k, u in users.items()
            },
        }


def decide(
    session: Session,
    actor: Actor,
    finding_id: int,
    decision: str,
    reason: str,
    version: int | None = 1,
    now: datetime = NOW,
):
    return decide_finding(
        session=session,
        actor=actor,
        finding_id=finding_id,
        decision=decision,
        reason_code=reason,
        expected_version=version,
        now=now,
    )


def test_decisions_are_rows_and_bump_the_version(session_factory, world) -> None:
    r1 = world["actors"]["r1"]
    f = world["f"][0]
    with session_factory.begin() as session:
        review = decide(session, r1, f, "escalate", "needs_lead")
        assert (review.from_state, review.to_state) == ("open", "escalated")
        decide(session, r1, f, "confirm", "commercial_ad", version=2)
    with session_factory() as session:
        finding = session.get(Finding, f)
        assert (finding.state, finding.version) == ("confirmed", 3)
        decisions = [
            r.decision
            for r in session.scalars(select(Review).where(Review.finding_id == f).order_by(Review.id))
        ]
        assert decisions == ["escalate", "confirm"]
        actions = [a.action for a in session.scalars(select(AuditLog).where(AuditLog.entity_id == str(f)))]
        assert actions == ["finding.escalate", "finding.confirm"]
        assert session.scalar(select(AuditLog.entity_label).where(AuditLog.entity_id == str(f))).endswith(
            "新城区发布"
        )


def test_illegal_transitions_and_stale_versions_are_refused(session_factory, world) -> None:
    r1, r2 = world["actors"]["r1"], world["actors"]["r2"]
    f = world["f"][0]
    with session_factory.begin() as session:
        decide(session, r1, f, "dismiss", "false_positive")
    with pytest.raises(Conflict, match=r"已被修改|不能"), session_factory.begin() as session:
        decide(session, r2, f, "confirm", "commercial_ad", version=1)  # loaded before r1 decided
    with pytest.raises(Conflict, match="不能"), session_factory.begin() as session:
        decide(
            session, r2, f, "confirm", "commercial_ad", version=2
        )  # dismissed → confirm is not a transition
    with pytest.raises(InvalidInput), session_factory.begin() as session:
        decide(session, r2, world["f"][1], "dismiss", "commercial_ad")  # a confirm reason on a dismissal
    with pytest.raises(InvalidInput), session_factory.begin() as session:
        decide(session, r2, world["f"][1], "dismiss", None)
    with pytest.raises(PermissionDenied), session_factory.begin() as session:
        decide(session, world["actors"]["lead"], world["f"][1], "dismiss", "false_positive")
    with session_factory() as session:
        assert session.get(Finding, f).state == "dismissed"
        assert session.get(Finding, world["f"][1]).state == "open"


def test_claims_keep_other_reviewers_off_until_they_expire(session_factory, world) -> None:
    r1, r2 = world["actors"]["r1"], world["actors"]["r2"]
    f = world["f"][1]
    with session_factory.begin() as session:
        claim_finding(session=session, actor=r1, finding_id=f, now=NOW, claim_ttl=CLAIM)
    with pytest.raises(Conflict, match="r1 认领"), session_factory.begin() as session:
        claim_finding(
            session=session, actor=r2, finding_id=f, now=NOW + timedelta(minutes=5), claim_ttl=CLAIM
        )
    with pytest.raises(Conflict, match="认领"), session_factory.begin() as session:
        decide(session, r2, f, "dismiss", "false_positive")
    with session_factory.begin() as session:  # an expired claim can be taken over
        claim_finding(
            session=session, actor=r2, finding_id=f, now=NOW + timedelta(minutes=31), claim_ttl=CLAIM
        )
    with session_factory.begin() as session:
        decide(session, r2, f, "dismiss", "false_positive")
    with session_factory() as session:
        finding = session.get(Finding, f)
        assert finding.state == "dismissed" and finding.claimed_by is None


def test_undo_within_the_window_then_only_a_lead_reopens(session_factory, world) -> None:
    r1, r2, lead = world["actors"]["r1"], world["actors"]["r2"], world["actors"]["lead"]
    f = world["f"][0]
    with session_factory.begin() as session:
        decide(session, r1, f, "confirm", "commercial_ad")
    with pytest.raises(Conflict), session_factory.begin() as session:
        undo_decision(session=session, actor=r2, finding_id=f, now=NOW, window=UNDO)  # not theirs
    with session_factory.begin() as session:
        undo = undo_decision(
            session=session, actor=r1, finding_id=f, now=NOW + timedelta(minutes=9), window=UNDO
        )
        assert (undo.decision, undo.to_state, undo.reason_code) == ("reopen", "open", "undo")
    with session_factory.begin() as session:
        decide(session, r1, f, "dismiss", "false_positive", version=3, now=NOW + timedelta(minutes=10))
    with pytest.raises(Conflict, match="撤销时限"), session_factory.begin() as session:
        undo_decision(session=session, actor=r1, finding_id=f, now=NOW + timedelta(minutes=21), window=UNDO)
    with pytest.raises(PermissionDenied), session_factory.begin() as session:
        reopen_finding(session=session, actor=r1, finding_id=f, note="x", expected_version=4, now=NOW)
    with pytest.raises(InvalidInput), session_factory.begin() as session:
        reopen_finding(session=session, actor=lead, finding_id=f, note=" ", expected_version=4, now=NOW)
    with session_factory.begin() as session:
        reopen_finding(
            session=session, actor=lead, finding_id=f, note="需要复核", expected_version=4, now=NOW
        )
    with session_factory() as session:
        assert session.get(Finding, f).state == "open"
        rows = session.scalars(select(Review).where(Review.finding_id == f).order_by(Review.id)).all()
        assert [r.decision for r in rows] == ["confirm", "reopen", "dismiss", "reopen"]
        assert rows[-1].reviewer_id == lead.user_id


def test_auto_confirm_is_recorded_as_the_system(session_factory, world) -> None:
    f = world["f"][0]
    with pytest.raises(InvalidInput), session_factory.begin() as session:
        auto_confirm(session=session, finding_id=f, threshold=0.95, now=NOW)
    with session_factory.begin() as session:
        review = auto_confirm(session=session, finding_id=f, threshold=0.85, now=NOW)
    with session_factory() as session:
        assert session.get(Finding, f).state == "confirmed"
        from store.models import User

        assert session.get(User, review.reviewer_id).username == "system"
        assert not session.get(User, review.reviewer_id).is_active


def test_appeal_once_within_the_deadline_decided_by_another_reviewer(session_factory, world) -> None:
    r1, r2, op = world["actors"]["r1"], world["actors"]["r2"], world["actors"]["op"]
    f, g = world["f"][0], world["f"][1]
    with session_factory.begin() as session:
        decide(session, r1, f, "confirm", "commercial_ad")
        decide(session, r1, g, "confirm", "commercial_ad")
    with pytest.raises(InvalidInput, match="2000"), session_factory.begin() as session:
        file_appeal(session=session, actor=op, finding_id=f, reason="长" * 2001, now=NOW, deadline=DEADLINE)
    with pytest.raises(Conflict, match="期限"), session_factory.begin() as session:
        file_appeal(
            session=session,
            actor=op,
            finding_id=g,
            reason="不是营销",
            now=NOW + timedelta(days=16),
            deadline=DEADLINE,
        )
    with session_factory.begin() as session:
        appeal = file_appeal(
            session=session, actor=op, finding_id=f, reason="长" * 2000, now=NOW, deadline=DEADLINE
        )
        appeal_id = appeal.id
    with pytest.raises(Conflict, match="一次"), session_factory.begin() as session:
        file_appeal(session=session, actor=op, finding_id=f, reason="再来", now=NOW, deadline=DEADLINE)
    with pytest.raises(PermissionDenied, match="其他审核员"), session_factory.begin() as session:
        decide_appeal(session=session, actor=r1, appeal_id=appeal_id, outcome="upheld", note=None, now=NOW)
    with session_factory.begin() as session:
        decide_appeal(session=session, actor=r2, appeal_id=appeal_id, outcome="upheld", note="属实", now=NOW)
    with pytest.raises(Conflict), session_factory.begin() as session:
        decide_appeal(session=session, actor=r2, appeal_id=appeal_id, outcome="rejected", note=None, now=NOW)
    with session_factory() as session:
        appeal = session.get(Appeal, appeal_id)
        assert (appeal.outcome, appeal.decided_by, appeal.decided_at) == ("upheld", r2.user_id, NOW)
        assert session.get(Finding, f).state == "dismissed"
        last = session.scalars(
            select(Review).where(Review.finding_id == f).order_by(Review.id.desc())
        ).first()
        assert (last.decision, last.reason_code) == ("dismiss", "appeal_upheld")


def test_bulk_decisions_are_all_or_nothing(session_factory, world) -> None:
    r1 = world["actors"]["r1"]
    f, g = world["f"][0], world["f"][1]
    with session_factory.begin() as session:
        decide(session, r1, g, "dismiss", "false_positive")
    with pytest.raises(Conflict), session_factory.begin() as session:
        decide_findings(
            session=session,
            actor=r1,
            versions={f: 1, g: 1},
            decision="confirm",
            reason_code="commercial_ad",
            now=NOW,
        )
    with session_factory() as session:
        assert session.get(Finding, f).state == "open"


def test_queue_is_scoped_and_ordered_by_score_then_waiting(session_factory, world) -> None:
    r1 = world["scopes"]["r1"]
    with session_factory() as session:
        rows = list_review_queue(session=session, scope=r1, filters=QueueFilter())
        assert [r.id for r in rows] == [
            world["f"][0],
            world["f"][1],
            world["f"][2],
        ]  # 0.9, then 0.8 oldest first
        assert count_review_queue(session=session, scope=r1, filters=QueueFilter()) == 3
        assert count_review_queue(session=session, scope=r1, filters=QueueFilter(region_code="150200")) == 0
        bt = Scope(user_id=0, username="x", role="reviewer", region_code="150200")
        assert [r.id for r in list_review_queue(session=session, scope=bt, filters=QueueFilter())] == [
            world["f"][3]
        ]
        with pytest.raises(NotFound):
            get_scoped_finding(session=session, scope=bt, finding_id=world["f"][0])
        op = world["scopes"]["op"]
        assert [a.id for a in list_scoped_accounts(session=session, scope=op)] == [world["a"]]
        with pytest.raises(NotFound):
            get_scoped_account(session=session, scope=op, account_id=world["b"])
        nobody = Scope(user_id=0, username="x", role="reviewer", region_code=None)
        assert list_review_queue(session=session, scope=nobody, filters=QueueFilter()) == []


def test_queue_filters_give_the_same_rows_whichever_way_the_account_is_checked(
    session_factory, world
) -> None:
    # A province's scope (or an admin's filter on a province or a platform) checks each row's
    # account with a correlated EXISTS; a city's or county's with a list of its accounts. Both
    # must select the same rows, in the same order, in the page, the count and the bulk guard.
    with session_factory.begin() as session:
        ensure_region(session=session, code="110101", name="东城区")
        org = Organization(name="东城宣传部", region_code="110101")
        session.add(org)
        session.flush()
        weibo = Account(
            platform="weibo", handle="w", name="新城区微博", organization_id=org.id, region_code="150102"
        )
        other = Account(
            platform="wechat", handle="c", name="东城发布", organization_id=org.id, region_code="110101"
        )
        session.add_all([weibo, other])
        session.flush()
        extra = {}
        for account, score in ((weibo, 0.95), (other, 0.97)):
            finding = Finding(
                account_id=account.id,
                category="privacy",
                score=score,
                source="r",
                model_version="m",
                rules_version="r",
                created_at=NOW - timedelta(hours=1),
            )
            session.add(finding)
            session.flush()
            extra[account.handle] = finding.id
    a0, a1, a2, b0 = world["f"]
    province = Scope(user_id=0, username="p", role="reviewer", region_code="150000")
    county = Scope(user_id=0, username="c", role="reviewer", region_code="150102")
    admin = Scope(user_id=0, username="admin", role="admin", region_code=None)
    cases = [
        (province, QueueFilter(), [b0, extra["w"], a0, a1, a2]),
        (province, QueueFilter(platform="wechat"), [b0, a0, a1, a2]),
        (province, QueueFilter(region_code="150100"), [extra["w"], a0, a1, a2]),
        (province, QueueFilter(category="privacy"), [extra["w"]]),
        (county, QueueFilter(), [extra["w"], a0, a1, a2]),
        (county, QueueFilter(platform="weibo"), [extra["w"]]),
        (admin, QueueFilter(), [b0, extra["c"], extra["w"], a0, a1, a2]),
        (admin, QueueFilter(region_code="150000"), [b0, extra["w"], a0, a1, a2]),
        (admin, QueueFilter(region_code="110101"), [extra["c"]]),
        (admin, QueueFilter(platform="weibo"), [extra["w"]]),
        (world["scopes"]["op"], QueueFilter(), [a0, a1, a2]),
        (world["scopes"]["op"], QueueFilter(platform="weibo"), []),
    ]
    everything = [b0, extra["c"], extra["w"], a0, a1, a2]
    with session_factory() as session:
        for scope, filters, expected in cases:
            where = (scope.role, scope.region_code, filters)
            assert [
                f.id for f in list_review_queue(session=session, scope=scope, filters=filters)
            ] == expected, where
            items = list_review_queue_items(session=session, scope=scope, filters=filters)
            assert [f.id for f in items] == expected, where
            assert count_review_queue(session=session, scope=scope, filters=filters) == len(expected), where
            guarded = count_matching(session=session, scope=scope, filters=filters, finding_ids=everything)
            assert guarded == len(expected), where
        page = list_review_queue_items(
            session=session, scope=province, filters=QueueFilter(), limit=2, offset=1
        )
        assert [f.id for f in page] == [extra["w"], a0]


def test_reason_codes_are_edited_by_admins_and_audited(session_factory, world) -> None:
    admin = Actor(user_id=world["actors"]["r1"].user_id, username="admin", role="admin")
    with pytest.raises(PermissionDenied), session_factory.begin() as session:
        save_reason_code(
            session=session, actor=world["actors"]["r1"], code="x", decision="dismiss", label="x"
        )
    with session_factory.begin() as session:
        save_reason_code(
            session=session,
            actor=admin,
            code="false_positive",
            decision="dismiss",
            label="误报",
            is_active=False,
        )
    with pytest.raises(InvalidInput), session_factory.begin() as session:
        decide(session, world["actors"]["r1"], world["f"][0], "dismiss", "false_positive")
