"""Builds the service's shared resources (engine, session factory) from settings, on demand.

The one place that opens the store: only `govwatch db upgrade` (and the demo, on its own fresh
database) migrates; every other command refuses a database that is missing or not at the latest
revision, with a message that says to run the upgrade.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from crawler.config import CrawlConfig
from govwatch.settings import Settings, get_settings
from store.db import make_engine, make_session_factory
from store.errors import SchemaOutdated, StoreUnavailable
from store.migrate import current_revision, head_revision, upgrade_database


@lru_cache(maxsize=4)
def engine_for(url: str) -> Engine:
    return make_engine(url)


def sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def check_reachable(engine: Engine) -> None:
    """Raise StoreUnavailable (one line, with a hint) when the database cannot be used at all."""
    from govwatch.errors import database_message

    try:
        with engine.connect() as connection:
            connection.execute(text("select 1"))
    except DBAPIError as error:
        raise StoreUnavailable(database_message(error)) from error


def check_schema(engine: Engine) -> None:
    """Refuse a database that `govwatch db upgrade` has not brought to this code's schema."""
    from govwatch.errors import database_message

    try:
        current = current_revision(engine)
    except DBAPIError as error:
        raise StoreUnavailable(database_message(error)) from error
    head = head_revision()
    if current == head:
        return
    where = engine.url.render_as_string(hide_password=True)
    if current is None:
        raise SchemaOutdated(f"the database {where} has no govwatch schema: run `govwatch db upgrade` first")
    raise SchemaOutdated(
        f"the database {where} is at revision {current}, this govwatch needs {head}: "
        "run `govwatch db upgrade` (back the database up first)"
    )


def open_store(settings: Settings | None = None, *, migrate: bool = False) -> sessionmaker[Session]:
    """A session factory on the configured database, which must exist at the latest revision.

    `migrate=True` is `upgrade_store` (kept for callers that create their own fresh database).
    """
    settings = settings or get_settings()
    if migrate:
        return upgrade_store(settings)
    url = settings.resolved_database_url
    path = sqlite_path(url)
    if path is not None and not path.is_file():
        # Never create a database on a mistyped path: only `db upgrade` creates one.
        raise StoreUnavailable(
            f"no database at {path}: run `govwatch db upgrade` to create it, or set GOVWATCH_DATA_DIR / "
            "GOVWATCH_DATABASE_URL to the existing one"
        )
    engine = engine_for(url)
    check_reachable(engine)
    check_schema(engine)
    return make_session_factory(engine)


def upgrade_store(settings: Settings | None = None, revision: str = "head") -> sessionmaker[Session]:
    """Create the database if needed and migrate it to `revision`; what `govwatch db upgrade` does."""
    settings = settings or get_settings()
    url = settings.resolved_database_url
    path = sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = engine_for(url)
    check_reachable(engine)
    upgrade_database(engine, revision)
    return make_session_factory(engine)


def crawl_config(settings: Settings | None = None) -> CrawlConfig:
    """What the crawler needs from the settings (it reads none itself), with absolute paths and URLs."""
    settings = settings or get_settings()
    return CrawlConfig(
        database_url=settings.resolved_database_url,
        redis_url=settings.redis_url,
        delay=settings.crawl_delay,
        concurrency_per_site=settings.crawl_concurrency_per_site,
        timeout=settings.crawl_timeout,
        max_bytes=settings.crawl_max_bytes,
        processes=settings.crawl_processes,
    )


def configure_logging(settings: Settings | None = None, *, debug: bool = False) -> None:
    """Log records at the configured level to stderr (where diagnostics belong, never stdout)."""
    settings = settings or get_settings()
    level = "DEBUG" if debug else settings.log_level.upper()
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True)
