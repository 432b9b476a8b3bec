"""Builds the FastAPI application: pages, JSON API, error handling and security headers."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import anyio.to_thread
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session, sessionmaker
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from govwatch.settings import Settings
from store.errors import GovwatchError, NotFound
from web.auth import CsrfFailed, LoginRequired

log = logging.getLogger(__name__)
HERE = Path(__file__).parent

# Our pages load only our own script and style; crawled HTML is shown in a sandboxed frame whose
# own response carries a stricter policy still (see web.pages.archive_raw).
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'"
)
ARCHIVE_CSP = "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'; frame-ancestors 'self'"

Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def create_app(
    settings: Settings, session_factory: sessionmaker[Session], *, clock: Clock = _utcnow
) -> FastAPI:
    from web import api, pages

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Sync handlers run in anyio's thread pool, 40 threads by default. Twenty requests in flight
        # in one worker then take turns on the GIL every few milliseconds and all finish late
        # (measured: the queue's p95 under load doubled, CPU per request up a fifth); a couple of
        # threads serve them in turn.
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.web_threads
        yield

    app = FastAPI(
        lifespan=lifespan,
        title="govwatch API",
        version="1",
        description="政务公众账号合规监测：审核线索、账号评分与申诉。会话来自 `POST /api/session`；"
        "修改数据的请求需带 `X-CSRF-Token` 头（值为登录时返回的 csrf_token）。",
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.settings = settings
    app.state.session_factory = session_factory
    app.state.clock = clock
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    # Templates ship with the package: compiled once per process, with no stat of every template
    # file (and those it extends and imports) on each render.
    templates.env.auto_reload = False
    # JSON as readable text (Chinese stays Chinese); autoescape still escapes it for HTML.
    templates.env.filters["jsontext"] = lambda value: json.dumps(value, ensure_ascii=False, default=str)
    app.state.templates = templates
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.include_router(api.router)
    app.include_router(pages.router)

    app.add_middleware(SecurityHeaders)

    def is_api(request: Request) -> bool:
        return request.url.path.startswith("/api/") or request.url.path == "/api"

    def error_page(request: Request, status: int, message: str) -> Response:
        if is_api(request):
            return JSONResponse({"detail": message}, status_code=status)
        return templates.TemplateResponse(
            request, "error.html", {"status": status, "message": message, "current": None}, status_code=status
        )

    @app.exception_handler(GovwatchError)
    async def govwatch_error(request: Request, error: GovwatchError) -> Response:
        if isinstance(error, NotFound):
            # The same words whether the object is missing or out of scope: nothing is revealed.
            return error_page(request, 404, "未找到：该对象不存在，或不在您的权限范围内")
        return error_page(request, error.status_code, error.message)

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, _error: LoginRequired) -> Response:
        if is_api(request):
            return JSONResponse(
                {"detail": "请先登录"}, status_code=401, headers={"WWW-Authenticate": "Cookie"}
            )
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    @app.exception_handler(CsrfFailed)
    async def csrf_failed(request: Request, _error: CsrfFailed) -> Response:
        return error_page(request, 403, "安全校验失败（CSRF 令牌缺失或无效），请刷新页面后重试")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        messages = {404: "页面不存在", 405: "不支持的请求方法"}
        detail = error.detail if isinstance(error.detail, str) else None
        message = messages.get(error.status_code, detail or "请求错误")
        return error_page(request, error.status_code, message)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> Response:
        if is_api(request):
            return JSONResponse({"detail": _jsonable(error.errors())}, status_code=422)
        return error_page(request, 422, "提交的内容格式不正确")

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_page(request, 500, "服务器内部错误，已记录日志")

    @app.get("/docs", include_in_schema=False, response_class=HTMLResponse)
    def docs(request: Request) -> Response:
        return templates.TemplateResponse(request, "docs.html", {"schema": app.openapi(), "current": None})

    return app


_SECURITY_HEADERS = (
    (b"content-security-policy", PAGE_CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"SAMEORIGIN"),
    (b"referrer-policy", b"no-referrer"),
)


class SecurityHeaders:
    """Adds the security headers a response has not set itself, and no-store outside /static.

    A plain ASGI middleware: Starlette's BaseHTTPMiddleware (`@app.middleware("http")`) runs every
    request through a task group and memory streams, which cost more CPU than a small handler.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        defaults: tuple[tuple[bytes, bytes], ...] = _SECURITY_HEADERS
        if path != "/static" and not path.startswith("/static/"):
            defaults = (*defaults, (b"cache-control", b"no-store"))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend((name, value) for name, value in defaults if name not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items() if k != "ctx"}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)
