"""Query functions for the job history: one row per run of a scheduled job."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, delete, func, select
from sqlalchemy.orm import Session

from store.errors import NotFound
from store.models import JobRun

ERROR_LIMIT = 4000
STALE_ERROR = "the scheduler stopped during this run"


def start_job_run(
    *,
    session: Session,
    job: str,
    period: str,
    args: Mapping[str, Any],
    now: datetime,
    holder: str | None = None,
    token: int | None = None,
) -> JobRun:
    run = JobRun(
        job=job,
        period=period,
        args=dict(args),
        started_at=now,
        status="running",
        counts={},
        holder=holder,
        token=token,
    )
    session.add(run)
    session.flush()
    return run


def finish_job_run(
    *,
    session: Session,
    run_id: int,
    status: str,
    now: datetime,
    counts: Mapping[str, Any] | None = None,
    error: str | None = None,
) -> JobRun:
    run = session.get(JobRun, run_id)
    if run is None:
        raise NotFound(f"no job run {run_id}")
    run.status = status
    run.finished_at = now
    if counts is not None:
        run.counts = dict(counts)
    run.error = error[-ERROR_LIMIT:] if error else None
    return run


def find_done_run(*, session: Session, job: str, period: str) -> JobRun | None:
    """The run that already completed this job for this period, if any (makes jobs idempotent)."""
    query = (
        select(JobRun)
        .where(JobRun.job == job, JobRun.period == period, JobRun.status == "ok")
        .order_by(JobRun.id.desc())
        .limit(1)
    )
    return session.scalars(query).first()


def mark_stale_runs_interrupted(
    *, session: Session, holder: str, now: datetime, is_alive: Callable[[JobRun], bool]
) -> int:
    """Close runs left 'running' by a process that is gone, so they read as interrupted.

    Called by a scheduler that has just taken the lease: runs of an earlier scheduler (they carry
    a fencing token) belong to a process that died or was fenced out; one-off runs (no token, from
    the CLI) are closed only when `is_alive` says their process is gone.
    """
    closed = 0
    for run in session.scalars(select(JobRun).where(JobRun.status == "running")):
        if run.holder == holder or (run.token is None and is_alive(run)):
            continue
        run.status = "interrupted"
        run.finished_at = now
        run.error = STALE_ERROR
        closed += 1
    session.flush()
    return closed


def list_job_runs(
    *, session: Session, job: str | None = None, status: str | None = None, limit: int = 50
) -> list[JobRun]:
    query = select(JobRun).order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(limit)
    if job is not None:
        query = query.where(JobRun.job == job)
    if status is not None:
        query = query.where(JobRun.status == status)
    return list(session.scalars(query))


def latest_job_runs(*, session: Session) -> dict[str, JobRun]:
    """The latest finished-or-running run of every job, by job name."""
    last = select(JobRun.job, func.max(JobRun.id).label("id")).group_by(JobRun.job).subquery()
    rows = session.scalars(select(JobRun).join(last, JobRun.id == last.c.id))
    return {run.job: run for run in rows}


def recent_statuses(*, session: Session, job: str, limit: int = 2) -> list[str]:
    """Statuses of the job's latest finished runs, newest first (skipped runs left out)."""
    query = (
        select(JobRun.status)
        .where(JobRun.job == job, JobRun.status.in_(("ok", "failed", "interrupted")))
        .order_by(JobRun.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def prune_job_runs(*, session: Session, before: datetime, keep_jobs: Sequence[str]) -> int:
    """Delete completed or skipped runs started before `before`, except those of `keep_jobs`.

    Failed and interrupted runs stay, as do the runs of jobs whose history is a record (the monthly
    assessment, the retrain decisions).
    """
    result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        delete(JobRun).where(
            JobRun.started_at < before,
            JobRun.status.in_(("ok", "skipped")),
            JobRun.job.not_in(list(keep_jobs)),
        )
    )
    return int(result.rowcount or 0)
