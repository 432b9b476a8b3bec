"""Query functions for organizations (责任主体) and their accounts."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session, joinedload

from store.db import dialect_insert
from store.errors import InvalidInput, NotFound
from store.models import ACCOUNT_STATUSES, PLATFORMS, Account, Organization, Region, utcnow
from store.regions import descendant_codes, ensure_region, validate_region_code


def get_account(*, session: Session, account_id: int) -> Account:
    account = session.get(Account, account_id, options=[joinedload(Account.organization)])
    if account is None:
        raise NotFound(f"account {account_id} does not exist")
    return account


def find_account(*, session: Session, platform: str, handle: str) -> Account | None:
    return session.scalar(select(Account).where(Account.platform == platform, Account.handle == handle))


def account_filters(
    *,
    session: Session,
    region_code: str | None = None,
    platform: str | None = None,
    status: str | None = None,
    account_ids: Sequence[int] | None = None,
) -> list[Any]:
    """WHERE conditions for the filters; an unknown region, platform or status is refused, not empty.

    None means "no filter"; an empty string is an error (a script that lost its variable must not
    silently select every account).
    """
    conditions: list[Any] = []
    if region_code is not None:
        code = validate_region_code(region_code)
        if session.get(Region, code) is None:
            raise NotFound(f"no region {code} in the registry (see `govwatch accounts list`)")
        conditions.append(Account.region_code.in_(descendant_codes(session=session, code=code)))
    if platform is not None:
        if platform not in PLATFORMS:
            raise InvalidInput(f"unknown platform {platform!r} (expected one of {', '.join(PLATFORMS)})")
        conditions.append(Account.platform == platform)
    if status is not None:
        if status not in ACCOUNT_STATUSES:
            raise InvalidInput(f"unknown status {status!r} (expected one of {', '.join(ACCOUNT_STATUSES)})")
        conditions.append(Account.status == status)
    if account_ids is not None:
        conditions.append(Account.id.in_(list(account_ids)))
    return conditions


def list_accounts(
    *,
    session: Session,
    region_code: str | None = None,
    platform: str | None = None,
    status: str | None = None,
    account_ids: Sequence[int] | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[Account]:
    """Accounts filtered by region (including sub-regions), platform, status or ids, ordered by id.

    `limit` and `offset` page in the query itself, so `--limit 3` reads three rows, not 50,000.
    """
    many_ids = account_ids is not None and len(account_ids) > MAX_IN_LIST
    conditions = account_filters(
        session=session,
        region_code=region_code,
        platform=platform,
        status=status,
        account_ids=None if many_ids else account_ids,
    )
    query = select(Account).options(joinedload(Account.organization)).where(*conditions).order_by(Account.id)
    if many_ids:
        # More ids than a portable IN list takes: scan and keep the wanted ones.
        wanted = set(account_ids or ())
        found = [account for account in session.scalars(query) if account.id in wanted]
        return found[offset : None if limit is None else offset + limit]
    if offset:
        query = query.offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def count_accounts(
    *,
    session: Session,
    region_code: str | None = None,
    platform: str | None = None,
    status: str | None = None,
) -> int:
    conditions = account_filters(session=session, region_code=region_code, platform=platform, status=status)
    return session.scalar(select(func.count()).select_from(Account).where(*conditions)) or 0


def missing_account_ids(*, session: Session, account_ids: Sequence[int]) -> list[int]:
    """The ids in `account_ids` that name no account."""
    wanted = set(account_ids)
    found: set[int] = set()
    ordered = sorted(wanted)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        found.update(session.scalars(select(Account.id).where(Account.id.in_(chunk))))
    return sorted(wanted - found)


def ensure_organization(
    *, session: Session, name: str, region_code: str, contact: dict[str, str | None] | None = None
) -> Organization:
    ensure_region(session=session, code=region_code)
    organization = session.scalar(
        select(Organization).where(Organization.name == name, Organization.region_code == region_code)
    )
    if organization is None:
        organization = Organization(name=name, region_code=region_code)
        session.add(organization)
    for field, value in (contact or {}).items():
        if value:
            setattr(organization, f"contact_{field}", value)
    session.flush()
    return organization


def upsert_account(
    *, session: Session, platform: str, handle: str, fields: dict[str, Any]
) -> tuple[Account, bool]:
    """Create or update the account (platform, handle); returns it and whether anything changed."""
    account = find_account(session=session, platform=platform, handle=handle)
    if account is None:
        account = Account(platform=platform, handle=handle, **fields)
        session.add(account)
        session.flush()
        return account, True
    changed = False
    for field, value in fields.items():
        if getattr(account, field) != value:
            setattr(account, field, value)
            changed = True
    if changed:
        session.flush()
    return account, changed


MAX_IN_LIST = 5000  # bound parameters in one IN (...); SQLite allows 32,766 in all

# Optional account fields a registry may carry; each is written only when its column is present
# and its cell is not empty, so a shorter sheet never erases what it does not mention.
IMPORT_FIELDS = ("name", "organization_id", "region_code", "filing_number", "filing_date", "status",
                 "crawl_interval_minutes", "interaction_ok")  # fmt: skip
SOURCE_KEYS_FROM_SHEET = ("kind", "url")


@dataclass
class AccountRow:
    """One validated registry row in the store's terms; `fields` holds only what the sheet gave."""

    row: int
    platform: str
    handle: str
    name: str
    organization: str
    region_code: str
    region_name: str | None = None
    # filing_number, filing_date, status, crawl_interval_minutes, interaction_ok: those the sheet fills
    fields: dict[str, Any] = dataclasses.field(default_factory=dict)
    source: dict[str, Any] = dataclasses.field(default_factory=dict)  # kind/url/options from the sheet
    contact: dict[str, str] = dataclasses.field(default_factory=dict)  # name/phone/email, filled cells


@dataclass
class AccountChange:
    row: int
    account_id: int | None  # None for an account a dry run would create
    platform: str
    handle: str
    action: str  # "create" or "update"
    changes: dict[str, tuple[Any, Any]]  # field -> (before, after)


@dataclass
class ImportSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    changes: list[AccountChange] = dataclasses.field(default_factory=list)
    dry_run: bool = False

    @property
    def changed_fields(self) -> dict[str, int]:
        """How many accounts each field changed on (updates only)."""
        counts: dict[str, int] = {}
        for change in self.changes:
            if change.action == "update":
                for name in change.changes:
                    counts[name] = counts.get(name, 0) + 1
        return dict(sorted(counts.items()))


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _insert_ignoring_duplicates(
    session: Session, model: Any, rows: list[dict[str, Any]]
) -> set[tuple[str, str]]:
    """Multi-row INSERT that leaves rows another writer inserted first alone (both backends).

    Returns the (platform, handle) keys this call inserted, for accounts; an empty set otherwise.
    """
    inserted: set[tuple[str, str]] = set()
    for start in range(0, len(rows), 500):
        statement = dialect_insert(session, model).on_conflict_do_nothing()
        if model is Account:
            result = session.execute(
                statement.returning(Account.platform, Account.handle), rows[start : start + 500]
            )
            inserted.update((platform, handle) for platform, handle in result)
        else:
            session.execute(statement, rows[start : start + 500])
    return inserted


def _accounts_by_key(
    session: Session, keys: list[tuple[str, str]], *, lock: bool
) -> dict[tuple[str, str], Account]:
    found: dict[tuple[str, str], Account] = {}
    for start in range(0, len(keys), 500):
        query = select(Account).where(tuple_(Account.platform, Account.handle).in_(keys[start : start + 500]))
        if lock:
            query = query.with_for_update()
        for account in session.scalars(query.execution_options(populate_existing=True)):
            found[(account.platform, account.handle)] = account
    return found


def _organization_ids(
    session: Session, rows: Sequence[AccountRow], dry_run: bool
) -> dict[tuple[str, str], int]:
    wanted: dict[tuple[str, str], dict[str, str]] = {}
    for row in rows:
        wanted.setdefault((row.organization, row.region_code), {}).update(row.contact)
    known = {(o.name, o.region_code): o for o in session.scalars(select(Organization))}
    missing = [
        {"name": name, "region_code": region, "created_at": utcnow(),
         **{f"contact_{k}": v for k, v in contact.items()}}
        for (name, region), contact in wanted.items()
        if (name, region) not in known
    ]  # fmt: skip
    if missing and not dry_run:
        _insert_ignoring_duplicates(session, Organization, missing)
        known = {(o.name, o.region_code): o for o in session.scalars(select(Organization))}
    ids: dict[tuple[str, str], int] = {}
    for key, contact in wanted.items():
        organization = known.get(key)
        if organization is None:  # a dry run: it would be created
            ids[key] = 0
            continue
        if not dry_run:
            for name, value in contact.items():
                if getattr(organization, f"contact_{name}") != value:
                    setattr(organization, f"contact_{name}", value)
        ids[key] = organization.id
    return ids


def _wanted_fields(row: AccountRow, organization_id: int) -> dict[str, Any]:
    wanted: dict[str, Any] = {
        "name": row.name,
        "organization_id": organization_id,
        "region_code": row.region_code,
    }
    wanted.update({k: v for k, v in row.fields.items() if k in IMPORT_FIELDS})
    return wanted


def _audit_values(values: dict[str, Any]) -> dict[str, Any]:
    return {k: _jsonable(v) for k, v in values.items()}


def import_accounts(
    *,
    session: Session,
    rows: Sequence[AccountRow],
    actor: str,
    actor_id: int | None = None,
    source_name: str | None = None,
    dry_run: bool = False,
) -> ImportSummary:
    """Create or update the accounts of a registry in the caller's unit of work, with audit rows.

    A field is written only when the sheet gives it (see AccountRow); source options the sheet
    does not repeat (cookies, selectors) are kept. Safe beside another import: inserts ignore a
    concurrent duplicate and say which rows were really ours, and every account is read back
    (locked on PostgreSQL) before it is compared, so an audit row's "before" is what was stored
    when this import changed it. `dry_run` computes the same summary and writes nothing.
    """
    from store.audit import AuditEntry, record_audit_many

    summary = ImportSummary(dry_run=dry_run)
    if not dry_run:
        for code, name in {row.region_code: row.region_name for row in rows}.items():
            ensure_region(session=session, code=code, name=name)
    organization_ids = _organization_ids(session, rows, dry_run)
    keys = [(row.platform, row.handle) for row in rows]
    existing = _accounts_by_key(session, keys, lock=False)
    new_rows = [row for row in rows if (row.platform, row.handle) not in existing]
    created: set[tuple[str, str]] = set()
    if dry_run:
        created = {(row.platform, row.handle) for row in new_rows}
    elif new_rows:
        now = utcnow()
        created = _insert_ignoring_duplicates(
            session,
            Account,
            [
                {"platform": row.platform, "handle": row.handle, "source": dict(row.source),
                 "status": "active", "created_at": now, "updated_at": now,
                 **_wanted_fields(row, organization_ids[(row.organization, row.region_code)])}
                for row in new_rows
            ],
        )  # fmt: skip
    if not dry_run:
        existing = _accounts_by_key(session, keys, lock=session.get_bind().dialect.name == "postgresql")
    audit: list[AuditEntry] = []
    for row in rows:
        key = (row.platform, row.handle)
        wanted = _wanted_fields(row, organization_ids[(row.organization, row.region_code)])
        account = existing.get(key)
        if key in created:
            after = {"platform": row.platform, "handle": row.handle, "status": "active", **wanted,
                     "source": dict(row.source)}  # fmt: skip
            summary.created += 1
            account_id = account.id if account is not None else None
            summary.changes.append(
                AccountChange(row.row, account_id, row.platform, row.handle, "create",
                              {k: (None, _jsonable(v)) for k, v in after.items()})
            )  # fmt: skip
            if account_id is not None:
                audit.append(
                    AuditEntry("account.create", "account", account_id, None, _audit_values(after), row.name)
                )
            continue
        assert account is not None
        wanted["source"] = {**(account.source or {}), **row.source}
        before = {k: getattr(account, k) for k, v in wanted.items() if getattr(account, k) != v}
        if not before:
            summary.unchanged += 1
            continue
        after = {k: wanted[k] for k in before}
        summary.updated += 1
        summary.changes.append(
            AccountChange(row.row, account.id, row.platform, row.handle, "update",
                          {k: (_jsonable(before[k]), _jsonable(after[k])) for k in before})
        )  # fmt: skip
        if not dry_run:
            for name, value in after.items():
                setattr(account, name, value)
            audit.append(
                AuditEntry(
                    "account.update",
                    "account",
                    account.id,
                    _audit_values(before),
                    _audit_values(after),
                    account.name,
                )
            )
    if not dry_run:
        audit.append(
            AuditEntry("registry.import", "registry", None, None,
                       {"file": source_name, "created": summary.created, "updated": summary.updated,
                        "unchanged": summary.unchanged, "changed_fields": summary.changed_fields})
        )  # fmt: skip
        session.flush()
        record_audit_many(session=session, actor=actor, actor_id=actor_id, entries=audit)
    return summary
