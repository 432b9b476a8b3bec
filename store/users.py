"""Query functions for users, their roles and scopes, and Argon2 password hashing."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from store.errors import Conflict, InvalidInput, NotFound
from store.models import ROLES, Account, Region, User
from store.regions import validate_region_code
from store.validation import check_text, column_length

USERNAME = re.compile(r"[\w.@-]+")

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
    """A new user; reviewers need a region, operators at least one account (their scope).

    Usernames are case-insensitive (stored in lower case): `bob` and `BOB` are one user. A scope
    that does not fit the role is refused rather than silently ignored.
    """
    username = normalise_username(username)
    if not username or len(username) > 100:
        raise InvalidInput("username must be 1 to 100 characters")
    if not USERNAME.fullmatch(username):
        raise InvalidInput("username may hold only letters, digits and . _ - @ (no spaces or controls)")
    if role not in ROLES:
        raise InvalidInput(f"unknown role {role!r} (expected {', '.join(ROLES)})")
    if len(password.strip()) < MIN_PASSWORD_LENGTH or len(set(password)) < 3:
        raise InvalidInput(
            f"password must have at least {MIN_PASSWORD_LENGTH} characters besides spaces, "
            "and not be one character repeated"
        )
    if len(password) > 1024 or "\x00" in password:
        raise InvalidInput("password must be at most 1024 characters, without NUL")
    check_text(display_name, label="display name", max_length=column_length(User, "display_name"))
    if role in ("reviewer", "lead") and not region_code:
        raise InvalidInput(f"a {role} needs a region scope (--region CODE)")
    if role == "operator" and not account_ids:
        raise InvalidInput("an operator needs at least one account (--account ID)")
    if role != "operator" and account_ids:
        raise InvalidInput(f"an {role} has no account scope: --account is for operators only")
    if role not in ("reviewer", "lead") and region_code:
        raise InvalidInput(f"an {role} has no region scope: --region is for leads and reviewers only")
    if region_code:
        region_code = known_region(session=session, code=region_code)
    if session.scalar(select(User.id).where(func.lower(User.username) == username)) is not None:
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
        region_code=validate_region_code(region_code) if region_code else None,
        display_name=display_name,
        accounts=accounts,
    )
    session.add(user)
    session.flush()
    return user


def normalise_username(username: str) -> str:
    return username.strip().lower()


def get_user_by_name(*, session: Session, username: str) -> User | None:
    return session.scalar(
        select(User)
        .options(selectinload(User.accounts))
        .where(func.lower(User.username) == normalise_username(username))
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


def known_region(*, session: Session, code: str) -> str:
    """A well-formed region code the registry has: a scope must name a real region."""
    code = validate_region_code(code)
    if session.get(Region, code) is None:
        raise NotFound(f"no region {code} in the registry: import the accounts of that region first")
    return code


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
    user.region_code = known_region(session=session, code=region_code) if region_code else None
    user.accounts = accounts
    session.flush()
    return before
