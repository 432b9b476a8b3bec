"""Assesses a month of 20,000 accounts and 600,000 posts and writes its XLSX, on SQLite and PostgreSQL.

Target: under 60 s per backend. Baseline in the same run: the same work on 2,000 accounts and
60,000 posts, so the printed ratio shows how the time grows (10× the data should take no more
than about 10× the time).
"""

from __future__ import annotations

import os
import random
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from reports.assessment import assess_month, month_window
from reports.render import write_reports
from store.db import make_engine, make_session_factory
from store.models import Base

MONTH = "2026-10"
ACCOUNTS = 20_000
POSTS_PER_ACCOUNT = 30
BASELINE_ACCOUNTS = 2_000
TARGET_SECONDS = 60.0
POSTGRES_URL = os.environ.get(
    "GOVWATCH_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
PLATFORMS = ("wechat", "weibo", "toutiao", "douyin", "website")
CATEGORIES = ("marketing", "unverified", "privacy", "expression", "harmful")
TITLES = ("工作动态", "通知公告：停水通知", "政策解读：新规", "办事指南：社保", "图说")
EPOCH = datetime(2026, 1, 1)  # naive UTC, as the raw rows are stored


def _counties(n: int) -> list[tuple[str, str, str | None, int]]:
    regions: list[tuple[str, str, str | None, int]] = [("150000", "内蒙古自治区", None, 1)]
    for p in range(1, 10):
        prefecture = f"15{p:02d}00"
        regions.append((prefecture, f"盟市{p}", "150000", 2))
        for c in range(1, 1 + max(1, n // 9)):
            regions.append((f"15{p:02d}{c:02d}", f"旗县{p}-{c}", prefecture, 3))
    return regions


def generate(accounts: int, seed: int = 7) -> dict[str, list[tuple[Any, ...]]]:
    """Rows per table, as tuples in column order (see COLUMNS)."""
    rng = random.Random(seed)
    window = month_window(MONTH)
    start = window.start.replace(tzinfo=None)
    regions = _counties(20)
    counties = [r[0] for r in regions if r[3] == 3]
    rows: dict[str, list[tuple[Any, ...]]] = {k: [] for k in COLUMNS}
    rows["regions"] = regions
    rows["users"] = [
        (1, "reviewer", "x", "reviewer", None, True, EPOCH),
        (2, "operator", "x", "operator", None, True, EPOCH),
    ]
    post_id = finding_id = review_id = appeal_id = metric_id = 0
    for a in range(1, accounts + 1):
        region = counties[a % len(counties)]
        rows["organizations"].append((a, f"单位{a}", region, "联系人" if a % 10 else None, EPOCH))
        rows["accounts"].append(
            (
                a,
                PLATFORMS[a % 5],
                f"h{a}",
                f"政务账号{a:05d}",
                a,
                region,
                f"备{a}" if a % 13 else None,
                "active",
                "{}",
                360,
                a % 97 != 0,
                EPOCH,
                EPOCH,
            )
        )
        quiet = a % 50 == 0  # stops posting mid-month: the inactive veto
        for i in range(POSTS_PER_ACCOUNT):
            post_id += 1
            day = (i * 17 // POSTS_PER_ACCOUNT) if quiet else i
            at = start + timedelta(days=day, hours=rng.randint(1, 14), minutes=rng.randint(0, 59))
            reads = rng.randint(0, 5000)
            rows["posts"].append(
                (
                    post_id,
                    a,
                    f"k{post_id}",
                    f"https://example.gov.cn/{post_id}",
                    TITLES[(a + i) % 5],
                    "正文",
                    f"{post_id:064d}",
                    at,
                    at + timedelta(hours=6),
                    reads,
                    reads // 20,
                    reads // 40,
                    0,
                    reads // 50,
                    "live",
                    1,
                )
            )
            metric_id += 1
            rows["post_metrics"].append(
                (metric_id, post_id, at + timedelta(hours=6), reads, reads // 20, reads // 40, 0, reads // 50)
            )
            if rng.random() < 0.03:
                finding_id += 1
                category = CATEGORIES[finding_id % 5] if finding_id % 11 else "harmful"
                rows["findings"].append(
                    (
                        finding_id,
                        a,
                        post_id,
                        category,
                        0.9,
                        '[{"start": 0, "end": 2, "text": "正文"}]',
                        "rule",
                        "{}",
                        "m-bench",
                        "r-bench",
                        "open",
                        at + timedelta(hours=7),
                        at + timedelta(hours=7),
                    )
                )
                decision = "confirm" if finding_id % 3 else "dismiss"
                review_id += 1
                rows["reviews"].append((review_id, finding_id, 1, decision, None, at + timedelta(days=1)))
                if finding_id % 37 == 0:
                    appeal_id += 1
                    rows["appeals"].append(
                        (
                            appeal_id,
                            finding_id,
                            2,
                            "误报",
                            "upheld",
                            1,
                            at + timedelta(days=2),
                            at + timedelta(days=1),
                        )
                    )
    return rows


COLUMNS = {
    "regions": "code, name, parent_code, level",
    "users": "id, username, password_hash, role, region_code, is_active, created_at",
    "organizations": "id, name, region_code, contact_name, created_at",
    "accounts": "id, platform, handle, name, organization_id, region_code, filing_number, status, "
    "source, crawl_interval_minutes, interaction_ok, created_at, updated_at",
    "posts": "id, account_id, source_key, url, title, text, content_hash, published_at, fetched_at, "
    "reads, likes, shares, comments, wows, status, version",
    "post_metrics": "id, post_id, recorded_at, reads, likes, shares, comments, wows",
    "findings": "id, account_id, post_id, category, score, spans, source, detail, model_version, "
    "rules_version, state, created_at, updated_at",
    "reviews": "id, finding_id, reviewer_id, decision, note, created_at",
    "appeals": "id, finding_id, operator_id, reason, outcome, decided_by, decided_at, created_at",
}


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")  # SQLAlchemy's SQLite DateTime format
    return value


def load(engine: Engine, rows: dict[str, list[tuple[Any, ...]]]) -> None:
    """Bulk-load the rows: executemany on SQLite, COPY on PostgreSQL."""
    Base.metadata.create_all(engine)
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for table, columns in COLUMNS.items():
            data = rows[table]
            if not data:
                continue
            if engine.dialect.name == "sqlite":
                marks = ", ".join("?" * len(columns.split(",")))
                cursor.executemany(
                    f"INSERT INTO {table} ({columns}) VALUES ({marks})",
                    [[_sqlite_value(v) for v in row] for row in data],
                )
            else:
                with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in data:
                        copy.write_row(row)
        raw.commit()
    finally:
        raw.close()
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            for table in COLUMNS:
                if table != "regions":
                    connection.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"(SELECT coalesce(max(id), 1) FROM {table}))"
                        )
                    )
            connection.execute(text("ANALYZE"))
    else:
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))


def measure(engine: Engine, accounts: int, out_dir: Path) -> tuple[float, float, float, float]:
    """(seconds to build the data, to assess, to write the XLSX, CPU seconds of this process for both).

    The CPU figure is there because the machine may be shared: wall time then includes waiting.
    """
    started = time.perf_counter()
    load(engine, generate(accounts))
    built = time.perf_counter() - started
    factory = make_session_factory(engine)
    now = datetime(2026, 11, 3, 2, tzinfo=UTC)
    started, cpu = time.perf_counter(), time.process_time()
    summary = assess_month(session_factory=factory, month=MONTH, now=now)
    assessed = time.perf_counter() - started
    assert summary.accounts == accounts, summary
    started = time.perf_counter()
    [path] = write_reports(session_factory=factory, month=MONTH, formats=("xlsx",), out_dir=out_dir, now=now)
    written = time.perf_counter() - started
    cpu = time.process_time() - cpu
    print(
        f"  {accounts:>6,} accounts, {accounts * POSTS_PER_ACCOUNT:>7,} posts: data built in {built:5.1f} s; "
        f"assess {assessed:5.1f} s ({summary.passed} passed, {summary.vetoed} vetoed), "
        f"XLSX {written:5.1f} s ({path.stat().st_size // 1024} KiB); total {assessed + written:5.1f} s "
        f"(CPU {cpu:5.1f} s)",
        flush=True,
    )
    return built, assessed, written, cpu


def _postgres_schema() -> Iterator[Engine]:
    admin = make_engine(POSTGRES_URL, connect_args={"connect_timeout": 5})
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(POSTGRES_URL, connect_args={"options": f"-csearch_path={schema}"})
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def run_backend(name: str, engines: Any, out: Path) -> bool:
    print(f"{name}:")
    wall, cpu = [], []
    for accounts in (BASELINE_ACCOUNTS, ACCOUNTS):
        with engines() as engine:
            _, assessed, written, used = measure(engine, accounts, out / f"{name}-{accounts}")
            wall.append(assessed + written)
            cpu.append(used)
    ok = wall[1] < TARGET_SECONDS
    print(
        f"  {name}: {ACCOUNTS:,} accounts in {wall[1]:.1f} s (target < {TARGET_SECONDS:.0f} s: "
        f"{'met' if ok else 'MISSED'}); {BASELINE_ACCOUNTS:,} accounts in {wall[0]:.1f} s; "
        f"10x the data: {wall[1] / wall[0]:.1f}x the wall time, {cpu[1] / cpu[0]:.1f}x the CPU time"
    )
    return ok


def main() -> bool:
    from contextlib import contextmanager

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        counter = iter(range(10))

        @contextmanager
        def sqlite() -> Iterator[Engine]:
            engine = make_engine(f"sqlite:///{out / f'bench-{next(counter)}.db'}")
            try:
                yield engine
            finally:
                engine.dispose()

        ok = run_backend("sqlite", sqlite, out)
        try:
            probe = make_engine(POSTGRES_URL, connect_args={"connect_timeout": 5})
            with probe.connect() as connection:
                connection.execute(text("select 1"))
            probe.dispose()
        except Exception as error:
            print(f"postgresql: not reachable at {POSTGRES_URL} ({error.__class__.__name__}); skipped")
            return ok
        ok = run_backend("postgresql", contextmanager(_postgres_schema), out) and ok
    return ok


if __name__ == "__main__":
    main()
