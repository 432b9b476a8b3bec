"""Query functions for crawl runs: one row per crawl of one account, with counts and a readable error."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

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
