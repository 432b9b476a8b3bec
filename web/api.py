"""The JSON API under /api/: the same data and the same scoping as the pages, paginated."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, Field

from store.errors import NotFound
from store.reviews import (
    MAX_APPEAL_CHARS,
    MAX_NOTE_CHARS,
    actor_of,
    claim_finding,
    decide_appeal,
    decide_finding,
    file_appeal,
    list_reason_codes,
    reopen_finding,
    undo_decision,
)
from store.scopes import get_scoped_appeal, get_scoped_finding, list_scoped_accounts
from web.auth import Current, check_csrf, current_user, end_session, sign_in, start_session
from web.service import (
    QUEUE_COUNT_CAP,
    account_json,
    account_scores,
    appeal_json,
    assessment_json,
    finding_detail_json,
    finding_view,
    pending_appeals,
    queue_filter,
    review_queue_page,
)
from web.views import finding_json

# Ids in paths are bounded, so a huge number is a 422, not a database overflow.
ObjectId = Annotated[int, Path(ge=1, le=2**31 - 1)]

router = APIRouter(prefix="/api", tags=["api"])


class SessionIn(BaseModel):
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=1000)


class DecisionIn(BaseModel):
    decision: Literal["confirm", "dismiss", "escalate"]
    reason_code: str = Field(min_length=1, max_length=50)
    note: str | None = Field(None, max_length=MAX_NOTE_CHARS)
    version: int = Field(
        ge=1, le=2**31 - 1, description="The finding's version as loaded; a newer one fails with 409."
    )


class ReopenIn(BaseModel):
    note: str = Field(min_length=1, max_length=MAX_NOTE_CHARS)
    version: int = Field(ge=1, le=2**31 - 1)


class AppealIn(BaseModel):
    reason: str = Field(min_length=1, max_length=MAX_APPEAL_CHARS)


class AppealDecisionIn(BaseModel):
    outcome: Literal["upheld", "rejected"]
    note: str | None = Field(None, max_length=MAX_NOTE_CHARS)


class Page(BaseModel):
    items: list[dict[str, Any]]
    total: int = Field(description="Matching rows, counted up to `count_cap`.")
    more: bool = Field(False, description="True when there are more matches than `total` says.")
    page: int
    per_page: int


def _now(request: Request) -> datetime:
    return request.app.state.clock()


def _settings(request: Request) -> Any:
    return request.app.state.settings


def _begin(request: Request) -> Any:
    return request.app.state.session_factory.begin()


def _user_json(current: Current) -> dict[str, Any]:
    user = current.user
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "region_code": user.region_code,
        "account_ids": list(current.scope.account_ids),
    }


@router.post("/session", summary="Sign in; sets the session cookie and returns the CSRF token")
def create_session(body: SessionIn, request: Request, response: Response) -> dict[str, Any]:
    user = sign_in(request, body.username, body.password)
    csrf = start_session(request, response, user)
    return {"csrf_token": csrf, "user": {"id": user.id, "username": user.username, "role": user.role}}


@router.delete("/session", summary="Sign out")
def delete_session(request: Request, response: Response) -> dict[str, bool]:
    with _begin(request) as session:
        current = current_user(request, session)
        check_csrf(request, current)
    end_session(request, response)
    return {"ok": True}


@router.get("/me", summary="The signed-in user and their scope")
def me(request: Request) -> dict[str, Any]:
    with _begin(request) as session:
        return _user_json(current_user(request, session))


@router.get("/findings", summary="Findings in your scope: by default the open ones, highest score first")
def list_findings(
    request: Request,
    state: Literal["open", "escalated", "active", "confirmed", "dismissed", "appealed", "superseded"]
    | None = None,
    region: str | None = Query(None, max_length=6),
    category: str | None = Query(None, max_length=16),
    account_id: int | None = Query(None, ge=1, le=2**31 - 1),
    platform: str | None = Query(None, max_length=16),
    date_from: date | None = None,
    date_to: date | None = None,
    page: int = Query(1, ge=1, le=10_000),
    per_page: int = Query(50, ge=1, le=200),
) -> Page:
    now = _now(request)
    with _begin(request) as session:
        current = current_user(request, session)
        filters = queue_filter(
            state=state,
            region=region,
            category=category,
            account_id=account_id,
            platform=platform,
            date_from=date_from,
            date_to=date_to,
        )
        rows, total = review_queue_page(
            session=session, scope=current.scope, filters=filters, page=page, per_page=per_page
        )
        return Page(
            items=[finding_json(f, now) for f in rows],
            total=min(total, QUEUE_COUNT_CAP),
            more=total > QUEUE_COUNT_CAP,
            page=page,
            per_page=per_page,
        )


@router.get("/findings/{finding_id}", summary="One finding with its evidence, reason and history")
def get_finding(finding_id: ObjectId, request: Request) -> dict[str, Any]:
    with _begin(request) as session:
        current = current_user(request, session)
        finding = get_scoped_finding(session=session, scope=current.scope, finding_id=finding_id)
        view = finding_view(
            session=session,
            finding=finding,
            now=_now(request),
            appeal_days=_settings(request).appeal_deadline_days,
        )
        return finding_detail_json(view)


@router.post("/findings/{finding_id}/decision", summary="Confirm, dismiss or escalate (reviewers)")
def post_decision(finding_id: ObjectId, body: DecisionIn, request: Request) -> dict[str, Any]:
    now = _now(request)
    with _begin(request) as session:
        current = current_user(request, session)
        check_csrf(request, current)
        finding = get_scoped_finding(session=session, scope=current.scope, finding_id=finding_id)
        review = decide_finding(
            session=session,
            actor=actor_of(current.user),
            finding_id=finding.id,
            decision=body.decision,
            reason_code=body.reason_code,
            note=body.note,
            expected_version=body.version,
            now=now,
        )
        return {"review_id": review.id, "finding": finding_json(finding, now)}


@router.post("/findings/{finding_id}/claim", summary="Claim a finding so other reviewers leave it to you")
def post_claim(finding_id: ObjectId, request: Request) -> dict[str, Any]:
    now = _now(request)
    with _begin(request) as session:
        current = current_user(request, session)
        check_csrf(request, current)
        get_scoped_finding(session=session, scope=current.scope, finding_id=finding_id)
        finding = claim_finding(
            session=session,
            actor=actor_of(current.user),
            finding_id=finding_id,
            now=now,
            claim_ttl=timedelta(minutes=_settings(request).review_claim_minutes),
        )
        return finding_json(finding, now)


@router.post("/findings/{finding_id}/undo", summary="Undo your own last decision within the undo window")
def post_undo(finding_id: ObjectId, request: Request) -> dict[str, Any]:
    now = _now(request)
    with _begin(request) as session:
        current = current_user(request, session)
        check_csrf(request, current)
        finding = get_scoped_finding(session=session, scope=current.scope, finding_id=finding_id)
        undo_decision(
            session=session,
            actor=actor_of(current.user),
            finding_id=finding.id,
            now=now,
            window=timedelta(minutes=_settings(request).review_undo_minutes),
        )
        return finding_json(finding, now)


@router.post("/findings/{finding_id}/reopen", summary="Reopen a decided finding (leads)")
def post_reopen(finding_id: ObjectId, body: ReopenIn, request: Request) -> dict[str, Any]:
    now = _now(request)
    with _begin(request) as session:
        current = current_user(request, session)
        check_csrf(request, current)
        finding = get_scoped_finding(session=session, scope=current.scope, finding_id=finding_id)
        reopen_finding(
            session=session,
            actor=actor_of(current.user),
            finding_id=finding.id,
            note=body.note,
            expected_version=body.version,
            now=now,
        )
        return finding_json(finding, now)


@router.post(
    "/findings/{finding_id}/appeal", summary="Appeal a confirmed finding of your account (operators)"
)
def post_appeal(finding_id: ObjectId, body: AppealIn, request: Request) -> dict[str, Any]:
    now = _now(request)
    with _begin(request) as session:
        current = current_user(request, session)
        check_csrf(request, current)
        finding = get_scoped_finding(session=session, scope=current.scope, finding_id=finding_id)
        appeal = file_appeal(
            session=session,
            actor=actor_of(current.user),
            finding_id=finding.id,
            reason=body.reason,
            now=now,
            deadline=timedelta(days=_settings(request).appeal_deadline_days),
        )
        return appeal_json(appeal)


@router.get("/appeals", summary="Appeals in your scope (pending ones unless all=true)")
def get_appeals(request: Request, all: bool = False) -> list[dict[str, Any]]:
    with _begin(request) as session:
        current = current_user(request, session)
        rows = pending_appeals(session=session, scope=current.scope, include_decided=all)
        return [appeal_json(appeal) for appeal, _finding in rows]


@router.post(
    "/appeals/{appeal_id}/decision",
    summary="Uphold or reject an appeal (a reviewer other than the confirmer)",
)
def post_appeal_decision(appeal_id: ObjectId, body: AppealDecisionIn, request: Request) -> dict[str, Any]:
    with _begin(request) as session:
        current = current_user(request, session)
        check_csrf(request, current)
        get_scoped_appeal(session=session, scope=current.scope, appeal_id=appeal_id)
        appeal = decide_appeal(
            session=session,
            actor=actor_of(current.user),
            appeal_id=appeal_id,
            outcome=body.outcome,
            note=body.note,
            now=_now(request),
        )
        return appeal_json(appeal)


@router.get("/accounts", summary="Accounts in your scope")
def get_accounts(
    request: Request,
    region: str | None = Query(None, max_length=6, pattern=r"^[1-8]\d{5}$"),
    platform: Literal["wechat", "weibo", "toutiao", "douyin", "website", "other"] | None = None,
    page: int = Query(1, ge=1, le=10_000),
    per_page: int = Query(50, ge=1, le=200),
) -> Page:
    with _begin(request) as session:
        current = current_user(request, session)
        rows = list_scoped_accounts(
            session=session,
            scope=current.scope,
            region_code=region,
            platform=platform,
            limit=per_page + 1,
            offset=(page - 1) * per_page,
        )
        more = len(rows) > per_page
        rows = rows[:per_page]
        total = (page - 1) * per_page + len(rows) + (1 if more else 0)
        return Page(
            items=[account_json(a) for a in rows], total=total, more=more, page=page, per_page=per_page
        )


@router.get("/accounts/{account_id}/assessments", summary="Monthly scores of one account, newest month first")
def get_account_assessments(account_id: ObjectId, request: Request) -> dict[str, Any]:
    with _begin(request) as session:
        current = current_user(request, session)
        account, assessments, _findings = account_scores(
            session=session, scope=current.scope, account_id=account_id
        )
        return {"account": account_json(account), "assessments": [assessment_json(a) for a in assessments]}


@router.get("/reason-codes", summary="The reason codes a reviewer picks from")
def get_reason_codes(request: Request) -> list[dict[str, Any]]:
    with _begin(request) as session:
        current_user(request, session)
        return [
            {"code": r.code, "decision": r.decision, "label": r.label}
            for r in list_reason_codes(session=session)
        ]


__all__ = ["NotFound", "router"]
