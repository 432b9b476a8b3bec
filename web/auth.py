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

from store.models import User
from store.scopes import Scope, scope_for

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
    if user is None or not user.is_active or not hmac.compare_digest(password_fingerprint(user), data.fingerprint):
        raise LoginRequired()
    return Current(user=user, scope=scope_for(session=session, user=user), csrf=data.csrf)


def check_csrf(request: Request, current: Current, submitted: str | None = None) -> None:
    """The token must come in the form field or the X-CSRF-Token header and match the session's."""
    token = submitted or request.headers.get(CSRF_HEADER) or ""
    if not token or not hmac.compare_digest(token, current.csrf):
        raise CsrfFailed()


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
