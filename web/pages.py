"""Server-rendered pages in Simplified Chinese; handlers stay thin and call store/ and web.service."""

from __future__ import annotations

import secrets
import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Annotated, Any
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from lxml import html as lxml_html
from sqlalchemy import or_, select

from store.audit import record_audit
from store.errors import InvalidInput, NotFound, PermissionDenied
from store.models import PLATFORMS, ROLES, Account, AuditLog, Region, User
from store.reviews import (
    DECISION_LABELS,
    MAX_APPEAL_CHARS,
    OUTCOME_LABELS,
    STATE_LABELS,
    actor_of,
    claim_finding,
    count_matching,
    decide_appeal,
    decide_finding,
    decide_findings,
    file_appeal,
    latest_review,
    list_reason_codes,
    list_review_queue,
    release_claim,
    reopen_finding,
    save_reason_code,
    undo_decision,
)
from store.scopes import (
    count_scoped_accounts,
    get_scoped_appeal,
    get_scoped_finding,
    list_scoped_accounts,
    scoped_account_names,
    scoped_regions,
)
from store.snapshots import read_snapshot
from store.users import create_user, hash_password, list_users, set_user_scope
from web.auth import (
    COOKIE_NAME,
    BadCredentials,
    Current,
    TooManyAttempts,
    check_csrf,
    current_user,
    end_session,
    is_https,
    sign_in,
    start_session,
)
from web.service import (
    QUEUE_COUNT_CAP,
    account_scores,
    assessment_json,
    crawl_failures,
    finding_view,
    findings_for_account,
    inactive_accounts,
    latest_assessments,
    list_report_files,
    operator_appeals,
    pending_appeals,
    queue_filter,
    review_queue_page,
)
from web.views import (
    CATEGORY_LABELS,
    PLATFORM_LABELS,
    POST_STATUS_LABELS,
    metrics,
    queue_row,
    reason_lines,
    region_options,
    safe_url,
    segments,
    segments_html,
    waiting,
)

# Ids in paths are bounded, so a huge number is a 422, not a database overflow.
ObjectId = Annotated[int, PathParam(ge=1, le=2**31 - 1)]

router = APIRouter(include_in_schema=False)
LOGIN_CSRF_COOKIE = "govwatch_login_csrf"
ROLE_LABELS = {"admin": "管理员", "reviewer": "审核员", "lead": "领导", "operator": "运营者"}
ACCOUNT_CHOICES = 150
HOME = {"admin": "/admin/users", "reviewer": "/queue", "lead": "/office", "operator": "/my"}


def _begin(request: Request) -> Any:
    return request.app.state.session_factory.begin()


def _now(request: Request) -> datetime:
    return request.app.state.clock()


def _settings(request: Request) -> Any:
    return request.app.state.settings


def render(
    request: Request, name: str, current: Current | None, status: int = 200, **context: Any
) -> Response:
    templates = request.app.state.templates
    base = {
        "current": current,
        "role_labels": ROLE_LABELS,
        "state_labels": STATE_LABELS,
        "category_labels": CATEGORY_LABELS,
        "platform_labels": PLATFORM_LABELS,
        "decision_labels": DECISION_LABELS,
        "outcome_labels": OUTCOME_LABELS,
        "post_status_labels": POST_STATUS_LABELS,
        "now": _now(request),
        "fmt": _fmt,
    }
    return templates.TemplateResponse(request, name, {**base, **context}, status_code=status)


def _fmt(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return "" if value is None else str(value)


def require(current: Current, *roles: str) -> None:
    if current.user.role not in roles:
        raise PermissionDenied("您的角色无权访问此页面")


def _redirect(url: str) -> Response:
    return RedirectResponse(url, status_code=303)


def _safe_next(target: str | None) -> str:
    # Only local paths, so the sign-in page cannot be used to send people elsewhere.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


# --- sign-in --------------------------------------------------------------------------------------


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:
    token = secrets.token_urlsafe(24)
    response = render(request, "login.html", None, next=_safe_next(next), login_csrf=token, error=None)
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, httponly=True, samesite="lax", secure=is_https(request), max_age=3600
    )
    return response


@router.post("/login")
def login_submit(
    request: Request,
    username: str = Form("", max_length=100),
    password: str = Form("", max_length=1000),
    csrf_token: str = Form(""),
    next: str = Form("/"),
) -> Response:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not csrf_token or not cookie or not secrets.compare_digest(cookie, csrf_token):
        from web.auth import CsrfFailed

        raise CsrfFailed()
    try:
        user = sign_in(request, username, password)
    except (BadCredentials, TooManyAttempts) as error:
        status = error.status_code
        return render(
            request,
            "login.html",
            None,
            status=status,
            next=_safe_next(next),
            login_csrf=cookie,
            error=error.message,
        )
    target = _safe_next(next)
    if target == "/":
        target = HOME.get(user.role, "/")
    response = _redirect(target)
    start_session(request, response, user)
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
def logout(request: Request, csrf_token: str = Form("")) -> Response:
    with _begin(request) as session:
        current = current_user(request, session)
        check_csrf(request, current, csrf_token)
    response = _redirect("/login")
    end_session(request, response)
    return response


@router.get("/password")
def password_page(request: Request) -> Response:
    with _begin(request) as session:
        current = current_user(request, session)
        return render(request, "password.html", current, error=None, done=False)


@router.post("/password")
def password_submit(
    request: Request,
    old_password: str = Form("", max_length=1000),
    new_password: str = Form("", max_length=1000),
    new_password2: str = Form("", max_length=1000),
    csrf_token: str = Form(""),
) -> Response:
    from store.users import MIN_PASSWORD_LENGTH, _verify_quietly

    with _begin(request) as session:
        current = current_user(request, session)
        check_csrf(request, current, csrf_token)
        error = None
        if not _verify_quietly(current.user.password_hash, old_password):
            error = "原密码不正确"
        elif len(new_password) < MIN_PASSWORD_LENGTH:
            error = f"新密码至少 {MIN_PASSWORD_LENGTH} 个字符"
        elif new_password != new_password2:
            error = "两次输入的新密码不一致"
        if error:
            return render(request, "password.html", current, status=422, error=error, done=False)
        current.user.password_hash = hash_password(new_password)
        record_audit(
            session=session,
            actor=current.user.username,
            actor_id=current.user.id,
            action="user.password",
            entity_type="user",
            entity_id=current.user.id,
            entity_label=current.user.username,
        )
        user = current.user
    response = render(request, "password.html", current, error=None, done=True)
    current.csrf = start_session(request, response, user)  # this session stays; the others end
    return response


@router.get("/")
def home(request: Request) -> Response:
    if not request.cookies.get(COOKIE_NAME):
        return _redirect("/login")
    with _begin(request) as session:
        current = current_user(request, session)
        return _redirect(HOME.get(current.user.role, "/login"))


# --- reviewer queue -------------------------------------------------------------------------------


_FILTER_KEYS = ("state", "region", "category", "account_id", "platform", "date_from", "date_to")


def _filter_params(request: Request) -> dict[str, str]:
    return {k: v for k in _FILTER_KEYS if (v := request.query_params.get(k))}


@router.get("/queue")
def queue_page(
    request: Request,
    state: str | None = Query(None, max_length=16),
    region: str | None = Query(None, max_length=6),
    category: str | None = Query(None, max_length=16),
    account_id: str | None = Query(None, max_length=12),
    platform: str | None = Query(None, max_length=16),
    date_from: str | None = Query(None, max_length=10),
    date_to: str | None = Query(None, max_length=10),
    page: int = Query(1, ge=1, le=10_000),
    done: int | None = Query(None, ge=1, le=2**31 - 1),
) -> Response:
    per_page = 50
    with _begin(request) as session:
        current = current_user(request, session)
        require(current, "reviewer", "lead", "admin")
        filters = _filters_from(
            {
                "state": state,
                "region": region,
                "category": category,
                "account_id": account_id,
                "platform": platform,
                "date_from": date_from,
                "date_to": date_to,
            }
        )
        rows, total = review_queue_page(
            session=session, scope=current.scope, filters=filters, page=page, per_page=per_page
        )
        now = _now(request)
        params = _filter_params(request)
        query = urlencode(params)
        items = [queue_row(f, now=now, query=query, excerpt=segments_html(_excerpt(f))) for f in rows]
        bulk = bool(params) and current.scope.can_review
        # A list to pick from while it is short; a province's thousands of accounts get a number
        # field (counted first: sorting them all by name only to find out cost more than the page).
        accounts = None
        if (
            count_scoped_accounts(session=session, scope=current.scope, cap=ACCOUNT_CHOICES + 1)
            <= ACCOUNT_CHOICES
        ):
            accounts = scoped_account_names(session=session, scope=current.scope, limit=ACCOUNT_CHOICES)
        return render(
            request,
            "queue.html",
            current,
            items=items,
            total=total,
            count_cap=QUEUE_COUNT_CAP,
            has_next=len(rows) == per_page,
            page=page,
            per_page=per_page,
            params=params,
            # Attributes (see QueueRow): the template reads these in its loops.
            sel=SimpleNamespace(**{k: params.get(k, "") for k in _FILTER_KEYS}),
            query=query,
            region_options=region_options(
                scoped_regions(session=session, scope=current.scope), params.get("region", "")
            ),
            accounts=accounts,
            platforms=PLATFORMS,
            # Reason lists are shown only with the bulk form.
            reasons=_reasons_by_decision(session) if bulk else {},
            done=done,
            bulk=bulk,
        )


def _reasons_by_decision(session: Any) -> dict[str, list[Any]]:
    """The active reason codes for each decision, in their order, read in one query."""
    reasons: dict[str, list[Any]] = {d: [] for d in ("confirm", "dismiss", "escalate")}
    for reason in list_reason_codes(session=session):
        reasons.setdefault(reason.decision, []).append(reason)
    return reasons


def _excerpt(finding: Any, context: int = 40) -> list[Any]:
    """The evidence with some text around it, highlighted; the whole text is on the finding page."""
    post = finding.post
    text = (post.text if post is not None else "") or ""
    spans = [s for s in finding.spans or [] if s.get("field", "text") == "text"]
    if not spans:
        return segments(text[: context * 3], [])
    first = min(int(s.get("start", 0)) for s in spans)
    last = max(int(s.get("end", 0)) for s in spans)
    start = max(0, first - context)
    end = min(len(text), max(last, first) + context, start + 400)
    shifted = [{**s, "start": int(s["start"]) - start, "end": int(s["end"]) - start} for s in spans]
    pieces = segments(text[start:end], shifted)
    if start > 0 and pieces:
        pieces[0].text = "…" + pieces[0].text
    if end < len(text) and pieces:
        pieces[-1].text += "…"
    return pieces


@router.post("/queue/bulk")
async def queue_bulk(request: Request) -> Response:
    form = await request.form()
    with _begin(request) as session:
        current = current_user(request, session)
        check_csrf(request, current, str(form.get("csrf_token", "")))
        require(current, "reviewer")
        versions: dict[int, int] = {}
        for raw in form.getlist("finding"):
            try:
                finding_id = int(str(raw))
                versions[finding_id] = int(str(form.get(f"version_{finding_id}", "")))
            except ValueError:
                raise InvalidInput("线索编号或版本无效") from None
            get_scoped_finding(session=session, scope=current.scope, finding_id=finding_id)
        # Bulk decisions only from a filtered list, and only on findings that list showed.
        back = str(form.get("back", ""))
        shown = {k: v[0] for k, v in parse_qs(back).items() if k in _FILTER_KEYS and v and v[0]}
        if not shown:
            raise InvalidInput("批量处理只能在筛选后的列表中进行")
        matching = count_matching(
            session=session,
            scope=current.scope,
            filters=_filters_from(dict(shown)),
            finding_ids=list(versions),
        )
        if matching != len(versions):
            raise InvalidInput("所选线索不在当前筛选结果中，请刷新列表")
        decision = str(form.get("decision", ""))
        reviews = decide_findings(
            session=session,
            actor=actor_of(current.user),
            versions=versions,
            decision=decision,
            reason_code=str(form.get(f"reason_{decision}", "")) or None,
            note=str(form.get("note", "")) or None,
            now=_now(request),
        )
    return _redirect(
        f"/queue?{back}&bulk_done={len(reviews)}" if back else f"/queue?bulk_done={len(reviews)}"
    )


# --- one finding ----------------------------------------------------------------------------------


@router.get("/findings/{finding_id}")
def finding_page(
    request: Request, finding_id: ObjectId, done: int | None = Query(None, ge=1, le=2**31 - 1)
) -> Response:
    with _begin(request) as session:
        current = current_user(request, session)
        finding = get_scoped_finding(session=session, scope=current.scope, finding_id=finding_id)
        view = finding_view(
            session=session,
            finding=finding,
            now=_now(request),
            appeal_days=_settings(request).appeal_deadline_days,
        )
        params = _filter_params(request)
        last = latest_review(session=session, finding_id=done) if done else None
        undo_ok = (
            last is not None
            and last.reviewer_id == current.user.id
            and last.decision != "reopen"
            and _now(request) - last.created_at <= timedelta(minutes=_settings(request).review_undo_minutes)
        )
        claimer = session.get(User, finding.claimed_by) if finding.claimed_by else None
        return render(
            request,
            "finding.html",
            current,
            view=view,
            f=finding,
            post=finding.post,
            post_url=safe_url(finding.post.url) if finding.post is not None else None,
            metrics=metrics(finding.post),
            reasons_text=reason_lines(finding),
            query=urlencode(params),
            done=done if undo_ok else None,
            claimer=claimer,
            waiting=waiting(finding.created_at, _now(request)),
            max_appeal=MAX_APPEAL_CHARS,
            links=[
                {"href": safe_url(str(link.get("href", ""))), "text": str(link.get("text", ""))}
                for link in (getattr(finding.post, "links", None) or [])
                if isinstance(link, dict)
            ],
        )


def _filters_from(params: dict[str, str | None]) -> Any:
    """Queue filters from query parameters, where an empty field means no filter."""
    try:
        account_id = int(str(params["account_id"])) if params.get("account_id") else None
        date_from = date.fromisoformat(str(params["date_from"])) if params.get("date_from") else None
        date_to = date.fromisoformat(str(params["date_to"])) if params.get("date_to") else None
    except ValueError:
        raise InvalidInput("账号编号或日期格式不正确") from None
    return queue_filter(
        state=params.get("state") or None,
        region=params.get("region") or None,
        category=params.get("category") or None,
        account_id=account_id,
        platform=params.get("platform") or None,
        date_from=date_from,
        date_to=date_to,
    )


def _next_in_queue(request: Request, session: Any, current: Current, after_id: int) -> str:
    params = dict(_filter_params(request))
    filters = _filters_from(dict(params))
    rows = list_review_queue(session=session, scope=current.scope, filters=filters, limit=2)
    following = [f for f in rows if f.id != after_id]
    query = urlencode({**params, "done": after_id})
    if following:
        return f"/findings/{following[0].id}?{query}"
    return f"/queue?{query}"


@router.post("/findings/{finding_id}/decision")
def finding_decision(
    request: Request,
    finding_id: ObjectId,
    decision: str = Form(..., max_length=16),
    reason_code: str = Form("", max_length=50),
    note: str = Form("", max_length=2000),
    version: int = Form(..., ge=1, le=2**31 - 1),
    csrf_token: str = Form(""),
) -> Response:
    with _begin(request) as session:
        current = current_user(request, session)
        check_csrf(request, current, csrf_token)
        finding = get_scoped_finding(session=session, scope=current.scope, finding_id=finding_id)
        decide_finding(
            session=session,
            actor=actor_of(current.user),
            finding_id=finding.id,
            decision=decision,
            reason_code=reason_code or None,
            note=note or None,
            expected_version=version,
            now=_now(request),
        )
        target = _next_in_queue(request, session, current, finding.id)
    return _redirect(target)


@router.post("/findings/{finding_id}/claim")
def finding_claim(
    request: Request, finding_id: ObjectId, csrf_token: str = Form(""), release: str = Form("")
) -> Response:
    with _begin(request) as session:
        current = current_user(request, session)
        check_csrf(request, current, csrf_token)
        get_scoped_finding(session=session, scope=current.scope, finding_id=finding_id)
        if release:
            release_claim(session=session, actor=actor_of(current.user), finding_id=finding_id)
        else:
            claim_finding(
                session=session,
                actor=actor_of(current.user),
                finding_id=finding_id,
                now=_now(request),
                claim_ttl=timedelta(minutes=_settings(request).review_claim_minutes),
            )
    return _redirect(f"/findings/{finding_id}")


@router.post("/findings/{finding_id}/undo")
def finding_undo(request: Request, finding_id: ObjectId, csrf_token: str = Form("")) -> Response:
    with _begin(request) as session:
        current = current_user(request, session)
        check_csrf(request, current, csrf_token)
        get_scoped_finding(session=session, scope=current.scope, finding_id=finding_id)
        undo_decision(
            session=session,
            actor=actor_of(current.user),
            finding_id=finding_id,
            now=_now(request),
            window=timedelta(minutes=_settings(request).review_undo_minutes),
        )
    return _redirect(f"/findings/{finding_id}")


@router.post("/findings/{finding_id}/reopen")
def finding_reopen(
    request: Request,
    finding_id: ObjectId,
    note: str = Form("", max_length=2000),
    version: int = Form(..., ge=1, le=2**31 - 1),
    csrf_token: str = Form(""),
) -> Response:
    with _begin(request) as session:
        current = current_user(request, session)
        check_csrf(request, current, csrf_token)
        get_scoped_finding(session=session, scope=current.scope, finding_id=finding_id)
        reopen_finding(
            session=session,
            actor=actor_of(current.user),
            finding_id=finding_id,
            note=note,
            expected_version=version,
            now=_now(request),
        )
    return _redirect(f"/findings/{finding_id}")


@router.post("/findings/{finding_id}/appeal")
def finding_appeal(
    request: Request,
    finding_id: ObjectId,
    reason: str = Form("", max_length=MAX_APPEAL_CHARS * 2),
    csrf_token: str = Form(""),
) -> Response:
    with _begin(request) as session:
        current = current_user(request, session)
        check_csrf(request, current, csrf_token)
        finding = get_scoped_finding(session=session, scope=current.scope, finding_id=finding_id)
        file_appeal(
            session=session,
            actor=actor_of(current.user),
            finding_id=finding.id,
            reason=reason,
            now=_now(request),
            deadline=timedelta(days=_settings(request).appeal_deadline_days),
        )
        account_id = finding.account_id
    return _redirect(f"/accounts/{account_id}?appealed={finding_id}")


@router.get("/findings/{finding_id}/archive")
def archive_page(request: Request, finding_id: ObjectId) -> Response:
    with _begin(request) as session:
        current = current_user(request, session)
        finding = get_scoped_finding(session=session, scope=current.scope, finding_id=finding_id)
        raw = _archived_bytes(session, finding)
        text = _page_text(raw) if raw else None
        return render(request, "archive.html", current, f=finding, text=text, has_raw=raw is not None)


@router.get("/findings/{finding_id}/archive/raw")
def archive_raw(request: Request, finding_id: ObjectId) -> Response:
    from web.app import ARCHIVE_CSP

    with _begin(request) as session:
        current = current_user(request, session)
        finding = get_scoped_finding(session=session, scope=current.scope, finding_id=finding_id)
        raw = _archived_bytes(session, finding)
    if raw is None:
        raise NotFound("没有存档页面")
    # The crawled page is hostile: CSP `sandbox` (no scripts, unique origin) even when opened directly,
    # and text/html only inside this response, never mixed into our own pages.
    return Response(
        raw,
        media_type=f"text/html; charset={_charset(raw)}",
        headers={
            "Content-Security-Policy": ARCHIVE_CSP,
            "X-Content-Type-Options": "nosniff",
            "Content-Disposition": "inline",
        },
    )


def _archived_bytes(session: Any, finding: Any) -> bytes | None:
    post = finding.post
    if post is None or not post.snapshot_sha256:
        return None
    try:
        return read_snapshot(session=session, sha256=post.snapshot_sha256)
    except NotFound:
        return None


def _charset(raw: bytes) -> str:
    """UTF-8 when the bytes are valid UTF-8, else GB18030 (a superset of GBK/GB2312, common on gov sites)."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8"


def _page_text(raw: bytes) -> str:
    decoded = raw.decode(_charset(raw), "replace")
    try:
        tree = lxml_html.fromstring(decoded)
    except (ValueError, lxml_html.etree.ParserError):
        return decoded
    for bad in tree.xpath("//script|//style|//noscript|//template"):
        bad.drop_tree()
    text = tree.text_content()
    lines = [line.strip() for line in text.splitlines()]
    return "\n".join(line for line in lines if line)


# --- appeals --------------------------------------------------------------------------------------


@router.get("/appeals")
def appeals_page(request: Request) -> Response:
    with _begin(request) as session:
        current = current_user(request, session)
        require(current, "reviewer", "lead", "admin")
        pending = pending_appeals(session=session, scope=current.scope)
        decided = [
            row
            for row in pending_appeals(session=session, scope=current.scope, include_decided=True)
            if row[0].outcome != "pending"
        ][:50]
        confirmers = {}
        from store.reviews import confirming_review

        for _appeal, finding in pending:
            review = confirming_review(session=session, finding_id=finding.id)
            confirmers[finding.id] = review.reviewer_id if review else None
        return render(
            request, "appeals.html", current, pending=pending, decided=decided, confirmers=confirmers
        )


@router.post("/appeals/{appeal_id}/decision")
def appeal_decision(
    request: Request,
    appeal_id: ObjectId,
    outcome: str = Form(..., max_length=16),
    note: str = Form("", max_length=2000),
    csrf_token: str = Form(""),
) -> Response:
    with _begin(request) as session:
        current = current_user(request, session)
        check_csrf(request, current, csrf_token)
        get_scoped_appeal(session=session, scope=current.scope, appeal_id=appeal_id)
        decide_appeal(
            session=session,
            actor=actor_of(current.user),
            appeal_id=appeal_id,
            outcome=outcome,
            note=note or None,
            now=_now(request),
        )
    return _redirect("/appeals")


# --- operator portal and accounts -----------------------------------------------------------------


@router.get("/my")
def my_accounts(request: Request) -> Response:
    with _begin(request) as session:
        current = current_user(request, session)
        accounts = list_scoped_accounts(session=session, scope=current.scope, limit=500)
        latest = latest_assessments(session=session, account_ids=[a.id for a in accounts])
        appeals = operator_appeals(session=session, user=current.user) if current.scope.is_operator else []
        return render(
            request,
            "my.html",
            current,
            accounts=accounts,
            latest={k: assessment_json(v) for k, v in latest.items()},
            appeals=appeals,
        )


@router.get("/accounts/{account_id}")
def account_page(
    request: Request, account_id: ObjectId, appealed: int | None = Query(None, ge=1, le=2**31 - 1)
) -> Response:
    with _begin(request) as session:
        current = current_user(request, session)
        account, assessments, findings = account_scores(
            session=session, scope=current.scope, account_id=account_id
        )
        appeal_days = _settings(request).appeal_deadline_days
        views = {
            fid: finding_view(session=session, finding=f, now=_now(request), appeal_days=appeal_days)
            for fid, f in findings.items()
        }
        others = findings_for_account(session=session, scope=current.scope, account_id=account.id)
        return render(
            request,
            "account.html",
            current,
            account=account,
            assessments=[assessment_json(a) for a in assessments],
            views=views,
            others=[f for f in others if f.id not in findings],
            appealed=appealed,
            max_appeal=MAX_APPEAL_CHARS,
        )


# --- office views ---------------------------------------------------------------------------------


@router.get("/office")
def office_page(request: Request, region: str | None = Query(None, max_length=6)) -> Response:
    with _begin(request) as session:
        current = current_user(request, session)
        require(current, "lead", "reviewer", "admin")
        accounts = list_scoped_accounts(
            session=session, scope=current.scope, region_code=region or None, limit=2000
        )
        latest = latest_assessments(session=session, account_ids=[a.id for a in accounts])
        by_region: dict[str, list[Any]] = {}
        for account in accounts:
            by_region.setdefault(account.region_code, []).append(account)
        region_names = {r.code: r.name for r in session.scalars(select(Region))}
        return render(
            request,
            "office.html",
            current,
            by_region=by_region,
            region_names=region_names,
            latest={k: assessment_json(v) for k, v in latest.items()},
            inactive=inactive_accounts(session=session, scope=current.scope, now=_now(request)),
            failures=crawl_failures(session=session, scope=current.scope),
            reports=list_report_files(_settings(request).resolved_report_dir),
            regions=scoped_regions(session=session, scope=current.scope),
            region=region,
        )


@router.get("/reports/{month}/{name:path}")
def report_file(request: Request, month: str, name: str) -> Response:
    with _begin(request) as session:
        current = current_user(request, session)
        require(current, "lead", "reviewer", "admin")
    root = Path(_settings(request).resolved_report_dir).resolve()
    path = (root / month / name).resolve()
    if (
        root not in path.parents
        or not path.is_file()
        or path.suffix.lower() not in (".html", ".xlsx", ".pdf")
    ):
        raise NotFound("报告不存在")
    # Downloaded, not rendered inline: a report is a file for Excel or a printer.
    return FileResponse(path, filename=path.name, content_disposition_type="attachment")


# --- admin ----------------------------------------------------------------------------------------


@router.get("/admin/users")
def admin_users(request: Request) -> Response:
    with _begin(request) as session:
        current = current_user(request, session)
        require(current, "admin")
        users = [u for u in list_users(session=session) if u.username != "system"]
        return render(request, "admin_users.html", current, users=users, roles=ROLES, error=None)


@router.post("/admin/users")
def admin_users_create(
    request: Request,
    username: str = Form("", max_length=100),
    password: str = Form("", max_length=1000),
    role: str = Form("", max_length=16),
    region_code: str = Form("", max_length=6),
    account_ids: str = Form("", max_length=2000),
    display_name: str = Form("", max_length=100),
    csrf_token: str = Form(""),
) -> Response:
    with _begin(request) as session:
        current = current_user(request, session)
        check_csrf(request, current, csrf_token)
        require(current, "admin")
        ids = _account_ids(account_ids)
        user = create_user(
            session=session,
            username=username,
            password=password,
            role=role,
            region_code=region_code or None,
            account_ids=ids,
            display_name=display_name or None,
        )
        record_audit(
            session=session,
            actor=current.user.username,
            actor_id=current.user.id,
            action="user.create",
            entity_type="user",
            entity_id=user.id,
            entity_label=user.username,
            after={"role": role, "region_code": user.region_code, "account_ids": ids},
        )
    return _redirect("/admin/users")


@router.post("/admin/users/{user_id}/active")
def admin_user_active(
    request: Request, user_id: ObjectId, active: str = Form(""), csrf_token: str = Form("")
) -> Response:
    with _begin(request) as session:
        current = current_user(request, session)
        check_csrf(request, current, csrf_token)
        require(current, "admin")
        user = session.get(User, user_id)
        if user is None or user.username == "system":
            raise NotFound("用户不存在")
        if user.id == current.user.id:
            raise InvalidInput("不能停用自己")
        before = user.is_active
        user.is_active = active == "1"
        record_audit(
            session=session,
            actor=current.user.username,
            actor_id=current.user.id,
            action="user.activate" if user.is_active else "user.deactivate",
            entity_type="user",
            entity_id=user.id,
            entity_label=user.username,
            before={"is_active": before},
            after={"is_active": user.is_active},
        )
    return _redirect("/admin/users")


@router.post("/admin/users/{user_id}/scope")
def admin_user_scope(
    request: Request,
    user_id: ObjectId,
    region_code: str = Form("", max_length=6),
    account_ids: str = Form("", max_length=2000),
    csrf_token: str = Form(""),
) -> Response:
    with _begin(request) as session:
        current = current_user(request, session)
        check_csrf(request, current, csrf_token)
        require(current, "admin")
        user = session.get(User, user_id)
        if user is None or user.username == "system":
            raise NotFound("用户不存在")
        ids = _account_ids(account_ids)
        before = set_user_scope(session=session, user=user, region_code=region_code or None, account_ids=ids)
        record_audit(
            session=session,
            actor=current.user.username,
            actor_id=current.user.id,
            action="user.scope",
            entity_type="user",
            entity_id=user.id,
            entity_label=user.username,
            before=before,
            after={"region_code": user.region_code, "account_ids": sorted(ids)},
        )
    return _redirect("/admin/users")


def _account_ids(text: str) -> list[int]:
    try:
        return [int(x) for x in text.replace("，", ",").split(",") if x.strip()]
    except ValueError:
        raise InvalidInput("账号编号须为数字，用逗号分隔") from None


@router.get("/admin/registry")
def admin_registry(request: Request) -> Response:
    with _begin(request) as session:
        current = current_user(request, session)
        require(current, "admin")
        return render(request, "admin_registry.html", current, report=None)


@router.post("/admin/registry")
async def admin_registry_upload(
    request: Request, file: UploadFile = File(...), csrf_token: str = Form("")
) -> Response:
    from starlette.concurrency import run_in_threadpool

    with _begin(request) as session:
        current = current_user(request, session)
        check_csrf(request, current, csrf_token)
        require(current, "admin")
        username = current.user.username
    suffix = Path(file.filename or "registry.csv").suffix.lower()
    if suffix not in (".xlsx", ".xls", ".ods", ".csv"):
        raise InvalidInput("请上传 .xlsx、.xls、.ods 或 .csv 文件")
    data = await file.read(20 * 1024 * 1024 + 1)
    if len(data) > 20 * 1024 * 1024:
        raise InvalidInput("文件超过 20 MB")
    report = await run_in_threadpool(
        _import_sheet, request, data, suffix, file.filename or "registry", username
    )
    with _begin(request) as session:
        current = current_user(request, session)
        return render(request, "admin_registry.html", current, report=report)


def _import_sheet(request: Request, data: bytes, suffix: str, filename: str, actor: str) -> Any:
    # The same code path as `govwatch accounts import`: parse and validate the sheet, then the
    # batch upsert of store.accounts.import_accounts with its audit rows.
    from govwatch.registry import RegistryFileError
    from govwatch.registry_import import import_registry

    with tempfile.TemporaryDirectory() as folder:
        safe_name = "".join(c for c in Path(filename).stem if c.isalnum() or c in "-_")[:50] or "registry"
        path = Path(folder) / f"{safe_name}{suffix}"
        path.write_bytes(data)
        try:
            return import_registry(request.app.state.session_factory, path, actor=actor)
        except (RegistryFileError, ValueError) as error:
            raise InvalidInput(f"无法读取文件：{str(error).replace(folder, '')}") from None


@router.get("/admin/settings")
def admin_settings(request: Request) -> Response:
    with _begin(request) as session:
        current = current_user(request, session)
        require(current, "admin")
    settings = _settings(request)
    rows = []
    for name, field in type(settings).model_fields.items():
        value = getattr(settings, name)
        if name == "secret_key":
            value = "（已设置）" if value != "change-me" else "（仍为默认值，请设置）"
        elif name == "database_url" and value:
            from sqlalchemy.engine import make_url

            value = make_url(str(value)).render_as_string(hide_password=True)
        rows.append((f"GOVWATCH_{name.upper()}", value, field.description or ""))
    # Settings come from the environment (govwatch/settings.py); this page shows them, it does not edit them.
    return render(request, "admin_settings.html", current, rows=rows)


@router.get("/admin/audit")
def admin_audit(
    request: Request,
    q: str = Query("", max_length=100),
    entity_type: str = Query("", max_length=50),
    page: int = Query(1, ge=1, le=10_000),
) -> Response:
    per_page = 100
    with _begin(request) as session:
        current = current_user(request, session)
        require(current, "admin")
        query = select(AuditLog).order_by(AuditLog.id.desc()).limit(per_page).offset((page - 1) * per_page)
        if entity_type:
            query = query.where(AuditLog.entity_type == entity_type)
        if q:
            like = f"%{q}%"
            query = query.where(
                or_(
                    AuditLog.actor.ilike(like, escape="\\"),
                    AuditLog.action.ilike(like, escape="\\"),
                    AuditLog.entity_label.ilike(like, escape="\\"),
                    AuditLog.entity_id == q,
                )
            )
        rows = list(session.scalars(query))
        return render(
            request, "admin_audit.html", current, rows=rows, q=q, entity_type=entity_type, page=page
        )


@router.get("/admin/reasons")
def admin_reasons(request: Request) -> Response:
    with _begin(request) as session:
        current = current_user(request, session)
        require(current, "admin")
        return render(
            request,
            "admin_reasons.html",
            current,
            reasons=list_reason_codes(session=session, active_only=False),
        )


@router.post("/admin/reasons")
def admin_reasons_save(
    request: Request,
    code: str = Form("", max_length=50),
    decision: str = Form("", max_length=16),
    label: str = Form("", max_length=200),
    position: int = Form(0, ge=0, le=10_000),
    is_active: str = Form(""),
    csrf_token: str = Form(""),
) -> Response:
    with _begin(request) as session:
        current = current_user(request, session)
        check_csrf(request, current, csrf_token)
        require(current, "admin")
        save_reason_code(
            session=session,
            actor=actor_of(current.user),
            code=code,
            decision=decision,
            label=label,
            position=position,
            is_active=is_active == "1",
        )
    return _redirect("/admin/reasons")


__all__ = ["Account", "HTMLResponse", "router"]
