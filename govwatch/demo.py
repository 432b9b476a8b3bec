"""`govwatch demo`: the main job end to end on a fresh SQLite database and the bundled sample site."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from crawler.run import CrawlSummary, crawl_accounts
from govwatch.commands.classify import classify_and_show
from govwatch.context import crawl_config, open_store
from govwatch.registry_import import import_registry
from govwatch.sample_site import start_sample_site
from govwatch.settings import Settings, get_settings
from store.models import Account, CrawlRun, Post, Snapshot

SAMPLE_REGISTRY = Path(__file__).parent / "sample" / "registry.csv"
SITE_PLACEHOLDER = "{site}"

console = Console()


def run_demo(data_dir: Path) -> None:
    settings = demo_settings(data_dir)
    console.rule("[bold]govwatch demo")
    console.print(f"database: {settings.resolved_database_url} (fresh)")
    session_factory = open_store(settings)

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

    from web.demo import show_portal_users

    show_portal_users(session_factory, settings.data_dir, console)


def demo_settings(data_dir: Path) -> Settings:
    """Settings for a fresh demo database; politeness delays off, because the only site is our own."""
    data_dir.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        (data_dir / f"govwatch.db{suffix}").unlink(missing_ok=True)
    return get_settings().model_copy(
        update={
            "data_dir": data_dir,
            "database_url": None,
            "redis_url": None,
            "crawl_delay": 0.0,
            "crawl_concurrency_per_site": 4,
        }
    )


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
