"""Fetches one URL and reads it with an adapter, storing nothing: how operators check a source."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from crawler import settings as crawler_settings
from crawler.parsing import KINDS, PageResult, detect_kind, error_page, parse_page
from crawler.parsing.weibo import parse_weibo_page

DEFAULT_TIMEOUT = 30.0


@dataclass
class Fetched:
    url: str  # after redirects
    status: int
    body: bytes
    content_type: str | None


class FetchError(Exception):
    """The page could not be fetched; the message says why, with the URL."""


class _KeepErrors(urllib.request.HTTPErrorProcessor):
    """Hands 4xx/5xx answers back as responses: their status and body matter (432, WAF pages)."""

    def http_response(self, request: Any, response: Any) -> Any:
        return response

    https_response = http_response


def fetch(
    url: str,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = crawler_settings.DOWNLOAD_MAXSIZE,
    headers: Mapping[str, str] | None = None,
) -> Fetched:
    request_headers = {"User-Agent": crawler_settings.USER_AGENT, "Accept": "*/*", **(headers or {})}
    opener = urllib.request.build_opener(_KeepErrors)
    try:
        with opener.open(urllib.request.Request(url, headers=request_headers), timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > max_bytes:
                raise FetchError(
                    f"response of {length} bytes is larger than the {max_bytes}-byte limit at {url}"
                )
            body = response.read(max_bytes + 1)
            if len(body) > max_bytes:
                raise FetchError(f"response larger than the {max_bytes}-byte limit at {url}")
            return Fetched(response.geturl(), response.status, body, response.headers.get("Content-Type"))
    except TimeoutError:
        raise FetchError(f"no answer within {timeout:g} s at {url}") from None
    except urllib.error.URLError as error:
        raise FetchError(f"could not fetch: {error.reason} at {url}") from None
    except (ValueError, OSError) as error:  # malformed URL, connection reset ...
        raise FetchError(f"could not fetch: {error} at {url}") from None


def inspect_url(
    url: str,
    *,
    kind: str = "auto",
    options: Mapping[str, Any] | None = None,
    cookie: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = crawler_settings.DOWNLOAD_MAXSIZE,
) -> PageResult:
    """What the adapter of `kind` reads from `url` ("auto" detects the kind from the URL or content)."""
    if kind != "auto" and kind not in KINDS:
        return error_page(kind, url, f"unknown kind {kind!r} (expected auto, {', '.join(KINDS)})")
    headers = {"Cookie": cookie} if cookie else {}
    try:
        fetched = fetch(url, timeout=timeout, headers=headers, max_bytes=max_bytes)
    except FetchError as error:
        result = PageResult(
            kind=kind if kind != "auto" else "unknown", url=url, status="error", error=str(error)
        )
        return result
    if kind == "auto":
        kind = detect_kind(fetched.url, fetched.body, fetched.content_type)
    if fetched.status >= 400:
        if kind == "weibo" and fetched.status in (418, 429, 432):
            return error_page(kind, url, f"HTTP {fetched.status}: Weibo blocks or rate-limits this address")
        reason = HTTPStatus(fetched.status).phrase if fetched.status in HTTPStatus._value2member_map_ else ""
        return error_page(kind, url, f"HTTP {fetched.status} {reason}".strip())
    now = datetime.now(UTC)
    if kind == "weibo":
        return parse_weibo_page(fetched.url, fetched.body, fetched.content_type, fetched_at=now)
    return parse_page(kind, fetched.url, fetched.body, fetched.content_type, options=options, fetched_at=now)
