"""What the adapters return: one fetched page turned into posts, a status and the next page."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")
KINDS = ("feed", "wechat", "weibo", "govsite")
# ok: content was read; the others are pages that answer 200 but carry no content.
PAGE_STATUSES = ("ok", "deleted", "violation", "unavailable", "waf", "error")
MAX_KEY_LENGTH = 255


def stable_key(value: str) -> str:
    """A post key that fits the database column: long ids are replaced by their hash."""
    value = value.strip()
    if len(value) <= MAX_KEY_LENGTH:
        return value
    return "sha256:" + hashlib.sha256(value.encode("utf-8")).hexdigest()


@dataclass
class ParsedPost:
    """One post (or, on a listing page, one entry that links to a post)."""

    key: str
    url: str | None
    title: str | None = None
    account: str | None = None
    author: str | None = None
    published_at: datetime | None = None
    text: str = ""
    metrics: dict[str, int | None] = field(default_factory=dict)
    is_original: bool | None = None
    images: list[str] = field(default_factory=list)
    # Weibo: the listing shows a truncated text; the full one is at detail_url.
    truncated: bool = False
    # Listing entries (WeChat index, government news list): the page to fetch for the content.
    detail_url: str | None = None
    # The page says the post has no title of its own (an untitled WeChat text share): a listing's
    # title for it must not stand in, or the same post would read as edited between two paths.
    untitled: bool = False
    # Outbound links of the post's body, in order: [{"href": ..., "text": anchor text}].
    links: list[dict[str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "url": self.url,
            "title": self.title,
            "account": self.account,
            "author": self.author,
            "published_at": self.published_at.astimezone(CHINA_TZ).isoformat() if self.published_at else None,
            "text": self.text,
            "metrics": {name: value for name, value in self.metrics.items() if value is not None},
            "links": self.links,
        }


@dataclass
class PageResult:
    """One page as an adapter read it. `error` is for a person: what went wrong, and where."""

    kind: str
    url: str
    status: str = "ok"
    posts: list[ParsedPost] = field(default_factory=list)
    next: str | None = None
    error: str | None = None
    # The posts are links to follow (a WeChat index, a news list), not the content itself.
    listing: bool = False
    # The site refuses us (Weibo ok:-100, a login wall): back off instead of retrying.
    blocked: bool = False
    # Some entries were lost (truncated XML): the listing cannot prove that a post vanished.
    incomplete: bool = False
    total_pages: int | None = None
    # Lists: the list's or channel's own title and owner, when the page names them.
    title: str | None = None
    account: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "status": self.status,
            "listing": self.listing,
            "title": self.title,
            "account": self.account,
            "posts": [post.to_json() for post in self.posts],
            "next": self.next,
            "error": self.error,
        }


def error_page(kind: str, url: str, message: str, *, status: str = "error") -> PageResult:
    return PageResult(kind=kind, url=url, status=status, error=f"{message} at {url}")
