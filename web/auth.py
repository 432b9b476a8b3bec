"""Sign-in sessions: a signed cookie carrying the user id, a CSRF token and a password fingerprint."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from store.errors import GovwatchError
from store.models import User
from store.scopes import Scope, scope_for
from store.throttle import clear_failures, record_failure, retry_after
from store.users import authenticate

COOKIE_NAME = "govwatch_session"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"


class LoginRequired(Exception):
    """No valid session: pages redirect to the sign-in page, the API answers 401."""


class CsrfFailed(Exception):
    """A state-changing request without the session's CSRF token: 403."""


@dataclass
class SessionData:
    user_id: int
    csrf: str
    fingerprint: str


@dataclass
class Current:
    """The signed-in user of one request, their scope and their session's CSRF token."""

    user: User
    scope: Scope
    csrf: str


def password_fingerprint(user: User) -> str:
    # Changing the password changes the fingerprint, which ends every other session of the user.
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt="govwatch-session")


def read_session(request: Request) -> SessionData | None:
    raw = request.cookies.get(COOKIE_NAME)
    if not raw:
        return None
    settings = request.app.state.settings
    try:
        data: dict[str, Any] = serializer(settings.secret_key).loads(
            raw, max_age=int(settings.session_hours * 3600)
        )
        return SessionData(user_id=int(data["u"]), csrf=str(data["c"]), fingerprint=str(data["f"]))
    except (BadSignature, KeyError, TypeError, ValueError):
        return None


def start_session(request: Request, response: Response, user: User) -> str:
    """Set a fresh session cookie (new CSRF token) for `user`; returns the CSRF token."""
    settings = request.app.state.settings
    csrf = secrets.token_urlsafe(32)
    value = serializer(settings.secret_key).dumps({"u": user.id, "c": csrf, "f": password_fingerprint(user)})
    response.set_cookie(
        COOKIE_NAME,
        value,
        max_age=int(settings.session_hours * 3600),
        httponly=True,
        samesite="lax",
        secure=is_https(request),
        path="/",
    )
    return csrf


def end_session(request: Request, response: Response) -> None:
    response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="lax", secure=is_https(request))


def is_https(request: Request) -> bool:
    # uvicorn's proxy headers support rewrites the scheme from X-Forwarded-Proto for trusted proxies.
    return request.url.scheme == "https"


def current_user(request: Request, session: Session) -> Current:
    """The signed-in user, loaded in the request's unit of work, or LoginRequired."""
    data = read_session(request)
    if data is None:
        raise LoginRequired()
    user = session.get(User, data.user_id)
    if (
        user is None
        or not user.is_active
        or not hmac.compare_digest(password_fingerprint(user), data.fingerprint)
    ):
        raise LoginRequired()
    return Current(user=user, scope=scope_for(session=session, user=user), csrf=data.csrf)


def check_csrf(request: Request, current: Current, submitted: str | None = None) -> None:
    """The token must come in the form field or the X-CSRF-Token header and match the session's."""
    token = submitted or request.headers.get(CSRF_HEADER) or ""
    if not token or not hmac.compare_digest(token, current.csrf):
        raise CsrfFailed()


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


class TooManyAttempts(GovwatchError):
    status_code = 429

    def __init__(self, seconds: int) -> None:
        super().__init__(f"登录失败次数过多，请 {seconds} 秒后再试")
        self.seconds = seconds


class BadCredentials(GovwatchError):
    status_code = 401


def sign_in(request: Request, username: str, password: str) -> User:
    """Check the password, slowed down per username and per client address after repeated failures.

    A throttled attempt is refused before the password is even checked, so guessing gains nothing
    from trying faster; the failure is recorded in its own transaction so that it sticks.
    """
    settings = request.app.state.settings
    session_factory = request.app.state.session_factory
    now = request.app.state.clock()
    name = username.strip().lower()[:100]
    keys = [f"user:{name}", f"addr:{client_address(request)}"]
    with session_factory.begin() as session:
        wait = retry_after(
            session=session,
            keys=keys,
            now=now,
            free_attempts=settings.login_free_attempts,
            max_delay=settings.login_max_delay_seconds,
        )
    if wait > 0:
        raise TooManyAttempts(wait)
    with session_factory.begin() as session:
        user = (
            authenticate(session=session, username=username, password=password) if username.strip() else None
        )
        if user is None:
            record_failure(session=session, keys=keys, now=now)
        else:
            clear_failures(session=session, keys=keys[:1])
            session.flush()
            session.expunge(user)
    if user is None:
        raise BadCredentials("用户名或密码错误")
    return user
