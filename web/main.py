"""The application `govwatch serve` runs: settings from the environment, the migrated store."""

from __future__ import annotations

import gc

from fastapi import FastAPI

from govwatch.context import open_store
from govwatch.settings import get_settings
from store.reviews import ensure_default_reason_codes
from web.app import create_app


def build_app() -> FastAPI:
    """An app on the configured database (uvicorn calls this in every worker process)."""
    settings = get_settings()
    session_factory = open_store(settings)
    with session_factory.begin() as session:
        ensure_default_reason_codes(session=session)
    app = create_app(settings, session_factory)
    # Everything loaded so far (modules, the app, SQLAlchemy's metadata) lives as long as the process:
    # moved out of the collector's reach, a full collection no longer walks it. Measured, a full
    # collection took over 100 ms of a loaded worker and stalled every request in it; frozen, under 1 ms.
    gc.freeze()
    return app
