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
    # The scheduler (scheduler/).
    timezone: str = Field("Asia/Shanghai", description="Time zone of the schedule (days, months, 02:00).")
    scheduler_lease_seconds: float = Field(
        60.0, gt=0, description="How long the scheduler's lease lasts unrenewed; then a standby takes over."
    )
    scheduler_misfire_grace_hours: float = Field(
        6.0, gt=0, description="A run missed while no scheduler ran is still made this many hours late."
    )
    scheduler_tick_seconds: float = Field(
        60.0, gt=0, description="How often the scheduler looks for due crawls and notifications to send."
    )
    scheduler_crawl_batch: int = Field(200, ge=1, description="Most accounts one crawl batch takes.")
    job_history_days: int = Field(
        90, ge=1, description="Successful job runs older than this are forgotten; failures are kept."
    )
    inactive_days: int = Field(14, ge=1, description="An account with no post in this many days is inactive.")
    train_data: list[Path] = Field(
        default_factory=list, description="Labelled JSONL files the weekly retrain trains on (JSON list)."
    )
    eval_data: list[Path] = Field(
        default_factory=list, description="Fixed held-out JSONL files a retrained model must not be worse on."
    )
    retrain_reviewed_holdout: float = Field(
        0.2, ge=0, le=0.5, description="Share of reviewed findings held out to evaluate a retrained model."
    )
    retrain_min_reviewed: int = Field(
        20, ge=0, description="The weekly retrain is skipped until this many findings have been reviewed."
    )
    # Notifications.
    smtp_host: str | None = Field(None, description="SMTP server for e-mail notifications; unset: none sent.")
    smtp_port: int = Field(25, description="SMTP port.")
    smtp_user: str | None = Field(None, description="SMTP login, if the server wants one.")
    smtp_password: str | None = Field(None, description="SMTP password.")
    smtp_starttls: bool = Field(False, description="Upgrade the SMTP connection with STARTTLS.")
    smtp_from: str = Field("govwatch@localhost", description="Sender address of notification e-mails.")
    notify_timeout: float = Field(10.0, gt=0, description="Seconds one delivery (SMTP or webhook) may take.")
    notify_max_attempts: int = Field(6, ge=1, description="Delivery attempts before giving up.")
    notify_retry_seconds: float = Field(
        60.0, gt=0, description="Wait before the first retry of a failed delivery; doubles each time."
    )
    web_command: str = Field(
        "serve", description="The sub-command (and its options) `govwatch run` starts the web app with."
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
