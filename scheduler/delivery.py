"""Delivers the notification outbox: e-mail over SMTP, and group-robot webhooks (企业微信, 钉钉).

Each message is sent outside any transaction and marked in its own, so a slow or failing server
delays only that message: it is retried with exponential backoff and given up after
`notify_max_attempts`. A process killed between sending and marking sends that message again
(at least once, never lost).
"""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

import httpx

from govwatch.settings import Settings
from scheduler.context import JobContext
from store.models import Notification
from store.notifications import due_notifications, mark_failed_attempt, mark_sent

log = logging.getLogger(__name__)
BATCH = 100


class DeliveryError(Exception):
    pass


def webhook_payload(notification: Notification) -> dict[str, Any]:
    """The text message that both 企业微信 and 钉钉 group robots accept (msgtype text)."""
    return {"msgtype": "text", "text": {"content": f"{notification.subject}\n{notification.body}"}}


def send_webhook(notification: Notification, settings: Settings, client: httpx.Client) -> None:
    response = client.post(
        notification.address, json=webhook_payload(notification), timeout=settings.notify_timeout
    )
    if response.status_code >= 300:
        raise DeliveryError(f"webhook answered HTTP {response.status_code}")
    try:
        answer = response.json()
    except ValueError:
        return  # a plain 2xx from a generic receiver counts as delivered
    # Both robots answer HTTP 200 with {"errcode": N, "errmsg": ...}; a non-zero code is a refusal.
    if isinstance(answer, dict) and answer.get("errcode", 0) not in (0, "0"):
        raise DeliveryError(
            f"webhook refused the message: errcode {answer.get('errcode')} {answer.get('errmsg', '')}"
        )


def send_email(notification: Notification, settings: Settings) -> None:
    if not settings.smtp_host:
        raise DeliveryError("no SMTP server configured (GOVWATCH_SMTP_HOST)")
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = notification.address
    message["Subject"] = notification.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(idstring=f"govwatch-{notification.id}")
    message.set_content(notification.body)
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.notify_timeout) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password or "")
        smtp.send_message(message)


def deliver_due(ctx: JobContext) -> dict[str, Any]:
    """One pass over the due notifications; returns {"sent", "retrying", "failed"} counts."""
    counts = {"sent": 0, "retrying": 0, "failed": 0}
    settings = ctx.settings
    with ctx.session_factory() as session:
        due = due_notifications(session=session, now=ctx.now(), limit=BATCH)
    if not due:
        return counts
    with httpx.Client(follow_redirects=False) as client:
        for item in due:
            if ctx.stopping.is_set():
                break
            error: str | None = None
            try:
                if item.channel == "email":
                    send_email(item, settings)
                else:
                    send_webhook(item, settings, client)
            except (OSError, smtplib.SMTPException, httpx.HTTPError, DeliveryError) as failure:
                error = f"{failure.__class__.__name__}: {failure}"
                log.warning("notification %d to %s failed: %s", item.id, item.address, error)
            with ctx.session_factory.begin() as session:
                ctx.check_fence(session)
                row = session.get(Notification, item.id)
                if row is None or row.status != "pending":
                    continue
                if error is None:
                    mark_sent(session=session, notification=row, now=ctx.now())
                    counts["sent"] += 1
                else:
                    mark_failed_attempt(
                        session=session,
                        notification=row,
                        error=error,
                        now=ctx.now(),
                        max_attempts=settings.notify_max_attempts,
                        base_delay=timedelta(seconds=settings.notify_retry_seconds),
                    )
                    counts["failed" if row.status == "failed" else "retrying"] += 1
    return counts
