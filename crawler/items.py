"""What spiders yield: posts, posts that turned into notices, and errors a user should read."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class PostItem:
    """A post as read from its page; `body` is the raw response it came from (kept as a snapshot)."""

    account_id: int
    key: str
    url: str | None
    text: str
    fetched_at: datetime
    title: str | None = None
    author: str | None = None
    published_at: datetime | None = None
    metrics: dict[str, int | None] = field(default_factory=dict)
    is_original: bool | None = None
    body: bytes = b""
    content_type: str | None = None
    # Outbound links of the body: [{"href": ..., "text": ...}] (stored as posts.links).
    links: list[dict[str, str]] = field(default_factory=list)


@dataclass
class GoneItem:
    """A post that answers with a deletion/violation/unavailable notice, or vanished from its listing."""

    account_id: int
    key: str
    url: str | None
    status: str  # deleted | violation | unavailable
    reason: str
    fetched_at: datetime
    body: bytes | None = None  # the notice page, when there is one
    content_type: str | None = None


@dataclass
class ErrorItem:
    """Something that went wrong for an account, worded for the person reading the crawl run."""

    account_id: int
    url: str
    message: str
    blocked: bool = False  # the site refuses us (WAF, HTTP 432, ok:-100): the run is 'blocked'
    alerted: bool = False  # already logged once for the site (a request skipped after a block)
