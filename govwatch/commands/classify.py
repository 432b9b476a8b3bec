"""`govwatch classify`: run the classification job (scheduler/jobs.py) now, with a progress bar.

The job is resumable: each batch stores its findings together with a PostClassification marker
per post in one transaction, and the next batch asks only for posts without a marker. Killed
halfway, a rerun finishes the rest without duplicating a finding.
"""

from __future__ import annotations

import logging
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from govwatch.output import clean_text
from govwatch.settings import Settings, get_settings
from scheduler.context import JobContext, process_holder
from scheduler.jobs import (
    DEFAULT_BATCH,
    ClassifyReport,
    classify_job,
    pending_posts,
)
from store.models import Account, Finding, Post

log = logging.getLogger(__name__)
console = Console()


def classify_with_progress(
    session_factory: sessionmaker[Session],
    classifier: Any,
    *,
    batch_size: int = DEFAULT_BATCH,
    settings: Settings | None = None,
) -> ClassifyReport:
    """The job with a Rich progress bar (what `govwatch classify` and the demo run)."""
    total = pending_posts(session_factory, classifier)
    columns = (TextColumn("classify"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[found]}"))
    with Progress(*columns, TimeElapsedColumn(), console=console) as progress:
        task = progress.add_task("classify", total=total, found="")
        found = 0

        def on_batch(posts: int, findings: int) -> None:
            nonlocal found
            found += findings
            progress.update(task, advance=posts, found=f"{found} findings")

        outcome = classify_job(
            batch_size=batch_size,
            context=JobContext(
                session_factory=session_factory,
                settings=settings or get_settings(),
                holder=process_holder("cli"),
            ),
            classifier=classifier,
            on_batch=on_batch,
        )
    if outcome.status != "ok":
        raise RuntimeError(f"classification {outcome.status}: {outcome.error}")
    counts = outcome.counts
    return ClassifyReport(
        counts["model_version"],
        counts["rules_version"],
        posts=counts["posts"],
        batches=counts["batches"],
        findings=dict(counts["findings"]),
        superseded=int(counts.get("superseded", 0)),
    )


def print_findings_table(
    session_factory: sessionmaker[Session],
    *,
    model_version: str | None = None,
    limit: int = 20,
    out: Console | None = None,
) -> None:
    """The latest findings: account, post, category, score, source and the evidence text."""
    out = out or console
    query = (
        select(Finding, Post.title, Account.name)
        .join(Post, Finding.post_id == Post.id)
        .join(Account, Finding.account_id == Account.id)
        .where(Finding.state != "superseded")
        .order_by(Finding.score.desc(), Finding.id)
        .limit(limit)
    )
    if model_version is not None:
        query = query.where(Finding.model_version == model_version)
    with session_factory() as session:
        rows = session.execute(query).all()
    table = Table("account", "post", "category", "score", "source", "evidence", title="findings")
    for finding, title, account in rows:
        evidence = " | ".join(str(span.get("text", ""))[:40] for span in (finding.spans or [])[:3])
        # Crawled text is hostile: control characters escaped, no Rich markup interpreted.
        table.add_row(
            Text(clean_text(account)),
            Text(clean_text((title or f"post {finding.post_id}")[:24])),
            finding.category,
            f"{finding.score:.2f}",
            finding.source[:32],
            Text(clean_text(evidence)),
        )
    out.print(table)


def classify_and_show(
    session_factory: sessionmaker[Session],
    settings: Any = None,
    *,
    show: int = 15,
    out: Console | None = None,
) -> ClassifyReport:
    """Classify every pending post with the current model, then print the top findings.

    One call for `govwatch demo`: loads the classifier `govwatch classify` would use (the
    promoted version in the settings' model folder, else the packaged default).
    """
    from govwatch.commands.model import load_current_classifier

    out = out or console
    clf = load_current_classifier(settings)
    out.print(f"classifier: model {clf.model_version}, rules {clf.rules_version}")
    report = classify_with_progress(session_factory, clf, settings=settings)
    summary = ", ".join(f"{n} {c}" for c, n in sorted(report.findings.items())) or "none"
    out.print(f"classified {report.posts} posts in {report.batches} batches; findings: {summary}")
    if report.superseded:
        out.print(f"{report.superseded} open findings of older texts or versions superseded")
    if show and report.total_findings:
        print_findings_table(session_factory, model_version=clf.model_version, limit=show, out=out)
    return report


def classify(
    batch_size: int = typer.Option(DEFAULT_BATCH, "--batch-size", min=1, help="Posts per transaction."),
    show: int = typer.Option(20, "--show", min=0, help="Print this many of the top findings afterwards."),
    wait: bool = typer.Option(
        False, "--wait", help="If another classify is running, wait for it instead of stopping (exit 1)."
    ),
    allow_rules_mismatch: bool = typer.Option(
        False, "--allow-rules-mismatch", help="Use a model trained with other rules than the installed ones."
    ),
) -> None:
    """Classify stored posts that the current model and rules versions have not seen yet.

    One classify runs at a time: a second one stops with a message (or waits, with --wait).
    """
    from govwatch.commands.model import load_current_classifier
    from govwatch.context import open_store
    from govwatch.locks import job_lock

    session_factory = open_store()
    clf = load_current_classifier(allow_rules_mismatch=allow_rules_mismatch)
    console.print(f"model {clf.model_version}, rules {clf.rules_version}")
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    with job_lock(session_factory, "classify", wait=wait, say=err.print):
        report = classify_with_progress(session_factory, clf, batch_size=batch_size)
    summary = ", ".join(f"{n} {c}" for c, n in sorted(report.findings.items())) or "none"
    console.print(f"classified {report.posts} posts in {report.batches} batches; findings: {summary}")
    if show and report.total_findings:
        print_findings_table(session_factory, model_version=clf.model_version, limit=show)
