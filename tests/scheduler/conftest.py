"""Scheduler-test fixtures: a fixed clock, job contexts, a local SMTP server and a webhook receiver."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from govwatch.settings import Settings
from scheduler.context import JobContext


class FixedClock:
    """A clock that moves only when the test moves it."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> datetime:
        self.current += timedelta(**delta)
        return self.current

    def set(self, when: datetime) -> None:
        self.current = when


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 10, 10, 1, 0, tzinfo=UTC))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Mailbox:
    host: str
    port: int
    messages: list[Any] = field(default_factory=list)

    def subjects(self) -> list[str]:
        return [str(m["Subject"]) for m in self.messages]

    def to(self, address: str) -> list[Any]:
        return [m for m in self.messages if str(m["To"]) == address]


@pytest.fixture
def smtp_server() -> Iterator[Mailbox]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives."""
    from aiosmtpd.controller import Controller

    box = Mailbox("127.0.0.1", free_port())

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            box.messages.append(message_from_bytes(envelope.content, policy=policy.default))
            return "250 OK"

    controller = Controller(Handler(), hostname=box.host, port=box.port)
    controller.start()
    yield box
    controller.stop()


@dataclass
class Webhook:
    url: str
    received: list[dict[str, Any]] = field(default_factory=list)
    # Answers to give, in order, before answering {"errcode": 0}: (HTTP status, JSON body).
    script: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def texts(self) -> list[str]:
        return [item["text"]["content"] for item in self.received]


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    """A local receiver shaped like the 企业微信 / 钉钉 robot API: POST JSON, answer {"errcode": 0}."""
    hook = Webhook(url="")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            payload = json.loads(self.rfile.read(length))
            with hook.lock:
                status, answer = hook.script.pop(0) if hook.script else (200, {"errcode": 0, "errmsg": "ok"})
                if status == 200 and answer.get("errcode", 0) == 0:
                    hook.received.append(payload)
            body = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    hook.url = f"http://127.0.0.1:{server.server_address[1]}/cgi-bin/webhook/send?key=test"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield hook
    server.shutdown()
    server.server_close()


def make_context(
    session_factory: sessionmaker[Session],
    clock: FixedClock,
    tmp_path: Path,
    *,
    token: int | None = None,
    scrapy_settings: dict[str, Any] | None = None,
    **settings: Any,
) -> JobContext:
    values: dict[str, Any] = {"data_dir": tmp_path, "redis_url": None, **settings}
    return JobContext(
        session_factory=session_factory,
        settings=Settings(**values),
        clock=clock,
        holder="test",
        token=token,
        scrapy_settings=scrapy_settings,
    )
