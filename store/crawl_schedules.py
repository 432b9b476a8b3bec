"""Query functions for the crawl schedule: which accounts are due, and moving them to their next slot."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from store.models import Account, CrawlSchedule

# Slots are counted from a fixed origin, so an account's slots do not move when the scheduler restarts.
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def slot_offset(account_id: int, interval: timedelta) -> timedelta:
    """A stable offset of the account within its interval, spreading accounts evenly over it."""
    digest = hashlib.sha256(f"account-{account_id}".encode()).digest()
    seconds = max(60, int(interval.total_seconds()))
    return timedelta(seconds=(int.from_bytes(digest[:8], "big") % (seconds // 60)) * 60)


def slot_start(account_id: int, interval_minutes: int, now: datetime) -> datetime:
    """The start of the account's slot that contains `now`."""
    interval = timedelta(minutes=max(1, interval_minutes))
    origin = EPOCH + slot_offset(account_id, interval)
    slots = (now - origin) // interval
    return origin + slots * interval


def list_due_accounts(*, session: Session, now: datetime, limit: int) -> list[Account]:
    """Active accounts never crawled by the scheduler or whose next slot has begun, oldest due first."""
    query = (
        select(Account)
        .outerjoin(CrawlSchedule, CrawlSchedule.account_id == Account.id)
        .where(
            Account.status == "active",
            or_(CrawlSchedule.account_id.is_(None), CrawlSchedule.next_due_at <= now),
        )
        .order_by(CrawlSchedule.next_due_at.is_not(None), CrawlSchedule.next_due_at, Account.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def record_crawled(
    *, session: Session, account: Account, now: datetime, run_id: int | None = None
) -> CrawlSchedule:
    """The account was crawled in the slot containing `now`: it is next due at its following slot."""
    start = slot_start(account.id, account.crawl_interval_minutes, now)
    row = session.get(CrawlSchedule, account.id)
    if row is None:
        row = CrawlSchedule(account_id=account.id)
        session.add(row)
    row.last_slot_at = start
    row.next_due_at = start + timedelta(minutes=max(1, account.crawl_interval_minutes))
    row.last_run_id = run_id
    return row


def get_schedule(*, session: Session, account_id: int) -> CrawlSchedule | None:
    return session.get(CrawlSchedule, account_id)
