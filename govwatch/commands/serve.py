"""`govwatch serve`: the web portal and JSON API (uvicorn)."""

from __future__ import annotations

import typer

from govwatch.settings import get_settings


def serve(
    host: str = typer.Option(None, "--host", help="Address to listen on (default: GOVWATCH_WEB_HOST)."),
    port: int = typer.Option(None, "--port", help="Port to listen on (default: GOVWATCH_WEB_PORT)."),
    workers: int = typer.Option(None, "--workers", help="Worker processes (default: GOVWATCH_WEB_WORKERS)."),
) -> None:
    """Serve the reviewer queue, operator portal and JSON API (docs at /docs)."""
    from govwatch.context import open_store
    from web.serving import serve_app

    settings = get_settings()
    open_store(settings)  # refuse a missing or out-of-date database once, before the workers start
    serve_app(
        "web.main:build_app",
        host=host or settings.web_host,
        port=port or settings.web_port,
        workers=workers or settings.web_workers,
        proxy_headers=True,
        log_level=settings.log_level.lower(),
    )
