"""`govwatch demo`: the main job end to end on a fresh SQLite database and the bundled sample site."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from crawler.run import CrawlSummary, crawl_accounts
from govwatch.commands.classify import classify_and_show
from govwatch.context import crawl_config, upgrade_store
from govwatch.demo_cycle import print_how_to_run, run_account_checks
from govwatch.registry_import import import_registry
from govwatch.sample_site import start_sample_site
from govwatch.settings import Settings, get_settings
from reports.demo import assess_and_report
from store.errors import InvalidInput
from store.models import Account, CrawlRun, Post, Snapshot
from web.demo import show_portal_users

SAMPLE_REGISTRY = Path(__file__).parent / "sample" / "registry.csv"
SITE_PLACEHOLDER = "{site}"
# Written beside a database the demo created, so the next demo knows it may replace it. The demo
# never removes a database without it: `--data-dir var` must not wipe the production data.
DEMO_MARKER = ".govwatch-demo"
DEMO_FILES = ("govwatch.db", "govwatch.db-wal", "govwatch.db-shm", "sample-registry.csv")

console = Console()


def run_demo(data_dir: Path) -> None:
    settings = demo_settings(data_dir)
    console.rule("[bold]govwatch demo")
    console.print(f"database: {settings.resolved_database_url} (fresh)")
    session_factory = upgrade_store(settings)

    site_url = start_sample_site()
    console.print(f"sample site: {site_url}")
    registry = write_sample_registry(settings.data_dir, site_url)
    report = import_registry(session_factory, registry, actor="demo")
    console.print(f"registry: {report.rows} rows, {report.created} accounts created")
    print_accounts(session_factory)

    summary = crawl_with_progress(settings)
    print_crawl(summary)
    print_store_totals(session_factory)

    classify_and_show(session_factory, settings, out=console)

    run_account_checks(session_factory, settings, console)
    console.rule("[bold]assessment and reports")
    assess_and_report(session_factory, settings.resolved_report_dir, now=datetime.now(UTC), console=console)
    show_portal_users(session_factory, settings.data_dir, console)
    print_how_to_run(settings, console)


def demo_settings(data_dir: Path) -> Settings:
    """Settings for a fresh demo database; politeness delays off, because the only site is our own."""
    data_dir = prepare_demo_dir(data_dir)
    return get_settings().model_copy(
        update={
            "data_dir": data_dir,
            "database_url": None,
            "redis_url": None,
            "crawl_delay": 0.0,
            "crawl_concurrency_per_site": 4,
        }
    )


def prepare_demo_dir(data_dir: Path) -> Path:
    """The demo folder, absolute, emptied of a previous demo's files and of nothing else.

    Refuses (InvalidInput) a folder holding a database the demo did not create.
    """
    data_dir = data_dir.expanduser().resolve()
    if data_dir.exists() and not data_dir.is_dir():
        raise InvalidInput(f"--data-dir {data_dir} is a file, not a folder")
    database = data_dir / "govwatch.db"
    marker = data_dir / DEMO_MARKER
    # A demo from before the marker left its sample registry beside its database instead.
    made_by_demo = marker.is_file() or (data_dir / "sample-registry.csv").is_file()
    if database.exists() and not made_by_demo:
        raise InvalidInput(
            f"{database} exists and was not created by the demo; the demo will not replace it. "
            "Choose another --data-dir (the default is var/demo)"
        )
    data_dir.mkdir(parents=True, exist_ok=True)
    for name in DEMO_FILES:
        (data_dir / name).unlink(missing_ok=True)
    marker.write_text("This folder holds a database made by `govwatch demo`; the demo replaces it.\n")
    return data_dir


def write_sample_registry(data_dir: Path, site_url: str) -> Path:
    """The bundled registry with its source URLs pointed at the running sample site."""
    path = data_dir / "sample-registry.csv"
    path.write_text(
        SAMPLE_REGISTRY.read_text(encoding="utf-8").replace(SITE_PLACEHOLDER, site_url), encoding="utf-8"
    )
    return path


def print_accounts(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session:
        rows = session.execute(
            select(Account.platform, func.count()).group_by(Account.platform).order_by(Account.platform)
        ).all()
    console.print("accounts by platform: " + ", ".join(f"{platform} {count}" for platform, count in rows))


def crawl_with_progress(settings: Settings) -> CrawlSummary:
    with Progress(
        TextColumn("crawl"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[last]}"),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("crawl", total=None, last="")

        def on_event(event: dict[str, object]) -> None:
            if event.get("event") == "accounts":
                names = event.get("names")
                progress.update(task, total=len(names) if isinstance(names, dict) else None)
            elif event.get("event") == "run":
                progress.update(task, advance=1, last=f"{event.get('account_id')}: {event.get('status')}")

        return crawl_accounts(crawl_config(settings), all_accounts=True, on_event=on_event, timeout=300)


def print_crawl(summary: CrawlSummary) -> None:
    table = Table("account", "status", "new", "updated", "deleted", "error", title="crawl runs")
    for run in summary.runs:
        table.add_row(
            run.name or str(run.account_id),
            run.status,
            str(run.counts.get("new", 0)),
            str(run.counts.get("updated", 0)),
            str(run.counts.get("deleted", 0)),
            run.error or "",
        )
    console.print(table)
    if not summary.ok:
        console.print(f"[red]crawl worker ended with status {summary.returncode}[/red]\n{summary.log_tail}")


def print_store_totals(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session:
        posts = dict(session.execute(select(Post.status, func.count()).group_by(Post.status)).all())
        snapshots = session.scalar(select(func.count()).select_from(Snapshot))
        runs = dict(session.execute(select(CrawlRun.status, func.count()).group_by(CrawlRun.status)).all())
    console.print(
        "stored: "
        + ", ".join(f"{n} {status} posts" for status, n in sorted(posts.items()))
        + f"; {snapshots} snapshots; crawl runs "
        + ", ".join(f"{n} {s}" for s, n in sorted(runs.items()))
    )
