"""Query functions for organizations (责任主体) and their accounts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from store.errors import NotFound
from store.models import Account, Organization
from store.regions import descendant_codes, ensure_region


def get_account(*, session: Session, account_id: int) -> Account:
    account = session.get(Account, account_id, options=[joinedload(Account.organization)])
    if account is None:
        raise NotFound(f"account {account_id} does not exist")
    return account


def find_account(*, session: Session, platform: str, handle: str) -> Account | None:
    return session.scalar(select(Account).where(Account.platform == platform, Account.handle == handle))


def list_accounts(
    *,
    session: Session,
    region_code: str | None = None,
    platform: str | None = None,
    status: str | None = None,
    account_ids: Sequence[int] | None = None,
    limit: int | None = None,
) -> list[Account]:
    """Accounts filtered by region (including sub-regions), platform, status or ids, ordered by id."""
    query = select(Account).options(joinedload(Account.organization)).order_by(Account.id)
    if region_code:
        query = query.where(Account.region_code.in_(descendant_codes(session=session, code=region_code)))
    if platform:
        query = query.where(Account.platform == platform)
    if status:
        query = query.where(Account.status == status)
    if account_ids is not None:
        query = query.where(Account.id.in_(list(account_ids)))
    if limit:
        query = query.limit(limit)
    return list(session.scalars(query))


def count_accounts(*, session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Account)) or 0


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
