"""Named leases: one holder at a time, take-over after expiry, fencing tokens, on both backends."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from store.leases import LeaseHeld, LeaseLost, acquire_lease, check_fence, release_lease, renew_lease

T0 = datetime(2026, 10, 1, 2, 0, tzinfo=UTC)
TTL = timedelta(minutes=5)


def acquire(factory: sessionmaker[Session], holder: str, now: datetime, name: str = "scheduler") -> int:
    with factory.begin() as session:
        return acquire_lease(session=session, name=name, holder=holder, ttl=TTL, now=now)


def test_a_second_holder_is_refused_until_the_lease_expires(session_factory: sessionmaker[Session]) -> None:
    token = acquire(session_factory, "a", T0)
    with pytest.raises(LeaseHeld) as refused:
        acquire(session_factory, "b", T0 + timedelta(minutes=1))
    assert refused.value.holder == "a"
    assert refused.value.status_code == 409
    # The holder itself re-acquires and keeps its token.
    assert acquire(session_factory, "a", T0 + timedelta(minutes=2)) == token
    taken = acquire(session_factory, "b", T0 + timedelta(minutes=8))
    assert taken == token + 1


def test_a_stale_holder_is_fenced_out(session_factory: sessionmaker[Session]) -> None:
    old = acquire(session_factory, "a", T0)
    new = acquire(session_factory, "b", T0 + TTL + timedelta(seconds=1))
    with session_factory.begin() as session:
        check_fence(session=session, name="scheduler", token=new)
        with pytest.raises(LeaseLost):
            check_fence(session=session, name="scheduler", token=old)
        with pytest.raises(LeaseLost):
            renew_lease(session=session, name="scheduler", holder="a", token=old, ttl=TTL, now=T0 + TTL * 2)
        renew_lease(session=session, name="scheduler", holder="b", token=new, ttl=TTL, now=T0 + TTL * 2)


def test_release_lets_the_next_holder_in_at_once(session_factory: sessionmaker[Session]) -> None:
    token = acquire(session_factory, "a", T0)
    with session_factory.begin() as session:
        release_lease(session=session, name="scheduler", holder="a", token=token)
    assert acquire(session_factory, "b", T0 + timedelta(seconds=1)) == token + 1


def test_leases_are_independent_by_name(session_factory: sessionmaker[Session]) -> None:
    assert acquire(session_factory, "a", T0, name="classify") == 1
    assert acquire(session_factory, "b", T0, name="accounts-import") == 1


def test_racing_holders_get_exactly_one_lease(session_factory: sessionmaker[Session]) -> None:
    winners: list[str] = []
    refused: list[str] = []
    barrier = threading.Barrier(4)

    def race(holder: str) -> None:
        barrier.wait()
        try:
            acquire(session_factory, holder, T0)
            winners.append(holder)
        except LeaseHeld:
            refused.append(holder)
        except Exception as error:  # SQLite may answer "database is locked" to a loser: still a loss
            refused.append(f"{holder}: {error.__class__.__name__}")

    threads = [threading.Thread(target=race, args=(f"h{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(winners) == 1, (winners, refused)
