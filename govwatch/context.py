"""Builds the service's shared resources (engine, session factory) from settings, on demand."""

from __future__ import annotations

import logging
from functools import lru_cache

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from crawler.config import CrawlConfig
from govwatch.settings import Settings, get_settings
from store.db import make_engine, make_session_factory
from store.migrate import upgrade_database


@lru_cache(maxsize=4)
def engine_for(url: str) -> Engine:
    return make_engine(url)


def open_store(settings: Settings | None = None, *, migrate: bool = True) -> sessionmaker[Session]:
    """A session factory on the configured database, migrated to the latest schema unless told not to."""
    settings = settings or get_settings()
    engine = engine_for(settings.resolved_database_url)
    if migrate:
        upgrade_database(engine)
    return make_session_factory(engine)


def crawl_config(settings: Settings | None = None) -> CrawlConfig:
    """What the crawler needs from the settings (it reads none itself)."""
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


def configure_logging(settings: Settings | None = None) -> None:
    settings = settings or get_settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
