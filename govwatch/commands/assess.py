"""`govwatch assess` and `govwatch report`: the monthly assessment and the reports handed on."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from reports.scoring import load_scoring

console = Console()


@contextmanager
def _spinner(name: str) -> Iterator[Callable[[str], None]]:
    """A transient spinner whose description the job's progress messages replace."""
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(name, total=None)
        yield lambda message: bar.update(task, description=message)


def assess(
    month: str = typer.Option(..., "--month", help="The month to assess, YYYY-MM (Asia/Shanghai)."),
    region: str | None = typer.Option(None, "--region", help="Only accounts in this region code."),
    scoring: Path | None = typer.Option(
        None, "--scoring", help="A scoring TOML file (default: reports/scoring/default.toml)."
    ),
) -> None:
    """Assess every active account for MONTH from stored data, as of now; unchanged outcomes write nothing."""
    from govwatch.context import open_store
    from reports.assessment import assess_month

    rules = load_scoring(scoring)
    session_factory = open_store()
    with _spinner("assess") as progress:
        summary = assess_month(
            session_factory=session_factory,
            month=month,
            region=region,
            now=datetime.now(UTC),
            scoring=rules,
            progress=progress,
        )
    console.print(
        f"{summary.month}{' region ' + region if region else ''} (scoring {summary.scoring_version}): "
        f"{summary.accounts} accounts, {summary.passed} passed, {summary.failed} failed "
        f"({summary.vetoed} vetoed); {summary.new} new, {summary.revised} revised, "
        f"{summary.unchanged} unchanged"
    )


def report(
    month: str = typer.Option(..., "--month", help="The assessed month, YYYY-MM."),
    region: str | None = typer.Option(
        None, "--region", help="One region's report; default: the whole registry and each sub-region."
    ),
    formats: str = typer.Option("xlsx,pdf,html", "--format", help="Comma-separated: xlsx, pdf, html."),
    out: Path | None = typer.Option(None, "--out", help="Output folder (default: <data_dir>/reports)."),
    scoring: Path | None = typer.Option(
        None, "--scoring", help="The scoring TOML whose report texts to use."
    ),
) -> None:
    """Write the month's 检查情况通报 (sections 一 to 六, charts, score cards) per region."""
    from govwatch.context import open_store
    from govwatch.settings import get_settings
    from reports.render import write_region_reports

    rules = load_scoring(scoring)
    out_dir = out or get_settings().resolved_report_dir
    session_factory = open_store()
    with _spinner("report") as progress:
        paths = write_region_reports(
            session_factory=session_factory,
            month=month,
            region=region,
            formats=tuple(f.strip() for f in formats.split(",") if f.strip()),
            out_dir=out_dir,
            now=datetime.now(UTC),
            scoring=rules,
            progress=progress,
        )
    for path in paths:
        console.print(str(path))
