"""`govwatch scheduler`, `govwatch status`, `govwatch run`: the service running itself."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from govwatch.context import configure_logging, engine_for, open_store
from govwatch.settings import get_settings

app = typer.Typer(help="Run the scheduler, or one of its jobs now.", no_args_is_help=True)
console = Console()
err_console = Console(stderr=True)


@app.command("run")
def run_scheduler() -> None:
    """Run the scheduler in this process until SIGTERM/Ctrl-C (standby while another one holds the lease)."""
    from scheduler.runner import SchedulerService

    settings = get_settings()
    configure_logging(settings)
    session_factory = open_store(settings)
    service = SchedulerService(
        settings,
        session_factory,
        engine_for(settings.resolved_database_url),
        on_state=lambda state, detail: err_console.print(f"scheduler {state}: {escape(detail)}"),
    )

    def stop(signum: int, _frame: Any) -> None:
        err_console.print(f"scheduler: {signal.Signals(signum).name}, finishing the running jobs")
        service.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    service.run()


@app.command("run-job")
def run_job(
    job: str = typer.Argument(
        ...,
        help="A job name: see `govwatch status` (crawl, classify, assess_month, retrain, ...).",
    ),
    arg: list[str] = typer.Option(
        [], "--arg", help="A job argument NAME=VALUE (e.g. month=2026-10); repeat."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the run's outcome as JSON."),
) -> None:
    """Run one job now, outside the schedule; it is recorded in the job history like a scheduled run."""
    from scheduler.context import JobContext, process_holder
    from scheduler.jobs import JOBS

    if job not in JOBS:
        raise typer.BadParameter(f"unknown job {job!r}; one of {', '.join(JOBS)}", param_hint="JOB")
    kwargs: dict[str, Any] = {}
    for item in arg:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise typer.BadParameter(f"{item!r}: expected NAME=VALUE", param_hint="--arg")
        kwargs[name] = int(value) if value.isdigit() and name in ("limit", "batch_size") else value
    settings = get_settings()
    configure_logging(settings)
    context = JobContext(
        session_factory=open_store(settings), settings=settings, holder=process_holder("cli")
    )
    try:
        outcome = JOBS[job](context=context, **kwargs)
    except TypeError as error:
        raise typer.BadParameter(str(error), param_hint="--arg") from None
    result = {
        "job": outcome.job,
        "period": outcome.period,
        "status": outcome.status,
        "run_id": outcome.run_id,
        "counts": outcome.counts,
        "error": outcome.error,
    }
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False, default=str))
    else:
        colour = {"ok": "green", "skipped": "yellow"}.get(outcome.status, "red")
        console.print(
            f"{job} ({outcome.period}): [{colour}]{outcome.status}[/{colour}] (run {outcome.run_id})"
        )
        if outcome.counts:
            console.print(escape(json.dumps(outcome.counts, ensure_ascii=False, default=str)))
        if outcome.error:
            console.print(f"[red]error:[/red] {escape(outcome.error)}")
    if outcome.status in ("failed", "interrupted"):
        raise typer.Exit(1)


@app.command("history")
def history(
    job: str | None = typer.Option(None, "--job", help="Only this job's runs."),
    failures: bool = typer.Option(False, "--failures", help="Only failed and interrupted runs."),
    limit: int = typer.Option(30, "--limit", min=1, help="At most this many, newest first."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """The job history: every run with its arguments, start, end, status, counts and error."""
    from sqlalchemy import select

    from store.models import JobRun

    session_factory = open_store(get_settings())
    query = select(JobRun).order_by(JobRun.id.desc()).limit(limit)
    if job:
        query = query.where(JobRun.job == job)
    if failures:
        query = query.where(JobRun.status.in_(("failed", "interrupted")))
    with session_factory() as session:
        rows: list[dict[str, Any]] = [
            {
                "id": run.id,
                "job": run.job,
                "period": run.period,
                "args": run.args,
                "started_at": run.started_at.isoformat(),
                "finished_at": run.finished_at.isoformat() if run.finished_at else None,
                "status": run.status,
                "counts": run.counts,
                "error": run.error,
                "holder": run.holder,
            }
            for run in session.scalars(query)
        ]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
        return
    table = Table(
        "id", "job", "period", "started (UTC)", "seconds", "status", "counts / error", title="job runs"
    )
    for row in rows:
        seconds = ""
        if row["finished_at"]:
            from datetime import datetime

            delta = datetime.fromisoformat(row["finished_at"]) - datetime.fromisoformat(row["started_at"])
            seconds = f"{delta.total_seconds():.1f}"
        detail = row["error"] or summarize_counts(row["counts"])
        table.add_row(
            str(row["id"]),
            row["job"],
            row["period"],
            row["started_at"][:19].replace("T", " "),
            seconds,
            row["status"],
            escape(detail[:80] if console.is_terminal else detail),
        )
    console.print(table)


def status(
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
) -> None:
    """Every scheduled job's next run and last result, failures first, and who holds the scheduler lease."""
    from scheduler.context import system_clock
    from scheduler.status import scheduler_status

    settings = get_settings()
    session_factory = open_store(settings)
    data = scheduler_status(
        session_factory, engine_for(settings.resolved_database_url), settings, system_clock()
    )
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
        return
    lease = data["scheduler"]
    if lease["active"]:
        console.print(
            f"scheduler: [green]running[/green] ({escape(lease['holder'])}, "
            f"lease until {lease['expires_at'][:19]} UTC)"
        )
    else:
        console.print(
            "scheduler: [yellow]not running[/yellow] "
            "(start it with `govwatch run` or `govwatch scheduler run`)"
        )
    table = Table(
        "job",
        "next run (UTC)",
        "last status",
        "period",
        "last finished (UTC)",
        "counts / error",
        title="jobs",
    )
    for job in data["jobs"]:
        status_text = job["last_status"] or "never ran"
        if job["last_status"] in ("failed", "interrupted"):
            status_text = f"[red]{status_text}{' (twice)' if job['failed_twice'] else ''}[/red]"
        detail = job["last_error"] or summarize_counts(job["last_counts"])
        table.add_row(
            job["job"],
            (job["next_run"] or "")[:19].replace("T", " "),
            status_text,
            job["last_period"] or "",
            (job["last_finished"] or "")[:19].replace("T", " "),
            escape(detail[:80] if console.is_terminal else detail),
        )
    table.columns[0].no_wrap = True
    console.print(table)


def summarize_counts(counts: dict[str, Any]) -> str:
    """`name value` pairs of the plain figures (nested ones are in `--json`)."""
    return ", ".join(f"{k} {v}" for k, v in counts.items() if isinstance(v, int | float | str))


def web_command_exists(name: str) -> bool:
    import typer.main

    from govwatch.cli import app as root

    return name in typer.main.get_command(root).commands  # type: ignore[attr-defined]


def run_all() -> None:
    """Start the scheduler and the web app as two processes; stop both on SIGTERM/Ctrl-C."""
    settings = get_settings()
    web = settings.web_command
    web_args = web.split()
    if not web_args or not web_command_exists(web_args[0]):
        err_console.print(
            f"[red]error:[/red] this build of govwatch has no `govwatch {escape(web)}` command "
            "(the web app), "
            "so `govwatch run` cannot start it. Run the scheduler alone with `govwatch scheduler run`."
        )
        raise typer.Exit(2)
    open_store(settings)  # migrate once here, not in both children at the same time
    base = [sys.executable, "-m", "govwatch"]
    children: dict[str, subprocess.Popen[bytes]] = {}
    stopping = False

    def stop(signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True
        for child in children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)

    # Handlers first: a SIGTERM that arrives while the children start still reaches them.
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    children["scheduler"] = subprocess.Popen([*base, "scheduler", "run"])
    children["web"] = subprocess.Popen([*base, *web_args])
    if stopping:
        stop(signal.SIGTERM, None)
    err_console.print(
        f"govwatch run: scheduler pid {children['scheduler'].pid}, web pid {children['web'].pid}"
    )
    code = 0
    while any(child.poll() is None for child in children.values()):
        for name, child in children.items():
            if child.poll() is not None and not stopping:
                err_console.print(
                    f"[red]{name} exited with status {child.returncode}[/red]; stopping the other"
                )
                code = child.returncode or 1
                stop(signal.SIGTERM, None)
        time.sleep(0.5)
    for child in children.values():
        child.wait()
    raise typer.Exit(code)


__all__ = ["app", "run_all", "status"]
