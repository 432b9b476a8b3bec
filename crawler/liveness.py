"""Whether a crawl run marked 'running' still has a live process behind it (no Scrapy import here)."""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime, timedelta

from store.models import CrawlRun

ABANDONED_AFTER = timedelta(hours=6)  # a run 'running' this long on another machine is taken for dead


def this_host() -> str:
    return f"{socket.gethostname()} pid={os.getpid()}"


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_abandoned(run: CrawlRun, *, now: datetime | None = None) -> bool:
    """A 'running' run whose process is gone (same machine), or that is too old (another machine)."""
    hostname, _, pid_text = (run.host or "").partition(" pid=")
    if hostname == socket.gethostname() and pid_text.isdigit():
        pid = int(pid_text)
        return pid == os.getpid() or not pid_alive(pid)
    return run.started_at < (now or datetime.now(UTC)) - ABANDONED_AFTER
