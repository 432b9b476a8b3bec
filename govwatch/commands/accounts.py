"""`govwatch accounts`: import the office's registry and list accounts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from govwatch.context import open_store
from govwatch.output import clean_text, print_json, print_table
from govwatch.registry import RegistryFileError
from govwatch.registry_import import ImportReport, import_registry
from store.accounts import count_accounts, list_accounts
from store.errors import InvalidInput
from store.models import ACCOUNT_STATUSES, PLATFORMS

app = typer.Typer(help="Import the account registry and list accounts.", no_args_is_help=True)
console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)
MAX_SHOWN_CHANGES = 50


@app.command("import")
def import_command(
    file: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="Registry as .csv (UTF-8 or GBK) or .xlsx."
    ),
    skip_invalid: bool = typer.Option(
        False, "--skip-invalid", help="Import the valid rows even if some are invalid."
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Show what would be created and changed, field by field; write nothing."
    ),
) -> None:
    """Create or update accounts from FILE; re-importing the same sheet changes nothing.

    A column the sheet lacks, or a cell it leaves empty, leaves the stored value alone.
    """
    from govwatch.locks import job_lock

    session_factory = open_store()
    try:
        if dry_run:
            report = import_registry(session_factory, file, skip_invalid=skip_invalid, dry_run=True)
        else:
            with job_lock(session_factory, "accounts.import", wait=True, say=err_console.print):
                report = import_registry(session_factory, file, skip_invalid=skip_invalid)
    except RegistryFileError as error:
        raise InvalidInput(str(error)) from None
    print_import_report(report)
    if report.errors and not (report.applied or (report.dry_run and skip_invalid)):
        raise typer.Exit(1)


def print_import_report(report: ImportReport) -> None:
    for notice in report.notices:
        err_console.print(f"[yellow]note:[/yellow] {clean_text(notice)}", markup=True)
    for error in report.errors:
        console.print(f"{clean_text(report.path.name)}: {clean_text(error)}", markup=False)
    if report.errors and not report.applied and not (report.dry_run and report.changes):
        console.print(
            f"{len(report.errors)} invalid row(s) of {report.rows}: nothing imported. "
            "Fix them, or pass --skip-invalid to import the valid rows."
        )
        return
    if report.dry_run:
        for change in report.changes[:MAX_SHOWN_CHANGES]:
            if change.action == "create":
                key = f"{clean_text(change.platform)}/{clean_text(change.handle)}"
                console.print(f"row {change.row}: would create {key}", markup=False)
                continue
            fields = ", ".join(
                f"{name}: {clean_text(_short(before))} -> {clean_text(_short(after))}"
                for name, (before, after) in change.changes.items()
            )
            console.print(
                f"row {change.row}: would update account {change.account_id} "
                f"{clean_text(change.platform)}/{clean_text(change.handle)}: {fields}",
                markup=False,
            )
        if len(report.changes) > MAX_SHOWN_CHANGES:
            console.print(f"... and {len(report.changes) - MAX_SHOWN_CHANGES} more")
    verb = "would be " if report.dry_run else ""
    fields = ", ".join(f"{name} {count}" for name, count in report.changed_fields.items())
    console.print(
        f"{clean_text(report.path.name)}: {report.rows} rows, {report.created} {verb}created, "
        f"{report.updated} {verb}updated"
        + (f" (changed fields: {fields})" if fields else "")
        + f", {report.unchanged} unchanged, {len(report.errors)} skipped"
        + ("; dry run, nothing written" if report.dry_run else ""),
        markup=False,
    )


def _short(value: Any, width: int = 60) -> str:
    text = "-" if value is None or value == "" else str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


@app.command("list")
def list_command(
    region: str = typer.Option(None, "--region", help="Region code; includes the regions under it."),
    platform: str = typer.Option(None, "--platform", help=f"One of {', '.join(PLATFORMS)}."),
    status: str = typer.Option(None, "--status", help=f"One of {', '.join(ACCOUNT_STATUSES)}."),
    limit: int = typer.Option(200, "--limit", min=0, help="Show at most this many accounts (0: all)."),
    offset: int = typer.Option(0, "--offset", min=0, help="Skip this many accounts first (paging)."),
    as_json: bool = typer.Option(False, "--json", help="Print the accounts as a JSON list."),
) -> None:
    """List registered accounts (full values when the output is not a terminal)."""
    session_factory = open_store()
    with session_factory() as session:
        total = count_accounts(session=session, region_code=region, platform=platform, status=status)
        accounts = list_accounts(
            session=session,
            region_code=region,
            platform=platform,
            status=status,
            limit=limit or None,
            offset=offset,
        )
        data = [
            {
                "id": account.id,
                "platform": account.platform,
                "handle": account.handle,
                "name": account.name,
                "organization": account.organization.name,
                "region_code": account.region_code,
                "filing_number": account.filing_number,
                "filing_date": account.filing_date.isoformat() if account.filing_date else None,
                "status": account.status,
                "source": account.source,
            }
            for account in accounts
        ]
    if as_json:
        print_json(data)
        return
    print_table(
        ("id", "platform", "handle", "name", "organization", "region", "filing", "status"),
        [
            [row["id"], row["platform"], row["handle"], row["name"], row["organization"],
             row["region_code"], row["filing_number"] or "-", row["status"]]
            for row in data
        ],
    )  # fmt: skip
    shown = len(data)
    suffix = f", {shown} shown from {offset + 1}" if shown < total and shown else ""
    console.print(f"{total} account(s){suffix}", markup=False)
