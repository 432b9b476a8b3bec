"""What pages and API handlers share: filters, a finding's full view, an account's scores, office lists."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from time import monotonic
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store.assessments import list_account_assessments
from store.errors import InvalidInput
from store.findings import list_newer_findings
from store.models import (
    ACCOUNT_STATUSES,
    FINDING_CATEGORIES,
    FINDING_STATES,
    PLATFORMS,
    Account,
    Appeal,
    CrawlRun,
    Finding,
    Post,
    User,
)
from store.regions import region_code_problem
from store.reviews import (
    QueueFilter,
    QueueItem,
    appeal_deadline,
    confirming_review,
    count_review_queue,
    finding_history,
    list_appeals,
    list_reason_codes,
    list_review_queue_items,
)
from store.scopes import Scope, account_condition, finding_condition, get_scoped_account
from web.views import evidence_text, finding_json, metrics, reason_lines, safe_url, segments


def queue_filter(
    *,
    state: str | None = None,
    region: str | None = None,
    category: str | None = None,
    account_id: int | None = None,
    platform: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> QueueFilter:
    """Validated filters; unknown values are an InvalidInput (422), not a silently empty list."""
    states: tuple[str, ...] = ("open",)
    if state:
        if state == "active":
            states = ("open", "escalated")
        elif state in FINDING_STATES:
            states = (state,)
        else:
            raise InvalidInput(f"未知状态 {state!r}")
    if region and region_code_problem(region):
        raise InvalidInput(f"地区代码 {region!r} 格式不正确")
    if category and category not in FINDING_CATEGORIES:
        raise InvalidInput(f"未知类别 {category!r}")
    if platform and platform not in PLATFORMS:
        raise InvalidInput(f"未知平台 {platform!r}")
    return QueueFilter(
        states=states,
        region_code=region or None,
        category=category or None,
        account_id=account_id,
        platform=platform or None,
        created_from=datetime.combine(date_from, time(), UTC) if date_from else None,
        created_to=datetime.combine(date_to, time(), UTC) + timedelta(days=1) if date_to else None,
    )


@dataclass
class FindingView:
    finding: Finding
    data: dict[str, Any]
    segments: list[Any]
    text_is_current: bool
    history: list[dict[str, Any]]
    appeals: list[Appeal]
    reasons: dict[str, list[Any]]
    appeal_due: datetime | None
    confirmer_id: int | None
    # A superseded finding's successors: what later classifications of its post found.
    newer: list[Finding]


def finding_view(*, session: Session, finding: Finding, now: datetime, appeal_days: int) -> FindingView:
    text, current = evidence_text(session=session, finding=finding)
    confirmer = confirming_review(session=session, finding_id=finding.id)
    return FindingView(
        finding=finding,
        data=finding_json(finding, now),
        segments=segments(text, finding.spans or []),
        text_is_current=current,
        history=finding_history(session=session, finding=finding),
        appeals=list_appeals(session=session, finding_ids=[finding.id]),
        reasons={
            decision: list_reason_codes(session=session, decision=decision)
            for decision in ("confirm", "dismiss", "escalate")
        },
        appeal_due=appeal_deadline(session=session, finding=finding, deadline=timedelta(days=appeal_days))
        if finding.state == "confirmed"
        else None,
        confirmer_id=confirmer.reviewer_id if confirmer else None,
        newer=list_newer_findings(session=session, finding=finding) if finding.state == "superseded" else [],
    )


def finding_detail_json(view: FindingView) -> dict[str, Any]:
    return {
        **view.data,
        "text_segments": [{"text": s.text, "evidence": s.mark, "source": s.source} for s in view.segments],
        "history": view.history,
        "appeals": [appeal_json(a) for a in view.appeals],
        "appeal_deadline": view.appeal_due,
        "newer_findings": [
            {"id": f.id, "category": f.category, "state": f.state, "post_version": f.post_version}
            for f in view.newer
        ],
    }


def appeal_json(appeal: Appeal) -> dict[str, Any]:
    return {
        "id": appeal.id,
        "finding_id": appeal.finding_id,
        "reason": appeal.reason,
        "outcome": appeal.outcome,
        "created_at": appeal.created_at,
        "decided_at": appeal.decided_at,
        "decision_note": appeal.decision_note,
    }


def account_json(account: Account) -> dict[str, Any]:
    return {
        "id": account.id,
        "name": account.name,
        "platform": account.platform,
        "handle": account.handle,
        "region_code": account.region_code,
        "region_name": account.region.name if account.region is not None else None,
        "organization": account.organization.name if account.organization is not None else None,
        "status": account.status,
        "filing_number": account.filing_number,
    }


def assessment_json(assessment: Any) -> dict[str, Any]:
    components = assessment.components or {}
    return {
        "month": assessment.month,
        "revision": assessment.revision,
        "total": assessment.total,
        "passed": assessment.passed,
        "veto_reasons": assessment.veto_reasons or [],
        "deductions": list(components.get("deductions", [])),
        "bonuses": list(components.get("bonuses", [])),
        # Every other component with a plain value (update frequency, influence index, ...).
        "indicators": {
            k: v
            for k, v in components.items()
            if k not in ("deductions", "bonuses") and isinstance(v, str | int | float | bool)
        },
        "scoring_version": assessment.scoring_version,
        "created_at": assessment.created_at,
    }


def account_scores(
    *, session: Session, scope: Scope, account_id: int
) -> tuple[Account, list[Any], dict[int, Finding]]:
    """The account (404 outside the scope), its assessments, and the findings their deductions cite."""
    account = get_scoped_account(session=session, scope=scope, account_id=account_id)
    assessments = list_account_assessments(session=session, account_id=account.id)
    finding_ids: set[int] = set()
    for assessment in assessments:
        for item in (assessment.components or {}).get("deductions", []):
            if isinstance(item, dict) and isinstance(item.get("finding_id"), int):
                finding_ids.add(item["finding_id"])
        for veto in assessment.veto_reasons or []:
            if isinstance(veto, dict):
                finding_ids.update(i for i in veto.get("finding_ids", []) or [] if isinstance(i, int))
    findings = {}
    if finding_ids:
        rows = session.scalars(
            select(Finding).where(Finding.id.in_(sorted(finding_ids)), Finding.account_id == account.id)
        )
        findings = {f.id: f for f in rows}
    return account, assessments, findings


def latest_assessments(*, session: Session, account_ids: list[int]) -> dict[int, Any]:
    result = {}
    for account_id in account_ids:
        rows = list_account_assessments(session=session, account_id=account_id)
        if rows:
            result[account_id] = rows[0]
    return result


def inactive_accounts(
    *, session: Session, scope: Scope, now: datetime, days: int = 14
) -> list[tuple[Account, Any]]:
    """Active accounts in the scope with no post published in the last `days` days (the national veto)."""
    last = (
        select(Post.account_id, func.max(Post.published_at).label("last"))
        .group_by(Post.account_id)
        .subquery()
    )
    rows = session.execute(
        select(Account, last.c.last)
        .outerjoin(last, last.c.account_id == Account.id)
        .where(account_condition(scope, Account.id, Account.region_code), Account.status == "active")
        .where((last.c.last.is_(None)) | (last.c.last < now - timedelta(days=days)))
        .order_by(Account.region_code, Account.id)
    ).all()
    return [(account, _aware(last_at)) for account, last_at in rows]


def _aware(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def crawl_failures(*, session: Session, scope: Scope, limit: int = 100) -> list[tuple[CrawlRun, Account]]:
    latest = (
        select(CrawlRun.account_id, func.max(CrawlRun.id).label("run_id"))
        .group_by(CrawlRun.account_id)
        .subquery()
    )
    rows = session.execute(
        select(CrawlRun, Account)
        .join(latest, latest.c.run_id == CrawlRun.id)
        .join(Account, Account.id == CrawlRun.account_id)
        .where(CrawlRun.status.in_(("failed", "blocked", "partial")))
        .where(account_condition(scope, Account.id, Account.region_code))
        .order_by(CrawlRun.started_at.desc())
        .limit(limit)
    ).all()
    return [(run, account) for run, account in rows]


def list_report_files(report_dir: Path) -> list[tuple[str, list[str]]]:
    """Rendered reports under <report_dir>/<month>/..., newest month first."""
    if not report_dir.is_dir():
        return []
    months = []
    for folder in sorted((p for p in report_dir.iterdir() if p.is_dir()), reverse=True):
        files = sorted(
            p.relative_to(folder).as_posix()
            for p in folder.rglob("*")
            if p.is_file() and p.suffix.lower() in (".html", ".xlsx", ".pdf")
        )
        if files:
            months.append((folder.name, files))
    return months


def pending_appeals(
    *, session: Session, scope: Scope, include_decided: bool = False
) -> list[tuple[Appeal, Finding]]:
    query = (
        select(Appeal, Finding)
        .join(Finding, Finding.id == Appeal.finding_id)
        .where(finding_condition(scope))
        .order_by(Appeal.created_at.desc())
    )
    if not include_decided:
        query = query.where(Appeal.outcome == "pending")
    return [(a, f) for a, f in session.execute(query).all()]


def operator_appeals(*, session: Session, user: User) -> list[tuple[Appeal, Finding]]:
    query = (
        select(Appeal, Finding)
        .join(Finding, Finding.id == Appeal.finding_id)
        .where(Appeal.operator_id == user.id)
        .order_by(Appeal.created_at.desc())
    )
    return [(a, f) for a, f in session.execute(query).all()]


def findings_for_account(
    *, session: Session, scope: Scope, account_id: int, limit: int = 100
) -> list[Finding]:
    query = (
        select(Finding)
        .where(
            Finding.account_id == account_id,
            finding_condition(scope),
            # Decided ones: not those awaiting review, nor those a newer classification replaced.
            Finding.state.not_in(("open", "superseded")),
        )
        .order_by(Finding.created_at.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


__all__ = [
    "ACCOUNT_STATUSES",
    "FindingView",
    "account_json",
    "account_scores",
    "appeal_json",
    "assessment_json",
    "crawl_failures",
    "finding_detail_json",
    "finding_view",
    "inactive_accounts",
    "list_report_files",
    "metrics",
    "queue_filter",
    "reason_lines",
    "safe_url",
]


# The queue counts at most this many matches ("1000+" beyond): counting 100,000 costs more than the page.
QUEUE_COUNT_CAP = 1000


# A count that reached the cap is kept this long per worker process. Such a count reads as "1000+",
# and a queue that long does not drop below the cap in a few seconds of decisions; a count below
# the cap is exact and always fresh (it is also the cheap one: it reads fewer rows).
CAPPED_COUNT_SECONDS = 5.0
_capped_counts: dict[tuple[Scope, QueueFilter], float] = {}


def review_queue_page(
    *, session: Session, scope: Scope, filters: QueueFilter, page: int, per_page: int
) -> tuple[list[QueueItem], int]:
    """One page of the reviewer queue and the number of matches, counted up to QUEUE_COUNT_CAP."""
    rows = list_review_queue_items(
        session=session, scope=scope, filters=filters, limit=per_page, offset=(page - 1) * per_page
    )
    return rows, capped_queue_count(session=session, scope=scope, filters=filters)


def capped_queue_count(*, session: Session, scope: Scope, filters: QueueFilter) -> int:
    key = (scope, filters)
    now = monotonic()
    until = _capped_counts.get(key)
    if until is not None and now < until:
        return QUEUE_COUNT_CAP + 1
    total = count_review_queue(session=session, scope=scope, filters=filters, cap=QUEUE_COUNT_CAP)
    if total > QUEUE_COUNT_CAP:
        if len(_capped_counts) > 10_000:  # many distinct filters: start over rather than grow
            _capped_counts.clear()
        _capped_counts[key] = now + CAPPED_COUNT_SECONDS
    else:
        _capped_counts.pop(key, None)
    return total
