"""What `govwatch status` (and the web app) show: every job's next run and last result, failures first."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, inspect, select
from sqlalchemy.orm import Session, sessionmaker

from govwatch.settings import Settings
from scheduler.context import LEASE_NAME
from store.job_runs import latest_job_runs, recent_statuses
from store.models import JobRun, Lease

FAILED = ("failed", "interrupted")


def next_runs(engine: Engine) -> dict[str, tuple[datetime | None, str]]:
    """Next run time and trigger of every job in APScheduler's job store (read only)."""
    if not inspect(engine).has_table("apscheduler_jobs"):
        return {}
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

    store = SQLAlchemyJobStore(engine=engine)
    store.start(None, "default")  # creates nothing: the table exists
    result: dict[str, tuple[datetime | None, str]] = {}
    for job in store.get_all_jobs():
        result[job.id] = (job.next_run_time, str(job.trigger))
    return result


def scheduler_status(
    session_factory: sessionmaker[Session], engine: Engine, settings: Settings, now: datetime
) -> dict[str, Any]:
    from scheduler.runner import job_specs

    planned = next_runs(engine)
    with session_factory() as session:
        lease = session.get(Lease, LEASE_NAME)
        last = latest_job_runs(session=session)
        names = [spec.id for spec in job_specs(settings)]
        names += sorted(set(planned) - set(names)) + sorted(set(last) - set(names) - set(planned))
        jobs = []
        for name in names:
            run = last.get(name)
            next_time, trigger = planned.get(name, (None, ""))
            streak = recent_statuses(session=session, job=name, limit=2) if run else []
            last_failure = session.scalar(
                select(JobRun)
                .where(JobRun.job == name, JobRun.status.in_(FAILED))
                .order_by(JobRun.id.desc())
                .limit(1)
            )
            jobs.append(
                {
                    "job": name,
                    "trigger": trigger,
                    "next_run": next_time.astimezone(UTC).isoformat() if next_time else None,
                    "last_status": run.status if run else None,
                    "last_period": run.period if run else None,
                    "last_started": run.started_at.isoformat() if run else None,
                    "last_finished": run.finished_at.isoformat() if run and run.finished_at else None,
                    "last_counts": run.counts if run else {},
                    "last_error": (
                        last_failure.error if last_failure and run and run.status in FAILED else None
                    ),
                    "failed_twice": streak == ["failed", "failed"],
                }
            )
    jobs.sort(key=lambda j: (j["last_status"] not in FAILED, not j["failed_twice"], j["job"]))
    return {
        "now": now.isoformat(),
        "scheduler": {
            "holder": lease.holder if lease else None,
            "token": lease.token if lease else None,
            "expires_at": lease.expires_at.isoformat() if lease else None,
            "active": bool(lease and lease.expires_at > now),
        },
        "jobs": jobs,
    }
