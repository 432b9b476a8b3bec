"""The demo's last steps: the scheduler's daily account checks as a job, then how to run the service."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from sqlalchemy.orm import Session, sessionmaker

from govwatch.settings import Settings
from scheduler.context import JobContext, process_holder
from scheduler.jobs import JobOutcome, account_findings_job


def run_account_checks(session_factory: sessionmaker[Session], settings: Settings, console: Console) -> None:
    """The scheduler's daily account-level checks (inactive, unfiled, compromised), run once as a job."""
    context = JobContext(session_factory=session_factory, settings=settings, holder=process_holder("demo"))
    outcome: JobOutcome = account_findings_job(context=context)
    counts = ", ".join(f"{k} {v}" for k, v in outcome.counts.items() if not isinstance(v, dict))
    detail = escape(outcome.error or counts)
    console.print(f"job {outcome.job} ({outcome.period}): {outcome.status}; {detail}")


def print_how_to_run(settings: Settings, console: Console) -> None:
    """How to start the whole service (scheduler and web app) on the demo database."""
    data_dir = escape(str(settings.data_dir))
    console.rule("[bold]run it")
    console.print(
        "Start the service (scheduler + web app) on this demo database:\n"
        f"  GOVWATCH_DATA_DIR={data_dir} .venv/bin/govwatch run\n"
        f"  GOVWATCH_DATA_DIR={data_dir} .venv/bin/govwatch status"
    )
