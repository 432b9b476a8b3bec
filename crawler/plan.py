"""A crawl plan per account: its source configuration, validated, and what is already stored."""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from crawler.parsing.base import KINDS
from store.crawl_runs import previous_run_statuses
from store.models import Account
from store.posts import KnownPost, list_known_posts

DEFAULT_MAX_PAGES = 5
DEFAULT_RECHECK_DAYS = 7.0
KNOWN_DAYS = 90  # how far back the plan remembers stored posts
KNOWN_LIMIT = 2000
LIVE = ("live", "edited")


class SourceConfigError(ValueError):
    """An account's source configuration cannot be crawled; the message is for the operator."""


@dataclass
class AccountPlan:
    account_id: int
    name: str
    kind: str
    url: str | None
    options: dict[str, Any]
    now: datetime
    run_id: int | None = None
    known: dict[str, KnownPost] = field(default_factory=dict)
    # Incremental: the last crawl finished, so paging may stop where stored posts begin. After an
    # interrupted or failed crawl the whole listing (up to max_pages) is read again instead.
    incremental: bool = False

    def __post_init__(self) -> None:
        self.known_urls = {post.url: key for key, post in self.known.items() if post.url}

    @property
    def max_pages(self) -> int:
        return int(self.options.get("max_pages", DEFAULT_MAX_PAGES))

    @property
    def recheck_since(self) -> datetime:
        """Stored posts published since then are fetched again, to catch edits and deletions."""
        return self.now - timedelta(days=float(self.options.get("recheck_days", DEFAULT_RECHECK_DAYS)))

    @property
    def known_since(self) -> datetime:
        return self.now - timedelta(days=KNOWN_DAYS)

    def key_for_url(self, url: str | None) -> str | None:
        return self.known_urls.get(url) if url else None

    def in_recheck_window(self, published_at: datetime | None) -> bool:
        return published_at is not None and published_at >= self.recheck_since

    def needs_fetch(self, key: str | None, url: str | None, published_at: datetime | None) -> bool:
        """Whether a listed post's page must be fetched: new, or stored but recent enough to recheck."""
        known_key = key if key in self.known else self.key_for_url(url)
        if known_key is None:
            return True
        known = self.known[known_key]
        return self.in_recheck_window(known.published_at or published_at)

    def is_known_and_settled(self, key: str | None, url: str | None, published_at: datetime | None) -> bool:
        """A listed entry already stored and older than the recheck window: where paging can stop."""
        known_key = key if key in self.known else self.key_for_url(url)
        if known_key is None:
            return False
        return not self.in_recheck_window(self.known[known_key].published_at or published_at)

    def recheck_targets(self) -> list[tuple[str, KnownPost]]:
        """Stored live posts in the recheck window: their pages are fetched even if no longer listed."""
        return [
            (key, post)
            for key, post in self.known.items()
            if post.status in LIVE and post.url and self.in_recheck_window(post.published_at)
        ]

    def vanished(self, seen: set[str], oldest: datetime) -> list[tuple[str, KnownPost]]:
        """Stored live posts newer than the oldest listed entry that the listing no longer shows."""
        return [
            (key, post)
            for key, post in self.known.items()
            if post.status in LIVE
            and post.published_at is not None
            and post.published_at > oldest
            and key not in seen
        ]

    @property
    def headers(self) -> dict[str, str]:
        headers = {str(k): str(v) for k, v in (self.options.get("headers") or {}).items()}
        cookies = self.options.get("cookies")
        if isinstance(cookies, Mapping):
            cookies = "; ".join(f"{k}={v}" for k, v in cookies.items())
        if cookies:
            headers["Cookie"] = str(cookies)
        return headers

    @property
    def obey_robots(self) -> bool:
        return self.options.get("robots", True) is not False


def validate_source(source: Mapping[str, Any] | None) -> tuple[str, str | None, dict[str, Any]]:
    """(kind, url, options) from an account's source JSON; SourceConfigError says what to fix."""
    if not source:
        raise SourceConfigError("the account has no source configuration (set 采集方式/采集地址)")
    options = {k: v for k, v in source.items() if k not in ("kind", "url")}
    kind = str(source.get("kind") or "")
    if kind not in KINDS:
        raise SourceConfigError(f"source kind {kind!r} is not one of {', '.join(KINDS)}")
    url = source.get("url")
    if url is not None and not (isinstance(url, str) and re.match(r"^https?://", url)):
        raise SourceConfigError(f"source url {url!r} is not an http(s) URL")
    articles = options.get("articles")
    if articles is not None and not (
        isinstance(articles, list) and all(isinstance(a, str) for a in articles)
    ):
        raise SourceConfigError("source option 'articles' must be a list of article URLs")
    if not url and not (kind == "wechat" and articles):
        raise SourceConfigError(f"a {kind} source needs a url")
    for name, low, high in (("max_pages", 1, 1000), ("recheck_days", 0, 3650), ("page_start", 0, 10_000)):
        if name in options:
            try:
                value = float(options[name])
            except (TypeError, ValueError):
                raise SourceConfigError(f"source option {name!r} must be a number") from None
            if not low <= value <= high:
                raise SourceConfigError(f"source option {name!r} must be between {low} and {high}")
    if options.get("encoding"):
        try:
            codecs.lookup(str(options["encoding"]))
        except LookupError:
            raise SourceConfigError(f"unknown encoding {options['encoding']!r}") from None
    if options.get("detail_pattern"):
        try:
            re.compile(str(options["detail_pattern"]))
        except re.error as error:
            raise SourceConfigError(f"detail_pattern is not a valid regular expression: {error}") from None
    cookies = options.get("cookies")
    if cookies is not None and not isinstance(cookies, str | Mapping):
        raise SourceConfigError("source option 'cookies' must be a \"k=v; k2=v2\" string or an object")
    return kind, url, options


def build_plans(
    session_factory: sessionmaker[Session],
    accounts: Sequence[Account],
    run_ids: Mapping[int, int],
    *,
    now: datetime | None = None,
) -> tuple[list[AccountPlan], dict[int, str]]:
    """Plans for the accounts whose configuration is valid, and the error of each other one."""
    now = now or datetime.now(UTC)
    plans: list[AccountPlan] = []
    invalid: dict[int, str] = {}
    with session_factory() as session:
        previous = previous_run_statuses(
            session=session, account_ids=[a.id for a in accounts], exclude_run_ids=list(run_ids.values())
        )
        for account in accounts:
            try:
                kind, url, options = validate_source(account.source)
            except SourceConfigError as error:
                invalid[account.id] = f"source configuration: {error}"
                continue
            known = list_known_posts(
                session=session,
                account_id=account.id,
                since=now - timedelta(days=KNOWN_DAYS),
                limit=KNOWN_LIMIT,
            )
            plans.append(
                AccountPlan(
                    account_id=account.id,
                    name=account.name,
                    kind=kind,
                    url=url,
                    options=options,
                    now=now,
                    run_id=run_ids.get(account.id),
                    known={post.source_key: post for post in known},
                    incremental=previous.get(account.id) == "ok",
                )
            )
    return plans, invalid
