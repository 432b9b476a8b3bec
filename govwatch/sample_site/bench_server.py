"""A lean asyncio HTTP server for the benchmark's pages only (`/bench/...`).

The threaded sample site spends ~0.7 ms of CPU per request in http.server; on a two-core machine
that is CPU the crawler being measured would not get. This one serves the same pages (rendered by
the same functions) at a fraction of the cost, with keep-alive, and nothing else.
"""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

from govwatch.sample_site import pages

PER_PAGE = 200
ROBOTS = b"User-agent: *\nDisallow: /private/\n"


class BenchSite:
    def __init__(self, articles_per_account: int = 1000, host: str = "127.0.0.1") -> None:
        self.articles = articles_per_account
        self.host = host
        self.now = datetime.now(UTC).replace(microsecond=0)
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.port = 0
        self.thread = threading.Thread(target=self._run, name="bench-site", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> BenchSite:
        self.thread.start()
        self.ready.wait(10)
        return self

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(asyncio.start_server(self._serve, self.host, 0))
        self.port = server.sockets[0].getsockname()[1]
        self.ready.set()
        try:
            self.loop.run_forever()
        finally:
            server.close()

    def page(self, target: str) -> tuple[int, bytes, bytes]:
        parts = urlsplit(target)
        query = parse_qs(parts.query)
        if parts.path == "/robots.txt":
            return 200, ROBOTS, b"text/plain"
        if parts.path == "/bench/s":
            number = int((query.get("mid") or ["2650000000"])[0]) - 2650000000
            return 200, pages.bench_article(number, self.now), b"text/html; charset=utf-8"
        segments = parts.path.strip("/").split("/")
        if (
            len(segments) == 3
            and segments[0] == "bench"
            and segments[2] == "index.xml"
            and segments[1].isdigit()
        ):
            page = int((query.get("page") or ["1"])[0])
            base = f"http://{self.host}:{self.port}"
            return (
                200,
                pages.bench_index(base, int(segments[1]), page, PER_PAGE, self.articles),
                b"application/rss+xml",
            )
        return 404, b"not found", b"text/plain"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
                method, target, _ = request_line.split(" ", 2)
                status, body, content_type = self.page(target)
                reason = b"OK" if status == 200 else b"Not Found"
                writer.write(
                    b"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n"
                    % (status, reason, content_type, len(body))
                    + (body if method != "HEAD" else b"")
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionResetError, BrokenPipeError, ValueError):
            pass
        finally:
            writer.close()
