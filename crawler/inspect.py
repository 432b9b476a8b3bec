"""Fetches one URL the way a crawl does and reads it with an adapter, storing nothing.

How operators check a source: the page goes through Scrapy's downloader with the crawl's own
settings (total download timeout, size cap, redirect limit, retries, Retry-After, robots.txt), so
what `inspect` shows is what a crawl would store. Twisted's reactor cannot restart within a process,
so each inspection runs in a `python -m crawler.inspect` child that prints one JSON result.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from crawler.config import CrawlConfig
from crawler.parsing import KINDS, PageResult, ParsedPost, detect_kind, error_page, parse_page

DEFAULT_TIMEOUT = 30.0
STARTUP_GRACE = 30.0  # seconds the child may take to start Python and Scrapy, on top of the timeout
REPO_ROOT = Path(__file__).resolve().parent.parent


def inspect_url(
    url: str,
    *,
    kind: str = "auto",
    options: Mapping[str, Any] | None = None,
    cookie: str | None = None,
    config: CrawlConfig | None = None,
    timeout: float | None = None,
    max_bytes: int | None = None,
    scrapy_settings: Mapping[str, Any] | None = None,
) -> PageResult:
    """What the adapter of `kind` reads from `url` ("auto" detects the kind from the URL or content).

    `config` gives the crawl's limits (timeout and max_bytes override them); the whole inspection,
    retries included, ends within the timeout with a result, never an exception.
    """
    if kind != "auto" and kind not in KINDS:
        return error_page(kind, url, f"unknown kind {kind!r} (expected auto, {', '.join(KINDS)})")
    if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
        return error_page(kind if kind != "auto" else "unknown", url, "not an http(s) URL")
    config = config or CrawlConfig(database_url="sqlite://")
    limit = float(timeout if timeout is not None else config.timeout)
    request = {
        "url": url,
        "kind": kind,
        "options": dict(options or {}),
        "cookie": cookie,
        "config": json.loads(config.to_json()),
        "timeout": limit,
        "max_bytes": int(max_bytes if max_bytes is not None else config.max_bytes),
        "settings": dict(scrapy_settings or {}),
    }
    shown = kind if kind != "auto" else "unknown"
    try:
        child = subprocess.run(
            [sys.executable, "-m", "crawler.inspect"],
            input=json.dumps(request),
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            cwd=REPO_ROOT,
            timeout=limit + STARTUP_GRACE,
        )
    except subprocess.TimeoutExpired:
        return error_page(shown, url, f"no answer within {limit:g} s")
    for line in reversed(child.stdout.splitlines()):
        if line.startswith("{"):
            try:
                return _result_from_json(json.loads(line), url)
            except (json.JSONDecodeError, KeyError, TypeError, ValueError):
                break
    tail = (child.stderr or "").strip().splitlines()[-1:] or ["no output"]
    return error_page(shown, url, f"the inspection process failed (exit {child.returncode}: {tail[0][:300]})")


def _result_from_json(data: dict[str, Any], url: str) -> PageResult:
    """The child's PageResult back from the JSON it printed."""
    result = PageResult(
        kind=data["kind"],
        url=url,
        status=data["status"],
        next=data.get("next"),
        error=data.get("error"),
        listing=bool(data.get("listing")),
        title=data.get("title"),
        account=data.get("account"),
    )
    for post in data.get("posts") or []:
        published = post.get("published_at")
        result.posts.append(
            ParsedPost(
                key=post["key"],
                url=post.get("url"),
                title=post.get("title"),
                account=post.get("account"),
                author=post.get("author"),
                published_at=datetime.fromisoformat(published) if published else None,
                text=post.get("text") or "",
                metrics=dict(post.get("metrics") or {}),
                links=list(post.get("links") or []),
            )
        )
    return result


# ---- the child process ------------------------------------------------------------------------
def _settings(request: Mapping[str, Any]) -> Any:
    from crawler.worker import scrapy_settings

    config = CrawlConfig(**request["config"])
    timeout = float(request["timeout"])
    overrides = {
        "DOWNLOAD_TIMEOUT": timeout,
        "DOWNLOAD_MAXSIZE": int(request["max_bytes"]),
        "DOWNLOAD_WARNSIZE": min(int(request["max_bytes"]), 4 * 1024 * 1024),
        "DOWNLOAD_DELAY": 0,
        "AUTOTHROTTLE_ENABLED": False,
        "ITEM_PIPELINES": {},  # inspect stores nothing
        "LOG_LEVEL": "CRITICAL",
        # Everything, retries and redirects included, ends within the timeout.
        "CLOSESPIDER_TIMEOUT": timeout,
        **request.get("settings", {}),
    }
    return scrapy_settings(config, overrides)


def run_child(request: Mapping[str, Any]) -> dict[str, Any]:
    """Fetches and parses in this process (once: the reactor cannot restart). Returns to_json()."""
    import logging

    import scrapy
    from scrapy.crawler import CrawlerProcess
    from scrapy.http import Request, Response
    from twisted.python.failure import Failure

    from crawler.spiders.base import content_type, describe_failure, http_reason

    url = str(request["url"])
    kind = str(request["kind"])
    shown = kind if kind != "auto" else "unknown"
    outcome: dict[str, Any] = {}
    started = time.monotonic()

    class InspectSpider(scrapy.Spider):
        name = "inspect"

        async def start(self) -> Any:
            headers = {"Cookie": request["cookie"]} if request.get("cookie") else {}
            meta: dict[str, Any] = {"dont_merge_cookies": True} if headers else {}
            if kind == "weibo":
                meta["block_on_429"] = True  # as the Weibo spider: 429 means back off, not wait
            yield Request(
                url, headers=headers, meta=meta, callback=self.parse, errback=self.failed, dont_filter=True
            )

        def parse(self, response: Response, **kwargs: Any) -> Any:
            outcome["result"] = read_response(kind, response).to_json()
            return iter(())

        def failed(self, failure: Failure) -> Any:
            from scrapy.spidermiddlewares.httperror import HttpError

            failed_request = failure.request  # type: ignore[attr-defined]
            if failure.check(HttpError):
                response = failure.value.response  # type: ignore[union-attr]
                status = response.status
                if kind == "weibo" and status in (403, 418, 429, 432):
                    message = f"HTTP {status}: Weibo blocks or rate-limits this address"
                else:
                    message = f"HTTP {status} {http_reason(status)}".strip()
                    wait = failed_request.meta.get("retry_after_gave_up")
                    if status == 429 and wait:
                        message += f" (Retry-After {wait:.0f} s is longer than a crawl waits)"
                outcome["result"] = error_page(shown, url, message).to_json()
            else:
                message = self.describe(failure, failed_request)
                outcome["result"] = PageResult(kind=shown, url=url, status="error", error=message).to_json()
            return iter(())

        def describe(self, failure: Failure, failed_request: Request) -> str:
            from scrapy.exceptions import IgnoreRequest
            from twisted.internet.defer import CancelledError

            timeout = float(request["timeout"])
            text = str(failure.value)
            if failure.check(CancelledError) and time.monotonic() - started >= 0.9 * timeout:
                return f"no answer within {timeout:g} s at {url}"
            if failure.check(IgnoreRequest):
                if "redirect" in text.lower():
                    limit = self.settings.getint("REDIRECT_MAX_TIMES")
                    return f"too many redirects (more than {limit}) at {url}"
                if "max size" in text.lower() or "maxsize" in text.lower() or "larger than" in text.lower():
                    limit = self.settings.getint("DOWNLOAD_MAXSIZE")
                    return (
                        f"response larger than the {limit}-byte limit once decompressed: not stored at {url}"
                    )
                if "robots.txt" in text:
                    return f"robots.txt of the site forbids {url}"
            return describe_failure(failure, failed_request, self.settings)

        def closed(self, reason: str) -> None:
            if "result" not in outcome:
                if reason == "closespider_timeout":
                    message = f"no answer within {float(request['timeout']):g} s at {url}"
                else:
                    message = f"the fetch ended without an answer ({reason}) at {url}"
                outcome["result"] = PageResult(kind=shown, url=url, status="error", error=message).to_json()

    def read_response(kind: str, response: Response) -> PageResult:
        body = response.body
        ctype = content_type(response)
        if kind == "auto":
            kind = detect_kind(response.url, body, ctype)
        if not body.strip():
            return error_page(kind, response.url, f"HTTP {response.status} with an empty body")
        try:
            return parse_page(
                kind, response.url, body, ctype, options=request.get("options"), fetched_at=datetime.now(UTC)
            )
        except Exception as error:  # the boundary: a page no adapter can read is a result, not a crash
            return error_page(kind, response.url, f"could not parse the page ({error.__class__.__name__})")

    process = CrawlerProcess(_settings(request), install_root_handler=False)
    logging.getLogger("scrapy").setLevel(logging.CRITICAL)
    logging.getLogger("twisted").setLevel(logging.CRITICAL)
    process.crawl(InspectSpider)
    process.start()
    result = outcome.get("result") or error_page(shown, url, "no answer").to_json()
    result["seconds"] = round(time.monotonic() - started, 2)
    return result


def main() -> int:
    request = json.loads(sys.stdin.read())
    try:
        result = run_child(request)
    except Exception as error:  # the child's boundary: the parent shows this as the error
        result = error_page(
            str(request.get("kind") or "unknown"),
            str(request.get("url")),
            f"could not inspect ({error.__class__.__name__}: {error})",
        ).to_json()
    sys.stdout.write("\n" + json.dumps(result, ensure_ascii=False) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
