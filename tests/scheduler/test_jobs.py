"""Recorded jobs with a fixed clock: history, idempotence per period, fencing, failures, account findings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.jobs import account_findings_job, previous_month, run_recorded
from store.job_runs import list_job_runs
from store.leases import acquire_lease
from store.models import Finding, JobRun, Notification
from tests.scheduler.conftest import FixedClock, make_context
from tests.scheduler.helpers import add_account, add_finding, add_post, add_user


def test_every_run_is_recorded_and_a_completed_period_is_not_run_again(
    session_factory: sessionmaker[Session], clock: FixedClock, tmp_path: Path
) -> None:
    context = make_context(session_factory, clock, tmp_path)
    calls: list[str] = []

    def body(_context: object) -> dict[str, int]:
        calls.append("ran")
        clock.advance(seconds=5)
        return {"things": 3}

    first = run_recorded(context, "demo", "2026-10", {"month": "2026-10"}, body)
    again = run_recorded(context, "demo", "2026-10", {"month": "2026-10"}, body)
    other = run_recorded(context, "demo", "2026-11", {"month": "2026-11"}, body)
    assert (first.status, again.status, other.status) == ("ok", "skipped", "ok")
    assert calls == ["ran", "ran"]
    with session_factory() as session:
        runs = sorted(list_job_runs(session=session, job="demo"), key=lambda r: r.id)
    assert [(r.period, r.status) for r in runs] == [
        ("2026-10", "ok"),
        ("2026-10", "skipped"),
        ("2026-11", "ok"),
    ]
    assert runs[0].args == {"month": "2026-10"} and runs[0].counts == {"things": 3}
    assert runs[0].finished_at == runs[0].started_at + timedelta(seconds=5)
    assert runs[1].counts == {"done_by": runs[0].id}


def test_a_job_failing_twice_in_a_row_tells_the_admins_once(
    session_factory: sessionmaker[Session], clock: FixedClock, tmp_path: Path
) -> None:
    add_user(session_factory, "admin", "admin", email="admin@example.org")
    context = make_context(session_factory, clock, tmp_path)

    def broken(_context: object) -> dict[str, int]:
        raise ValueError("the source answered nonsense")

    first = run_recorded(context, "flaky", "a", {}, broken)
    assert first.status == "failed" and "ValueError: the source answered nonsense" in (first.error or "")
    with session_factory() as session:
        assert session.scalars(select(Notification)).all() == []
    run_recorded(context, "flaky", "b", {}, broken)
    with session_factory() as session:
        (note,) = session.scalars(select(Notification)).all()
        assert note.event == "job_failed" and note.address == "admin@example.org"
        assert "flaky" in note.subject and "the source answered nonsense" in note.body
    run_recorded(context, "flaky", "c", {}, lambda _c: {})
    run_recorded(context, "flaky", "d", {}, broken)  # one failure after a success: nobody is told
    with session_factory() as session:
        assert len(session.scalars(select(Notification)).all()) == 1
        statuses = [r.status for r in list_job_runs(session=session, job="flaky")]
    assert statuses == ["failed", "ok", "failed", "failed"]


def test_a_job_whose_scheduler_lost_the_lease_writes_nothing(
    session_factory: sessionmaker[Session], clock: FixedClock, tmp_path: Path
) -> None:
    add_account(session_factory, "未备案账号", filed=False)
    with session_factory.begin() as session:
        old = acquire_lease(
            session=session, name="scheduler", holder="a", ttl=timedelta(seconds=30), now=clock()
        )
    stale = make_context(session_factory, clock, tmp_path, token=old)
    clock.advance(seconds=31)
    with session_factory.begin() as session:
        new = acquire_lease(
            session=session, name="scheduler", holder="b", ttl=timedelta(seconds=30), now=clock()
        )
    assert new > old
    from store.leases import LeaseLost

    with pytest.raises(LeaseLost):
        account_findings_job(day="2026-10-10", context=stale)
    with session_factory() as session:
        assert session.scalars(select(Finding)).all() == []
        assert session.scalars(select(JobRun)).all() == []
    current = make_context(session_factory, clock, tmp_path, token=new)
    assert account_findings_job(day="2026-10-10", context=current).counts["unfiled"] == 1


def test_account_findings_inactive_unfiled_compromised_once_per_cause(
    session_factory: sessionmaker[Session], clock: FixedClock, tmp_path: Path
) -> None:
    from store.crawl_runs import finish_run, start_run

    shanghai_midnight = datetime(2026, 10, 9, 16, 0, tzinfo=UTC)  # 2026-10-10 00:00 in Shanghai
    busy = add_account(session_factory, "天天更新")
    quiet = add_account(session_factory, "半月无更新")
    unfiled = add_account(session_factory, "未备案", filed=False)
    never_crawled = add_account(session_factory, "从未采集")
    hacked = add_account(session_factory, "被挂马")
    for account in (busy, quiet, unfiled, hacked):
        with session_factory.begin() as session:
            run = start_run(session=session, account_id=account, host="test")
            finish_run(session=session, run_id=run.id, status="ok", counts={})
    add_post(session_factory, busy, "b1", shanghai_midnight - timedelta(days=2))
    # Exactly 14 days before the check date is still inside the window; a second earlier is not.
    add_post(session_factory, unfiled, "u1", shanghai_midnight - timedelta(days=14))
    add_post(session_factory, quiet, "q1", shanghai_midnight - timedelta(days=14, seconds=1))
    spam_post = add_post(
        session_factory, hacked, "h1", shanghai_midnight - timedelta(days=1), "澳门赌场|在线代孕"
    )
    add_finding(
        session_factory, hacked, spam_post, "harmful", when=clock(), source="hm.seo_block", score=0.97
    )
    other = add_post(session_factory, hacked, "h2", shanghai_midnight - timedelta(days=1))
    add_finding(session_factory, hacked, other, "harmful", when=clock(), source="hm.lexicon")

    context = make_context(session_factory, clock, tmp_path)
    first = account_findings_job(day="2026-10-10", context=context)
    assert first.status == "ok", first.error
    assert first.counts == {"accounts": 5, "inactive": 1, "unfiled": 1, "compromised": 1}
    with session_factory() as session:
        rows = session.scalars(select(Finding).where(Finding.post_id.is_(None)).order_by(Finding.id)).all()
        found = {(r.account_id, r.category): r for r in rows}
    assert set(found) == {(quiet, "inactive"), (unfiled, "unfiled"), (hacked, "compromised")}
    assert found[(quiet, "inactive")].detail["days_without_post"] == 14
    assert found[(unfiled, "unfiled")].detail["missing"] == ["filing_number", "filing_date"]
    assert found[(hacked, "compromised")].detail["post_ids"] == [spam_post]
    assert never_crawled not in {a for a, _ in found}

    # The next day: the same causes raise nothing new, but the post exactly 14 days old has left the
    # window, so that account is now inactive too; a new spam post makes a new compromised finding.
    clock.advance(days=1)
    second = account_findings_job(day="2026-10-11", context=context)
    assert second.counts == {"accounts": 5, "inactive": 1, "unfiled": 0, "compromised": 0}
    with session_factory() as session:
        inactive = session.scalars(select(Finding.account_id).where(Finding.category == "inactive")).all()
    assert sorted(inactive) == sorted([quiet, unfiled])
    more_spam = add_post(session_factory, hacked, "h3", shanghai_midnight, "六合彩|私服")
    add_finding(session_factory, hacked, more_spam, "harmful", when=clock(), source="hm.seo_block")
    # The day job for the same day again is skipped; the next day's sees the new spam.
    assert account_findings_job(day="2026-10-11", context=context).status == "skipped"
    third = account_findings_job(day="2026-10-12", context=context)
    assert third.counts["compromised"] == 1 and third.counts["inactive"] == 0


def test_previous_month_is_taken_in_the_schedule_time_zone() -> None:
    from zoneinfo import ZoneInfo

    # 2026-11-01 02:00 in Shanghai is still October 31st in UTC: the month assessed is October.
    when = datetime(2026, 10, 31, 18, 0, tzinfo=UTC).astimezone(ZoneInfo("Asia/Shanghai"))
    assert previous_month(when) == "2026-10"
    assert previous_month(datetime(2027, 1, 1, 2, tzinfo=ZoneInfo("Asia/Shanghai"))) == "2026-12"


def test_old_successful_runs_are_pruned_but_failures_and_decisions_stay(
    session_factory: sessionmaker[Session], clock: FixedClock, tmp_path: Path
) -> None:
    from scheduler.jobs import prune_history_job

    context = make_context(session_factory, clock, tmp_path, job_history_days=30)
    run_recorded(context, "deliver", "old-ok", {}, lambda _c: {})
    run_recorded(context, "deliver", "old-failed", {}, lambda _c: 1 / 0)
    run_recorded(context, "retrain", "2026-W30", {}, lambda _c: {"decision": "kept"})
    clock.advance(days=31)
    run_recorded(context, "deliver", "new-ok", {}, lambda _c: {})
    outcome = prune_history_job(context=context)
    assert outcome.status == "ok" and outcome.counts == {"deleted": 1}
    with session_factory() as session:
        left = sorted((r.job, r.period) for r in list_job_runs(session=session))
    assert left == [
        ("deliver", "new-ok"),
        ("deliver", "old-failed"),
        ("prune_history", outcome.period),
        ("retrain", "2026-W30"),
    ]
