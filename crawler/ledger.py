"""Per-account bookkeeping of a crawl run: counts, errors, blocked or not, and the final status."""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from store.crawl_runs import finish_run, update_run_counts

log = logging.getLogger(__name__)

STORED = ("new", "updated", "unchanged", "deleted", "unavailable", "gone_unseen")
MAX_ERRORS_KEPT = 50
MAX_ERRORS_SHOWN = 10


@dataclass
class RunOutcome:
    account_id: int
    run_id: int
    status: str
    counts: dict[str, int]
    error: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "run_id": self.run_id,
            "status": self.status,
            "counts": self.counts,
            "error": self.error,
        }


# Scrapy's close reasons when the crawl was stopped from outside (SIGTERM, Ctrl-C, parent gone).
INTERRUPTED_REASONS = frozenset({"shutdown", "cancelled", "interrupted"})


def decide(
    counts: Mapping[str, int], errors: list[str], blocked: bool, reason: str
) -> tuple[str, str | None]:
    """The run's status and the error text a user reads."""
    stored = sum(counts.get(name, 0) for name in STORED)
    shown = list(errors[:MAX_ERRORS_SHOWN])
    total = counts.get("errors", len(errors))
    if total > len(shown):
        shown.append(f"(and {total - len(shown)} more errors)")
    if reason != "finished":
        shown.insert(0, f"the crawl stopped before finishing ({reason})")
    text = "\n".join(shown) or None
    if blocked:
        return "blocked", text
    if reason in INTERRUPTED_REASONS:
        return "interrupted", text
    if errors and stored == 0:
        return "failed", text
    if errors or reason != "finished":
        return "partial", text
    return "ok", None


class RunLedger:
    """Bookkeeping for the runs of this process (standalone crawls)."""

    def __init__(
        self, run_ids: Mapping[int, int], emit: Callable[[dict[str, Any]], None] | None = None
    ) -> None:
        self.run_ids = dict(run_ids)
        self.emit = emit or (lambda event: None)
        self._counts: dict[int, Counter[str]] = {account_id: Counter() for account_id in self.run_ids}
        self._errors: dict[int, list[str]] = {account_id: [] for account_id in self.run_ids}
        self._blocked: set[int] = set()
        # The reactor records pages and errors while the storage thread records what it stored.
        self._lock = threading.RLock()

    # ---- recording --------------------------------------------------------------------------
    def add(self, account_id: int, counts: Mapping[str, int]) -> None:
        if account_id in self.run_ids:
            with self._lock:
                self._counts[account_id].update({k: v for k, v in counts.items() if v})

    def error(self, account_id: int, message: str, *, blocked: bool = False) -> bool:
        """Records an error; returns False when the same message was already recorded for the run."""
        if account_id not in self.run_ids:
            return False
        with self._lock:
            if blocked:
                self._blocked.add(account_id)
            self._counts[account_id]["errors"] += 1
            errors = self._errors[account_id]
            if message in errors:
                return False
            if len(errors) < MAX_ERRORS_KEPT:
                errors.append(message)
            return True

    # ---- reading ----------------------------------------------------------------------------
    def counts(self, account_id: int) -> dict[str, int]:
        with self._lock:
            return dict(self._counts.get(account_id, {}))

    def errors(self, account_id: int) -> list[str]:
        with self._lock:
            return list(self._errors.get(account_id, []))

    def is_blocked(self, account_id: int) -> bool:
        return account_id in self._blocked

    # ---- writing ----------------------------------------------------------------------------
    def write_counts(
        self,
        session: Session,
        account_ids: Iterable[int],
        pending: Mapping[int, Mapping[str, int]] | None = None,
    ) -> None:
        """Writes each run's counts (plus `pending`, what the open transaction is storing)."""
        for account_id in account_ids:
            if account_id in self.run_ids:
                counts = Counter(self.counts(account_id))
                counts.update((pending or {}).get(account_id, {}))
                update_run_counts(session=session, run_id=self.run_ids[account_id], counts=dict(counts))

    def finish(
        self, session_factory: sessionmaker[Session], account_ids: Iterable[int], reason: str
    ) -> list[RunOutcome]:
        outcomes = []
        with session_factory.begin() as session:
            for account_id in account_ids:
                if account_id not in self.run_ids:
                    continue
                counts = self.counts(account_id)
                status, error = decide(counts, self.errors(account_id), self.is_blocked(account_id), reason)
                run_id = self.run_ids[account_id]
                finish_run(session=session, run_id=run_id, status=status, counts=counts, error=error)
                outcomes.append(RunOutcome(account_id, run_id, status, counts, error))
        for outcome in outcomes:
            self.emit({"event": "run", **outcome.to_json()})
        return outcomes


class RedisRunLedger(RunLedger):
    """Bookkeeping shared by the processes of one distributed round, kept on Redis.

    Each process adds its counts and errors; the last process of a spider to leave the round
    writes the final status (the others only refresh the counts).
    """

    def __init__(
        self,
        run_ids: Mapping[int, int],
        client: Any,
        prefix: str,
        emit: Callable[[dict[str, Any]], None] | None = None,
        ttl: int = 7 * 24 * 3600,
    ) -> None:
        super().__init__(run_ids, emit)
        self.client = client
        self.prefix = prefix
        self.ttl = ttl

    def _key(self, account_id: int, part: str) -> str:
        return f"{self.prefix}:run:{self.run_ids[account_id]}:{part}"

    def add(self, account_id: int, counts: Mapping[str, int]) -> None:
        if account_id not in self.run_ids:
            return
        key = self._key(account_id, "counts")
        with self.client.pipeline() as pipe:
            for name, value in counts.items():
                if value:
                    pipe.hincrby(key, name, value)
            pipe.expire(key, self.ttl)
            pipe.execute()

    def error(self, account_id: int, message: str, *, blocked: bool = False) -> bool:
        if account_id not in self.run_ids:
            return False
        with self.client.pipeline() as pipe:
            if blocked:
                pipe.set(self._key(account_id, "blocked"), 1, ex=self.ttl)
            pipe.hincrby(self._key(account_id, "counts"), "errors", 1)
            pipe.sadd(self._key(account_id, "error_set"), message)
            pipe.expire(self._key(account_id, "error_set"), self.ttl)
            results = pipe.execute()
        is_new = bool(results[-2])
        if is_new:
            key = self._key(account_id, "errors")
            if self.client.llen(key) < MAX_ERRORS_KEPT:
                self.client.rpush(key, message)
            self.client.expire(key, self.ttl)
        return is_new

    def counts(self, account_id: int) -> dict[str, int]:
        if account_id not in self.run_ids:
            return {}
        raw = self.client.hgetall(self._key(account_id, "counts"))
        return {_text(k): int(v) for k, v in raw.items()}

    def errors(self, account_id: int) -> list[str]:
        if account_id not in self.run_ids:
            return []
        return [_text(m) for m in self.client.lrange(self._key(account_id, "errors"), 0, -1)]

    def is_blocked(self, account_id: int) -> bool:
        return account_id in self.run_ids and bool(self.client.exists(self._key(account_id, "blocked")))

    def finish_shared(
        self,
        session_factory: sessionmaker[Session],
        account_ids: Iterable[int],
        reason: str,
        *,
        last: bool,
        lost_workers: int = 0,
    ) -> list[RunOutcome]:
        account_ids = list(account_ids)
        with self.client.lock(f"{self.prefix}:finish-lock", timeout=60, blocking_timeout=60):
            if not last:
                with session_factory.begin() as session:
                    self.write_counts(session, account_ids)
                return []
            if lost_workers:
                for account_id in account_ids:
                    self.error(
                        account_id,
                        f"{lost_workers} crawl process(es) of this round stopped answering; "
                        "pages they held may be missing until the next run",
                    )
            return self.finish(session_factory, account_ids, reason)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def dump_event(event: Mapping[str, Any]) -> str:
    return json.dumps(event, ensure_ascii=False, default=str)
