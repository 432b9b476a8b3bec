"""The one place that reads configuration from the environment (prefix GOVWATCH_)."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRET = "change-me"


class Settings(BaseSettings):
    """Every setting of the service. Each field is documented in docs/settings.md."""

    model_config = SettingsConfigDict(env_prefix="GOVWATCH_", env_file=None, extra="ignore")

    env: Literal["development", "production"] = Field(
        "development", description="`production` refuses unsafe defaults such as the placeholder secret."
    )
    data_dir: Path = Field(Path("var"), description="Where the SQLite database, models and reports live.")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; default `sqlite:///<data_dir>/govwatch.db`."
    )
    secret_key: str = Field(PLACEHOLDER_SECRET, description="Signs session cookies and CSRF tokens.")
    redis_url: str | None = Field(
        None, description="When set, crawl processes share their queue and dupefilter on this Redis."
    )
    crawl_delay: float = Field(
        1.0, ge=0, description="Seconds between two requests to one site (AutoThrottle adapts from there)."
    )
    crawl_concurrency_per_site: int = Field(1, ge=1, description="Requests in flight at once to one site.")
    crawl_timeout: float = Field(30.0, gt=0, description="Seconds a crawl waits for a page before retrying.")
    crawl_processes: int = Field(
        default_factory=lambda: min(4, os.cpu_count() or 1),
        ge=1,
        description="Crawl processes per crawl; accounts are split by site, one site per process.",
    )
    crawl_max_bytes: int = Field(
        10 * 1024 * 1024, gt=0, description="A larger page is not stored; the crawl run records an error."
    )
    model_dir: Path | None = Field(None, description="Trained model versions; default `<data_dir>/models`.")
    report_dir: Path | None = Field(None, description="Rendered reports; default `<data_dir>/reports`.")
    log_level: str = Field("INFO", description="Python logging level name.")
    web_host: str = Field("127.0.0.1", description="Address `govwatch serve` listens on.")
    web_port: int = Field(8000, ge=1, le=65535, description="Port `govwatch serve` listens on.")
    web_workers: int = Field(1, ge=1, description="Worker processes of `govwatch serve`.")
    session_hours: float = Field(12.0, gt=0, description="Hours a web sign-in lasts.")
    login_free_attempts: int = Field(
        5, ge=1, description="Wrong passwords per user or address before sign-in is slowed down."
    )
    login_max_delay_seconds: int = Field(
        300, ge=1, description="Longest wait imposed after repeated wrong passwords."
    )
    review_undo_minutes: int = Field(10, ge=0, description="Minutes a reviewer may undo their decision.")
    review_claim_minutes: int = Field(30, ge=1, description="Minutes a reviewer's claim on a finding lasts.")
    appeal_deadline_days: int = Field(
        15, ge=1, description="Days after a finding is confirmed during which its operator may appeal."
    )

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> Settings:
        if self.env == "production" and (self.secret_key == PLACEHOLDER_SECRET or len(self.secret_key) < 32):
            raise ValueError(
                "GOVWATCH_SECRET_KEY must be set to a random string of at least 32 characters in production"
            )
        return self

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'govwatch.db'}"

    @property
    def resolved_model_dir(self) -> Path:
        return self.model_dir or self.data_dir / "models"

    @property
    def resolved_report_dir(self) -> Path:
        return self.report_dir or self.data_dir / "reports"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
