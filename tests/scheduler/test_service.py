"""Real `govwatch scheduler run` processes: one acts at a time, a standby takes over, kills lose nothing.

These wait only for real subprocesses (polling the database they write), never for a timer.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from crawler.run import crawl_accounts
from govwatch.context import crawl_config, open_store
from govwatch.sample_site import SampleSite
from govwatch.settings import Settings
from store.models import CrawlRun, CrawlSchedule, Finding, JobRun, Lease, Post
from tests.conftest import POSTGRES_URL, REPO_ROOT
from tests.crawler.conftest import FAST, add_sample_accounts

WAIT = 90.0


def wait_for(
    check: Callable[[], Any], what: str, timeout: float = WAIT, processes: tuple[Any, ...] = ()
) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        for process in processes:
            if process.poll() is not None:
                raise AssertionError(f"scheduler exited with {process.returncode} while waiting for {what}")
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


class Schedulers:
    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self) -> subprocess.Popen[bytes]:
        log = (self.logs / f"scheduler-{len(self.started)}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "govwatch", "scheduler", "run"],
            cwd=REPO_ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a kill takes its crawl workers with it, like a machine going down
        )
        self.started.append(process)
        return process

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def log(self, number: int) -> str:
        return (self.logs / f"scheduler-{number}.log").read_text(errors="replace")

    def stop_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def scheduler_env(tmp_path: Path, database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVWATCH_")}
    env.update(
        {
            "GOVWATCH_DATA_DIR": str(tmp_path),
            "GOVWATCH_DATABASE_URL": database_url,
            "GOVWATCH_SCHEDULER_LEASE_SECONDS": "2",
            "GOVWATCH_SCHEDULER_TICK_SECONDS": "0.5",
            "GOVWATCH_CRAWL_DELAY": "0",
            "GOVWATCH_CRAWL_PROCESSES": "1",
            "GOVWATCH_LOG_LEVEL": "WARNING",
            **extra,
        }
    )
    return env


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'govwatch.db'}"
    schema = request.getfixturevalue("postgres_schema")
    return f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"


@pytest.fixture
def schedulers_for(tmp_path: Path) -> Iterator[Callable[[dict[str, str]], Schedulers]]:
    made: list[Schedulers] = []

    def make(env: dict[str, str]) -> Schedulers:
        group = Schedulers(env, tmp_path)
        made.append(group)
        return group

    yield make
    for group in made:
        group.stop_all()


@pytest.mark.slow
def test_two_schedulers_never_run_a_job_twice_and_the_standby_takes_over(
    database_url: str, tmp_path: Path, schedulers_for: Callable[[dict[str, str]], Schedulers]
) -> None:
    settings = Settings(data_dir=tmp_path, database_url=database_url, redis_url=None)
    factory = open_store(settings, migrate=True)
    group = schedulers_for(scheduler_env(tmp_path, database_url))
    first, second = group.start(), group.start()  # started together, racing for the lease

    def runs(at_least: int) -> list[JobRun]:
        with factory() as session:
            rows = session.scalars(select(JobRun).where(JobRun.job == "deliver").order_by(JobRun.id)).all()
        return list(rows) if len(rows) >= at_least else []

    early = wait_for(lambda: runs(6), "six delivery runs", processes=(first, second))
    holders = {run.holder for run in early}
    assert len(holders) == 1, holders  # only the lease holder ever ran a job
    with factory() as session:
        lease = session.get(Lease, "scheduler")
        assert lease is not None and lease.holder in holders
        first_token = lease.token
    active_pid = int(lease.holder.split("pid=")[1].split()[0])
    active, standby = (first, second) if active_pid == first.pid else (second, first)
    assert active.pid == active_pid
    group.kill(active)

    def taken_over() -> list[JobRun]:
        return [r for r in runs(1) if r.holder not in holders]

    later = wait_for(taken_over, "runs by the standby", processes=(standby,))
    assert {run.token for run in later} == {first_token + 1}  # a new fencing token
    all_runs = sorted(runs(1), key=lambda r: (r.started_at, r.id))
    old = [r for r in all_runs if r.holder in holders]
    assert max(r.started_at for r in old) <= min(r.started_at for r in later)
    # No two runs of the job at once: each began after the one before it had ended.
    for before, after in itertools.pairwise(all_runs):
        assert before.finished_at is not None and before.finished_at <= after.started_at, (
            before.id,
            after.id,
        )
    # Every run but the standby's newest has ended; that one may still be running as we read.
    assert {r.status for r in all_runs[:-1]} <= {"ok", "interrupted"}
    assert all_runs[-1].holder not in holders and all_runs[-1].status in {"ok", "running"}

    standby.send_signal(signal.SIGTERM)
    assert standby.wait(timeout=60) == 0, group.log(group.started.index(standby))
    with factory() as session:
        lease = session.get(Lease, "scheduler")
        assert lease is not None and lease.expires_at <= lease.acquired_at  # released, not left to expire
        assert session.scalar(select(func.count()).where(JobRun.status == "running")) == 0


@pytest.mark.slow
def test_killing_the_scheduler_mid_crawl_loses_and_duplicates_nothing(
    tmp_path: Path, schedulers_for: Callable[[dict[str, str]], Schedulers]
) -> None:
    database_url = f"sqlite:///{tmp_path / 'govwatch.db'}"
    settings = Settings(data_dir=tmp_path, database_url=database_url, redis_url=None, crawl_delay=0)
    factory = open_store(settings, migrate=True)
    reference_settings = Settings(
        data_dir=tmp_path / "ref", database_url=f"sqlite:///{tmp_path / 'ref.db'}", redis_url=None
    )
    reference = open_store(reference_settings, migrate=True)
    with SampleSite() as site:
        ids = add_sample_accounts(factory, site)
        ref_ids = add_sample_accounts(reference, site)
        summary = crawl_accounts(
            crawl_config(reference_settings), list(ref_ids.values()), scrapy_settings=FAST
        )
        assert summary.ok
        site.config.latency = 0.3  # slow pages, so the kill lands in the middle of the crawl
        group = schedulers_for(scheduler_env(tmp_path, database_url, GOVWATCH_SCHEDULER_TICK_SECONDS="1"))
        first = group.start()

        def crawling() -> bool:
            with factory() as session:
                posts = session.scalar(select(func.count()).select_from(Post))
                running = session.scalar(select(func.count()).where(CrawlRun.status == "running"))
                return bool(posts and running)

        wait_for(crawling, "the first posts of a running crawl", processes=(first,))
        group.kill(first)
        with factory() as session:
            assert session.scalar(select(func.count()).select_from(CrawlSchedule)) < len(ids)
        site.config.latency = 0.0
        second = group.start()

        def finished() -> bool:
            with factory() as session:
                done = session.scalar(select(func.count()).select_from(CrawlSchedule)) == len(ids)
                classified = session.scalar(
                    select(func.count()).where(JobRun.job == "classify", JobRun.status == "ok")
                )
                return bool(done and classified)

        wait_for(finished, "every account crawled and classified", processes=(second,))
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=60) == 0, group.log(1)

    def keys(session_factory: sessionmaker[Session], by_id: dict[str, int]) -> set[tuple[str, str]]:
        names = {v: k for k, v in by_id.items()}
        with session_factory() as session:
            return {(names[a], k) for a, k in session.execute(select(Post.account_id, Post.source_key)).all()}

    assert keys(factory, ids) == keys(reference, ref_ids)  # nothing lost
    with factory() as session:
        statuses = set(session.scalars(select(JobRun.status).where(JobRun.job == "crawl")))
        assert "interrupted" in statuses  # the killed run, closed by its successor
        duplicates = session.execute(
            select(Finding.post_id, Finding.category, func.count())
            .group_by(Finding.post_id, Finding.category, Finding.model_version)
            .having(func.count() > 1)
        ).all()
        assert duplicates == []
        assert session.scalar(select(func.count()).where(JobRun.status == "running")) == 0


def seed_posts(factory: sessionmaker[Session], count: int) -> None:
    """`count` posts on a suspended account (so no crawl starts), texts from the project corpus."""
    import json as _json

    from classifier.data import CORPUS_DIR
    from store.posts import content_hash
    from tests.scheduler.helpers import add_account

    texts = [_json.loads(line)["text"] for line in (CORPUS_DIR / "posts.jsonl").open(encoding="utf-8")]
    account = add_account(factory, "待分类账号", status="suspended")
    with factory.begin() as session:
        session.execute(
            Post.__table__.insert(),
            [
                {
                    "account_id": account,
                    "source_key": f"k{n}",
                    "title": f"第{n}篇",
                    "text": f"{texts[n % len(texts)]}（第{n}篇）",
                    "content_hash": content_hash(f"第{n}篇", str(n)),
                    "fetched_at": datetime.now(UTC),
                    "status": "live",
                    "version": 1,
                }
                for n in range(count)
            ],
        )


@pytest.mark.slow
def test_a_killed_or_stopped_job_is_resumed_by_the_next_scheduler(
    tmp_path: Path, schedulers_for: Callable[[dict[str, str]], Schedulers]
) -> None:
    from store.models import PostClassification

    database_url = f"sqlite:///{tmp_path / 'govwatch.db'}"
    factory = open_store(Settings(data_dir=tmp_path, database_url=database_url, redis_url=None), migrate=True)
    total = 6000
    seed_posts(factory, total)
    env = scheduler_env(tmp_path, database_url)
    group = schedulers_for(env)

    def classified() -> int:
        with factory() as session:
            return int(session.scalar(select(func.count()).select_from(PostClassification)) or 0)

    # A one-off classification (small batches, so it takes a while) killed in the middle.
    one_off = subprocess.Popen(
        [sys.executable, "-m", "govwatch", "scheduler", "run-job", "classify", "--arg", "batch_size=10"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    wait_for(lambda: classified() > 0, "the first classified batch", processes=(one_off,))
    os.killpg(one_off.pid, signal.SIGKILL)
    one_off.wait()
    killed_at = classified()
    assert 0 < killed_at < total

    # The scheduler closes the dead run and resumes it; SIGTERM then stops it between two batches.
    first = group.start()
    wait_for(lambda: classified() > killed_at, "the resumed classification", processes=(first,))
    first.send_signal(signal.SIGTERM)
    assert first.wait(timeout=60) == 0, group.log(0)
    stopped_at = classified()
    with factory() as session:
        runs = session.scalars(select(JobRun).where(JobRun.job == "classify").order_by(JobRun.id)).all()
    assert [r.status for r in runs][:1] == ["interrupted"]  # the killed one-off, closed by the scheduler
    assert runs[0].error == "the scheduler stopped during this run"

    if stopped_at < total:  # stopped mid-way (not already done): SIGTERM left it resumable
        assert runs[-1].status == "interrupted" and "stopping" in (runs[-1].error or "")
        second = group.start()
        wait_for(lambda: classified() == total, "every post classified", processes=(second,))
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=60) == 0, group.log(1)
    assert classified() == total
    with factory() as session:
        assert session.scalar(select(func.count()).where(JobRun.status == "running")) == 0
        assert "ok" in set(session.scalars(select(JobRun.status).where(JobRun.job == "classify")))
        duplicates = session.execute(
            select(Finding.post_id, Finding.category, func.count())
            .group_by(Finding.post_id, Finding.category, Finding.model_version)
            .having(func.count() > 1)
        ).all()
        assert duplicates == []
        markers = session.execute(
            select(PostClassification.post_id, func.count())
            .group_by(PostClassification.post_id)
            .having(func.count() > 1)
        ).all()
        assert markers == []


@pytest.mark.slow
def test_killing_the_scheduler_mid_assessment_finishes_the_month_once(
    tmp_path: Path, schedulers_for: Callable[[dict[str, str]], Schedulers]
) -> None:
    pytest.importorskip("reports.assessment")
    pytest.importorskip("reports.render")
    from store.assessments import list_account_assessments
    from store.models import Notification
    from tests.scheduler.helpers import add_user

    database_url = f"sqlite:///{tmp_path / 'govwatch.db'}"
    settings = Settings(data_dir=tmp_path, database_url=database_url, redis_url=None)
    factory = open_store(settings, migrate=True)
    month = f"{datetime.now(UTC):%Y-%m}"
    with SampleSite() as site:
        ids = add_sample_accounts(factory, site)
        assert crawl_accounts(crawl_config(settings), list(ids.values()), scrapy_settings=FAST).ok
    add_user(factory, "lead", "admin", email="lead@example.org")
    env = scheduler_env(tmp_path, database_url)
    one_off = subprocess.Popen(
        [sys.executable, "-m", "govwatch", "scheduler", "run-job", "assess_month", "--arg", f"month={month}"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )

    def assessing() -> bool:
        with factory() as session:
            return bool(
                session.scalar(
                    select(func.count()).where(JobRun.job == "assess_month", JobRun.status == "running")
                )
            )

    wait_for(assessing, "the assessment to start", processes=(one_off,))
    os.killpg(one_off.pid, signal.SIGKILL)
    one_off.wait()
    group = schedulers_for(env)
    scheduler = group.start()

    def assessed() -> bool:
        with factory() as session:
            return bool(
                session.scalar(
                    select(func.count()).where(JobRun.job == "assess_month", JobRun.status == "ok")
                )
            )

    wait_for(assessed, "the resumed assessment", timeout=300, processes=(scheduler,))
    scheduler.send_signal(signal.SIGTERM)
    assert scheduler.wait(timeout=120) == 0, group.log(0)
    with factory() as session:
        runs = session.scalars(select(JobRun).where(JobRun.job == "assess_month").order_by(JobRun.id)).all()
        assert [r.status for r in runs] == ["interrupted", "ok"]
        assert all(Path(p).is_file() for p in runs[-1].counts["reports"])
        for account_id in ids.values():
            current = [
                a
                for a in list_account_assessments(session=session, account_id=account_id)
                if a.month == month
            ]
            assert len(current) == 1, account_id  # one current assessment per account and month
        ready = session.scalars(select(Notification).where(Notification.event == "report_ready")).all()
        assert len(ready) == 1
