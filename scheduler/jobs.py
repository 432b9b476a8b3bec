"""The service's jobs: module-level functions with serialisable arguments, run by APScheduler.

Each job runs through `run_recorded`, which writes a job_runs row for every run (arguments,
start, end, status, error, counts), skips a period that already completed (so a rerun after a
restart or a coalesced misfire does nothing twice), checks the scheduler's fencing token before
the job writes, and tells the admins when a job fails twice in a row. A job that loses its lease
or is stopped by SIGTERM stops between batches; its unit of work is resumable.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.context import JobContext, current_context
from store.findings import (
    NewFinding,
    claim_posts,
    count_unclassified_posts,
    list_unclassified_posts,
    store_findings,
)
from store.job_runs import find_done_run, finish_job_run, recent_statuses, start_job_run
from store.models import Account, CrawlRun, Finding, Post, utcnow
from store.reviews import supersede_findings

log = logging.getLogger(__name__)
DEFAULT_BATCH = 200
ACCOUNT_RULES_VERSION = "account-1"
ACCOUNT_MODEL_VERSION = "-"


class JobStopped(Exception):
    """The job stopped early (SIGTERM): what it did is kept, the rest is done by its next run."""


@dataclass
class JobOutcome:
    job: str
    period: str
    status: str  # ok | failed | interrupted | skipped
    run_id: int
    counts: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def run_recorded(
    context: JobContext,
    job: str,
    period: str,
    args: dict[str, Any],
    body: Callable[[JobContext], dict[str, Any]],
    *,
    idempotent: bool = True,
) -> JobOutcome:
    """Run `body` as one recorded run of `job` for `period` (see the module docstring)."""
    from store.leases import LeaseLost

    factory = context.session_factory
    with factory.begin() as session:
        context.check_fence(session)
        done = find_done_run(session=session, job=job, period=period) if idempotent else None
        run = start_job_run(
            session=session,
            job=job,
            period=period,
            args=args,
            now=context.now(),
            holder=context.holder,
            token=context.token,
        )
        run_id = run.id
        if done is not None:
            finish_job_run(
                session=session,
                run_id=run_id,
                status="skipped",
                now=context.now(),
                counts={"done_by": done.id},
            )
            return JobOutcome(job, period, "skipped", run_id, {"done_by": done.id})
    status, error, counts = "ok", None, {}
    try:
        counts = body(context) or {}
    except (LeaseLost, JobStopped) as stop:
        status, error = "interrupted", str(stop)
        log.warning("job %s (%s) stopped: %s", job, period, stop)
    except Exception as failure:  # the job boundary: record it where a user will see it
        status = "failed"
        error = "".join(traceback.format_exception_only(failure)).strip()
        # The error is in the job history; the traceback only at DEBUG, so none reaches a user.
        log.error("job %s (%s) failed: %s", job, period, error)
        log.debug("job %s (%s) traceback:\n%s", job, period, traceback.format_exc())
    with factory.begin() as session:
        finish_job_run(
            session=session, run_id=run_id, status=status, now=context.now(), counts=counts, error=error
        )
    if status == "failed":
        _tell_admins_on_second_failure(context, job, run_id)
    return JobOutcome(job, period, status, run_id, counts, error)


def _tell_admins_on_second_failure(context: JobContext, job: str, run_id: int) -> None:
    from store.models import JobRun
    from store.notifications import notify_job_failed

    try:
        with context.session_factory.begin() as session:
            if recent_statuses(session=session, job=job, limit=2) == ["failed", "failed"]:
                run = session.get(JobRun, run_id)
                assert run is not None
                notify_job_failed(session=session, run=run, now=context.now())
    except Exception:  # telling people must never make the job fail
        log.exception("could not queue the failure notification for job %s", job)


def _context(context: JobContext | None) -> JobContext:
    return context if context is not None else current_context()


def _stop_if_asked(context: JobContext) -> None:
    if context.stopping.is_set():
        raise JobStopped("the scheduler is stopping; the rest is left for the next run")


# --- crawling ---------------------------------------------------------------------------------


def crawl_due_job(*, limit: int | None = None, context: JobContext | None = None) -> JobOutcome:
    """Crawl the accounts whose slot has begun (one batch), then classify what arrived."""
    ctx = _context(context)
    now = ctx.now()
    outcome = run_recorded(
        ctx,
        "crawl",
        f"{now:%Y-%m-%dT%H:%M}",
        {"limit": limit},
        lambda c: _crawl_due(c, limit or c.settings.scheduler_crawl_batch),
        # Idempotent per account and slot through crawl_schedules, not per tick: a tick in the
        # same minute as a finished batch takes the accounts that batch left due.
        idempotent=False,
    )
    if outcome.status == "ok" and outcome.counts.get("accounts"):
        classify_job(context=ctx)
    return outcome


def _crawl_due(ctx: JobContext, limit: int) -> dict[str, Any]:
    from crawler.run import crawl_accounts
    from govwatch.context import crawl_config
    from store.crawl_schedules import list_due_accounts, record_crawled

    now = ctx.now()
    with ctx.session_factory() as session:
        due = [account.id for account in list_due_accounts(session=session, now=now, limit=limit)]
    if not due:
        return {"accounts": 0}
    with ctx.session_factory.begin() as session:
        ctx.check_fence(session)
    summary = crawl_accounts(
        crawl_config(ctx.settings), due, scrapy_settings=ctx.scrapy_settings, timeout=3600
    )
    if not summary.ok:
        raise RuntimeError(f"crawl process ended with status {summary.returncode}: {summary.log_tail[-500:]}")
    finished = {run.account_id: run.run_id for run in summary.runs}
    with ctx.session_factory.begin() as session:
        ctx.check_fence(session)
        # Only accounts whose run ended move on; the others stay due and are crawled next tick.
        for account in session.scalars(select(Account).where(Account.id.in_(list(finished)))):
            record_crawled(session=session, account=account, now=now, run_id=finished[account.id])
    counts: dict[str, Any] = {"accounts": len(due), "runs": len(summary.runs)}
    counts.update(summary.totals)
    counts["statuses"] = summary.statuses
    return counts


# --- classification ---------------------------------------------------------------------------


@dataclass
class ClassifyReport:
    """What one run of the classification did."""

    model_version: str
    rules_version: str
    posts: int = 0
    batches: int = 0
    findings: dict[str, int] = field(default_factory=dict)
    superseded: int = 0

    @property
    def total_findings(self) -> int:
        return sum(self.findings.values())


def classify_posts(
    session_factory: sessionmaker[Session],
    classifier: Any,
    *,
    batch_size: int = DEFAULT_BATCH,
    max_batches: int | None = None,
    on_batch: Callable[[int, int], None] | None = None,
    before_write: Callable[[Session], None] | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> ClassifyReport:
    """Classify every pending post in batches of `batch_size` (one transaction each).

    Resumable: each batch stores its findings together with a PostClassification marker per post
    in one transaction, and the next batch asks only for posts without a marker, so a run killed
    halfway is finished by the next without duplicating a finding. `on_batch(posts, findings)`
    is called after each committed batch; `before_write(session)` inside each batch's
    transaction (the scheduler checks its fencing token there); `max_batches` stops early.
    In the same transaction the posts' open findings of an older text or of other model or rules
    versions are superseded (store.reviews.supersede_findings); `clock` dates what a batch writes.
    """
    model_version, rules_version = classifier.model_version, classifier.rules_version
    report = ClassifyReport(model_version, rules_version)
    after_id = 0
    while max_batches is None or report.batches < max_batches:
        with session_factory.begin() as session:
            posts = list_unclassified_posts(
                session=session,
                model_version=model_version,
                rules_version=rules_version,
                limit=batch_size,
                after_id=after_id,
            )
            if not posts:
                break
            # Ids only grow, so a post that fails to classify cannot make the job spin on it.
            after_id = posts[-1].id
            if before_write is not None:
                before_write(session)
            # Claim first: posts another run (an overlapping cron job) marked are left to it.
            when = clock()
            claimed = claim_posts(
                session=session,
                posts=posts,
                model_version=model_version,
                rules_version=rules_version,
                classified_at=when,
            )
            # Links are evidence (shop and short links) and the date is what date-dependent rules
            # judge against (a congress not yet held, an ID number's birth date).
            results = classifier.classify_many(
                [
                    {
                        "text": post.text or "",
                        "title": post.title,
                        "links": post.links or (),
                        "published": post.published_at,
                    }
                    for post in claimed
                ]
            )
            stored = 0
            for post, findings in zip(claimed, results, strict=True):
                new = [to_new_finding(f) for f in findings]
                added = store_findings(
                    session=session,
                    post=post,
                    findings=new,
                    model_version=model_version,
                    rules_version=rules_version,
                    created_at=when,
                )
                for item in new:
                    report.findings[item.category] = report.findings.get(item.category, 0) + 1
                stored += added
            # The open findings of an older text or of other versions give way to these, in the
            # same transaction: a reviewer never sees a finding its post no longer warrants.
            report.superseded += len(
                supersede_findings(
                    session=session,
                    posts=claimed,
                    model_version=model_version,
                    rules_version=rules_version,
                    now=when,
                )
            )
        report.posts += len(posts)
        report.batches += 1
        log.info("classified %d posts (%d findings) up to post %d", len(posts), stored, after_id)
        if on_batch is not None:
            on_batch(len(posts), stored)
    return report


def to_new_finding(finding: Any) -> NewFinding:
    """A classifier Finding in the shape the store keeps."""
    return NewFinding(
        category=finding.category,
        score=finding.score,
        source=finding.source,
        spans=[span.to_dict() for span in finding.spans],
        detail=dict(finding.detail),
    )


def pending_posts(session_factory: sessionmaker[Session], classifier: Any) -> int:
    with session_factory() as session:
        return count_unclassified_posts(
            session=session, model_version=classifier.model_version, rules_version=classifier.rules_version
        )


def classify_job(
    *,
    batch_size: int = DEFAULT_BATCH,
    context: JobContext | None = None,
    classifier: Any = None,
    on_batch: Callable[[int, int], None] | None = None,
) -> JobOutcome:
    """Classify the posts the current model and rules versions have not seen.

    `classifier` (default: the current model) and `on_batch` are for callers in this process
    (the CLI's progress bar); the scheduler passes neither.
    """
    ctx = _context(context)

    def body(c: JobContext) -> dict[str, Any]:
        clf = classifier if classifier is not None else c.classifier()

        def before_write(session: Session) -> None:
            _stop_if_asked(c)
            c.check_fence(session)

        with c.classify_lock:  # a second caller waits, then finds what the first left
            report = classify_posts(
                c.session_factory,
                clf,
                batch_size=batch_size,
                before_write=before_write,
                on_batch=on_batch,
                clock=c.now,
            )
        return {
            "posts": report.posts,
            "batches": report.batches,
            "findings": report.findings,
            "superseded": report.superseded,
            "model_version": report.model_version,
            "rules_version": report.rules_version,
        }

    # Not idempotent per period: each run takes whatever is pending when it starts.
    return run_recorded(
        ctx, "classify", f"{ctx.now():%Y-%m-%dT%H:%M}", {"batch_size": batch_size}, body, idempotent=False
    )


# --- account-level findings -------------------------------------------------------------------


def _day(ctx: JobContext, day: str | None) -> date:
    return date.fromisoformat(day) if day else ctx.local_now().date()


def account_findings_job(*, day: str | None = None, context: JobContext | None = None) -> JobOutcome:
    """Daily: raise `inactive`, `unfiled` and `compromised` findings on accounts (once per cause)."""
    ctx = _context(context)
    checked = _day(ctx, day)
    return run_recorded(
        ctx,
        "account_findings",
        checked.isoformat(),
        {"day": checked.isoformat()},
        lambda c: raise_account_findings(c, checked),
    )


def raise_account_findings(ctx: JobContext, checked: date) -> dict[str, Any]:
    """Account-level findings for the check date `checked` (a day in the schedule's time zone).

    inactive: no post published in the `inactive_days` days before `checked` (judged only for
    accounts crawled successfully at least once); unfiled: no filing number or date; compromised:
    injected SEO spam found in its posts. One finding per cause: an account inactive since the same
    last post, or missing the same filing fields, or with the same spam findings, gets no second one.
    """
    now = ctx.now()
    start_local = datetime.combine(checked, datetime.min.time(), tzinfo=ctx.tz)
    window_start = start_local - timedelta(days=ctx.settings.inactive_days)
    counts = {"accounts": 0, "inactive": 0, "unfiled": 0, "compromised": 0}
    with ctx.session_factory.begin() as session:
        ctx.check_fence(session)
        accounts = list(
            session.scalars(select(Account).where(Account.status == "active").order_by(Account.id))
        )
        counts["accounts"] = len(accounts)
        crawled = set(
            session.scalars(
                select(CrawlRun.account_id).where(CrawlRun.status.in_(("ok", "partial"))).distinct()
            )
        )
        last_posts = dict(
            session.execute(
                select(Post.account_id, func.max(Post.published_at))
                .where(Post.published_at < start_local)
                .group_by(Post.account_id)
            ).all()
        )
        existing: dict[tuple[int, str], list[Finding]] = {}
        for finding in session.scalars(
            select(Finding).where(Finding.category.in_(("inactive", "unfiled", "compromised")))
        ):
            existing.setdefault((finding.account_id, finding.category), []).append(finding)
        for account in accounts:
            if account.id in crawled:
                last = last_posts.get(account.id)
                if last is None or last < window_start:
                    since = last.isoformat() if last else None
                    if not any(
                        f.detail.get("last_post_at") == since
                        for f in existing.get((account.id, "inactive"), [])
                    ):
                        days = (start_local - last).days if last else None
                        _add_account_finding(
                            session,
                            account,
                            "inactive",
                            now,
                            {
                                "last_post_at": since,
                                "checked_on": checked.isoformat(),
                                "days_without_post": days,
                                "window_days": ctx.settings.inactive_days,
                            },
                        )
                        counts["inactive"] += 1
            missing = [name for name in ("filing_number", "filing_date") if not getattr(account, name)]
            if missing and not any(
                f.detail.get("missing") == missing for f in existing.get((account.id, "unfiled"), [])
            ):
                _add_account_finding(
                    session, account, "unfiled", now, {"missing": missing, "checked_on": checked.isoformat()}
                )
                counts["unfiled"] += 1
        counts["compromised"] = _raise_compromised(session, existing, now, checked)
    return counts


def _is_spam_finding(finding: Finding) -> bool:
    """Injected spam: the classifier marks SEO spam blocks (detail `compromised`, rule hm.seo_block)."""
    detail = finding.detail or {}
    return finding.category == "harmful" and (
        bool(detail.get("compromised")) or "seo" in (finding.source or "")
    )


def _raise_compromised(
    session: Session, existing: dict[tuple[int, str], list[Finding]], now: datetime, checked: date
) -> int:
    """A compromised finding per account for spam findings not yet covered by one."""
    spam: dict[int, list[Finding]] = {}
    for finding in session.scalars(
        select(Finding).where(
            Finding.category == "harmful",
            Finding.post_id.is_not(None),
            Finding.state.not_in(("dismissed", "superseded")),
        )
    ):
        if _is_spam_finding(finding):
            spam.setdefault(finding.account_id, []).append(finding)
    raised = 0
    for account_id, findings in sorted(spam.items()):
        earlier = existing.get((account_id, "compromised"), [])
        covered = {i for f in earlier for i in f.detail.get("finding_ids", [])}
        # A post flagged again (edited, or reclassified by a new model) is the same break-in.
        covered_posts = {p for f in earlier for p in f.detail.get("post_ids", [])}
        new = sorted(f.id for f in findings if f.id not in covered and f.post_id not in covered_posts)
        if not new:
            continue
        account = session.get(Account, account_id)
        assert account is not None
        post_ids = sorted({f.post_id for f in findings if f.id in new and f.post_id is not None})
        _add_account_finding(
            session,
            account,
            "compromised",
            now,
            {"finding_ids": new, "post_ids": post_ids, "checked_on": checked.isoformat()},
            score=max(f.score for f in findings if f.id in new),
        )
        raised += 1
    return raised


def _add_account_finding(
    session: Session,
    account: Account,
    category: str,
    now: datetime,
    detail: dict[str, Any],
    score: float = 1.0,
) -> Finding:
    finding = Finding(
        account_id=account.id,
        post_id=None,
        category=category,
        score=score,
        spans=[],
        source=f"account:{category}",
        detail=detail,
        model_version=ACCOUNT_MODEL_VERSION,
        rules_version=ACCOUNT_RULES_VERSION,
        state="open",
        created_at=now,
        updated_at=now,
    )
    session.add(finding)
    return finding


# --- notifications ------------------------------------------------------------------------------


def reviewer_digest_job(*, day: str | None = None, context: JobContext | None = None) -> JobOutcome:
    """Daily: each reviewer gets the open findings of their region created the day before."""
    from store.notifications import notify_reviewer_digest

    ctx = _context(context)
    today = _day(ctx, day)

    def body(c: JobContext) -> dict[str, Any]:
        until = datetime.combine(today, datetime.min.time(), tzinfo=c.tz)
        with c.session_factory.begin() as session:
            c.check_fence(session)
            rows = notify_reviewer_digest(
                session=session,
                day=today - timedelta(days=1),
                since=until - timedelta(days=1),
                until=until,
                now=c.now(),
            )
        return {"notifications": len(rows)}

    return run_recorded(ctx, "reviewer_digest", today.isoformat(), {"day": today.isoformat()}, body)


def deliver_notifications_job(*, context: JobContext | None = None) -> JobOutcome:
    """Send the due notifications of the outbox (SMTP or webhook), retrying failures with backoff."""
    from scheduler.delivery import deliver_due

    ctx = _context(context)
    return run_recorded(ctx, "deliver", f"{ctx.now():%Y-%m-%dT%H:%M:%S}", {}, deliver_due, idempotent=False)


# --- monthly assessment -------------------------------------------------------------------------


def previous_month(local: datetime) -> str:
    first = local.date().replace(day=1)
    last_month = first - timedelta(days=1)
    return f"{last_month:%Y-%m}"


def assess_month_job(
    *, month: str | None = None, region: str | None = None, context: JobContext | None = None
) -> JobOutcome:
    """Monthly (the 1st, 02:00): assess the previous month, write its reports, tell the leads."""
    ctx = _context(context)
    month = month or previous_month(ctx.local_now())
    period = f"{month}:{region or 'all'}"
    return run_recorded(
        ctx, "assess_month", period, {"month": month, "region": region}, lambda c: _assess(c, month, region)
    )


def _assess(ctx: JobContext, month: str, region: str | None) -> dict[str, Any]:
    # Built by the reports package; imported here so the scheduler runs without it until it lands.
    from reports.assessment import assess_month
    from reports.render import write_reports
    from store.notifications import notify_report_ready

    with ctx.session_factory.begin() as session:
        ctx.check_fence(session)
    summary = assess_month(session_factory=ctx.session_factory, month=month, region=region, now=ctx.now())
    _stop_if_asked(ctx)
    with ctx.session_factory.begin() as session:
        ctx.check_fence(session)
    if not summary.accounts:
        # No account was registered for the month: nothing to report and nobody to tell.
        return {"summary": _plain(summary), "reports": [], "notifications": 0}
    out_dir = ctx.settings.resolved_report_dir / month
    paths = write_reports(
        session_factory=ctx.session_factory, month=month, region=region, out_dir=out_dir, now=ctx.now()
    )
    with ctx.session_factory.begin() as session:
        ctx.check_fence(session)
        rows = notify_report_ready(
            session=session, month=month, region=region, paths=[str(p) for p in paths], now=ctx.now()
        )
    return {"summary": _plain(summary), "reports": [str(p) for p in paths], "notifications": len(rows)}


def _plain(value: Any) -> Any:
    """A JSON-friendly form of whatever summary the assessment returns."""
    import dataclasses

    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _plain(dataclasses.asdict(value))
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


# --- retraining ---------------------------------------------------------------------------------


def retrain_job(*, week: str | None = None, context: JobContext | None = None) -> JobOutcome:
    """Weekly: retrain from reviewed findings and the training data; promote only if not worse."""
    from scheduler.retrain import retrain

    ctx = _context(context)
    if week is None:
        year, number, _ = ctx.local_now().isocalendar()
        week = f"{year}-W{number:02d}"
    return run_recorded(ctx, "retrain", week, {"week": week}, lambda c: retrain(c, week))


# --- housekeeping -------------------------------------------------------------------------------

KEPT_HISTORY = ("assess_month", "retrain")


def prune_history_job(*, day: str | None = None, context: JobContext | None = None) -> JobOutcome:
    """Daily: forget successful runs older than `job_history_days` (every tick writes one)."""
    from store.job_runs import prune_job_runs

    ctx = _context(context)
    today = _day(ctx, day)

    def body(c: JobContext) -> dict[str, Any]:
        before = c.now() - timedelta(days=c.settings.job_history_days)
        with c.session_factory.begin() as session:
            c.check_fence(session)
            return {"deleted": prune_job_runs(session=session, before=before, keep_jobs=KEPT_HISTORY)}

    return run_recorded(ctx, "prune_history", today.isoformat(), {"day": today.isoformat()}, body)


# Job name -> function, for the runner (resuming interrupted runs) and `govwatch status`.
JOBS: dict[str, Callable[..., JobOutcome]] = {
    "crawl": crawl_due_job,
    "classify": classify_job,
    "account_findings": account_findings_job,
    "reviewer_digest": reviewer_digest_job,
    "deliver": deliver_notifications_job,
    "assess_month": assess_month_job,
    "retrain": retrain_job,
    "prune_history": prune_history_job,
}
