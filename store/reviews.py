"""The review state machine: every transition of a finding's review state, and appeals, live here.

Every reviewer decision is a row in `reviews`; `findings.state` is the current state and
`findings.version` grows with every transition, so a decision made on a stale page fails with a
Conflict instead of overwriting someone else's. Each transition is also written to the audit log.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from store import notifications
from store.audit import record_audit
from store.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from store.models import REASON_DECISIONS, Appeal, Finding, Post, ReasonCode, Review, User
from store.users import hash_password

MAX_APPEAL_CHARS = 2000
MAX_NOTE_CHARS = 2000
SYSTEM_USERNAME = "system"
UNDO_REASON = "undo"
REOPEN_REASON = "reopen"
SUPERSEDE_REASON = "superseded"

# state -> decision -> new state. Anything else is refused. "supersede" is the classify job's
# (a reviewer's decision must be one of REASON_DECISIONS); "superseded" is final.
TRANSITIONS: dict[str, dict[str, str]] = {
    "open": {
        "confirm": "confirmed",
        "dismiss": "dismissed",
        "escalate": "escalated",
        "supersede": "superseded",
    },
    "escalated": {"confirm": "confirmed", "dismiss": "dismissed"},
    "confirmed": {"reopen": "open"},
    "dismissed": {"reopen": "open"},
}

STATE_LABELS = {
    "open": "待审核",
    "confirmed": "已确认",
    "dismissed": "已驳回",
    "escalated": "已上报",
    "appealed": "申诉中",
    "superseded": "已失效",
}
DECISION_LABELS = {
    "confirm": "确认",
    "dismiss": "驳回",
    "escalate": "上报",
    "reopen": "重新打开",
    "supersede": "标记为已失效",
}
# The reasons the system records, which are not in the reviewers' reason list.
SYSTEM_REASON_LABELS = {"auto_confirm": "超过自动确认阈值", SUPERSEDE_REASON: "帖子内容或识别版本已更新"}
OUTCOME_LABELS = {"pending": "待处理", "upheld": "申诉成立", "rejected": "申诉不成立"}

DEFAULT_REASON_CODES: tuple[tuple[str, str, str], ...] = (
    ("confirm", "clear_violation", "内容明确违规"),
    ("confirm", "commercial_ad", "商业广告或引流"),
    ("confirm", "unmasked_personal_data", "个人信息未脱敏"),
    ("confirm", "expression_error", "表述错误"),
    ("dismiss", "false_positive", "误报：内容合规"),
    ("dismiss", "quoted_or_refuted", "引用或辟谣，并非传播"),
    ("dismiss", "public_service", "便民服务信息"),
    ("dismiss", "already_masked", "个人信息已脱敏"),
    ("escalate", "needs_lead", "需领导研判"),
    ("escalate", "needs_other_office", "需其他部门核实"),
)


@dataclass(frozen=True)
class Actor:
    """Who acts: a user id, name and role (the web passes the signed-in user's)."""

    user_id: int
    username: str
    role: str


def actor_of(user: User) -> Actor:
    return Actor(user_id=user.id, username=user.username, role=user.role)


def _label(finding: Finding) -> str:
    account = finding.account.name if finding.account is not None else f"账号 {finding.account_id}"
    return f"线索 #{finding.id} · {account}"[:200]


def _load(session: Session, finding_id: int) -> Finding:
    finding = session.get(Finding, finding_id)
    if finding is None:
        raise NotFound(f"finding {finding_id} does not exist")
    return finding


def _bump(
    session: Session, finding: Finding, expected_version: int | None, new_state: str, now: datetime
) -> None:
    """Move the finding to `new_state` only if nobody changed it since `expected_version` was read."""
    version = finding.version if expected_version is None else expected_version
    result = session.execute(
        update(Finding)
        .where(Finding.id == finding.id, Finding.version == version)
        .values(state=new_state, version=version + 1, updated_at=now, claimed_by=None, claimed_at=None)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(finding)
        raise Conflict(
            f"线索 #{finding.id} 已被他人修改（当前状态：{STATE_LABELS.get(finding.state, finding.state)}），"
            "请刷新后再处理"
        )
    session.refresh(finding)


def list_reason_codes(
    *, session: Session, decision: str | None = None, active_only: bool = True
) -> list[ReasonCode]:
    query = select(ReasonCode).order_by(ReasonCode.decision, ReasonCode.position, ReasonCode.code)
    if decision:
        query = query.where(ReasonCode.decision == decision)
    if active_only:
        query = query.where(ReasonCode.is_active.is_(True))
    return list(session.scalars(query))


def ensure_default_reason_codes(*, session: Session) -> int:
    """Write the default reason list once, when the table is empty; returns how many were added."""
    if session.scalar(select(ReasonCode.code).limit(1)) is not None:
        return 0
    for position, (decision, code, label) in enumerate(DEFAULT_REASON_CODES):
        session.add(ReasonCode(code=code, decision=decision, label=label, position=position, is_active=True))
    session.flush()
    return len(DEFAULT_REASON_CODES)


def save_reason_code(
    *,
    session: Session,
    actor: Actor,
    code: str,
    decision: str,
    label: str,
    position: int = 0,
    is_active: bool = True,
) -> ReasonCode:
    """Add or change one reason code (admins); a code is never deleted, only deactivated."""
    if actor.role != "admin":
        raise PermissionDenied("only an admin edits the reason codes")
    code = code.strip()
    label = label.strip()
    if not code or len(code) > 50 or not code.replace("_", "").isalnum() or not code.isascii():
        raise InvalidInput("reason code must be 1 to 50 ASCII letters, digits or underscores")
    if decision not in REASON_DECISIONS:
        raise InvalidInput(f"decision must be one of {', '.join(REASON_DECISIONS)}")
    if not label or len(label) > 200:
        raise InvalidInput("label must be 1 to 200 characters")
    row = session.get(ReasonCode, code)
    before = (
        None if row is None else {"decision": row.decision, "label": row.label, "is_active": row.is_active}
    )
    if row is None:
        row = ReasonCode(code=code, decision=decision, label=label, position=position, is_active=is_active)
        session.add(row)
    else:
        row.decision, row.label, row.position, row.is_active = decision, label, position, is_active
    session.flush()
    record_audit(
        session=session,
        actor=actor.username,
        actor_id=actor.user_id,
        action="reason_code.save",
        entity_type="reason_code",
        entity_id=code,
        entity_label=label,
        before=before,
        after={"decision": decision, "label": label, "is_active": is_active},
    )
    return row


def _check_reason(session: Session, decision: str, reason_code: str | None) -> str:
    if not reason_code:
        raise InvalidInput("请选择理由")
    row = session.get(ReasonCode, reason_code)
    if row is None or not row.is_active or row.decision != decision:
        raise InvalidInput(f"理由 {reason_code!r} 不适用于“{DECISION_LABELS.get(decision, decision)}”")
    return row.code


def _check_note(note: str | None) -> str | None:
    note = (note or "").strip() or None
    if note is not None and len(note) > MAX_NOTE_CHARS:
        raise InvalidInput(f"备注不能超过 {MAX_NOTE_CHARS} 字")
    return note


def _add_review(
    session: Session,
    finding: Finding,
    actor: Actor,
    decision: str,
    from_state: str,
    to_state: str,
    reason_code: str | None,
    note: str | None,
    now: datetime,
) -> Review:
    review = Review(
        finding_id=finding.id,
        reviewer_id=actor.user_id,
        decision=decision,
        reason_code=reason_code,
        note=note,
        from_state=from_state,
        to_state=to_state,
        created_at=now,
    )
    session.add(review)
    session.flush()
    record_audit(
        session=session,
        actor=actor.username,
        actor_id=actor.user_id,
        action=f"finding.{decision}",
        entity_type="finding",
        entity_id=finding.id,
        entity_label=_label(finding),
        before={"state": from_state},
        after={"state": to_state, "reason_code": reason_code, "note": note, "review_id": review.id},
    )
    return review


def _after_confirm(session: Session, finding: Finding) -> None:
    # Only an outbox row, in the decision's own transaction; delivery is a scheduler job.
    notifications.notify_finding_confirmed(session=session, finding=finding)


def _after_appeal_decided(session: Session, appeal: Appeal) -> None:
    notifications.notify_appeal_decided(session=session, appeal=appeal)


def decide_finding(
    *,
    session: Session,
    actor: Actor,
    finding_id: int,
    decision: str,
    reason_code: str | None,
    note: str | None = None,
    expected_version: int | None,
    now: datetime,
) -> Review:
    """A reviewer confirms, dismisses or escalates a finding they have loaded at `expected_version`."""
    if actor.role != "reviewer":
        raise PermissionDenied("只有审核员可以处理线索")
    if decision not in REASON_DECISIONS:
        raise InvalidInput(f"decision must be one of {', '.join(REASON_DECISIONS)}")
    finding = _load(session, finding_id)
    if finding.state == "superseded":
        raise Conflict(superseded_message(finding))
    if expected_version is not None and finding.version != expected_version:
        raise Conflict(
            f"线索 #{finding.id} 在您打开后已被修改"
            f"（当前状态：{STATE_LABELS.get(finding.state, finding.state)}），"
            "请刷新后再处理"
        )
    new_state = TRANSITIONS.get(finding.state, {}).get(decision)
    if new_state is None:
        raise Conflict(
            f"状态为“{STATE_LABELS.get(finding.state, finding.state)}”的线索不能“{DECISION_LABELS[decision]}”"
        )
    if finding.claimed_by not in (None, actor.user_id) and finding.claimed_at is not None:
        holder = session.get(User, finding.claimed_by)
        raise Conflict(f"线索 #{finding.id} 已被 {holder.username if holder else '他人'} 认领")
    code = _check_reason(session, decision, reason_code)
    clean_note = _check_note(note)
    from_state = finding.state
    _bump(session, finding, expected_version, new_state, now)
    review = _add_review(session, finding, actor, decision, from_state, new_state, code, clean_note, now)
    if new_state == "confirmed":
        _after_confirm(session, finding)
    return review


def decide_findings(
    *,
    session: Session,
    actor: Actor,
    versions: dict[int, int],
    decision: str,
    reason_code: str | None,
    note: str | None = None,
    now: datetime,
) -> list[Review]:
    """The same decision on several findings, each checked at the version the list showed; all or none."""
    if not versions:
        raise InvalidInput("没有选择任何线索")
    return [
        decide_finding(
            session=session,
            actor=actor,
            finding_id=finding_id,
            decision=decision,
            reason_code=reason_code,
            note=note,
            expected_version=version,
            now=now,
        )
        for finding_id, version in sorted(versions.items())
    ]


def clear_expired_claims(*, session: Session, now: datetime, claim_ttl: timedelta) -> None:
    session.execute(
        update(Finding)
        .where(Finding.claimed_at.is_not(None), Finding.claimed_at < now - claim_ttl)
        .values(claimed_by=None, claimed_at=None)
        .execution_options(synchronize_session=False)
    )


def claim_finding(
    *, session: Session, actor: Actor, finding_id: int, now: datetime, claim_ttl: timedelta
) -> Finding:
    """The reviewer takes the finding so that others do not work on it at the same time."""
    if actor.role != "reviewer":
        raise PermissionDenied("只有审核员可以认领线索")
    finding = _load(session, finding_id)
    if finding.state == "superseded":
        raise Conflict(superseded_message(finding))
    if finding.state not in ("open", "escalated"):
        raise Conflict(f"线索 #{finding.id} 已处理，无需认领")
    stale = now - claim_ttl
    result = session.execute(
        update(Finding)
        .where(Finding.id == finding_id)
        .where(
            (Finding.claimed_by.is_(None))
            | (Finding.claimed_by == actor.user_id)
            | (Finding.claimed_at < stale)
        )
        .values(claimed_by=actor.user_id, claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    session.refresh(finding)
    if result.rowcount != 1:  # type: ignore[attr-defined]
        holder = session.get(User, finding.claimed_by) if finding.claimed_by else None
        raise Conflict(f"线索 #{finding.id} 已被 {holder.username if holder else '他人'} 认领")
    record_audit(
        session=session,
        actor=actor.username,
        actor_id=actor.user_id,
        action="finding.claim",
        entity_type="finding",
        entity_id=finding.id,
        entity_label=_label(finding),
    )
    return finding


def release_claim(*, session: Session, actor: Actor, finding_id: int) -> None:
    finding = _load(session, finding_id)
    if finding.claimed_by != actor.user_id:
        raise Conflict(f"线索 #{finding.id} 不是您认领的")
    finding.claimed_by = None
    finding.claimed_at = None
    record_audit(
        session=session,
        actor=actor.username,
        actor_id=actor.user_id,
        action="finding.release",
        entity_type="finding",
        entity_id=finding.id,
        entity_label=_label(finding),
    )


def latest_review(*, session: Session, finding_id: int) -> Review | None:
    return session.scalar(
        select(Review)
        .where(Review.finding_id == finding_id)
        .order_by(Review.created_at.desc(), Review.id.desc())
    )


def undo_decision(
    *, session: Session, actor: Actor, finding_id: int, now: datetime, window: timedelta
) -> Review:
    """The reviewer takes back their own last decision within the undo window (recorded as a reopen)."""
    finding = _load(session, finding_id)
    last = latest_review(session=session, finding_id=finding_id)
    if last is None or last.decision == "reopen" or last.reviewer_id != actor.user_id:
        raise Conflict("没有可撤销的决定")
    if last.to_state != finding.state or last.from_state is None:
        raise Conflict("该线索此后已有变化，不能撤销")
    if now - last.created_at > window:
        raise Conflict("已超过撤销时限，请联系领导重新打开")
    from_state = finding.state
    _bump(session, finding, finding.version, last.from_state, now)
    return _add_review(
        session,
        finding,
        actor,
        "reopen",
        from_state,
        last.from_state,
        UNDO_REASON,
        f"撤销审核 #{last.id}",
        now,
    )


def reopen_finding(
    *,
    session: Session,
    actor: Actor,
    finding_id: int,
    note: str | None,
    expected_version: int | None,
    now: datetime,
) -> Review:
    """A lead sends a decided finding back to the queue; the reason is required and audited."""
    if actor.role != "lead":
        raise PermissionDenied("只有领导可以重新打开已处理的线索")
    clean_note = _check_note(note)
    if not clean_note:
        raise InvalidInput("请填写重新打开的原因")
    finding = _load(session, finding_id)
    new_state = TRANSITIONS.get(finding.state, {}).get("reopen")
    if new_state is None:
        raise Conflict(f"状态为“{STATE_LABELS.get(finding.state, finding.state)}”的线索不能重新打开")
    from_state = finding.state
    _bump(session, finding, expected_version, new_state, now)
    return _add_review(
        session, finding, actor, "reopen", from_state, new_state, REOPEN_REASON, clean_note, now
    )


def ensure_system_user(*, session: Session) -> User:
    """The user automatic decisions are recorded under; it cannot sign in."""
    user = session.scalar(select(User).where(User.username == SYSTEM_USERNAME))
    if user is None:
        user = User(
            username=SYSTEM_USERNAME,
            password_hash=hash_password(secrets.token_urlsafe(32)),
            role="admin",
            display_name="系统",
            is_active=False,
        )
        session.add(user)
        session.flush()
    return user


def auto_confirm(*, session: Session, finding_id: int, threshold: float, now: datetime) -> Review:
    """Record a finding above the auto-confirm threshold as confirmed by the system."""
    finding = _load(session, finding_id)
    if finding.score < threshold:
        raise InvalidInput(f"score {finding.score} is below the auto-confirm threshold {threshold}")
    if finding.state != "open":
        raise Conflict(f"finding {finding.id} is {finding.state}, not open")
    system = ensure_system_user(session=session)
    actor = Actor(user_id=system.id, username=system.username, role="system")
    _bump(session, finding, finding.version, "confirmed", now)
    review = _add_review(
        session,
        finding,
        actor,
        "confirm",
        "open",
        "confirmed",
        "auto_confirm",
        f"自动确认（阈值 {threshold}）",
        now,
    )
    _after_confirm(session, finding)
    return review


def superseded_message(finding: Finding) -> str:
    return (
        f"线索 #{finding.id} 已失效：帖子此后已修改或已用新的模型、规则重新识别，"
        "不能再处理，请处理该帖子的新线索"
    )


def _supersede_note(finding: Finding, post: Post, model_version: str, rules_version: str) -> str:
    parts = []
    if finding.post_version < post.version:
        parts.append(f"帖子已修改（第 {finding.post_version} 版 → 第 {post.version} 版），已按新内容重新识别")
    if (finding.model_version, finding.rules_version) != (model_version, rules_version):
        parts.append(f"已用模型 {model_version}、规则 {rules_version} 重新识别")
    return "；".join(parts)


def supersede_findings(
    *, session: Session, posts: Sequence[Post], model_version: str, rules_version: str, now: datetime
) -> list[Finding]:
    """Mark superseded the open findings of `posts` made on an older text of the post or by other
    model or rules versions; returns them.

    The classify job calls it in the transaction that stores the posts' new findings, so a post's
    findings always follow its current text. Each is recorded like an auto-confirm: a review and
    an audit row by the system user, and a bumped version, so a reviewer's page opened before
    fails instead of deciding it. Only `open` findings change: a confirmed, dismissed, escalated
    (awaiting a lead) or appealed finding keeps its decision, and so does one a reviewer decides
    while this runs (its version moved on, so the update matches nothing and it is left alone).
    """
    by_id = {post.id: post for post in posts}
    stale: list[tuple[Finding, Post]] = []
    ids = sorted(by_id)
    for start in range(0, len(ids), 500):
        query = (
            select(Finding)
            .options(selectinload(Finding.account))
            .where(Finding.post_id.in_(ids[start : start + 500]), Finding.state == "open")
            .order_by(Finding.id)
        )
        for finding in session.scalars(query):
            assert finding.post_id is not None
            post = by_id[finding.post_id]
            if finding.post_version < post.version or (finding.model_version, finding.rules_version) != (
                model_version,
                rules_version,
            ):
                stale.append((finding, post))
    if not stale:
        return []
    system = ensure_system_user(session=session)
    actor = Actor(user_id=system.id, username=system.username, role="system")
    superseded = []
    for finding, post in stale:
        from_state = finding.state
        new_state = TRANSITIONS[from_state]["supersede"]
        result = session.execute(
            update(Finding)
            .where(Finding.id == finding.id, Finding.version == finding.version, Finding.state == from_state)
            .values(
                state=new_state, version=finding.version + 1, updated_at=now, claimed_by=None, claimed_at=None
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            continue
        # What the UPDATE wrote, without a SELECT per finding and without making the object dirty.
        for name, value in (
            ("state", new_state),
            ("version", finding.version + 1),
            ("updated_at", now),
            ("claimed_by", None),
            ("claimed_at", None),
        ):
            set_committed_value(finding, name, value)
        note = _supersede_note(finding, post, model_version, rules_version)
        _add_review(session, finding, actor, "supersede", from_state, new_state, SUPERSEDE_REASON, note, now)
        superseded.append(finding)
    return superseded


def confirming_review(*, session: Session, finding_id: int) -> Review | None:
    """The review that put the finding in its confirmed state (the latest confirm)."""
    return session.scalar(
        select(Review)
        .where(Review.finding_id == finding_id, Review.decision == "confirm")
        .order_by(Review.created_at.desc(), Review.id.desc())
    )


def appeal_deadline(*, session: Session, finding: Finding, deadline: timedelta) -> datetime | None:
    review = confirming_review(session=session, finding_id=finding.id)
    return None if review is None else review.created_at + deadline


def file_appeal(
    *,
    session: Session,
    actor: Actor,
    finding_id: int,
    reason: str,
    now: datetime,
    deadline: timedelta,
) -> Appeal:
    """An operator appeals a confirmed finding on one of their accounts, once, before the deadline.

    The caller checks the scope (store.scopes.get_scoped_finding) before calling.
    """
    if actor.role != "operator":
        raise PermissionDenied("只有账号运营者可以申诉")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("请填写申诉理由")
    if len(reason) > MAX_APPEAL_CHARS:
        raise InvalidInput(f"申诉理由不能超过 {MAX_APPEAL_CHARS} 字（当前 {len(reason)} 字）")
    finding = _load(session, finding_id)
    if session.scalar(select(Appeal.id).where(Appeal.finding_id == finding_id)) is not None:
        raise Conflict("每条线索只能申诉一次")
    if finding.state != "confirmed":
        raise Conflict("只能对已确认的线索申诉")
    due = appeal_deadline(session=session, finding=finding, deadline=deadline)
    if due is not None and now > due:
        raise Conflict(f"申诉期限已过（截止 {due:%Y-%m-%d %H:%M} UTC）")
    _bump(session, finding, finding.version, "appealed", now)
    appeal = Appeal(finding_id=finding.id, operator_id=actor.user_id, reason=reason, created_at=now)
    session.add(appeal)
    session.flush()
    record_audit(
        session=session,
        actor=actor.username,
        actor_id=actor.user_id,
        action="appeal.file",
        entity_type="finding",
        entity_id=finding.id,
        entity_label=_label(finding),
        after={"appeal_id": appeal.id, "reason": reason[:200]},
    )
    return appeal


def decide_appeal(
    *,
    session: Session,
    actor: Actor,
    appeal_id: int,
    outcome: str,
    note: str | None,
    now: datetime,
) -> Appeal:
    """A reviewer other than the confirmer upholds (finding dismissed) or rejects (stays confirmed) it."""
    if actor.role != "reviewer":
        raise PermissionDenied("只有审核员可以处理申诉")
    if outcome not in ("upheld", "rejected"):
        raise InvalidInput("outcome must be upheld or rejected")
    appeal = session.get(Appeal, appeal_id)
    if appeal is None:
        raise NotFound(f"appeal {appeal_id} does not exist")
    if appeal.outcome != "pending":
        raise Conflict("该申诉已处理")
    finding = _load(session, appeal.finding_id)
    confirmer = confirming_review(session=session, finding_id=finding.id)
    if confirmer is not None and confirmer.reviewer_id == actor.user_id:
        raise PermissionDenied("确认该线索的审核员不能处理其申诉，请由其他审核员处理")
    clean_note = _check_note(note)
    new_state = "dismissed" if outcome == "upheld" else "confirmed"
    _bump(session, finding, finding.version, new_state, now)
    appeal.outcome = outcome
    appeal.decided_by = actor.user_id
    appeal.decided_at = now
    appeal.decision_note = clean_note
    decision = "dismiss" if outcome == "upheld" else "confirm"
    session.add(
        Review(
            finding_id=finding.id,
            reviewer_id=actor.user_id,
            decision=decision,
            reason_code=f"appeal_{outcome}",
            note=clean_note,
            from_state="appealed",
            to_state=new_state,
            created_at=now,
        )
    )
    session.flush()
    record_audit(
        session=session,
        actor=actor.username,
        actor_id=actor.user_id,
        action=f"appeal.{outcome}",
        entity_type="finding",
        entity_id=finding.id,
        entity_label=_label(finding),
        before={"state": "appealed"},
        after={"state": new_state, "appeal_id": appeal.id, "note": clean_note},
    )
    _after_appeal_decided(session, appeal)
    return appeal


def list_reviews(*, session: Session, finding_id: int) -> list[Review]:
    return list(
        session.scalars(
            select(Review).where(Review.finding_id == finding_id).order_by(Review.created_at, Review.id)
        )
    )


def list_appeals(*, session: Session, finding_ids: Sequence[int]) -> list[Appeal]:
    if not finding_ids:
        return []
    return list(
        session.scalars(
            select(Appeal).where(Appeal.finding_id.in_(list(finding_ids))).order_by(Appeal.created_at)
        )
    )


def finding_history(*, session: Session, finding: Finding) -> list[dict[str, Any]]:
    """The finding's life in order: created by model and rules, claimed, decided, appealed."""
    names = {u.id: (u.display_name or u.username) for u in session.scalars(select(User))}
    events: list[dict[str, Any]] = [
        {
            "at": finding.created_at,
            "what": "created",
            "text": f"由模型 {finding.model_version} 与规则 {finding.rules_version} 生成（{finding.source}）",
        }
    ]
    for review in list_reviews(session=session, finding_id=finding.id):
        reason = session.get(ReasonCode, review.reason_code) if review.reason_code else None
        code = review.reason_code or ""
        label = reason.label if reason else SYSTEM_REASON_LABELS.get(code, code)
        events.append(
            {
                "at": review.created_at,
                "what": review.decision,
                "text": f"{names.get(review.reviewer_id, '?')} {DECISION_LABELS[review.decision]}"
                + (f"：{label}" if label else "")
                + (f"（{review.note}）" if review.note else ""),
            }
        )
    for appeal in list_appeals(session=session, finding_ids=[finding.id]):
        events.append(
            {
                "at": appeal.created_at,
                "what": "appeal",
                "text": f"{names.get(appeal.operator_id, '?')} 提出申诉",
            }
        )
        if appeal.decided_at is not None:
            events.append(
                {
                    "at": appeal.decided_at,
                    "what": "appeal_decided",
                    "text": f"{names.get(appeal.decided_by or 0, '?')} 判定："
                    f"{OUTCOME_LABELS[appeal.outcome]}",
                }
            )
    if finding.claimed_by is not None and finding.claimed_at is not None:
        events.append(
            {
                "at": finding.claimed_at,
                "what": "claimed",
                "text": f"{names.get(finding.claimed_by, '?')} 认领",
            }
        )
    events.sort(key=lambda e: e["at"])
    return events


@dataclass(frozen=True)
class QueueFilter:
    """The reviewer queue's filters; all optional. Dates are on the finding's creation (UTC)."""

    states: tuple[str, ...] = ("open",)
    region_code: str | None = None
    category: str | None = None
    account_id: int | None = None
    platform: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


def _queue_conditions(scope: Any, filters: QueueFilter) -> list[Any]:
    from store.models import Account
    from store.scopes import account_condition

    # `account_id + 0` keeps the planner off the account index: with statistics SQLite would use it
    # for the scope and then sort every open finding (10 s on 100,000), where walking the queue
    # index in order and stopping at the page takes milliseconds. A filter on one account keeps it.
    account_column: Any = Finding.account_id if filters.account_id is not None else Finding.account_id + 0
    states = filters.states
    # One state is a plain equality: an IN list is expanded into the SQL on every execution.
    conditions: list[Any] = [Finding.state == states[0] if len(states) == 1 else Finding.state.in_(states)]
    if filters.category:
        conditions.append(Finding.category == filters.category)
    if filters.account_id is not None:
        conditions.append(Finding.account_id == filters.account_id)
    if filters.created_from is not None:
        conditions.append(Finding.created_at >= filters.created_from)
    if filters.created_to is not None:
        conditions.append(Finding.created_at < filters.created_to)
    account_filters = []
    prefixes = [] if scope.sees_all or scope.is_operator else [scope.region_prefix or ""]
    if filters.region_code:
        code = filters.region_code
        prefix = code[:2] if code[2:] == "0000" else code[:4] if code[4:] == "00" else code
        account_filters.append(Account.region_code.startswith(prefix, autoescape=True))
        prefixes.append(prefix)
    if filters.platform:
        account_filters.append(Account.platform == filters.platform)
    if (
        not scope.is_operator
        and (account_filters or not scope.sees_all)
        and all(len(p) == 2 for p in prefixes)
    ):
        # A province's accounts (or all of them): the walk finds matches at once, and a correlated
        # EXISTS looks each row's account up by primary key. `IN (SELECT ...)` first built the list
        # of all 2,000 accounts, most of the page's query (SQLite: 0.8 ms, against 0.1 ms).
        conditions.append(
            exists().where(
                Account.id == account_column,
                account_condition(scope, Account.id, Account.region_code),
                *account_filters,
            )
        )
        return conditions
    # A city's or county's few accounts: the walk passes many rows of other accounts, and probing
    # the short list is cheaper than a lookup for each (county: 3.7 ms, against 8 ms).
    conditions.append(account_condition(scope, account_column))
    if account_filters:
        conditions.append(account_column.in_(select(Account.id).where(*account_filters)))
    return conditions


def list_review_queue(
    *, session: Session, scope: Any, filters: QueueFilter, limit: int = 50, offset: int = 0
) -> list[Finding]:
    """Findings in the scope, highest score first, then the longest waiting."""
    from sqlalchemy.orm import joinedload

    query = (
        select(Finding)
        .options(joinedload(Finding.post), joinedload(Finding.account))
        .where(*_queue_conditions(scope, filters))
        .order_by(Finding.score.desc(), Finding.created_at, Finding.id)
        .limit(limit)
        .offset(offset)
    )
    return list(session.scalars(query).unique())


@dataclass(frozen=True, slots=True)
class QueueAccount:
    name: str
    platform: str
    region_code: str


@dataclass(frozen=True, slots=True)
class QueuePost:
    title: str | None
    url: str | None
    text: str
    published_at: datetime | None
    status: str
    reads: int | None
    likes: int | None
    shares: int | None
    comments: int | None
    wows: int | None


@dataclass(frozen=True, slots=True)
class QueueItem:
    """A queue row as plain values: what the queue page and GET /api/findings show of a finding.

    Read with one Core query (no ORM identity map, no lazy attributes): building 50 Finding, Post
    and Account objects per page cost more than the query itself.
    """

    id: int
    account_id: int
    post_id: int | None
    category: str
    score: float
    spans: list[Any]
    source: str
    detail: dict[str, Any]
    model_version: str
    rules_version: str
    post_version: int
    state: str
    created_at: datetime
    version: int
    claimed_by: int | None
    account: QueueAccount
    post: QueuePost | None


_QUEUE_POST_COLUMNS = (
    "title",
    "url",
    "text",
    "published_at",
    "status",
    "reads",
    "likes",
    "shares",
    "comments",
    "wows",
)


@lru_cache(maxsize=512)
def _queue_items_statement(scope: Any, filters: QueueFilter, limit: int, offset: int) -> Any:
    """The queue page's SELECT, built once per scope, filters and page: building the expression
    (and its cache key) cost about as much as running it. Scope and filters are frozen values.
    """
    from store.models import Account, Post

    # Page the findings first (the index walk stops at the page), then join only those rows.
    page = (
        select(Finding.id)
        .where(*_queue_conditions(scope, filters))
        .order_by(Finding.score.desc(), Finding.created_at, Finding.id)
        .limit(limit)
        .offset(offset)
        .subquery()
    )
    return (
        select(
            Finding.id,
            Finding.account_id,
            Finding.post_id,
            Finding.category,
            Finding.score,
            Finding.spans,
            Finding.source,
            Finding.detail,
            Finding.model_version,
            Finding.rules_version,
            Finding.post_version,
            Finding.state,
            Finding.created_at,
            Finding.version,
            Finding.claimed_by,
            Account.name,
            Account.platform,
            Account.region_code,
            Post.id,
            *(getattr(Post, c) for c in _QUEUE_POST_COLUMNS),
        )
        .join(page, page.c.id == Finding.id)
        .join(Account, Account.id == Finding.account_id)
        .outerjoin(Post, Post.id == Finding.post_id)
        .order_by(Finding.score.desc(), Finding.created_at, Finding.id)
    )


def list_review_queue_items(
    *, session: Session, scope: Any, filters: QueueFilter, limit: int = 50, offset: int = 0
) -> list[QueueItem]:
    """The same rows as `list_review_queue`, in the same order, as plain QueueItem values."""
    query = _queue_items_statement(scope, filters, limit, offset)
    items = []
    # On the connection: a plain Core result, without the ORM's row-loading layer.
    for row in session.connection().execute(query):
        post = None if row[18] is None else QueuePost(*row[19:])
        items.append(
            QueueItem(
                id=row[0],
                account_id=row[1],
                post_id=row[2],
                category=row[3],
                score=row[4],
                spans=row[5] or [],
                source=row[6],
                detail=row[7] or {},
                model_version=row[8],
                rules_version=row[9],
                post_version=row[10],
                state=row[11],
                created_at=row[12],
                version=row[13],
                claimed_by=row[14],
                account=QueueAccount(name=row[15], platform=row[16], region_code=row[17]),
                post=post,
            )
        )
    return items


def count_review_queue(*, session: Session, scope: Any, filters: QueueFilter, cap: int = 10_000) -> int:
    """How many findings match, counted up to `cap` (the page says "10000+" beyond it)."""
    from sqlalchemy import func

    inner = select(Finding.id).where(*_queue_conditions(scope, filters)).limit(cap + 1).subquery()
    return int(session.connection().scalar(select(func.count()).select_from(inner)) or 0)


def count_matching(*, session: Session, scope: Any, filters: QueueFilter, finding_ids: Sequence[int]) -> int:
    """How many of `finding_ids` are in the scope and match the filters (a bulk decision's guard)."""
    from sqlalchemy import func

    if not finding_ids:
        return 0
    query = select(func.count()).where(*_queue_conditions(scope, filters), Finding.id.in_(list(finding_ids)))
    return int(session.scalar(query) or 0)
