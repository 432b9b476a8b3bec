"""APScheduler's own table lives in our database, and migrations leave it alone."""

from __future__ import annotations

from alembic import command
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from sqlalchemy import Engine, inspect

from govwatch.settings import Settings
from scheduler.runner import JOBSTORE_TABLE, job_specs, make_scheduler, reconcile_jobs
from store.migrate import alembic_config, upgrade_database


def test_migrations_ignore_the_apscheduler_table(empty_engine: Engine) -> None:
    upgrade_database(empty_engine)
    SQLAlchemyJobStore(engine=empty_engine, tablename=JOBSTORE_TABLE).start(None, "default")
    assert JOBSTORE_TABLE in inspect(empty_engine).get_table_names()
    command.check(alembic_config(empty_engine))  # raises if autogenerate would add or drop anything
    upgrade_database(empty_engine)
    assert JOBSTORE_TABLE in inspect(empty_engine).get_table_names()


def test_a_restart_keeps_the_stored_jobs_and_their_next_runs(empty_engine: Engine, tmp_path) -> None:
    upgrade_database(empty_engine)
    settings = Settings(data_dir=tmp_path)
    first = make_scheduler(empty_engine, settings)
    first.start(paused=True)
    reconcile_jobs(first, job_specs(settings))
    planned = {job.id: job.next_run_time for job in first.get_jobs()}
    first.shutdown(wait=False)
    assert set(planned) == {
        "crawl",
        "deliver",
        "classify",
        "account_findings",
        "reviewer_digest",
        "assess_month",
        "retrain",
        "prune_history",
    }
    assert planned["assess_month"].day == 1 and planned["assess_month"].hour == 2
    assert str(planned["assess_month"].tzinfo) == "Asia/Shanghai"

    again = make_scheduler(empty_engine, settings)
    again.start(paused=True)
    reconcile_jobs(again, job_specs(settings))  # unchanged triggers: kept, with their next run times
    assert {job.id: job.next_run_time for job in again.get_jobs()} == planned
    job = again.get_job("crawl")
    assert job.coalesce is True and job.max_instances == 1 and job.misfire_grace_time == 6 * 3600
    again.shutdown(wait=False)
