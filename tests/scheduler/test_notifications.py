"""The outbox and its delivery: real SMTP (aiosmtpd) and webhook servers on 127.0.0.1, a fixed clock."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from scheduler.delivery import webhook_payload
from scheduler.jobs import deliver_notifications_job, reviewer_digest_job
from store.models import Appeal, Finding, Notification
from store.notifications import (
    list_notifications,
    notify_appeal_decided,
    notify_finding_confirmed,
)
from tests.scheduler.conftest import FixedClock, Mailbox, Webhook, make_context
from tests.scheduler.helpers import add_account, add_finding, add_post, add_user


def smtp_settings(box: Mailbox) -> dict[str, object]:
    return {"smtp_host": box.host, "smtp_port": box.port, "smtp_from": "govwatch@example.org"}


def test_confirmed_finding_and_appeal_reach_the_operator_by_email_and_webhook(
    session_factory: sessionmaker[Session],
    clock: FixedClock,
    tmp_path: Path,
    smtp_server: Mailbox,
    webhook: Webhook,
) -> None:
    account = add_account(session_factory, "新城区发布")
    other = add_account(session_factory, "别的账号")
    operator = add_user(
        session_factory, "op", "operator", accounts=(account,), email="op@example.org", webhook=webhook.url
    )
    add_user(session_factory, "op2", "operator", accounts=(other,), email="op2@example.org")
    post = add_post(session_factory, account, "p1", clock() - timedelta(days=1))
    finding_id = add_finding(session_factory, account, post, "marketing", when=clock(), state="confirmed")
    with session_factory.begin() as session:
        finding = session.get(Finding, finding_id)
        assert finding is not None
        assert len(notify_finding_confirmed(session=session, finding=finding, now=clock())) == 2
        # The same decision told twice (a retried request) writes nothing new.
        assert notify_finding_confirmed(session=session, finding=finding, now=clock()) == []
        appeal = Appeal(finding_id=finding_id, operator_id=operator, reason="不是广告", outcome="upheld")
        session.add(appeal)
        session.flush()
        assert len(notify_appeal_decided(session=session, appeal=appeal, now=clock())) == 2

    context = make_context(session_factory, clock, tmp_path, **smtp_settings(smtp_server))
    outcome = deliver_notifications_job(context=context)
    assert outcome.status == "ok" and outcome.counts == {"sent": 4, "retrying": 0, "failed": 0}
    assert [m["To"] for m in smtp_server.messages] == ["op@example.org", "op@example.org"]
    assert "问题已确认（商业营销）" in smtp_server.messages[0]["Subject"]
    assert "新城区发布" in smtp_server.messages[0].get_content()
    assert "申诉成立" in smtp_server.messages[1].get_content()
    assert len(webhook.received) == 2
    assert all(item["msgtype"] == "text" for item in webhook.received)
    assert "申诉结果" in webhook.texts()[1]
    with session_factory() as session:
        assert {n.status for n in list_notifications(session=session)} == {"sent"}
    # Nothing due any more: a second pass sends nothing.
    assert deliver_notifications_job(context=context).counts["sent"] == 0
    assert len(smtp_server.messages) == 2


def test_a_failing_webhook_is_retried_with_backoff_and_never_blocks_the_others(
    session_factory: sessionmaker[Session],
    clock: FixedClock,
    tmp_path: Path,
    smtp_server: Mailbox,
    webhook: Webhook,
) -> None:
    account = add_account(session_factory, "玉泉区人民政府")
    add_user(
        session_factory, "op", "operator", accounts=(account,), email="op@example.org", webhook=webhook.url
    )
    post = add_post(session_factory, account, "p1", clock())
    finding_id = add_finding(session_factory, account, post, "privacy", when=clock(), state="confirmed")
    with session_factory.begin() as session:
        finding = session.get(Finding, finding_id)
        assert finding is not None
        notify_finding_confirmed(session=session, finding=finding, now=clock())
    # The robot answers 500, then refuses with an errcode (企业微信 does for a bad key), then takes it.
    webhook.script = [(500, {}), (200, {"errcode": 93000, "errmsg": "invalid webhook url"})]
    context = make_context(
        session_factory,
        clock,
        tmp_path,
        notify_retry_seconds=60,
        notify_max_attempts=5,
        **smtp_settings(smtp_server),
    )
    first = deliver_notifications_job(context=context)
    assert first.counts == {"sent": 1, "retrying": 1, "failed": 0}
    assert len(smtp_server.messages) == 1  # the e-mail went out although the webhook failed
    with session_factory() as session:
        pending = list_notifications(session=session, status="pending")
        assert [n.attempts for n in pending] == [1]
        assert pending[0].next_attempt_at == clock() + timedelta(seconds=60)
        assert "HTTP 500" in (pending[0].last_error or "")
    clock.advance(seconds=59)
    assert deliver_notifications_job(context=context).counts["retrying"] == 0  # not due yet
    clock.advance(seconds=1)
    second = deliver_notifications_job(context=context)
    assert second.counts == {"sent": 0, "retrying": 1, "failed": 0}
    with session_factory() as session:
        row = list_notifications(session=session, status="pending")[0]
        assert row.next_attempt_at == clock() + timedelta(seconds=120)  # doubled
        assert "93000" in (row.last_error or "")
    clock.advance(seconds=120)
    assert deliver_notifications_job(context=context).counts["sent"] == 1
    assert len(webhook.received) == 1


def test_a_notification_is_given_up_after_the_last_attempt(
    session_factory: sessionmaker[Session], clock: FixedClock, tmp_path: Path
) -> None:
    account = add_account(session_factory, "呼和浩特发布")
    # Nothing listens on this port: every delivery fails fast.
    add_user(session_factory, "op", "operator", accounts=(account,), email="op@example.org")
    finding_id = add_finding(session_factory, account, None, "inactive", when=clock(), state="confirmed")
    with session_factory.begin() as session:
        finding = session.get(Finding, finding_id)
        assert finding is not None
        notify_finding_confirmed(session=session, finding=finding, now=clock())
    from tests.scheduler.conftest import free_port

    context = make_context(
        session_factory,
        clock,
        tmp_path,
        smtp_host="127.0.0.1",
        smtp_port=free_port(),
        notify_max_attempts=2,
        notify_retry_seconds=10,
        notify_timeout=2,
    )
    assert deliver_notifications_job(context=context).counts == {"sent": 0, "retrying": 1, "failed": 0}
    clock.advance(seconds=10)
    assert deliver_notifications_job(context=context).counts == {"sent": 0, "retrying": 0, "failed": 1}
    with session_factory() as session:
        (row,) = session.query(Notification).all()
        assert row.status == "failed" and row.attempts == 2 and row.last_error


def test_reviewers_get_a_daily_digest_of_their_region_only(
    session_factory: sessionmaker[Session], clock: FixedClock, tmp_path: Path, smtp_server: Mailbox
) -> None:
    inside = add_account(session_factory, "新城区发布", region="150102")
    outside = add_account(session_factory, "包头发布", region="150200")
    add_account(session_factory, "乌海发布", region="150300")  # rv2's region: known, but nothing new
    add_user(session_factory, "rv", "reviewer", region="150100", email="rv@example.org")
    add_user(session_factory, "rv2", "reviewer", region="150300", email="rv2@example.org")
    day = clock().replace(hour=2)  # 10:00 in Shanghai on 2026-10-10
    add_finding(session_factory, inside, None, "unfiled", when=day - timedelta(days=1))
    add_finding(session_factory, inside, None, "marketing", when=day - timedelta(days=1), state="confirmed")
    add_finding(session_factory, outside, None, "harmful", when=day - timedelta(days=1))
    context = make_context(session_factory, clock, tmp_path, **smtp_settings(smtp_server))
    outcome = reviewer_digest_job(day="2026-10-10", context=context)
    assert outcome.status == "ok" and outcome.counts == {"notifications": 1}
    assert reviewer_digest_job(day="2026-10-10", context=context).status == "skipped"
    deliver_notifications_job(context=context)
    (message,) = smtp_server.messages
    assert message["To"] == "rv@example.org"
    assert "新增待审核问题 1 条" in message.get_content() and "未备案 1 条" in message.get_content()


def test_webhook_payload_is_the_robot_text_message() -> None:
    row = Notification(subject="主题", body="正文")
    assert webhook_payload(row) == {"msgtype": "text", "text": {"content": "主题\n正文"}}
