"""`govwatch classify`: classify stored posts not yet seen by the current model and rules versions.

The job is resumable: each batch stores its findings together with a PostClassification marker
per post in one transaction, and the next batch asks only for posts without a marker. Killed
halfway, a rerun finishes the rest without duplicating a finding.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from store.findings import (
    NewFinding,
    claim_posts,
    count_unclassified_posts,
    list_unclassified_posts,
    store_findings,
)
from store.models import Account, Finding, Post

log = logging.getLogger(__name__)
console = Console()
DEFAULT_BATCH = 200


@dataclass
class ClassifyReport:
    """What one run of the job did."""

    model_version: str
    rules_version: str
    posts: int = 0
    batches: int = 0
    findings: dict[str, int] = field(default_factory=dict)

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
) -> ClassifyReport:
    """Classify every pending post in batches of `batch_size` (one transaction each).

    `on_batch(posts_in_batch, findings_in_batch)` is called after each committed batch;
    `max_batches` stops early (a test uses it to play an interrupted run).
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
            # Claim first: posts another job (an overlapping cron run) marked are left to it.
            claimed = claim_posts(
                session=session, posts=posts, model_version=model_version, rules_version=rules_version
            )
            results = classifier.classify_many([(post.text or "", post.title) for post in claimed])
            stored = 0
            for post, findings in zip(claimed, results, strict=True):
                new = [to_new_finding(f) for f in findings]
                added = store_findings(
                    session=session,
                    post=post,
                    findings=new,
                    model_version=model_version,
                    rules_version=rules_version,
                )
                for item in new:
                    report.findings[item.category] = report.findings.get(item.category, 0) + 1
                stored += added
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


def classify_with_progress(
    session_factory: sessionmaker[Session], classifier: Any, *, batch_size: int = DEFAULT_BATCH
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

        return classify_posts(session_factory, classifier, batch_size=batch_size, on_batch=on_batch)


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
        table.add_row(
            account,
            (title or f"post {finding.post_id}")[:24],
            finding.category,
            f"{finding.score:.2f}",
            finding.source[:32],
            evidence,
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
    report = classify_with_progress(session_factory, clf)
    summary = ", ".join(f"{n} {c}" for c, n in sorted(report.findings.items())) or "none"
    out.print(f"classified {report.posts} posts in {report.batches} batches; findings: {summary}")
    if show and report.total_findings:
        print_findings_table(session_factory, model_version=clf.model_version, limit=show, out=out)
    return report


def classify(
    batch_size: int = typer.Option(DEFAULT_BATCH, "--batch-size", min=1, help="Posts per transaction."),
    show: int = typer.Option(20, "--show", min=0, help="Print this many of the top findings afterwards."),
    wait: bool = typer.Option(
        False, "--wait", help="If another classify is running, wait for it instead of stopping (exit 1)."
    ),
) -> None:
    """Classify stored posts that the current model and rules versions have not seen yet.

    One classify runs at a time: a second one stops with a message (or waits, with --wait).
    """
    from govwatch.commands.model import load_current_classifier
    from govwatch.context import open_store
    from govwatch.locks import job_lock

    session_factory = open_store()
    clf = load_current_classifier()
    console.print(f"model {clf.model_version}, rules {clf.rules_version}")
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    with job_lock(session_factory, "classify", wait=wait, say=err.print):
        report = classify_with_progress(session_factory, clf, batch_size=batch_size)
    summary = ", ".join(f"{n} {c}" for c, n in sorted(report.findings.items())) or "none"
    console.print(f"classified {report.posts} posts in {report.batches} batches; findings: {summary}")
    if show and report.total_findings:
        print_findings_table(session_factory, model_version=clf.model_version, limit=show)
