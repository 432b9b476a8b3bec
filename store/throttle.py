"""Slows down repeated failed sign-ins per username and per client address (kept in the database)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from store.models import LoginThrottle

# A key with no failure for this long starts counting again from zero.
FORGET_AFTER = timedelta(hours=1)


def wait_seconds(failures: int, free_attempts: int, max_delay: int) -> int:
    """After `free_attempts` failures every further try waits 1, 2, 4, ... seconds, up to `max_delay`."""
    if failures < free_attempts:
        return 0
    return int(min(max_delay, 2 ** (failures - free_attempts)))


def retry_after(
    *, session: Session, keys: Sequence[str], now: datetime, free_attempts: int, max_delay: int
) -> int:
    """Seconds until another attempt is allowed for any of `keys` (0: allowed now)."""
    longest = 0
    for row in session.scalars(select(LoginThrottle).where(LoginThrottle.key.in_(list(keys)))):
        wait = wait_seconds(row.failures, free_attempts, max_delay)
        remaining = wait - (now - row.last_failure_at).total_seconds()
        longest = max(longest, int(remaining + 0.999))
    return longest


def record_failure(*, session: Session, keys: Sequence[str], now: datetime) -> None:
    for key in keys:
        row = session.get(LoginThrottle, key)
        if row is None:
            session.add(LoginThrottle(key=key, failures=1, last_failure_at=now))
        elif now - row.last_failure_at > FORGET_AFTER:
            row.failures = 1
            row.last_failure_at = now
        else:
            row.failures += 1
            row.last_failure_at = now
    session.flush()


def clear_failures(*, session: Session, keys: Sequence[str]) -> None:
    session.execute(delete(LoginThrottle).where(LoginThrottle.key.in_(list(keys))))
