"""The reviewer queue and GET /api/findings under 20 concurrent clients, on SQLite and PostgreSQL.

A database with 1,000,000 posts and 100,000 open findings is built with bulk inserts (executemany
on SQLite, COPY on PostgreSQL), `govwatch serve` runs on it on 127.0.0.1, and 20 clients signed in
as a province-wide reviewer fetch pages. Target: p95 under 150 ms. Baseline in the same run:
GET /api/me (session check and one row) under the same load, so the printed ratio shows what the
queue itself costs on this machine, whatever its speed today. The clients are a small keep-alive
HTTP/1.1 loop on asyncio rather than httpx, because they share the cores with the server; the CPU
they spend per request is printed with each line, and so is the server's (all its processes, on
Linux) with the share each worker took, which shows whether the load was spread.

`make bench` runs the full fill. For iterating: `python -m bench.web_bench --posts 100000
--findings 10000 --backend sqlite` (the target is for the full fill only).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from store.db import make_engine, make_session_factory
from store.migrate import upgrade_database
from store.models import Account
from store.regions import ensure_region
from store.reviews import ensure_default_reason_codes
from store.users import create_user

POSTS = 1_000_000
FINDINGS = 100_000
ACCOUNTS = 2_000
CLIENTS = 20
REQUESTS_PER_CLIENT = 15
TARGET_P95_MS = 150.0
PASSWORD = "bench-password-1"
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
CATEGORIES = ("marketing", "unverified", "harmful", "privacy", "expression")
NOW = datetime(2026, 11, 20, tzinfo=UTC)
TEXT = "本周政务信息发布，请广大市民关注。加微信下单立减五十元，欢迎咨询。第{}条。"


def _accounts_and_users(engine: Any) -> None:
    session_factory = make_session_factory(engine)
    with session_factory.begin() as session:
        ensure_default_reason_codes(session=session)
        counties = [f"15{p:02d}{c:02d}" for p in range(1, 11) for c in range(1, 11)]
        for code in counties:
            ensure_region(session=session, code=code, name=f"地区{code}")
        from store.models import Organization

        orgs = [Organization(name=f"单位{code}", region_code=code) for code in counties]
        session.add_all(orgs)
        session.flush()
        session.add_all(
            Account(
                platform="wechat",
                handle=f"gh_{i:05d}",
                name=f"政务账号{i:05d}",
                organization_id=orgs[i % len(orgs)].id,
                region_code=orgs[i % len(orgs)].region_code,
            )
            for i in range(ACCOUNTS)
        )
        session.flush()
        create_user(
            session=session, username="bench", password=PASSWORD, role="reviewer", region_code="150000"
        )


def _post_rows(posts: int) -> Any:
    for i in range(1, posts + 1):
        body = TEXT.format(i)
        yield (
            i,
            1 + i % ACCOUNTS,
            f"k{i}",
            f"https://mp.weixin.qq.com/s/{i}",
            f"标题{i}",
            body,
            f"{i:064d}",
            NOW - timedelta(minutes=i),
            NOW,
            100 + i % 1000,
            "live",
            1,
        )


def _finding_rows(posts: int, findings: int) -> Any:
    rng = random.Random(7)
    start = TEXT.index("加微信")
    span = {"start": start, "end": start + 5, "text": "加微信下单", "source": "mk.order_contact"}
    spans = json.dumps([span], ensure_ascii=False)
    for i, post_id in enumerate(rng.sample(range(1, posts + 1), findings), start=1):
        yield (
            i,
            1 + post_id % ACCOUNTS,
            post_id,
            CATEGORIES[i % len(CATEGORIES)],
            round(rng.random(), 4),
            spans,
            "mk.order_contact",
            '{"rules": ["mk.order_contact"]}',
            "m-bench",
            "r-bench",
            "open",
            NOW - timedelta(seconds=i),
            NOW,
            1,
        )


POST_COLUMNS = (
    "id, account_id, source_key, url, title, text, content_hash, published_at, fetched_at, reads, status, "
    "version"
)
FINDING_COLUMNS = (
    "id, account_id, post_id, category, score, spans, source, detail, model_version, rules_version, state, "
    "created_at, updated_at, version"
)


def _naive(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(v.replace(tzinfo=None) if isinstance(v, datetime) else v for v in row)


def build_sqlite(path: Path, posts: int = POSTS, findings: int = FINDINGS) -> str:
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    upgrade_database(engine)
    _accounts_and_users(engine)
    engine.dispose()
    import sqlite3

    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=OFF")
    with connection:
        connection.executemany(
            f"INSERT INTO posts ({POST_COLUMNS}) VALUES ({','.join('?' * 12)})",
            map(_naive, _post_rows(posts)),
        )
        connection.executemany(
            f"INSERT INTO findings ({FINDING_COLUMNS}) VALUES ({','.join('?' * 14)})",
            map(_naive, _finding_rows(posts, findings)),
        )
    connection.execute("ANALYZE")
    connection.close()
    return url


def build_postgres(schema: str, posts: int = POSTS, findings: int = FINDINGS) -> str | None:
    url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    admin = make_engine(POSTGRES_URL, connect_args={"connect_timeout": 5})
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as error:  # no PostgreSQL here: the SQLite figures still stand
        print(f"  PostgreSQL not reachable ({error.__class__.__name__}); skipped")
        return None
    engine = make_engine(url)
    upgrade_database(engine)
    _accounts_and_users(engine)
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        with cursor.copy(f"COPY posts ({POST_COLUMNS}) FROM STDIN") as copy:
            for row in _post_rows(posts):
                copy.write_row(_naive(row))
        with cursor.copy(f"COPY findings ({FINDING_COLUMNS}) FROM STDIN") as copy:
            for row in _finding_rows(posts, findings):
                copy.write_row(_naive(row))
        cursor.execute("SELECT setval(pg_get_serial_sequence('posts', 'id'), %s)", (posts,))
        cursor.execute("SELECT setval(pg_get_serial_sequence('findings', 'id'), %s)", (findings,))
        cursor.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()
        engine.dispose()
    return url


def drop_postgres(schema: str) -> None:
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(database_url: str, data_dir: Path, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {
        **os.environ,
        "GOVWATCH_DATABASE_URL": database_url,
        "GOVWATCH_DATA_DIR": str(data_dir),
        "GOVWATCH_SECRET_KEY": "bench-secret-key-0123456789abcdef0123456789",
        "GOVWATCH_LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "govwatch", "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"govwatch serve exited: {process.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
        try:
            if httpx.get(url + "/login", timeout=2).status_code == 200:
                return process, url
        except httpx.HTTPError:
            time.sleep(0.3)
    process.kill()
    raise RuntimeError("govwatch serve did not start")


class _Connection:
    """A minimal HTTP/1.1 keep-alive GET client: httpx's per-request CPU (a few ms) is taken from the
    same two cores the server runs on, so a heavy client inflates every figure, baseline included."""

    def __init__(self, host: str, port: int, cookie: str) -> None:
        self.host, self.port, self.cookie = host, port, cookie
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, target: str) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(
            f"GET {target} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nCookie: {self.cookie}\r\n"
            "Accept-Encoding: identity\r\n\r\n".encode()
        )
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                parts.append(await self.reader.readexactly(size + 2))
                if size == 0:
                    break
            body = b"".join(p[:-2] for p in parts)
        else:
            raise RuntimeError(f"{target}: response without a length")
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return status, body

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            await self.writer.wait_closed()
            self.reader = self.writer = None


def _process_tree_cpu(root: int) -> dict[int, float]:
    """CPU seconds (user + system) of `root` and every process under it, by pid; {} off Linux."""
    proc = Path("/proc")
    if not (proc / str(root) / "stat").exists():
        return {}
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        parents[int(entry.name)] = int(fields[1])
        cpu[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    tree, changed = {root}, True
    while changed:
        found = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= found
        changed = bool(found)
    return {pid: cpu[pid] for pid in tree if pid in cpu}


async def _load(url: str, path: str, cookie: str, clients: int = CLIENTS) -> tuple[list[float], float]:
    """Each client's request times (ms), and the CPU seconds this client process spent on them."""
    timings: list[float] = []
    host, port = url.removeprefix("http://").rsplit(":", 1)

    async def client() -> None:
        connection = _Connection(host, int(port), cookie)
        try:
            for i in range(REQUESTS_PER_CLIENT):
                target = path.replace("{page}", str(1 + i % 5))
                started = time.perf_counter()
                status, body = await connection.get(target)
                timings.append((time.perf_counter() - started) * 1000)
                if status != 200 or not body:
                    raise RuntimeError(f"{target}: HTTP {status}")
        finally:
            await connection.close()

    cpu = time.process_time()
    await asyncio.gather(*(client() for _ in range(clients)))
    return timings, time.process_time() - cpu


def _p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


Result = tuple[float, float, float, float, float | None, list[float]]


def measure(url: str, server_pid: int) -> dict[str, Result]:
    """p50, p95, the median of one client alone, the client's and the server's CPU per request
    under load, and each server process's share of the server's CPU."""
    login = httpx.post(url + "/api/session", json={"username": "bench", "password": PASSWORD}, timeout=30)
    login.raise_for_status()
    cookie = "; ".join(f"{name}={value}" for name, value in login.cookies.items())
    results = {}
    for name, path in (
        ("baseline GET /api/me", "/api/me"),
        ("queue page GET /queue", "/queue?page={page}"),
        ("GET /api/findings", "/api/findings?page={page}&per_page=50"),
    ):
        asyncio.run(_load(url, path, cookie))  # warm-up round
        # One client alone first: what a request costs when nothing waits in line.
        alone, _ = asyncio.run(_load(url, path, cookie, clients=1))
        before = _process_tree_cpu(server_pid)
        timings, client_cpu = asyncio.run(_load(url, path, cookie))
        after = _process_tree_cpu(server_pid)
        spent = {pid: after[pid] - before.get(pid, 0.0) for pid in after}
        total = sum(spent.values())
        shares = (
            sorted((v / total for v in spent.values() if v > 0.005 * total), reverse=True) if total else []
        )
        results[name] = (
            _p(timings, 50),
            _p(timings, 95),
            statistics.median(alone),
            client_cpu * 1000 / len(timings),
            total * 1000 / len(timings) if after else None,
            shares,
        )
    return results


def report(backend: str, results: dict[str, Result]) -> bool:
    base_p95 = results["baseline GET /api/me"][1]
    ok = True
    for name, (p50, p95, alone, client_ms, server_ms, shares) in results.items():
        line = (
            f"  {backend:10s} {name:24s} alone {alone:6.1f} ms  p50 {p50:7.1f} ms  p95 {p95:7.1f} ms"
            f"  client CPU {client_ms:4.2f} ms/request"
        )
        if server_ms is not None:
            split = "/".join(f"{share:.0%}" for share in shares)
            line += f"  server CPU {server_ms:4.2f} ms/request ({split})"
        if not name.startswith("baseline"):
            met = p95 < TARGET_P95_MS
            ok = ok and met
            verdict = "met" if met else "MISSED"
            line += f"  p95/baseline {p95 / base_p95:5.2f}  target p95 < {TARGET_P95_MS:.0f} ms: {verdict}"
        print(line, flush=True)
    return ok


def run_backend(backend: str, database_url: str, data_dir: Path, workers: int) -> bool:
    process, url = start_server(database_url, data_dir, workers)
    try:
        return report(backend, measure(url, process.pid))
    finally:
        process.terminate()
        process.wait(timeout=30)
        print(f"  {backend:10s} load average {_load_average()} after the run", flush=True)


def _load_average() -> str:
    if not hasattr(os, "getloadavg"):
        return "n/a"
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main(
    posts: int = POSTS, findings: int = FINDINGS, backends: tuple[str, ...] = ("sqlite", "postgresql")
) -> bool:
    workers = max(1, min(4, os.cpu_count() or 1))
    print(
        f"machine: {os.cpu_count()} CPUs, load average {_load_average()} (1, 5, 15 min) at start", flush=True
    )
    print(
        f"{posts:,} posts, {findings:,} open findings, {ACCOUNTS:,} accounts; {CLIENTS} concurrent clients, "
        f"{CLIENTS * REQUESTS_PER_CLIENT} requests per endpoint; govwatch serve with {workers} workers",
        flush=True,
    )
    ok = True
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        if "sqlite" in backends:
            started = time.perf_counter()
            sqlite_url = build_sqlite(data_dir / "bench.db", posts, findings)
            print(f"  sqlite     built in {time.perf_counter() - started:.1f} s", flush=True)
            ok = run_backend("sqlite", sqlite_url, data_dir, workers) and ok
        if "postgresql" in backends:
            schema = f"bench_web_{uuid.uuid4().hex[:8]}"
            started = time.perf_counter()
            postgres_url: str | None = None
            try:
                postgres_url = build_postgres(schema, posts, findings)
                if postgres_url:
                    print(f"  postgresql built in {time.perf_counter() - started:.1f} s", flush=True)
                    ok = run_backend("postgresql", postgres_url, data_dir, workers) and ok
            finally:
                if postgres_url:
                    drop_postgres(schema)
    return ok


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=POSTS, help="posts in the fill (default: the target's)")
    parser.add_argument("--findings", type=int, default=FINDINGS, help="open findings (at most --posts)")
    parser.add_argument(
        "--backend", choices=("sqlite", "postgresql"), action="append", help="one backend only"
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    arguments = _arguments(sys.argv[1:])
    backends = tuple(arguments.backend or ("sqlite", "postgresql"))
    sys.exit(0 if main(arguments.posts, min(arguments.findings, arguments.posts), backends) else 1)
