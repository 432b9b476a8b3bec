"""One running copy of a job at a time, across processes and machines, on a store lease.

`classify` and `accounts import` take a named lease (store.leases) for as long as they run and
renew it from a background thread; a second copy either waits for it or stops with a line that
says who is running. A holder that dies stops renewing, and its lease expires after LEASE_TTL.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from store.errors import Conflict
from store.leases import LeaseHeld, LeaseLost, acquire_lease, release_lease, renew_lease

LEASE_TTL = timedelta(seconds=60)
RENEW_EVERY = 15.0  # seconds
POLL_EVERY = 1.0
DEFAULT_WAIT = 600.0  # seconds a waiting job waits before it gives up


def this_holder() -> str:
    return f"{socket.gethostname()} pid={os.getpid()}"


def _now() -> datetime:
    return datetime.now(UTC)


class JobRunning(Conflict):
    """Another copy of the job holds its lease."""


def _acquire(session_factory: sessionmaker[Session], name: str, holder: str) -> int:
    with session_factory.begin() as session:
        return acquire_lease(session=session, name=name, holder=holder, ttl=LEASE_TTL, now=_now())


@contextlib.contextmanager
def job_lock(
    session_factory: sessionmaker[Session],
    name: str,
    *,
    wait: bool,
    max_wait: float = DEFAULT_WAIT,
    say: Callable[[str], object] | None = None,
) -> Iterator[int]:
    """Hold lease `name` while the block runs; yields the fencing token.

    With `wait`, polls until the other holder releases it (or its lease expires), up to
    `max_wait` seconds; otherwise raises JobRunning at once.
    """
    holder = this_holder()
    deadline = time.monotonic() + max_wait
    told = False
    while True:
        try:
            token = _acquire(session_factory, name, holder)
            break
        except OperationalError:
            # SQLite: the holder's long transaction has the write lock, past the busy timeout.
            if not wait or time.monotonic() >= deadline:
                raise
            time.sleep(POLL_EVERY)
            continue
        except LeaseHeld as held:
            if not wait or time.monotonic() >= deadline:
                raise JobRunning(
                    f"another {name} is running ({held.holder}, lease until "
                    f"{held.expires_at:%H:%M:%S} UTC); this one stops without writing. "
                    "Run it again when that one has finished."
                ) from None
            if not told and say is not None:
                say(f"another {name} is running ({held.holder}); waiting for it to finish")
                told = True
            time.sleep(POLL_EVERY)
    stop = threading.Event()
    lost: list[LeaseLost] = []

    def keep_renewing() -> None:
        while not stop.wait(RENEW_EVERY):
            try:
                with session_factory.begin() as session:
                    renew_lease(
                        session=session, name=name, holder=holder, token=token, ttl=LEASE_TTL, now=_now()
                    )
            except LeaseLost as error:
                lost.append(error)
                return
            except Exception:  # a busy database: try again at the next tick, well before expiry
                continue

    renewer = threading.Thread(target=keep_renewing, name=f"lease-{name}", daemon=True)
    renewer.start()
    try:
        yield token
    finally:
        stop.set()
        renewer.join(timeout=5)
        with contextlib.suppress(Exception), session_factory.begin() as session:
            release_lease(session=session, name=name, holder=holder, token=token)
