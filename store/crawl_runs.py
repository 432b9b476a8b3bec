"""Query functions for crawl runs: one row per crawl of one account, with counts and a readable error."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session, aliased, joinedload

from store.errors import InvalidInput, NotFound
from store.models import CRAWL_STATUSES, Account, CrawlRun, utcnow

MAX_ERROR_LENGTH = 4000
# How `crawl status` orders accounts: what needs a person's attention first.
STATUS_ORDER = {"failed": 0, "blocked": 1, "interrupted": 2, "partial": 3, "running": 4, "ok": 5}
INTERRUPTED = "interrupted: the crawl process ended before finishing this account (killed or crashed)"


def start_run(
    *, session: Session, account_id: int, host: str | None = None, started_at: datetime | None = None
) -> CrawlRun:
    run = CrawlRun(
        account_id=account_id, started_at=started_at or utcnow(), status="running", counts={}, host=host
    )
    session.add(run)
    session.flush()
    return run


def get_run(*, session: Session, run_id: int) -> CrawlRun:
    run = session.get(CrawlRun, run_id)
    if run is None:
        raise NotFound(f"crawl run {run_id} does not exist")
    return run


def update_run_counts(*, session: Session, run_id: int, counts: Mapping[str, int]) -> None:
    """Replaces the run's counts (a fresh dict, so the JSON column is seen as changed)."""
    run = get_run(session=session, run_id=run_id)
    run.counts = dict(counts)


def finish_run(
    *,
    session: Session,
    run_id: int,
    status: str,
    counts: Mapping[str, int] | None = None,
    error: str | None = None,
    finished_at: datetime | None = None,
) -> CrawlRun:
    if status not in CRAWL_STATUSES or status == "running":
        raise InvalidInput(f"a finished crawl run cannot have status {status!r}")
    run = get_run(session=session, run_id=run_id)
    run.status = status
    run.finished_at = finished_at or utcnow()
    if counts is not None:
        run.counts = dict(counts)
    run.error = error[:MAX_ERROR_LENGTH] if error else None
    session.flush()
    return run


def list_runs(*, session: Session, account_id: int | None = None, limit: int = 50) -> list[CrawlRun]:
    query = select(CrawlRun).order_by(CrawlRun.started_at.desc(), CrawlRun.id.desc()).limit(limit)
    if account_id is not None:
        query = query.where(CrawlRun.account_id == account_id)
    return list(session.scalars(query))


def list_running_runs(*, session: Session, account_ids: Sequence[int]) -> list[CrawlRun]:
    if not account_ids:
        return []
    query = select(CrawlRun).where(CrawlRun.account_id.in_(list(account_ids)), CrawlRun.status == "running")
    return list(session.scalars(query))


def mark_runs_interrupted(
    *,
    session: Session,
    account_ids: Sequence[int],
    is_abandoned: Callable[[CrawlRun], bool],
    exclude_run_ids: Sequence[int] = (),
) -> list[int]:
    """Closes runs left 'running' by a process that died, so they read as interrupted, not in progress."""
    closed = []
    for run in list_running_runs(session=session, account_ids=account_ids):
        if run.id in exclude_run_ids or not is_abandoned(run):
            continue
        run.status = "interrupted"
        run.finished_at = utcnow()
        run.error = INTERRUPTED
        closed.append(run.id)
    session.flush()
    return closed


def interrupt_runs(*, session: Session, run_ids: Sequence[int], reason: str = INTERRUPTED) -> list[int]:
    """Marks the given runs 'interrupted' if they are still 'running' (their counts are kept as stored)."""
    closed = []
    ids = list(run_ids)
    for start in range(0, len(ids), 500):
        for run in session.scalars(
            select(CrawlRun).where(CrawlRun.id.in_(ids[start : start + 500]), CrawlRun.status == "running")
        ):
            run.status = "interrupted"
            run.finished_at = utcnow()
            run.error = reason
            closed.append(run.id)
    session.flush()
    return closed


def previous_run_statuses(
    *, session: Session, account_ids: Sequence[int], exclude_run_ids: Sequence[int] = ()
) -> dict[int, str]:
    """Each account's most recent run status (before the runs in `exclude_run_ids`)."""
    if not account_ids:
        return {}
    query = select(
        CrawlRun.account_id,
        CrawlRun.status,
        func.row_number()
        .over(partition_by=CrawlRun.account_id, order_by=(CrawlRun.started_at.desc(), CrawlRun.id.desc()))
        .label("rank"),
    ).where(CrawlRun.account_id.in_(list(account_ids)))
    if exclude_run_ids:
        query = query.where(CrawlRun.id.not_in(list(exclude_run_ids)))
    ranked = query.subquery()
    rows = session.execute(select(ranked.c.account_id, ranked.c.status).where(ranked.c.rank == 1))
    return {account_id: status for account_id, status in rows}


def latest_runs(*, session: Session, account_ids: Sequence[int] | None = None) -> dict[int, CrawlRun]:
    """The most recent run of each account that has one."""
    ranked = select(
        CrawlRun.id,
        func.row_number()
        .over(partition_by=CrawlRun.account_id, order_by=(CrawlRun.started_at.desc(), CrawlRun.id.desc()))
        .label("rank"),
    )
    if account_ids is not None:
        ranked = ranked.where(CrawlRun.account_id.in_(list(account_ids)))
    sub = ranked.subquery()
    query = select(CrawlRun).join(sub, sub.c.id == CrawlRun.id).where(sub.c.rank == 1)
    return {run.account_id: run for run in session.scalars(query)}


def list_account_crawl_status(
    *,
    session: Session,
    account_ids: Sequence[int] | None = None,
    region_code: str | None = None,
    is_abandoned: Callable[[CrawlRun], bool] | None = None,
) -> list[tuple[Account, CrawlRun | None]]:
    """Every account with its last run, failures first, then accounts never crawled, then the rest.

    A run still 'running' whose process is gone (`is_abandoned`) is shown as 'interrupted'
    (on a detached copy: this read changes nothing stored).
    """
    from store.accounts import account_filters

    conditions = account_filters(session=session, region_code=region_code)
    query = select(Account).options(joinedload(Account.organization)).where(*conditions).order_by(Account.id)
    if account_ids is not None:
        wanted = set(account_ids)
        accounts = [a for a in session.scalars(query) if a.id in wanted]
    else:
        accounts = list(session.scalars(query))
    runs = latest_runs(session=session)  # one pass over the runs; filtering by 50,000 ids costs more
    if is_abandoned is not None:
        for account_id, run in list(runs.items()):
            if run.status == "running" and is_abandoned(run):
                session.expunge(run)
                run.status = "interrupted"
                run.error = run.error or INTERRUPTED
                runs[account_id] = run

    def order(pair: tuple[Account, CrawlRun | None]) -> tuple[float, int]:
        account, run = pair
        if run is None:
            return (STATUS_ORDER["running"] + 0.5, account.id)  # never crawled: after running, before ok
        return (STATUS_ORDER.get(run.status, 0), account.id)

    return sorted(((account, runs.get(account.id)) for account in accounts), key=order)


@dataclass(frozen=True)
class AccountCrawlStatus:
    """One line of `crawl status`: an account and its last run (None fields: never crawled)."""

    account_id: int
    name: str
    platform: str
    region_code: str
    run_id: int | None
    status: str  # a run status, or "never"
    started_at: datetime | None
    finished_at: datetime | None
    counts: dict[str, Any]
    error: str | None
    host: str | None


def crawl_status_page(
    *,
    session: Session,
    region_code: str | None = None,
    failures: bool = False,
    limit: int | None = None,
    is_abandoned: Callable[[CrawlRun], bool] | None = None,
) -> tuple[list[AccountCrawlStatus], int]:
    """`crawl status` in one query: each account's last run, attention first; and the total count.

    Ordered and paged in SQL (plain rows, no ORM objects), so 50,000 accounts take a fraction of
    a second. A 'running' run whose process is gone (`is_abandoned`) is shown as 'interrupted';
    with `failures`, only accounts whose last run did not end ok (or never ran) are listed.
    """
    from store.accounts import account_filters

    # The last run of each account by an index lookup per account (crawl_runs' account_id,
    # started_at index): 50,000 lookups cost far less than ranking every run with a window.
    inner = aliased(CrawlRun)
    last_id = (
        select(inner.id)
        .where(inner.account_id == Account.id)
        .order_by(inner.started_at.desc(), inner.id.desc())
        .limit(1)
        .correlate(Account)
        .scalar_subquery()
    )
    last = aliased(CrawlRun)
    never_rank = STATUS_ORDER["running"] + 0.5  # after running, before ok
    rank = case(
        *((last.status == status, value) for status, value in STATUS_ORDER.items()),
        else_=never_rank,
    )
    conditions = account_filters(session=session, region_code=region_code)
    if failures:
        # 'running' stays in: a dead process's run is shown as interrupted below.
        conditions.append(or_(last.status.is_(None), last.status != "ok"))
    query = (
        select(
            Account.id, Account.name, Account.platform, Account.region_code,
            last.id, last.status, last.started_at, last.finished_at, last.counts,
            last.error, last.host,
        )
        .outerjoin(last, last.id == last_id)
        .where(*conditions)
        .order_by(rank, Account.id)
    )  # fmt: skip
    rows: list[AccountCrawlStatus] = []
    for row in session.execute(query if limit is None or failures else query.limit(limit)):
        status = row[5] or "never"
        error = row[9]
        if status == "running" and is_abandoned is not None:
            probe = CrawlRun(host=row[10], started_at=_aware(row[6]))
            if is_abandoned(probe):
                status, error = "interrupted", error or INTERRUPTED
        if failures and status == "running":
            continue
        rows.append(
            AccountCrawlStatus(
                row[0], row[1], row[2], row[3], row[4], status, _aware(row[6]), _aware(row[7]),
                _counts(row[8]), error, row[10],
            )
        )  # fmt: skip
        if limit is not None and failures and len(rows) >= limit:
            break
    if not failures:
        total = int(session.scalar(select(func.count()).select_from(Account).where(*conditions)) or 0)
        return rows, total
    counted = select(func.count()).select_from(Account).outerjoin(last, last.id == last_id).where(*conditions)
    total = int(session.scalar(counted) or 0)
    total = max(total - _live_running(session, conditions, last, last_id, is_abandoned), len(rows))
    return rows, total


def _live_running(session: Session, conditions: list[Any], last: Any, last_id: Any, is_abandoned: Any) -> int:
    """Accounts whose last run is running in a live process (not failures), for the total."""
    query = (
        select(last.host, last.started_at)
        .select_from(Account)
        .join(last, last.id == last_id)
        .where(*conditions, last.status == "running")
    )
    alive = 0
    for host, started_at in session.execute(query):
        if is_abandoned is None or not is_abandoned(CrawlRun(host=host, started_at=_aware(started_at))):
            alive += 1
    return alive


def _aware(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _counts(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        import json

        value = json.loads(value)
    return dict(value or {})
