"""How `govwatch serve` runs uvicorn: one process, or worker processes that each own a listening socket.

uvicorn's own workers share one listening socket, and the worker that wakes first accepts every
connection waiting in it. Twenty clients that connect at once all landed on one worker while the
other stayed idle (measured: the queue's p50 under load doubled). Here, on Linux, every worker
binds its own socket to the same address with SO_REUSEPORT and the kernel spreads new connections
across them. The parent keeps a bound socket that never listens (it receives no connections) so
the port stays reserved while a worker restarts; it restarts workers that die, and a worker whose
parent is gone shuts itself down.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from multiprocessing.process import BaseProcess
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE

log = logging.getLogger(__name__)


def reuse_port_supported() -> bool:
    # Other systems accept SO_REUSEPORT but do not balance connections across the sockets.
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def serve_app(app: str, *, host: str, port: int, workers: int, **options: Any) -> None:
    """Serve the ASGI factory `app` ("module:function") with `workers` processes."""
    if workers <= 1 or not reuse_port_supported():
        uvicorn.run(app, factory=True, host=host, port=port, workers=workers, **options)
        return
    code = Workers(uvicorn.Config(app, factory=True, host=host, port=port, workers=workers, **options)).run()
    if code:
        sys.exit(code)


def bind_reuse_port(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def _worker(config: uvicorn.Config) -> None:
    """One worker process: its own socket on the shared port, then uvicorn on it."""
    threading.Thread(target=_stop_when_orphaned, args=(os.getppid(),), daemon=True).start()
    config.configure_logging()
    try:
        sock = bind_reuse_port(config.host, config.port)
    except OSError as error:
        log.error("cannot listen on %s:%s: %s", config.host, config.port, error)
        sys.exit(STARTUP_FAILURE)
    # Ctrl-C reaches the whole process group; uvicorn has shut down by then, the parent stops us anyway.
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.Server(config).run(sockets=[sock])


def _stop_when_orphaned(parent: int) -> None:
    # A parent killed outright (SIGKILL, OOM) cannot stop its workers, and they would go on serving
    # the port unsupervised: each checks for its parent and shuts down gracefully once it is gone.
    while os.getppid() == parent:
        time.sleep(0.5)
    os.kill(os.getpid(), signal.SIGTERM)


class Workers:
    """Starts `config.workers` worker processes, restarts any that dies, stops all on SIGTERM/SIGINT."""

    def __init__(self, config: uvicorn.Config) -> None:
        self.config = config
        self.processes: list[BaseProcess] = []
        self.should_exit = threading.Event()
        # spawn, as uvicorn's own workers: no state forked from this process (threads, connections).
        self.context = multiprocessing.get_context("spawn")

    def run(self) -> int:
        """Serve until told to stop; the exit status (STARTUP_FAILURE when a worker cannot start)."""
        self.config.configure_logging()
        try:
            reserved = bind_reuse_port(self.config.host, self.config.port)
        except OSError as error:
            log.error("cannot listen on %s:%s: %s", self.config.host, self.config.port, error)
            return STARTUP_FAILURE
        # Port 0 resolves here once, so that every worker joins the same port.
        self.config.port = reserved.getsockname()[1]
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda _sig, _frame: self.should_exit.set())
        log.info(
            "serving on http://%s:%d with %d workers", self.config.host, self.config.port, self.config.workers
        )
        code = 0
        try:
            self.processes = [self._start() for _ in range(self.config.workers)]
            while not self.should_exit.wait(0.5):
                code = self._replace_dead()
                if code:
                    break
        finally:
            for process in self.processes:
                process.terminate()
            for process in self.processes:
                process.join()
            reserved.close()
        return code

    def _start(self) -> BaseProcess:
        process = self.context.Process(target=_worker, args=(self.config,), name="govwatch-web")
        process.start()
        return process

    def _replace_dead(self) -> int:
        for index, process in enumerate(self.processes):
            if process.is_alive() or self.should_exit.is_set():
                continue
            process.join()
            if process.exitcode == STARTUP_FAILURE:
                # The app, the database or the socket is broken: every restart would fail the same way.
                log.error("web worker %s failed to start; stopping", process.pid)
                return STARTUP_FAILURE
            log.warning("web worker %s exited with %s; starting another", process.pid, process.exitcode)
            self.processes[index] = self._start()
        return 0
