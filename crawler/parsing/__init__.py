"""Pure parsers for the four source kinds: bytes in, a PageResult out (no network, no database)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from crawler.parsing.base import CHINA_TZ, KINDS, PageResult, ParsedPost, error_page
from crawler.parsing.feed import looks_like_feed, parse_feed
from crawler.parsing.govsite import parse_govsite
from crawler.parsing.wechat import (
    is_wechat_article,
    looks_like_wechat_index,
    parse_wechat_article,
    parse_wechat_index,
    parse_wechat_notice,
)
from crawler.parsing.weibo import looks_like_weibo, parse_weibo_page

__all__ = ["CHINA_TZ", "KINDS", "PageResult", "ParsedPost", "detect_kind", "error_page", "parse_page"]


def detect_kind(url: str, body: bytes, content_type: str | None = None) -> str:
    """Which adapter reads this page: from the URL when it says, else from the content."""
    host = (urlsplit(url).hostname or "").lower()
    if host.endswith("mp.weixin.qq.com"):
        return "wechat"
    if looks_like_weibo(url, body) or host.endswith(("m.weibo.cn", "weibo.com")):
        return "weibo"
    if looks_like_feed(body):
        return "feed"
    if is_wechat_article(body) or looks_like_wechat_index(body):
        return "wechat"
    return "govsite"


def parse_page(
    kind: str,
    url: str,
    body: bytes,
    content_type: str | None = None,
    *,
    options: Mapping[str, Any] | None = None,
    fetched_at: datetime | None = None,
) -> PageResult:
    """What the adapter of `kind` reads from one page (`kind` "auto" detects it)."""
    if kind == "auto":
        kind = detect_kind(url, body, content_type)
    if kind == "feed":
        return parse_feed(url, body, content_type, fetched_at=fetched_at)
    if kind == "wechat":
        if is_wechat_article(body):
            return parse_wechat_article(url, body, content_type, fetched_at=fetched_at)
        if not looks_like_feed(body) and (notice := parse_wechat_notice(url, body, content_type)):
            return notice
        return parse_wechat_index(url, body, content_type, fetched_at=fetched_at)
    if kind == "weibo":
        return parse_weibo_page(url, body, content_type, fetched_at=fetched_at)
    if kind == "govsite":
        return parse_govsite(url, body, content_type, options=options, fetched_at=fetched_at)
    return error_page(kind, url, f"unknown source kind {kind!r} (expected {', '.join(KINDS)} or auto)")
