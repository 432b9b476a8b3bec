"""The demo's last step: assess the sample month and write its reports."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path

from rich.console import Console
from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, sessionmaker

from reports.assessment import AssessSummary, assess_month, local_date
from reports.render import write_region_reports
from store.models import Finding, Post, Review


def sample_month(session_factory: sessionmaker[Session]) -> str | None:
    """The month (Asia/Shanghai) in which most stored posts were published."""
    with session_factory() as session:
        times = session.scalars(select(Post.published_at).where(Post.published_at.is_not(None)))
        months = Counter(local_date(t).strftime("%Y-%m") for t in times if t is not None)
    return months.most_common(1)[0][0] if months else None


def assess_and_report(
    session_factory: sessionmaker[Session], out_dir: Path, *, now: datetime, console: Console
) -> tuple[AssessSummary, list[Path]] | None:
    """Assess the sample month as of `now` and write every report; prints what it did and where."""
    month = sample_month(session_factory)
    if month is None:
        console.print("[yellow]no dated posts stored: nothing to assess[/yellow]")
        return None
    summary = assess_month(session_factory=session_factory, month=month, now=now)
    console.print(
        f"assessment {month} (scoring {summary.scoring_version}): {summary.accounts} accounts, "
        f"{summary.passed} passed, {summary.failed} failed ({summary.vetoed} vetoed)"
    )
    with session_factory() as session:
        unreviewed = session.scalar(
            select(func.count()).select_from(Finding).where(~exists().where(Review.finding_id == Finding.id))
        )
    if unreviewed:
        console.print(
            f"{unreviewed} findings await a reviewer's decision: only confirmed findings count, "
            "so they cost no points yet"
        )
    paths = write_region_reports(session_factory=session_factory, month=month, out_dir=out_dir, now=now)
    console.print(f"reports in {out_dir}:")
    for path in paths:
        console.print(f"  {path}")
    return summary, paths
