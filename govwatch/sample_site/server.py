"""The sample site's HTTP server: platform-shaped pages, the faults real sites have, a control endpoint."""

from __future__ import annotations

import contextlib
import json
import logging
import re
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from govwatch.sample_site import pages
from govwatch.sample_site.content import (
    SampleAccount,
    SamplePost,
    SampleState,
    wechat_biz,
    wechat_mid,
    wechat_short,
    weibo_id,
)

log = logging.getLogger(__name__)

ROBOTS = b"User-agent: *\nDisallow: /private/\n"
WEIBO_PAGE_SIZE = 4
GOV_PAGE_SIZE = {"hhht-gov": 4, "yuquan-gov": 3}
BENCH_PER_PAGE = 200


@dataclass
class SiteConfig:
    latency: float = 0.0  # seconds added to every page (the control endpoint is never slowed)
    slow_seconds: float = 3.0  # how long /fault/slow.xml takes
    oversize_bytes: int = 3 * 1024 * 1024
    retry_after: int = 1  # what /fault/429.xml asks for
    bench_accounts: int = 10
    bench_articles: int = 1000  # per bench account


class SampleSite:
    """A running sample site; `url` is its base URL (no trailing slash)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, now: datetime | None = None) -> None:
        self.state = SampleState(now)
        self.config = SiteConfig()
        self.requests: Counter[str] = Counter()
        self.fault_hits: Counter[str] = Counter()
        self.counter_lock = threading.Lock()
        handler = type("Handler", (SampleHandler,), {"site": self})
        self.server = ThreadingHTTPServer((host, port), handler)
        self.server.daemon_threads = True
        self.url = f"http://{host}:{self.server.server_address[1]}"
        self.thread: threading.Thread | None = None

    def start(self) -> SampleSite:
        self.thread = threading.Thread(target=self.server.serve_forever, name="sample-site", daemon=True)
        self.thread.start()
        return self

    def serve_forever(self) -> None:
        self.server.serve_forever()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> SampleSite:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self) -> None:
        with self.counter_lock:
            self.state.reset()
            self.requests.clear()
            self.fault_hits.clear()
            self.config = SiteConfig()

    def hit(self, name: str) -> int:
        with self.counter_lock:
            self.fault_hits[name] += 1
            return self.fault_hits[name]


def _feed_for_fault(site: str, name: str) -> bytes:
    items = "\n".join(
        f"<item><title>{name} 条目 {i}</title><link>{site}/fault/{name}/{i}.html</link>"
        f"<guid>fault-{name}-{i}</guid><pubDate>Thu, 22 Jan 2026 1{i}:00:00 +0800</pubDate>"
        f"<description>故障测试条目 {i}：{name}</description></item>"
        for i in range(3)
    )
    return f"""<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{name}</title>
{items}</channel></rss>""".encode()


class SampleHandler(BaseHTTPRequestHandler):
    site: SampleSite
    protocol_version = "HTTP/1.1"
    server_version = "SampleGov/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    # ---- plumbing ------------------------------------------------------------------------------
    def setup(self) -> None:
        super().setup()
        # Headers and body leave in one segment below; without NODELAY a keep-alive client would
        # still wait for Nagle's algorithm on every answer (40 ms with delayed ACKs).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def send(
        self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        # end_headers() without its flush: the blank line, then the body, in one write.
        buffer: list[bytes] = self._headers_buffer  # type: ignore[attr-defined]
        buffer.append(b"\r\n")
        if self.command != "HEAD":
            buffer.append(body)
        self.flush_headers()

    def html(self, body: bytes, status: int = 200, charset: str | None = "utf-8") -> None:
        self.send(status, body, f"text/html; charset={charset}" if charset else "text/html")

    def json(self, document: Any, status: int = 200) -> None:
        self.send(
            status, json.dumps(document, ensure_ascii=False).encode(), "application/json; charset=utf-8"
        )

    def not_found(self) -> None:
        self.html(b"<html><body><h1>404 Not Found</h1></body></html>", 404)

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        payload = self.rfile.read(length) if length else b""
        path = urlsplit(self.path).path
        if path == "/_control/tick":
            self.json(self.site.state.tick())
        elif path == "/_control/reset":
            self.site.reset()
            self.json({"ok": True})
        elif path == "/_control/config":
            values = json.loads(payload or b"{}")
            for name, value in values.items():
                if hasattr(self.site.config, name):
                    setattr(self.site.config, name, value)
            self.json(self.site.config.__dict__)
        else:
            self.not_found()

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        path, query = parts.path, parse_qs(parts.query)
        if path.startswith("/_control/"):
            self.control(path)
            return
        with self.site.counter_lock:
            self.site.requests[self.path] += 1
        if self.site.config.latency:
            time.sleep(self.site.config.latency)
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client went away
            self.route(path, query)

    def control(self, path: str) -> None:
        if path == "/_control/state":
            self.json(self.site.state.describe())
        elif path == "/_control/requests":
            with self.site.counter_lock:
                self.json(dict(self.site.requests))
        else:
            self.not_found()

    # ---- pages ---------------------------------------------------------------------------------
    def route(self, path: str, query: dict[str, list[str]]) -> None:
        site = self.site.url
        state = self.site.state
        if path == "/robots.txt":
            self.send(200, ROBOTS, "text/plain")
            return
        if path.startswith("/fault/") or path.startswith("/private/"):
            self.fault(path, query)
            return
        if path.startswith("/bench/"):
            self.bench(path, query)
            return
        with state.lock:
            self.content(site, state, path, query)

    def entries(
        self, account: SampleAccount, *, include_gone: bool = False
    ) -> list[tuple[SamplePost, datetime]]:
        state = self.site.state
        posts = account.all_posts() if include_gone else account.live_posts()
        return [(post, state.published(post)) for post in posts]

    def content(self, site: str, state: SampleState, path: str, query: dict[str, list[str]]) -> None:
        if match := re.fullmatch(r"/wechat/([\w-]+)/(index\.xml)?", path):
            account = state.account(match.group(1))
            if account is None:
                return self.not_found()
            entries = self.entries(account, include_gone=True)  # a bridge keeps links to deleted articles
            if match.group(2):
                return self.send(
                    200, pages.wechat_index_feed(site, account, entries), "application/rss+xml; charset=utf-8"
                )
            return self.html(pages.wechat_index_html(site, account, entries))
        if path == "/s" or path.startswith("/s/"):
            return self.wechat_article(state, path, query)
        if path == "/api/container/getIndex":
            return self.weibo_timeline(site, state, query)
        if path == "/statuses/show":
            return self.weibo_status(site, state, query)
        if match := re.fullmatch(r"/gov/hhht/xwdt/(?:index(?:_(\d+))?\.html)?", path):
            return self.gov_list(site, state.account("hhht-gov"), int(match.group(1) or 0) + 1)
        if path == "/gov/yuquan/list":
            return self.gov_list(site, state.account("yuquan-gov"), int((query.get("page") or ["1"])[0]))
        if match := re.fullmatch(r"/gov/hhht/xwdt/\d{6}/t\d{8}_(\d+)\.html", path) or re.fullmatch(
            r"/gov/yuquan/art/\d{4}/\d{1,2}/\d{1,2}/art_1234_(\d+)\.html", path
        ):
            slug = "hhht-gov" if path.startswith("/gov/hhht") else "yuquan-gov"
            return self.gov_detail(state, slug, int(match.group(1)), path)
        if path == "/feeds/nmg.xml":
            return self.feed(pages.rss_feed, site, state, "nmg-feed", "application/rss+xml")
        if path == "/feeds/toutiao/hhhtjy.atom":
            return self.feed(
                pages.atom_feed, site, state, "jyj-toutiao", "application/atom+xml; charset=utf-8"
            )
        if path == "/feeds/douyin/yqrm.json":
            return self.feed(pages.json_feed, site, state, "yuquan-douyin", "application/feed+json")
        return self.not_found()

    def feed(self, render: Any, site: str, state: SampleState, slug: str, content_type: str) -> None:
        account = state.account(slug)
        if account is None:
            return self.not_found()
        return self.send(200, render(site, account, self.entries(account)), content_type)

    def find_wechat(
        self, state: SampleState, path: str, query: dict[str, list[str]]
    ) -> tuple[SampleAccount, SamplePost] | None:
        for account in state.accounts:
            if account.kind != "wechat":
                continue
            for post in account.posts:
                if path.startswith("/s/"):
                    if path[3:].strip("/") == wechat_short(account.slug, post):
                        return account, post
                elif query.get("__biz", [""])[0] == account.biz and query.get("mid", [""])[0] == wechat_mid(
                    post
                ):
                    return account, post
        return None

    def wechat_article(self, state: SampleState, path: str, query: dict[str, list[str]]) -> None:
        found = self.find_wechat(state, path, query)
        if found is None:
            # WeChat answers an unknown article with the same 200 notice as a deleted one.
            return self.html(pages.wechat_notice("deleted"))
        account, post = found
        if post.status != "live":
            return self.html(pages.wechat_notice(post.status))
        self.html(pages.wechat_article(account, post, state.published(post)))

    def weibo_timeline(self, site: str, state: SampleState, query: dict[str, list[str]]) -> None:
        if "SUB" not in (self.headers.get("Cookie") or ""):
            return self.json(
                {"ok": -100, "url": "https://passport.weibo.cn/signin/welcome?entry=mweibo&r=..."}
            )
        containerid = (query.get("containerid") or [""])[0]
        account = next(
            (a for a in state.accounts if a.kind == "weibo" and containerid == f"107603{a.handle}"), None
        )
        if account is None:
            return self.json({"ok": 0, "msg": "这里还没有内容", "data": {"cards": []}})
        since_id = (query.get("since_id") or [""])[0] or None
        body = pages.weibo_container(site, account, self.entries(account), since_id, WEIBO_PAGE_SIZE)
        self.send(200, body, "application/json; charset=utf-8")

    def weibo_status(self, site: str, state: SampleState, query: dict[str, list[str]]) -> None:
        wanted = (query.get("id") or [""])[0]
        for account in state.accounts:
            if account.kind != "weibo":
                continue
            for post in account.posts:
                if weibo_id(post) == wanted:
                    published = state.published(post)
                    return self.send(
                        200, pages.weibo_show(site, account, post, published), "application/json"
                    )
        self.send(200, pages.weibo_show(site, state.accounts[0], None, None), "application/json")

    def gov_list(self, site: str, account: SampleAccount | None, page: int) -> None:
        if account is None:
            return self.not_found()
        state = self.site.state
        entries = [(p, state.published(p)) for p in account.all_posts() if p.status == "live" or p.stale_link]
        per_page = GOV_PAGE_SIZE[account.slug]
        if page < 1 or (page - 1) * per_page >= max(len(entries), 1):
            return self.not_found()
        self.send(200, pages.gov_list(site, account, entries, page, per_page), "text/html")

    def gov_detail(self, state: SampleState, slug: str, number: int, path: str) -> None:
        account = state.account(slug)
        post = next((p for p in account.posts if p.number == number), None) if account else None
        if account is None or post is None:
            return self.not_found()
        if pages.gov_detail_path(account, post, state.published(post)) != path:
            return self.not_found()
        if post.status != "live":
            return self.send(200, pages.gov_withdrawn(), "text/html")
        self.send(200, pages.gov_detail(account, post, state.published(post)), "text/html")

    # ---- faults --------------------------------------------------------------------------------
    def fault(self, path: str, query: dict[str, list[str]]) -> None:
        site, config = self.site.url, self.site.config
        name = path.rsplit("/", 1)[-1]
        if path == "/fault/403.xml":
            return self.html(b"<html><body><h1>403 Forbidden</h1></body></html>", 403)
        if path == "/fault/404.xml":
            return self.not_found()
        if path == "/fault/429.xml":
            if self.site.hit(path) == 1:
                return self.send(
                    429, b"Too Many Requests", "text/plain", {"Retry-After": str(config.retry_after)}
                )
            return self.send(200, _feed_for_fault(site, "429"), "application/rss+xml")
        if path == "/fault/429-forever.xml":
            return self.send(429, b"Too Many Requests", "text/plain", {"Retry-After": "3600"})
        if path == "/fault/flaky.xml":
            if self.site.hit(path) == 1:
                return self.html(b"<html><body>503 Service Unavailable</body></html>", 503)
            return self.send(200, _feed_for_fault(site, "flaky"), "application/rss+xml")
        if path == "/fault/slow.xml":
            time.sleep(config.slow_seconds)
            return self.send(200, _feed_for_fault(site, "slow"), "application/rss+xml")
        if path == "/fault/oversize.xml":
            filler = b"<!-- " + b"x" * max(0, config.oversize_bytes) + b" -->"
            return self.send(
                200,
                _feed_for_fault(site, "oversize").replace(b"<channel>", b"<channel>" + filler),
                "application/rss+xml",
            )
        if path == "/fault/oversize-stream.xml":
            # No Content-Length: the size is only known while reading, as with a chunked answer.
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            chunk = b"<!-- " + b"y" * 65536 + b" -->\n"
            try:
                for _ in range(config.oversize_bytes // len(chunk) + 2):
                    self.wfile.write(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass
            return None
        if path == "/fault/truncated.xml":
            body = _feed_for_fault(site, "truncated")
            return self.send(200, body[: body.rindex(b"<item>") + 60], "application/rss+xml")
        if path == "/fault/broken.json":
            return self.send(
                200,
                b'{"version": "https://jsonfeed.org/version/1.1", "title": "x", "items": [{"id": "1", "ti',
                "application/feed+json",
            )
        if path == "/fault/not-a-feed.xml":
            return self.html("<html><body><p>这不是一个订阅源</p></body></html>".encode())
        if path == "/fault/mislabeled.html":
            # A GBK article served as UTF-8: the declared charset is wrong, the bytes are GBK.
            account = self.site.state.account("hhht-gov")
            assert account is not None
            post = account.live_posts()[0]
            return self.send(
                200,
                pages.gov_detail(account, post, self.site.state.published(post)),
                "text/html; charset=utf-8",
            )
        if path.startswith("/fault/waf/s"):
            return self.html(pages.wechat_notice("waf"))
        if path == "/fault/waf/index.xml":
            body = _feed_for_fault(site, "waf").replace(
                f"{site}/fault/waf/".encode(), f"{site}/fault/waf/s/".encode()
            )
            return self.send(200, body, "application/rss+xml")
        if path.startswith("/fault/weibo-432/"):
            return self.send(432, b"", "text/html")
        if path.startswith("/fault/weibo-429/"):
            return self.send(429, b"", "text/html", {"Retry-After": "1"})
        if path.startswith("/fault/weibo-login/"):
            return self.json({"ok": -100, "url": "https://passport.weibo.cn/signin/welcome"})
        if path.startswith("/private/"):
            return self.send(200, _feed_for_fault(site, "private"), "application/rss+xml")
        del name, query
        return self.not_found()

    # ---- benchmark -----------------------------------------------------------------------------
    def bench(self, path: str, query: dict[str, list[str]]) -> None:
        config = self.site.config
        if match := re.fullmatch(r"/bench/(\d+)/index\.xml", path):
            page = int((query.get("page") or ["1"])[0])
            body = pages.bench_index(
                self.site.url, int(match.group(1)), page, BENCH_PER_PAGE, config.bench_articles
            )
            return self.send(200, body, "application/rss+xml")
        if path == "/bench/s":
            mid = int((query.get("mid") or ["0"])[0])
            number = mid - 2650000000
            published = self.site.state.now.replace(tzinfo=UTC)
            return self.html(pages.bench_article(number, published))
        return self.not_found()


__all__ = ["SampleSite", "wechat_biz"]
