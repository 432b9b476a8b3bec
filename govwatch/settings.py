"""The one place that reads configuration from the environment (prefix GOVWATCH_)."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

PLACEHOLDER_SECRET = "change-me"
ENV_PREFIX = "GOVWATCH_"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def raw_setting(name: str) -> str | None:
    """The raw environment value of one setting, to quote it back in an error message."""
    return os.environ.get(name)


def debug_requested() -> bool:
    """GOVWATCH_LOG_LEVEL=DEBUG, read even when the other settings are invalid (to show tracebacks)."""
    return (os.environ.get(f"{ENV_PREFIX}LOG_LEVEL") or "").strip().upper() == "DEBUG"


def absolute_sqlite_url(url: str) -> str:
    """A SQLite URL with its file path made absolute (against the current directory, once)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ValueError(f"not a database URL: {url!r}") from None
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return url
    path = Path(parsed.database).expanduser()
    if path.is_absolute():
        return url
    return parsed.set(database=str(path.resolve())).render_as_string(hide_password=False)


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
    allow_rules_mismatch: bool = Field(
        False, description="Load a model trained with another rules version than the installed rules."
    )
    report_dir: Path | None = Field(None, description="Rendered reports; default `<data_dir>/reports`.")
    log_level: str = Field(
        "WARNING", description="Python logging level name; DEBUG also prints the traceback of an error."
    )

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
    web_host: str = Field("127.0.0.1", description="Address `govwatch serve` listens on.")
    web_port: int = Field(8000, ge=1, le=65535, description="Port `govwatch serve` listens on.")
    web_workers: int = Field(1, ge=1, description="Worker processes of `govwatch serve`.")
    web_threads: int = Field(
        2, ge=1, le=100, description="Threads per web worker that run request handlers (database work)."
    )
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

    @field_validator("data_dir", "model_dir", "report_dir", mode="before")
    @classmethod
    def _not_empty(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            raise ValueError("must not be empty (unset it to use the default)")
        return value

    @field_validator("data_dir", "model_dir", "report_dir")
    @classmethod
    def _absolute(cls, value: Path | None) -> Path | None:
        # Resolved once, in the process that reads the settings, so crawl workers and cron jobs
        # started from another directory use the same files.
        if value is None:
            return None
        path = value.expanduser().resolve()
        if path.exists() and not path.is_dir():
            raise ValueError(f"{path} is a file, not a directory")
        return path

    @field_validator("database_url")
    @classmethod
    def _absolute_database_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        return absolute_sqlite_url(value.strip())

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}")
        return level

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


def new_user_password() -> str | None:
    """GOVWATCH_NEW_USER_PASSWORD, which `govwatch users add` reads instead of prompting (scripts)."""
    return os.environ.get(f"{ENV_PREFIX}NEW_USER_PASSWORD") or None
