"""The notification outbox: who is told what, through which of their channels.

The notify_* functions only write outbox rows in the caller's unit of work, so telling people
never blocks or fails the decision or job that caused it; the scheduler's delivery job sends
them (SMTP or a group-robot webhook) and retries failures with backoff. Every row has a dedupe
key, so a job that runs again for the same event writes nothing twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.errors import InvalidInput, NotFound
from store.models import (
    NOTIFICATION_CHANNELS,
    Account,
    Appeal,
    Finding,
    JobRun,
    Notification,
    NotificationChannel,
    User,
    user_accounts,
    utcnow,
)
from store.regions import descendant_codes

EVENTS = ("finding_confirmed", "appeal_decided", "reviewer_digest", "report_ready", "job_failed")
CATEGORY_LABELS = {
    "marketing": "商业营销",
    "unverified": "未经核实信息",
    "harmful": "有害信息",
    "privacy": "个人信息泄露",
    "expression": "表述错误",
    "inactive": "长期未更新",
    "unfiled": "未备案",
    "compromised": "账号疑似被盗用",
}
OUTCOME_LABELS = {"upheld": "申诉成立，该问题已撤销", "rejected": "申诉未被采纳", "pending": "待处理"}


def set_channel(
    *,
    session: Session,
    user_id: int,
    channel: str,
    address: str,
    events: Sequence[str] = (),
    enabled: bool = True,
) -> NotificationChannel:
    """Create or replace one of a user's channels (one e-mail address and one webhook per user)."""
    if channel not in NOTIFICATION_CHANNELS:
        raise InvalidInput(f"unknown channel {channel!r} (expected {', '.join(NOTIFICATION_CHANNELS)})")
    address = address.strip()
    if channel == "email" and ("@" not in address or any(c.isspace() for c in address)):
        raise InvalidInput(f"{address!r} is not an e-mail address")
    if channel == "webhook" and not address.startswith(("https://", "http://")):
        raise InvalidInput(f"{address!r} is not an http(s) URL")
    unknown = set(events) - set(EVENTS)
    if unknown:
        raise InvalidInput(f"unknown events {', '.join(sorted(unknown))} (expected {', '.join(EVENTS)})")
    if session.get(User, user_id) is None:
        raise NotFound(f"no user with id {user_id}")
    row = session.scalar(
        select(NotificationChannel).where(
            NotificationChannel.user_id == user_id, NotificationChannel.channel == channel
        )
    )
    if row is None:
        row = NotificationChannel(user_id=user_id, channel=channel)
        session.add(row)
    row.address = address
    row.events = sorted(set(events))
    row.enabled = enabled
    session.flush()
    return row


def list_channels(*, session: Session, user_id: int | None = None) -> list[NotificationChannel]:
    query = select(NotificationChannel).order_by(NotificationChannel.user_id, NotificationChannel.channel)
    if user_id is not None:
        query = query.where(NotificationChannel.user_id == user_id)
    return list(session.scalars(query))


def enqueue(
    *,
    session: Session,
    users: Iterable[User],
    event: str,
    subject: str,
    body: str,
    key: str,
    now: datetime | None = None,
) -> list[Notification]:
    """One outbox row per enabled channel of each user; rows whose dedupe key exists are skipped."""
    now = now or utcnow()
    created: list[Notification] = []
    for user in users:
        if not user.is_active:
            continue
        for channel in list_channels(session=session, user_id=user.id):
            if not channel.enabled:
                continue
            dedupe_key = f"{key}:u{user.id}:{channel.channel}"[:255]
            exists = session.scalar(select(Notification.id).where(Notification.dedupe_key == dedupe_key))
            if exists is not None:
                continue
            row = Notification(
                user_id=user.id,
                event=event,
                channel=channel.channel,
                address=channel.address,
                subject=subject,
                body=body,
                dedupe_key=dedupe_key,
                status="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
            session.add(row)
            created.append(row)
    session.flush()
    return created


def _operators_of(session: Session, account_id: int) -> list[User]:
    query = (
        select(User)
        .join(user_accounts, user_accounts.c.user_id == User.id)
        .where(user_accounts.c.account_id == account_id, User.role == "operator")
        .order_by(User.id)
    )
    return list(session.scalars(query))


def notify_finding_confirmed(
    *, session: Session, finding: Finding, now: datetime | None = None
) -> list[Notification]:
    """Tell the operators of the finding's account that a reviewer confirmed it."""
    account = session.get(Account, finding.account_id)
    name = account.name if account else f"账号 {finding.account_id}"
    label = CATEGORY_LABELS.get(finding.category, finding.category)
    subject = f"【政务账号监测】{name}：问题已确认（{label}）"
    lines = [f"您负责的账号“{name}”有一条问题经审核确认。", f"类别：{label}"]
    if finding.post is not None and finding.post.title:
        lines.append(f"文章：{finding.post.title}")
    if finding.post is not None and finding.post.url:
        lines.append(f"链接：{finding.post.url}")
    evidence = "；".join(str(s.get("text", "")) for s in (finding.spans or [])[:3] if s.get("text"))
    if evidence:
        lines.append(f"证据：{evidence}")
    lines.append(f"问题编号：{finding.id}。如有异议，可登录系统提出申诉。")
    return enqueue(
        session=session,
        users=_operators_of(session, finding.account_id),
        event="finding_confirmed",
        subject=subject,
        body="\n".join(lines),
        key=f"finding_confirmed:{finding.id}:{finding.updated_at:%Y%m%dT%H%M%S}",
        now=now,
    )


def notify_appeal_decided(
    *, session: Session, appeal: Appeal, now: datetime | None = None
) -> list[Notification]:
    """Tell the operator who appealed how the appeal was decided."""
    finding = session.get(Finding, appeal.finding_id)
    operator = session.get(User, appeal.operator_id)
    if finding is None or operator is None:
        return []
    account = session.get(Account, finding.account_id)
    name = account.name if account else f"账号 {finding.account_id}"
    outcome = OUTCOME_LABELS.get(appeal.outcome, appeal.outcome)
    body = (
        f"您对账号“{name}”问题（编号 {finding.id}，"
        f"{CATEGORY_LABELS.get(finding.category, finding.category)}）的申诉已处理：{outcome}。"
    )
    return enqueue(
        session=session,
        users=[operator],
        event="appeal_decided",
        subject=f"【政务账号监测】申诉结果：{outcome}",
        body=body,
        key=f"appeal_decided:{appeal.id}:{appeal.outcome}",
        now=now,
    )


def notify_reviewer_digest(
    *, session: Session, day: date, since: datetime, until: datetime, now: datetime | None = None
) -> list[Notification]:
    """Each reviewer: the open findings in their region created in [since, until)."""
    created: list[Notification] = []
    reviewers = session.scalars(
        select(User).where(User.role == "reviewer", User.region_code.is_not(None)).order_by(User.id)
    )
    for reviewer in reviewers:
        assert reviewer.region_code is not None
        codes = descendant_codes(session=session, code=reviewer.region_code)
        rows = session.execute(
            select(Finding.category, Account.name)
            .join(Account, Finding.account_id == Account.id)
            .where(
                Account.region_code.in_(codes),
                Finding.state == "open",
                Finding.created_at >= since,
                Finding.created_at < until,
            )
        ).all()
        if not rows:
            continue
        by_category: dict[str, int] = {}
        accounts: set[str] = set()
        for category, account in rows:
            by_category[category] = by_category.get(category, 0) + 1
            accounts.add(account)
        summary = "，".join(f"{CATEGORY_LABELS.get(c, c)} {n} 条" for c, n in sorted(by_category.items()))
        body = (
            f"{day:%Y年%m月%d日}：您负责的地区新增待审核问题 {len(rows)} 条，涉及 {len(accounts)} 个账号。\n"
            f"{summary}\n请登录系统处理。"
        )
        created += enqueue(
            session=session,
            users=[reviewer],
            event="reviewer_digest",
            subject=f"【政务账号监测】每日待审核问题：{len(rows)} 条",
            body=body,
            key=f"reviewer_digest:{day.isoformat()}",
            now=now,
        )
    return created


def report_recipients(*, session: Session) -> list[User]:
    """Office leads: admins, and anyone who asked for report_ready on one of their channels."""
    users = {u.id: u for u in session.scalars(select(User).where(User.role == "admin"))}
    for channel in list_channels(session=session):
        if "report_ready" in (channel.events or []) and channel.user_id not in users:
            user = session.get(User, channel.user_id)
            if user is not None:
                users[user.id] = user
    return [users[k] for k in sorted(users)]


def notify_report_ready(
    *,
    session: Session,
    month: str,
    paths: Sequence[str],
    region: str | None = None,
    summary: str = "",
    now: datetime | None = None,
) -> list[Notification]:
    scope = f"（地区 {region}）" if region else ""
    body = f"{month} 月度考核报告已生成{scope}。\n" + (f"{summary}\n" if summary else "")
    body += "\n".join(f"文件：{p}" for p in paths)
    return enqueue(
        session=session,
        users=report_recipients(session=session),
        event="report_ready",
        subject=f"【政务账号监测】{month} 月度考核报告已生成",
        body=body,
        key=f"report_ready:{month}:{region or 'all'}",
        now=now,
    )


def notify_job_failed(*, session: Session, run: JobRun, now: datetime | None = None) -> list[Notification]:
    """Tell the admins that a job failed twice in a row (called with the second failure)."""
    admins = list(session.scalars(select(User).where(User.role == "admin").order_by(User.id)))
    body = (
        f"定时任务 {run.job}（{run.period or '-'}）连续两次运行失败。\n"
        f"最近一次：{run.started_at:%Y-%m-%d %H:%M} UTC\n错误：{(run.error or '')[-800:]}"
    )
    return enqueue(
        session=session,
        users=admins,
        event="job_failed",
        subject=f"【政务账号监测】定时任务 {run.job} 连续失败",
        body=body,
        key=f"job_failed:{run.job}:{run.id}",
        now=now,
    )


def due_notifications(*, session: Session, now: datetime, limit: int = 100) -> list[Notification]:
    query = (
        select(Notification)
        .where(Notification.status == "pending", Notification.next_attempt_at <= now)
        .order_by(Notification.next_attempt_at, Notification.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def mark_sent(*, session: Session, notification: Notification, now: datetime) -> None:
    notification.status = "sent"
    notification.attempts += 1
    notification.sent_at = now
    notification.last_error = None


def mark_failed_attempt(
    *,
    session: Session,
    notification: Notification,
    error: str,
    now: datetime,
    max_attempts: int,
    base_delay: timedelta,
) -> None:
    """Count a failed delivery; retry after base_delay * 2**(attempts-1), give up after max_attempts."""
    notification.attempts += 1
    notification.last_error = error[-1000:]
    if notification.attempts >= max_attempts:
        notification.status = "failed"
    else:
        notification.next_attempt_at = now + base_delay * (2 ** (notification.attempts - 1))


def list_notifications(
    *, session: Session, status: str | None = None, event: str | None = None, limit: int | None = None
) -> list[Notification]:
    query = select(Notification).order_by(Notification.id)
    if status is not None:
        query = query.where(Notification.status == status)
    if event is not None:
        query = query.where(Notification.event == event)
    if limit:
        query = query.limit(limit)
    return list(session.scalars(query))


def describe(notification: Notification) -> dict[str, Any]:
    return {
        "id": notification.id,
        "event": notification.event,
        "channel": notification.channel,
        "address": notification.address,
        "status": notification.status,
        "attempts": notification.attempts,
        "subject": notification.subject,
    }
