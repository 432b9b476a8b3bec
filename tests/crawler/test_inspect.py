"""`crawl inspect` against hostile answers from a real HTTP server on 127.0.0.1.

Every answer must end within the download timeout with a JSON error (or the page read despite a
wrong charset), never a traceback: the fetch goes through Scrapy's downloader with the crawl's
limits, as a crawl would.
"""

from __future__ import annotations

import gzip
import http.server
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from crawler.config import CrawlConfig
from crawler.inspect import inspect_url

REPO = Path(__file__).resolve().parents[2]
TIMEOUT = 4.0
MAX_BYTES = 1024 * 1024
ARTICLE = (
    "<html><head><title>关于做好冬季供暖保障工作的通知_某市人民政府</title></head><body>"
    "<h1>关于做好冬季供暖保障工作的通知</h1><div class='info'>发布时间：2026-01-20 09:30</div>"
    "<div class='TRS_Editor'><p>各区人民政府，市直各部门：为做好今冬明春供暖保障工作，现将有关事项通知如下。"
    "请各单位高度重视，压实责任。</p><p>详见<a href='/zhengce/2.html'>实施方案</a>。</p></div>"
    "</body></html>"
)


class Hostile(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def send(self, status: int, body: bytes, ctype: str = "text/html", **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        path = self.path
        try:
            if path == "/robots.txt":
                self.send(404, b"")
            elif path == "/huge":
                # 70 MB announced and streamed: the size cap must stop it, not memory.
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(70 * 1024 * 1024))
                self.end_headers()
                chunk = b"<p>" + b"x" * 65536 + b"</p>"
                for _ in range(70 * 16):
                    self.wfile.write(chunk)
            elif path == "/huge-chunked":
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                chunk = b"x" * 65536
                for _ in range(70 * 16):
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.write(b"0\r\n\r\n")
            elif path == "/bomb":
                # 40 KB of gzip that inflates to 40 MB.
                self.send(200, BOMB, Content_Encoding="gzip")
            elif path == "/drip":
                # One byte every two seconds, for ever: only a total timeout ends it.
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", "100000")
                self.end_headers()
                for _ in range(100000):
                    self.wfile.write(b"<")
                    self.wfile.flush()
                    time.sleep(2)
            elif path.startswith("/loop"):
                number = int(path[5:] or 0)
                self.send(302, b"", Location=f"/loop{(number + 1) % 3}")
            elif path == "/429":
                self.send(429, b"slow down", Retry_After="86400")
            elif path == "/wrong-charset":
                # Declared GB2312, bytes UTF-8 (a page re-saved by an editor).
                body = ARTICLE.replace("<head>", "<head><meta charset='gb2312'>").encode("utf-8")
                self.send(200, body, "text/html; charset=gb2312")
            elif path == "/gbk-declared-utf8":
                body = ARTICLE.encode("gbk")
                self.send(200, body, "text/html; charset=utf-8")
            elif path == "/binary":
                self.send(200, bytes(range(256)) * 64 + b"\x00\xff" * 1000, "text/html")
            elif path == "/empty":
                self.send(200, b"")
            elif path == "/missing":
                self.send(404, "<html><body><h1>404 页面不存在</h1></body></html>".encode())
            elif path == "/flaky":
                type(self).flaky += 1
                if type(self).flaky % 2:
                    self.send(503, b"busy")
                else:
                    self.send(200, ARTICLE.encode())
            else:
                self.send(200, ARTICLE.encode())
        except (BrokenPipeError, ConnectionResetError):
            pass

    flaky = 0


BOMB = gzip.compress(b"\0" * (40 * 1024 * 1024), compresslevel=9)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hostile)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()


CONFIG = CrawlConfig(database_url="sqlite://", delay=0, timeout=TIMEOUT, max_bytes=MAX_BYTES)


def inspect(url: str, kind: str = "govsite") -> tuple[dict, float]:
    started = time.monotonic()
    result = inspect_url(url, kind=kind, config=CONFIG).to_json()
    return result, time.monotonic() - started


# Python and Scrapy take a few seconds to start on a loaded machine: the fetch itself must end
# within the timeout, the whole command within the timeout plus that start-up.
STARTUP = 20.0


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/huge", "larger than the 1048576-byte limit"),
        ("/huge-chunked", "larger than the 1048576-byte limit"),
        ("/bomb", "larger than the 1048576-byte limit"),
        ("/drip", f"no answer within {TIMEOUT:g} s"),
        ("/loop0", "too many redirects"),
        ("/429", "HTTP 429 Too Many Requests"),
        ("/empty", "empty body"),
        ("/missing", "HTTP 404 Not Found"),
    ],
)
def test_hostile_answers_end_in_time_with_an_error(server: str, path: str, message: str) -> None:
    result, seconds = inspect(server + path)
    assert result["status"] == "error" and result["posts"] == []
    assert message in result["error"] and server + path in result["error"], result["error"]
    assert seconds < TIMEOUT + STARTUP


def test_a_day_long_retry_after_is_not_waited_for(server: str) -> None:
    result, _ = inspect(server + "/429")
    assert "Retry-After 86400 s is longer than a crawl waits" in result["error"]


def test_binary_bytes_are_an_error_not_a_crash(server: str) -> None:
    for kind in ("govsite", "wechat", "feed", "weibo", "auto"):
        result, _ = inspect(server + "/binary", kind)
        assert result["status"] == "error" and result["posts"] == [] and result["error"], kind


@pytest.mark.parametrize("path", ["/wrong-charset", "/gbk-declared-utf8"])
def test_a_wrong_charset_declaration_still_reads_the_page(server: str, path: str) -> None:
    result, _ = inspect(server + path)
    assert (result["status"], result["error"]) == ("ok", None)
    (post,) = result["posts"]
    assert post["title"] == "关于做好冬季供暖保障工作的通知"
    assert post["text"].startswith("各区人民政府，市直各部门：为做好今冬明春供暖保障工作")
    assert post["published_at"] == "2026-01-20T09:30:00+08:00"
    assert post["links"] == [{"href": f"{server}/zhengce/2.html", "text": "实施方案"}]


def test_a_malformed_url_is_an_error() -> None:
    for url in ("not a url", "ftp://127.0.0.1/x", "http://"):
        result, seconds = inspect(url)
        assert result["status"] == "error" and "not an http(s) URL" in result["error"] and seconds < 1


def test_a_5xx_is_retried_as_a_crawl_would(server: str) -> None:
    result, _ = inspect(server + "/flaky")
    assert result["status"] == "ok" and len(result["posts"]) == 1


def test_the_command_prints_json_and_no_traceback(server: str, tmp_path: Path) -> None:
    env = {**os.environ, "GOVWATCH_DATA_DIR": str(tmp_path), "GOVWATCH_CRAWL_TIMEOUT": str(TIMEOUT)}
    env.pop("GOVWATCH_DATABASE_URL", None)
    for path in ("/drip", "/binary", "/bomb"):
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "govwatch", "crawl", "inspect", server + path, "--json"],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=TIMEOUT + STARTUP + 30,
        )
        assert time.monotonic() - started < TIMEOUT + STARTUP + 10
        assert done.returncode == 0 and "Traceback" not in done.stdout + done.stderr, done.stderr
        assert json.loads(done.stdout)["status"] == "error"
