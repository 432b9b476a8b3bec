"""The APScheduler runner: one active scheduler per database, guarded by a lease.

APScheduler 3 cannot share a job store between schedulers (duplicate or missed runs), so a
process first takes the `scheduler` lease; only the holder starts APScheduler on the SQLAlchemy
job store, renews the lease every third of its lifetime, and stops at once if it finds the lease
lost. Others wait in standby and take over when the lease expires (its holder died) or is
released (its holder stopped). Every job checks the lease's fencing token before it writes, so a
holder that paused past its lease cannot write over its successor.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from govwatch.settings import Settings
from scheduler.context import LEASE_NAME, JobContext, holder_alive, set_context, system_clock
from store.job_runs import mark_stale_runs_interrupted
from store.models import JobRun

log = logging.getLogger(__name__)
JOBSTORE_TABLE = "apscheduler_jobs"
# Jobs a new holder restarts when its predecessor died in the middle of them; crawl and delivery
# need no restart, their next tick takes up whatever is still due.
RESUMABLE = ("classify", "account_findings", "reviewer_digest", "assess_month", "retrain")


@dataclass(frozen=True)
class JobSpec:
    id: str
    func: str  # "module:function", what the job store keeps
    trigger: BaseTrigger
    kwargs: dict[str, Any] = field(default_factory=dict)
    description: str = ""


def job_specs(settings: Settings) -> list[JobSpec]:
    """The service's schedule."""
    tz = settings.timezone
    tick = IntervalTrigger(seconds=settings.scheduler_tick_seconds, timezone=tz)
    return [
        JobSpec(
            "crawl", "scheduler.jobs:crawl_due_job", tick, description="crawl due accounts, then classify"
        ),
        JobSpec(
            "deliver", "scheduler.jobs:deliver_notifications_job", tick, description="send notifications"
        ),
        JobSpec(
            "classify",
            "scheduler.jobs:classify_job",
            IntervalTrigger(hours=1, timezone=tz),
            description="classify anything pending (also runs after every crawl batch)",
        ),
        JobSpec(
            "account_findings",
            "scheduler.jobs:account_findings_job",
            CronTrigger(hour=0, minute=30, timezone=tz),
            description="daily inactive / unfiled / compromised findings",
        ),
        JobSpec(
            "reviewer_digest",
            "scheduler.jobs:reviewer_digest_job",
            CronTrigger(hour=8, minute=0, timezone=tz),
            description="daily digest of new open findings for reviewers",
        ),
        JobSpec(
            "assess_month",
            "scheduler.jobs:assess_month_job",
            CronTrigger(day=1, hour=2, minute=0, timezone=tz),
            description="assess the previous month and write its reports",
        ),
        JobSpec(
            "prune_history",
            "scheduler.jobs:prune_history_job",
            CronTrigger(hour=4, minute=15, timezone=tz),
            description="forget successful job runs older than GOVWATCH_JOB_HISTORY_DAYS",
        ),
        JobSpec(
            "retrain",
            "scheduler.jobs:retrain_job",
            CronTrigger(day_of_week="sun", hour=3, minute=0, timezone=tz),
            description="weekly retrain; promote only if not worse",
        ),
    ]


def make_holder() -> str:
    return f"scheduler {socket.gethostname()} pid={os.getpid()} {uuid.uuid4().hex[:8]}"


def make_scheduler(engine: Engine, settings: Settings) -> BackgroundScheduler:
    return BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename=JOBSTORE_TABLE)},
        executors={"default": ThreadPoolExecutor(4)},
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": int(settings.scheduler_misfire_grace_hours * 3600),
        },
        timezone=settings.timezone,
    )


def reconcile_jobs(scheduler: BackgroundScheduler, specs: list[JobSpec]) -> None:
    """Add missing jobs, replace changed ones, keep unchanged ones (and so their missed runs)."""
    for spec in specs:
        existing = scheduler.get_job(spec.id)
        if (
            existing is not None
            and str(existing.trigger) == str(spec.trigger)
            and existing.kwargs == spec.kwargs
        ):
            continue
        scheduler.add_job(
            spec.func,
            spec.trigger,
            id=spec.id,
            name=spec.description or spec.id,
            kwargs=spec.kwargs,
            replace_existing=True,
        )


def runs_to_resume(*, session: Session, since: datetime) -> list[JobRun]:
    """Interrupted runs of resumable jobs, newest first per period, with no later completed run."""
    interrupted = session.scalars(
        select(JobRun)
        .where(JobRun.status == "interrupted", JobRun.job.in_(RESUMABLE), JobRun.started_at >= since)
        .order_by(JobRun.id.desc())
    )
    chosen: dict[tuple[str, str], JobRun] = {}
    for run in interrupted:
        key = (run.job, run.period)
        if key in chosen:
            continue
        later_ok = session.scalar(
            select(JobRun.id).where(
                JobRun.job == run.job, JobRun.period == run.period, JobRun.status == "ok", JobRun.id > run.id
            )
        )
        if later_ok is None:
            chosen[key] = run
    return list(chosen.values())


class SchedulerService:
    """One scheduler process: standby until it holds the lease, then runs the schedule."""

    def __init__(
        self,
        settings: Settings,
        session_factory: sessionmaker[Session],
        engine: Engine,
        *,
        holder: str | None = None,
        clock: Callable[[], datetime] = system_clock,
        scrapy_settings: dict[str, Any] | None = None,
        on_state: Callable[[str, str], None] | None = None,
    ) -> None:
        self.settings = settings
        self.session_factory = session_factory
        self.engine = engine
        self.holder = holder or make_holder()
        self.clock = clock
        self.scrapy_settings = scrapy_settings
        self.on_state = on_state or (lambda state, detail: log.info("scheduler %s: %s", state, detail))
        self.ttl = timedelta(seconds=settings.scheduler_lease_seconds)
        self.token: int | None = None
        self.scheduler: BackgroundScheduler | None = None
        self.context: JobContext | None = None
        self._stop = threading.Event()

    def stop(self) -> None:
        """Ask the service to stop (SIGTERM): running jobs finish their batch, then it releases the lease."""
        self._stop.set()
        if self.context is not None:
            self.context.stopping.set()

    def run(self) -> None:
        from store.leases import LeaseHeld, LeaseLost, acquire_lease, renew_lease

        interval = max(0.2, self.ttl.total_seconds() / 3)
        standby_reported = ""
        try:
            while not self._stop.is_set():
                try:
                    if self.token is None:
                        with self.session_factory.begin() as session:
                            token = acquire_lease(
                                session=session,
                                name=LEASE_NAME,
                                holder=self.holder,
                                ttl=self.ttl,
                                now=self.clock(),
                            )
                        self._activate(token)
                        standby_reported = ""
                    else:
                        with self.session_factory.begin() as session:
                            renew_lease(
                                session=session,
                                name=LEASE_NAME,
                                holder=self.holder,
                                token=self.token,
                                ttl=self.ttl,
                                now=self.clock(),
                            )
                except LeaseHeld as held:
                    if standby_reported != held.holder:
                        self.on_state("standby", f"lease held by {held.holder}")
                        standby_reported = held.holder
                except LeaseLost as lost:
                    self.on_state("lost", str(lost))
                    self._deactivate(wait=False)
                except SQLAlchemyError as error:  # the database is away: keep trying, jobs are fenced
                    log.warning("scheduler lease: database error %s", error.__class__.__name__)
                self._stop.wait(interval)
        finally:
            self._shutdown()

    def _activate(self, token: int) -> None:
        self.token = token
        self.context = JobContext(
            session_factory=self.session_factory,
            settings=self.settings,
            clock=self.clock,
            holder=self.holder,
            token=token,
            scrapy_settings=self.scrapy_settings,
        )
        set_context(self.context)
        now = self.clock()
        with self.session_factory.begin() as session:
            closed = mark_stale_runs_interrupted(
                session=session, holder=self.holder, now=now, is_alive=lambda run: holder_alive(run.holder)
            )
            grace = timedelta(hours=self.settings.scheduler_misfire_grace_hours)
            resume = [
                (run.id, run.job, dict(run.args))
                for run in runs_to_resume(session=session, since=now - grace)
            ]
        scheduler = make_scheduler(self.engine, self.settings)
        scheduler.start(paused=True)
        reconcile_jobs(scheduler, job_specs(self.settings))
        for run_id, job, args in resume:
            scheduler.add_job(
                f"scheduler.jobs:{JOB_FUNCTIONS[job]}",
                "date",
                run_date=now,
                id=f"resume-{run_id}",
                name=f"resume {job} run {run_id}",
                kwargs=args,
                replace_existing=True,
            )
        scheduler.resume()
        self.scheduler = scheduler
        self.on_state(
            "active",
            f"holder {self.holder}, token {token}; {closed} stale runs closed, {len(resume)} resumed",
        )

    def _deactivate(self, *, wait: bool) -> None:
        if self.context is not None:
            self.context.stopping.set()
        if self.scheduler is not None:
            try:
                self.scheduler.pause()  # submit nothing new while the running jobs finish
                self.scheduler.shutdown(wait=wait)
            except Exception:  # already stopped
                log.debug("scheduler shutdown", exc_info=True)
        self.scheduler = None
        self.token = None
        self.context = None
        set_context(None)

    def _shutdown(self) -> None:
        from store.leases import release_lease

        token = self.token
        self._deactivate(wait=True)  # a running job finishes its batch (SIGTERM) before we let go
        if token is not None:
            try:
                with self.session_factory.begin() as session:
                    release_lease(session=session, name=LEASE_NAME, holder=self.holder, token=token)
                self.on_state("stopped", "lease released")
            except SQLAlchemyError:
                log.warning("could not release the scheduler lease; it expires by itself")


JOB_FUNCTIONS = {
    "crawl": "crawl_due_job",
    "classify": "classify_job",
    "account_findings": "account_findings_job",
    "reviewer_digest": "reviewer_digest_job",
    "deliver": "deliver_notifications_job",
    "assess_month": "assess_month_job",
    "retrain": "retrain_job",
    "prune_history": "prune_history_job",
}
