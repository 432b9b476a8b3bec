"""Imports a registry file: parse and validate it, then hand the rows to store.accounts.import_accounts.

All or nothing, unless invalid rows may be skipped. A column the sheet lacks, or a cell it leaves
empty, leaves the stored value alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from govwatch.registry import RegistryRow, RowError, parse_registry
from store.accounts import AccountChange, AccountRow, ImportSummary, import_accounts

# Registry fields that map one-to-one onto account columns.
_ACCOUNT_FIELDS = ("filing_number", "filing_date", "status", "crawl_interval_minutes")


@dataclass
class ImportReport:
    path: Path
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    applied: bool = False
    dry_run: bool = False
    changes: list[AccountChange] = field(default_factory=list)
    changed_fields: dict[str, int] = field(default_factory=dict)


def to_account_row(row: RegistryRow) -> AccountRow:
    """The store's view of a parsed row: only the fields the sheet really gave."""
    fields = {name: getattr(row, name) for name in _ACCOUNT_FIELDS if name in row.given}
    if "interaction" in row.given:  # the 互动功能 column fills interaction_ok
        fields["interaction_ok"] = row.interaction_ok
    source = dict(row.source)
    contact = {k: v for k, v in row.contact.items() if v}
    return AccountRow(
        row=row.row,
        platform=row.platform,
        handle=row.handle,
        name=row.name,
        organization=row.organization,
        region_code=row.region_code,
        region_name=row.region_name,
        fields=fields,
        source=source,
        contact=contact,
    )


def import_registry(
    session_factory: sessionmaker[Session],
    path: Path,
    *,
    skip_invalid: bool = False,
    actor: str = "cli",
    dry_run: bool = False,
) -> ImportReport:
    """Validate every row first; write nothing if any row is invalid, unless `skip_invalid`."""
    parsed = parse_registry(path)
    report = ImportReport(
        path=path,
        rows=len(parsed.rows) + len(parsed.errors),
        errors=parsed.errors,
        notices=parsed.notices,
        dry_run=dry_run,
    )
    if parsed.errors and not skip_invalid:
        return report
    rows = [to_account_row(row) for row in parsed.rows]
    if dry_run:
        with session_factory() as session:  # read only, and never committed
            summary = import_accounts(
                session=session, rows=rows, actor=actor, source_name=path.name, dry_run=True
            )
            session.rollback()
    else:
        with session_factory.begin() as session:
            summary = import_accounts(session=session, rows=rows, actor=actor, source_name=path.name)
    _copy_summary(summary, report)
    report.applied = not dry_run
    return report


def _copy_summary(summary: ImportSummary, report: ImportReport) -> None:
    report.created, report.updated, report.unchanged = summary.created, summary.updated, summary.unchanged
    report.changes = summary.changes
    report.changed_fields = summary.changed_fields
