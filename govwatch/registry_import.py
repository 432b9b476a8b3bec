"""Upserts a parsed registry into the store: all or nothing, unless invalid rows may be skipped."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session, sessionmaker

from govwatch.registry import ParsedRegistry, RegistryRow, RowError, parse_registry
from store.accounts import ensure_organization
from store.audit import record_audit
from store.models import Account, Organization
from store.regions import ensure_region


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


def import_registry(
    session_factory: sessionmaker[Session], path: Path, *, skip_invalid: bool = False, actor: str = "cli"
) -> ImportReport:
    """Validate every row first; write nothing if any row is invalid, unless `skip_invalid`."""
    parsed = parse_registry(path)
    report = ImportReport(path=path, rows=len(parsed.rows) + len(parsed.errors), errors=parsed.errors,
                          notices=parsed.notices)
    if parsed.errors and not skip_invalid:
        return report
    with session_factory.begin() as session:
        _apply(session, parsed, report, actor)
    report.applied = True
    return report


def _account_fields(row: RegistryRow, organization_id: int) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "name": row.name,
        "organization_id": organization_id,
        "region_code": row.region_code,
        "filing_number": row.filing_number,
        "filing_date": row.filing_date,
        "status": row.status,
        "source": row.source,
    }
    if row.crawl_interval_minutes is not None:
        fields["crawl_interval_minutes"] = row.crawl_interval_minutes
    return fields


def _jsonable(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in fields.items()}


def _apply(session: Session, parsed: ParsedRegistry, report: ImportReport, actor: str) -> None:
    # Load what already exists in a few queries: row-by-row lookups make a 10,000-row sheet slow.
    keys = [(row.platform, row.handle) for row in parsed.rows]
    existing: dict[tuple[str, str], Account] = {}
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        for account in session.scalars(select(Account).where(tuple_(Account.platform, Account.handle).in_(chunk))):
            existing[(account.platform, account.handle)] = account
    organizations = {(o.name, o.region_code): o for o in session.scalars(select(Organization))}
    regions_done: set[str] = set()

    for row in parsed.rows:
        if row.region_code not in regions_done:
            ensure_region(session=session, code=row.region_code, name=row.region_name)
            regions_done.add(row.region_code)
        organization = organizations.get((row.organization, row.region_code))
        if organization is None or any(v and getattr(organization, f"contact_{k}") != v for k, v in row.contact.items()):
            organization = ensure_organization(
                session=session, name=row.organization, region_code=row.region_code, contact=row.contact
            )
            organizations[(row.organization, row.region_code)] = organization
        fields = _account_fields(row, organization.id)
        account = existing.get((row.platform, row.handle))
        if account is None:
            account = Account(platform=row.platform, handle=row.handle, **fields)
            session.add(account)
            existing[(row.platform, row.handle)] = account
            report.created += 1
            record_audit(session=session, actor=actor, action="account.create", entity_type="account",
                         entity_id=f"{row.platform}/{row.handle}", after=_jsonable(fields))
            continue
        before = {k: getattr(account, k) for k in fields if getattr(account, k) != fields[k]}
        if not before:
            report.unchanged += 1
            continue
        for key in before:
            setattr(account, key, fields[key])
        report.updated += 1
        record_audit(session=session, actor=actor, action="account.update", entity_type="account",
                     entity_id=account.id, before=_jsonable(before),
                     after=_jsonable({k: fields[k] for k in before}))
    session.flush()
    record_audit(session=session, actor=actor, action="registry.import", entity_type="registry",
                 entity_id=report.path.name,
                 after={"created": report.created, "updated": report.updated, "unchanged": report.unchanged,
                        "skipped": len(report.errors)})
