"""What each user may see, as SQL conditions: the scope is enforced in the query, never only in a page.

admin sees everything; reviewer and lead see the accounts of their region and its sub-regions;
operator sees only their linked accounts. An object outside the scope is reported as NotFound, so
its existence is not revealed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, false, func, select, true
from sqlalchemy.orm import Session, joinedload

from store.errors import NotFound
from store.models import Account, Appeal, Finding, Post, Region, User, user_accounts


@dataclass(frozen=True)
class Scope:
    """A user's role and what they may see; `region_prefix` None with role admin means everything."""

    user_id: int
    username: str
    role: str
    region_code: str | None
    account_ids: tuple[int, ...] = ()

    @property
    def sees_all(self) -> bool:
        return self.role == "admin"

    @property
    def can_review(self) -> bool:
        return self.role == "reviewer"

    @property
    def is_lead(self) -> bool:
        return self.role == "lead"

    @property
    def is_operator(self) -> bool:
        return self.role == "operator"

    @property
    def region_prefix(self) -> str | None:
        """Codes nest by prefix: 150000 → "15", 150100 → "1501", 150102 → "150102"."""
        code = self.region_code
        if not code:
            return None
        if code[2:] == "0000":
            return code[:2]
        if code[4:] == "00":
            return code[:4]
        return code


def scope_for(*, session: Session, user: User) -> Scope:
    account_ids: tuple[int, ...] = ()
    if user.role == "operator":
        account_ids = tuple(
            sorted(
                session.scalars(select(user_accounts.c.account_id).where(user_accounts.c.user_id == user.id))
            )
        )
    return Scope(
        user_id=user.id,
        username=user.username,
        role=user.role,
        region_code=user.region_code,
        account_ids=account_ids,
    )


def account_condition(
    scope: Scope, account_id: Any = Account.id, region_code: Any = None
) -> ColumnElement[bool]:
    """A condition on an account id column (and, where the account is joined, its region column)."""
    if scope.sees_all:
        return true()
    if scope.is_operator:
        return account_id.in_(scope.account_ids) if scope.account_ids else false()
    prefix = scope.region_prefix
    if prefix is None:
        return false()
    if region_code is not None:
        return region_code.startswith(prefix, autoescape=True)
    # Not joined: a subquery on accounts keeps the condition usable on findings alone.
    return account_id.in_(select(Account.id).where(Account.region_code.startswith(prefix, autoescape=True)))


def finding_condition(scope: Scope) -> ColumnElement[bool]:
    return account_condition(scope, Finding.account_id)


def get_scoped_account(*, session: Session, scope: Scope, account_id: int) -> Account:
    account = session.scalar(
        select(Account)
        .options(joinedload(Account.organization), joinedload(Account.region))
        .where(Account.id == account_id, account_condition(scope, Account.id, Account.region_code))
    )
    if account is None:
        raise NotFound(f"account {account_id} does not exist")
    return account


def list_scoped_accounts(
    *,
    session: Session,
    scope: Scope,
    region_code: str | None = None,
    platform: str | None = None,
    status: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[Account]:
    query = (
        select(Account)
        .options(joinedload(Account.organization), joinedload(Account.region))
        .where(account_condition(scope, Account.id, Account.region_code))
        .order_by(Account.region_code, Account.id)
    )
    if region_code:
        query = query.where(Account.region_code.startswith(_prefix_of(region_code), autoescape=True))
    if platform:
        query = query.where(Account.platform == platform)
    if status:
        query = query.where(Account.status == status)
    if offset:
        query = query.offset(offset)
    if limit:
        query = query.limit(limit)
    return list(session.scalars(query))


def get_scoped_finding(*, session: Session, scope: Scope, finding_id: int) -> Finding:
    finding = session.scalar(
        select(Finding)
        .options(joinedload(Finding.post), joinedload(Finding.account).joinedload(Account.region))
        .where(Finding.id == finding_id, finding_condition(scope))
    )
    if finding is None:
        raise NotFound(f"finding {finding_id} does not exist")
    return finding


def get_scoped_appeal(*, session: Session, scope: Scope, appeal_id: int) -> Appeal:
    appeal = session.scalar(
        select(Appeal)
        .join(Finding, Finding.id == Appeal.finding_id)
        .where(Appeal.id == appeal_id, finding_condition(scope))
    )
    if appeal is None:
        raise NotFound(f"appeal {appeal_id} does not exist")
    return appeal


def scoped_regions(*, session: Session, scope: Scope) -> list[Row[tuple[str, str]]]:
    """The regions a user can filter by, as (code, name) rows (they fill a list on every queue page)."""
    query = _scoped_regions_statement(scope)
    return [] if query is None else list(session.connection().execute(query))


# Statements for every queue page, built once per scope (a frozen value): building an expression
# and its cache key cost about as much as running these small queries.
@lru_cache(maxsize=512)
def _scoped_regions_statement(scope: Scope) -> Select[str, str] | None:
    query = select(Region.code, Region.name).order_by(Region.code)
    if scope.is_operator:
        return query.where(
            Region.code.in_(select(Account.region_code).where(Account.id.in_(scope.account_ids or (-1,))))
        )
    if not scope.sees_all:
        prefix = scope.region_prefix
        if prefix is None:
            return None
        return query.where(Region.code.startswith(prefix, autoescape=True))
    return query


def _prefix_of(code: str) -> str:
    code = code.strip()
    if len(code) == 6 and code[2:] == "0000":
        return code[:2]
    if len(code) == 6 and code[4:] == "00":
        return code[:4]
    return code


def post_condition(scope: Scope) -> ColumnElement[bool]:
    return account_condition(scope, Post.account_id)


def ids_in_scope(*, session: Session, scope: Scope, finding_ids: Sequence[int]) -> set[int]:
    if not finding_ids:
        return set()
    rows = session.scalars(
        select(Finding.id).where(Finding.id.in_(list(finding_ids)), finding_condition(scope))
    )
    return set(rows)


def count_scoped_accounts(*, session: Session, scope: Scope, cap: int) -> int:
    """How many accounts are in scope, counted up to `cap`."""
    return int(session.connection().scalar(_count_scoped_accounts_statement(scope, cap)) or 0)


@lru_cache(maxsize=512)
def _count_scoped_accounts_statement(scope: Scope, cap: int) -> Select[int]:
    inner = select(Account.id).where(account_condition(scope, Account.id, Account.region_code)).limit(cap)
    return select(func.count()).select_from(inner.subquery())


def scoped_account_names(*, session: Session, scope: Scope, limit: int = 300) -> list[tuple[int, str]]:
    """(id, name) of the accounts in scope, for a filter list (no ORM objects: it is on every queue page)."""
    query = (
        select(Account.id, Account.name)
        .where(account_condition(scope, Account.id, Account.region_code))
        .order_by(Account.name, Account.id)
        .limit(limit)
    )
    return [(row[0], row[1]) for row in session.connection().execute(query)]
