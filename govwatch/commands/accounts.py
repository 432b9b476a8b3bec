"""`govwatch accounts`: import the office's registry and list accounts."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from govwatch.context import open_store
from govwatch.registry import RegistryFileError
from govwatch.registry_import import ImportReport, import_registry
from store.accounts import list_accounts
from store.errors import InvalidInput
from store.models import PLATFORMS

app = typer.Typer(help="Import the account registry and list accounts.", no_args_is_help=True)
console = Console()


@app.command("import")
def import_command(
    file: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="Registry as .csv (UTF-8 or GBK) or .xlsx."
    ),
    skip_invalid: bool = typer.Option(
        False, "--skip-invalid", help="Import the valid rows even if some are invalid."
    ),
) -> None:
    """Create or update accounts from FILE; re-importing the same sheet changes nothing."""
    session_factory = open_store()
    try:
        report = import_registry(session_factory, file, skip_invalid=skip_invalid)
    except RegistryFileError as error:
        console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(2) from None
    print_import_report(report)
    if report.errors and not report.applied:
        raise typer.Exit(1)


def print_import_report(report: ImportReport) -> None:
    for notice in report.notices:
        console.print(f"[yellow]note:[/yellow] {notice}")
    for error in report.errors:
        console.print(f"[red]{report.path.name}: {error}[/red]", highlight=False)
    if report.errors and not report.applied:
        console.print(
            f"{len(report.errors)} invalid row(s) of {report.rows}: nothing imported. "
            "Fix them, or pass --skip-invalid to import the valid rows."
        )
        return
    console.print(
        f"{report.path.name}: {report.rows} rows, {report.created} created, {report.updated} updated, "
        f"{report.unchanged} unchanged, {len(report.errors)} skipped"
    )


@app.command("list")
def list_command(
    region: str = typer.Option(None, "--region", help="Region code; includes the regions under it."),
    platform: str = typer.Option(None, "--platform", help=f"One of {', '.join(PLATFORMS)}."),
    status: str = typer.Option(None, "--status", help="active, suspended or closed."),
    limit: int = typer.Option(200, "--limit", help="Show at most this many accounts."),
) -> None:
    """List registered accounts."""
    session_factory = open_store()
    try:
        with session_factory() as session:
            accounts = list_accounts(session=session, region_code=region, platform=platform, status=status)
    except InvalidInput as error:
        console.print(f"[red]error:[/red] {error.message}")
        raise typer.Exit(2) from None
    table = Table("id", "platform", "handle", "name", "organization", "region", "filing", "status")
    for account in accounts[:limit]:
        table.add_row(
            str(account.id),
            account.platform,
            account.handle,
            account.name,
            account.organization.name,
            account.region_code,
            account.filing_number or "-",
            account.status,
        )
    console.print(table)
    shown = min(len(accounts), limit)
    console.print(f"{len(accounts)} account(s)" + (f", first {shown} shown" if shown < len(accounts) else ""))
