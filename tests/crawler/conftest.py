"""Crawl-test fixtures: the sample site on 127.0.0.1, a migrated SQLite store, accounts pointing at it."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from crawler.run import CrawlSummary, crawl_accounts
from govwatch.context import crawl_config, upgrade_store
from govwatch.sample_site import SampleSite
from govwatch.sample_site.content import registry_rows
from govwatch.settings import Settings
from store.accounts import ensure_organization, upsert_account

# Politeness off against our own 127.0.0.1 site, short waits: the suite stays fast.
FAST: dict[str, Any] = {
    "DOWNLOAD_DELAY": 0,
    "AUTOTHROTTLE_ENABLED": False,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
    "GOVWATCH_BACKOFF_BASE": 0.1,
    "DOWNLOAD_TIMEOUT": 10,
    "RETRY_TIMES": 2,
}


@pytest.fixture
def site() -> Iterator[SampleSite]:
    with SampleSite() as running:
        yield running


@pytest.fixture
def crawl_settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'govwatch.db'}", redis_url=None)


@pytest.fixture
def store(crawl_settings: Settings) -> sessionmaker[Session]:
    return upgrade_store(crawl_settings)


def add_account(
    store: sessionmaker[Session],
    name: str,
    source: dict[str, Any],
    *,
    platform: str = "website",
    handle: str | None = None,
    region_code: str = "150100",
) -> int:
    with store.begin() as session:
        organization = ensure_organization(session=session, name=f"{name}主办单位", region_code=region_code)
        account, _ = upsert_account(
            session=session,
            platform=platform,
            handle=handle or name,
            fields={
                "name": name,
                "organization_id": organization.id,
                "region_code": region_code,
                "source": source,
            },
        )
        return account.id


def add_sample_accounts(store: sessionmaker[Session], site: SampleSite) -> dict[str, int]:
    """The sample registry's accounts (as govwatch/sample/registry.csv has them), by name."""
    ids = {}
    for row in registry_rows(site.url):
        source = {"kind": row["source_kind"], "url": row["source_url"], **row["source_options"]}
        ids[row["name"]] = add_account(
            store,
            row["name"],
            source,
            platform=row["platform"],
            handle=row["handle"],
            region_code=row["region_code"],
        )
    return ids


def crawl(settings: Settings, account_ids: list[int], **overrides: Any) -> CrawlSummary:
    summary = crawl_accounts(
        crawl_config(settings), account_ids, scrapy_settings={**FAST, **overrides}, timeout=120
    )
    assert summary.returncode == 0, summary.log_tail
    return summary


def control(site: SampleSite, action: str, payload: dict[str, Any] | None = None) -> Any:
    request = urllib.request.Request(
        f"{site.url}/_control/{action}", method="POST", data=json.dumps(payload or {}).encode()
    )
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read())
