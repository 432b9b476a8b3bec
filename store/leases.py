"""Named leases with fencing tokens: one holder at a time for a job, a scheduler or an import.

A lease is a row that one holder owns until `expires_at`; the holder renews it while it works and
another process may take it over once it has expired (its holder died). Every acquisition by a
new holder bumps `token`, the fencing token: a job that lost its lease (paused past expiry while
another took over) finds its token outdated in `check_fence` and stops before it writes.
Each function is one conditional UPDATE or INSERT, so two processes racing on SQLite or
PostgreSQL cannot both win.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from store.errors import Conflict
from store.models import Lease


class LeaseHeld(Conflict):
    """Another holder has the lease and it has not expired."""

    def __init__(self, name: str, holder: str, expires_at: datetime) -> None:
        super().__init__(f"{name} is held by {holder} until {expires_at:%Y-%m-%d %H:%M:%S} UTC")
        self.name = name
        self.holder = holder
        self.expires_at = expires_at


class LeaseLost(Conflict):
    """The caller's token is no longer the lease's current one: another holder took over."""


def acquire_lease(*, session: Session, name: str, holder: str, ttl: timedelta, now: datetime) -> int:
    """Take (or re-take) the lease for `ttl` from `now` and return its fencing token.

    A holder that acquires again while it still holds the lease keeps its token; taking over an
    expired lease from someone else bumps it.
    """
    expires = now + ttl
    kept: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        update(Lease)
        .where(Lease.name == name, Lease.holder == holder, Lease.expires_at > now)
        .values(expires_at=expires)
    )
    if kept.rowcount:
        return _held_token(session, name)
    taken: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        update(Lease)
        .where(Lease.name == name, Lease.expires_at <= now)
        .values(holder=holder, token=Lease.token + 1, acquired_at=now, expires_at=expires)
    )
    if taken.rowcount:
        return _held_token(session, name)
    if session.get(Lease, name) is None:
        try:
            with session.begin_nested():
                session.execute(
                    insert(Lease).values(
                        name=name, holder=holder, token=1, acquired_at=now, expires_at=expires
                    )
                )
            return 1
        except IntegrityError:
            pass  # another process inserted it first: report who holds it
    current = session.execute(
        select(Lease).where(Lease.name == name).execution_options(populate_existing=True)
    )
    lease = current.scalar_one()
    raise LeaseHeld(name, lease.holder, lease.expires_at)


def renew_lease(
    *, session: Session, name: str, holder: str, token: int, ttl: timedelta, now: datetime
) -> None:
    """Extend a held lease; raises LeaseLost if it expired and someone else took it."""
    renewed: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        update(Lease)
        .where(Lease.name == name, Lease.holder == holder, Lease.token == token)
        .values(expires_at=now + ttl)
    )
    if not renewed.rowcount:
        raise LeaseLost(f"lease {name} (token {token}) is no longer held by {holder}")


def release_lease(*, session: Session, name: str, holder: str, token: int) -> None:
    """Give the lease up so the next holder need not wait for it to expire (no-op if already lost)."""
    session.execute(
        update(Lease)
        .where(Lease.name == name, Lease.holder == holder, Lease.token == token)
        .values(expires_at=Lease.acquired_at)
    )


def check_fence(*, session: Session, name: str, token: int) -> None:
    """Raise LeaseLost unless `token` is still the lease's current fencing token."""
    if _token(session, name) != token:
        raise LeaseLost(f"lease {name} moved past token {token}: another holder took over")


def _token(session: Session, name: str) -> int | None:
    return session.execute(select(Lease.token).where(Lease.name == name)).scalar_one_or_none()


def _held_token(session: Session, name: str) -> int:
    return session.execute(select(Lease.token).where(Lease.name == name)).scalar_one()
