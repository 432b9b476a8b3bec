"""`govwatch serve`'s workers: each on its own socket, connections spread across them, a dead one
replaced, all stopped on SIGTERM; and the handler thread pool sized from the settings."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio.to_thread
import pytest
from fastapi.testclient import TestClient
from starlette.types import Receive, Scope, Send

from govwatch.settings import Settings
from store.db import make_engine, make_session_factory
from store.migrate import upgrade_database
from tests.web.conftest import free_port
from web.app import create_app
from web.serving import reuse_port_supported

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(not reuse_port_supported(), reason="workers own their sockets on Linux only")


def pid_app() -> Any:
    """A factory for the workers: an ASGI app that answers with its process id."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = str(os.getpid()).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-length", b"%d" % len(body))],
            }
        )
        await send({"type": "http.response.body", "body": body})

    return app


def _serve(port: int, workers: int) -> subprocess.Popen[str]:
    code = (
        "from web.serving import serve_app; "
        f"serve_app('tests.web.test_serving:pid_app', host='127.0.0.1', port={port}, workers={workers}, "
        "log_level='warning')"
    )
    return subprocess.Popen(
        [sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def _pids(port: int, connections: int) -> list[int]:
    """The worker that answered each of `connections` fresh connections, all open at once."""
    sockets = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(connections)]
    try:
        for sock in sockets:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answers = []
        for sock in sockets:
            data = b""
            while chunk := sock.recv(4096):
                data += chunk
            answers.append(int(data.rsplit(b"\r\n\r\n", 1)[1]))
        return answers
    finally:
        for sock in sockets:
            sock.close()


def _workers(port: int) -> set[int] | None:
    """The two workers' process ids, or None while fewer than two answer."""
    pids = set(_pids(port, 8))
    return pids if len(pids) == 2 else None


def _running(pid: int) -> bool:
    try:
        return "zombie" not in Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False


def _wait_for(predicate: Any, process: subprocess.Popen[str], what: str) -> Any:
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, process.stdout.read() if process.stdout else ""
        try:
            value = predicate()
            if value:
                return value
        except OSError:
            pass
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


@pytest.fixture
def served() -> Iterator[tuple[subprocess.Popen[str], int]]:
    port = free_port()
    process = _serve(port, workers=2)
    try:
        yield process, port
    finally:
        if process.poll() is None:
            process.terminate()  # the parent stops its workers; a kill would leave them to stop themselves
            process.wait(timeout=30)


def test_connections_opened_at_once_reach_every_worker(served: tuple[subprocess.Popen[str], int]) -> None:
    process, port = served
    # Both workers are up once two distinct ones answer; then a burst of 40 connections opened
    # together (as the bench's clients do) must not all land on the one that wakes first.
    _wait_for(lambda: _workers(port), process, "the second worker did not start")
    pids = _pids(port, 40)
    assert len(set(pids)) == 2
    assert min(pids.count(pid) for pid in set(pids)) >= 5


def test_a_dead_worker_is_replaced_and_sigterm_stops_all(served: tuple[subprocess.Popen[str], int]) -> None:
    process, port = served
    first = _wait_for(lambda: _workers(port), process, "the second worker did not start")
    victim = min(first)
    os.kill(victim, signal.SIGKILL)
    # Reaped, not merely a zombie: a killed process's main thread shows as a zombie while its other
    # threads still exit and hold its listening socket, whose queued connections are then reset.
    _wait_for(lambda: not Path(f"/proc/{victim}").exists(), process, "the killed worker was not reaped")
    # From then on every connection is answered, also while the replacement starts: the dead
    # worker's socket went with it, and the parent's reserved socket never listens.
    deadline = time.monotonic() + 60
    while len(now := set(_pids(port, 8))) < 2:
        assert process.poll() is None and time.monotonic() < deadline, "the dead worker was not replaced"
        time.sleep(0.2)
    assert victim not in now
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    assert not any(_running(pid) for pid in now)
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


def test_workers_stop_when_their_parent_is_killed(served: tuple[subprocess.Popen[str], int]) -> None:
    process, port = served
    workers = _wait_for(lambda: _workers(port), process, "the second worker did not start")
    process.kill()
    process.wait(timeout=10)
    deadline = time.monotonic() + 30
    while any(_running(pid) for pid in workers):
        assert time.monotonic() < deadline, "orphaned workers kept running"
        time.sleep(0.2)
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


def test_a_port_taken_by_another_program_stops_serve_with_startup_failure() -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        process = _serve(other.getsockname()[1], workers=2)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 3, output
    assert "cannot listen" in output


def test_the_handler_thread_pool_has_the_configured_size(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'govwatch.db'}"
    engine = make_engine(url)
    upgrade_database(engine)
    settings = Settings(
        database_url=url,
        data_dir=tmp_path,
        secret_key="test-secret-key-0123456789abcdef0123456789",
        web_threads=3,
    )

    async def pool_size() -> float:
        return anyio.to_thread.current_default_thread_limiter().total_tokens

    # TestClient runs the app's lifespan in the event loop its requests are served on.
    with TestClient(create_app(settings, make_session_factory(engine))) as client:
        assert client.get("/login").status_code == 200
        assert client.portal is not None
        assert client.portal.call(pool_size) == 3
    engine.dispose()
