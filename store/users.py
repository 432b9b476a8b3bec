"""Query functions for users, their roles and scopes, and Argon2 password hashing."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from store.errors import Conflict, InvalidInput, NotFound
from store.models import ROLES, Account, User
from store.regions import ensure_region

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 8


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def create_user(
    *,
    session: Session,
    username: str,
    password: str,
    role: str,
    region_code: str | None = None,
    account_ids: Sequence[int] = (),
    display_name: str | None = None,
) -> User:
    """A new user; reviewers need a region, operators at least one account (their scope)."""
    username = username.strip()
    if not username or len(username) > 100:
        raise InvalidInput("username must be 1 to 100 characters")
    if role not in ROLES:
        raise InvalidInput(f"unknown role {role!r} (expected {', '.join(ROLES)})")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    if role in ("reviewer", "lead") and not region_code:
        raise InvalidInput(f"a {role} needs a region scope (--region CODE)")
    if role == "operator" and not account_ids:
        raise InvalidInput("an operator needs at least one account (--account ID)")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"user {username!r} already exists")
    accounts = []
    if account_ids:
        accounts = list(session.scalars(select(Account).where(Account.id.in_(list(account_ids)))))
        missing = set(account_ids) - {a.id for a in accounts}
        if missing:
            raise NotFound(f"no account with id {', '.join(map(str, sorted(missing)))}")
    user = User(
        username=username,
        password_hash=hash_password(password),
        role=role,
        region_code=ensure_region(session=session, code=region_code).code if region_code else None,
        display_name=display_name,
        accounts=accounts,
    )
    session.add(user)
    session.flush()
    return user


def get_user_by_name(*, session: Session, username: str) -> User | None:
    return session.scalar(
        select(User).options(selectinload(User.accounts)).where(User.username == username.strip())
    )


def authenticate(*, session: Session, username: str, password: str) -> User | None:
    """The active user whose password matches, else None; rehashes when Argon2 parameters changed."""
    user = get_user_by_name(session=session, username=username)
    if user is None or not user.is_active:
        # Spend the same time as a real check so that timing does not reveal which usernames exist.
        _verify_quietly(_dummy_hash(), password)
        return None
    if not _verify_quietly(user.password_hash, password):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def _verify_quietly(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher.hash("not a real password")


def list_users(*, session: Session) -> list[User]:
    return list(session.scalars(select(User).options(selectinload(User.accounts)).order_by(User.username)))


def set_user_scope(
    *, session: Session, user: User, region_code: str | None, account_ids: Sequence[int]
) -> dict[str, object]:
    """Change what a user may see; returns the previous scope (for the audit log)."""
    before: dict[str, object] = {
        "region_code": user.region_code,
        "account_ids": sorted(a.id for a in user.accounts),
    }
    if user.role in ("reviewer", "lead") and not region_code:
        raise InvalidInput(f"a {user.role} needs a region scope")
    if user.role == "operator" and not account_ids:
        raise InvalidInput("an operator needs at least one account")
    accounts = (
        list(session.scalars(select(Account).where(Account.id.in_(list(account_ids))))) if account_ids else []
    )
    missing = set(account_ids) - {a.id for a in accounts}
    if missing:
        raise NotFound(f"no account with id {', '.join(map(str, sorted(missing)))}")
    user.region_code = ensure_region(session=session, code=region_code).code if region_code else None
    user.accounts = accounts
    session.flush()
    return before
