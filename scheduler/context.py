"""What a job needs to run: the store, the settings, the clock and the scheduler's fencing token.

APScheduler keeps only a job's function reference and its (serialisable) arguments, so the runner
installs one JobContext for the process and jobs read it with current_context(); tests build a
context with a fixed clock and pass it to a job directly.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from govwatch.settings import Settings

LEASE_NAME = "scheduler"


def process_holder(prefix: str) -> str:
    """`<prefix> <host> pid=<pid>`: names the process that runs a job, so a dead one can be told."""
    import os
    import socket

    return f"{prefix} {socket.gethostname()} pid={os.getpid()}"


def holder_alive(holder: str | None) -> bool:
    """Whether the process named by a holder string is still running (unknown hosts count as alive)."""
    import os
    import socket

    if not holder or " pid=" not in holder:
        return False
    host = holder.split(" pid=")[0].split(" ", 1)[-1]
    pid_text = holder.split(" pid=")[1].split()[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return True
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class JobContext:
    session_factory: sessionmaker[Session]
    settings: Settings
    clock: Callable[[], datetime] = system_clock
    holder: str = "cli"
    # The scheduler lease's fencing token; None outside the scheduler (a CLI run holds no lease).
    token: int | None = None
    lease_name: str = LEASE_NAME
    # Overrides handed to the crawler (tests drop the politeness delays against 127.0.0.1).
    scrapy_settings: dict[str, Any] | None = None
    # Set by the runner on SIGTERM: long jobs stop at their next batch and stay resumable.
    stopping: threading.Event = field(default_factory=threading.Event)
    # The hourly classification and the one after a crawl batch must not run at once in one process.
    classify_lock: threading.Lock = field(default_factory=threading.Lock)
    _classifier: Any = None
    _classifier_key: tuple[str, str] | None = None

    def now(self) -> datetime:
        return self.clock()

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.settings.timezone)

    def local_now(self) -> datetime:
        return self.now().astimezone(self.tz)

    def check_fence(self, session: Session) -> None:
        """Raise store.leases.LeaseLost if another scheduler took the lease over since we got it."""
        if self.token is None:
            return
        from store.leases import check_fence

        check_fence(session=session, name=self.lease_name, token=self.token)

    def classifier(self) -> Any:
        """The current model, loaded once and again only after a promotion changed it."""
        from classifier import registry

        model_dir = self.settings.resolved_model_dir
        key = (str(model_dir), registry.current_version(model_dir))
        if self._classifier is None or self._classifier_key != key:
            self._classifier = registry.load_current(
                model_dir, allow_rules_mismatch=self.settings.allow_rules_mismatch
            )
            self._classifier_key = key
        return self._classifier


_current: JobContext | None = None


def set_context(context: JobContext | None) -> None:
    global _current
    _current = context


def current_context() -> JobContext:
    """The context the runner installed, else one built from the environment (a one-off run)."""
    global _current
    if _current is None:
        from govwatch.context import open_store
        from govwatch.settings import get_settings

        settings = get_settings()
        _current = JobContext(session_factory=open_store(settings), settings=settings)
    return _current
