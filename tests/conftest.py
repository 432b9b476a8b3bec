"""Shared fixtures: real SQLite files, a fresh PostgreSQL schema per test, Redis, and ../shared."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from store.db import make_engine, make_session_factory
from store.models import Base

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DIR = REPO_ROOT.parent / "shared"
POSTGRES_URL = os.environ.get(
    "GOVWATCH_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("GOVWATCH_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def unavailable(reason: str) -> None:
    """Skip on a developer's machine, fail in CI: CI must exercise every backend."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true, so this is a failure, not a skip)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not (SHARED_DIR / "data" / "train.jsonl").exists():
        unavailable(f"../shared is absent ({SHARED_DIR}): labelled data and seeds live there")
    return SHARED_DIR


def _postgres_engine(schema: str | None = None) -> Engine:
    connect_args: dict[str, object] = {"connect_timeout": 5}
    if schema:
        connect_args["options"] = f"-csearch_path={schema}"
    return make_engine(POSTGRES_URL, connect_args=connect_args)


@pytest.fixture(scope="session")
def postgres_available() -> bool:
    try:
        with _postgres_engine().connect() as connection:
            connection.execute(text("select 1"))
    except Exception as error:
        unavailable(f"PostgreSQL is not reachable at {POSTGRES_URL}: {error.__class__.__name__}")
    return True


@pytest.fixture
def postgres_schema_factory(
    request: pytest.FixtureRequest, postgres_available: bool
) -> Iterator[Callable[[], str]]:
    """Creates fresh schemas for one test and drops them afterwards, so tests can run in parallel."""
    request.node.add_marker(pytest.mark.postgres)
    admin = _postgres_engine()
    schemas: list[str] = []

    def make() -> str:
        schema = f"t_{uuid.uuid4().hex[:12]}"
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        schemas.append(schema)
        return schema

    yield make
    with admin.begin() as connection:
        for schema in schemas:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def postgres_schema(postgres_schema_factory: Callable[[], str]) -> str:
    """A fresh PostgreSQL schema for one test."""
    return postgres_schema_factory()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Engine]]:
    """Makes engines on new empty databases of one backend: SQLite files, or fresh PostgreSQL schemas."""
    engines: list[Engine] = []

    def make() -> Engine:
        if request.param == "sqlite":
            engine = make_engine(f"sqlite:///{tmp_path / f'govwatch-{len(engines)}.db'}")
        else:
            engine = _postgres_engine(request.getfixturevalue("postgres_schema_factory")())
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        engine.dispose()


@pytest.fixture
def empty_engine(engine_factory: Callable[[], Engine]) -> Engine:
    """An engine on an empty database: a SQLite file in tmp_path, or a fresh PostgreSQL schema."""
    return engine_factory()


@pytest.fixture
def engine(empty_engine: Engine) -> Engine:
    """An engine on a database with the full schema, on SQLite and on PostgreSQL."""
    Base.metadata.create_all(empty_engine)
    return empty_engine


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def sqlite_session_factory(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    """SQLite only, for tests whose subject is not the storage backend."""
    engine = make_engine(f"sqlite:///{tmp_path / 'govwatch.db'}")
    Base.metadata.create_all(engine)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def redis_url(request: pytest.FixtureRequest) -> str:
    import redis

    request.node.add_marker(pytest.mark.redis)
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except Exception as error:
        unavailable(f"Redis is not reachable at {REDIS_URL}: {error.__class__.__name__}")
    return REDIS_URL


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say how many tests ran against each real service, so a CI log shows PostgreSQL was exercised."""
    counts: dict[str, dict[str, int]] = {}
    for outcome in ("passed", "failed", "skipped", "error"):
        for report in terminalreporter.stats.get(outcome, []):
            keywords = getattr(report, "keywords", {})
            for service in ("postgres", "redis"):
                if service in keywords or f"[{service}" in report.nodeid:
                    counts.setdefault(service, {}).setdefault(outcome, 0)
                    counts[service][outcome] += 1
    for service, by_outcome in sorted(counts.items()):
        summary = ", ".join(f"{n} {outcome}" for outcome, n in sorted(by_outcome.items()))
        terminalreporter.write_line(f"{service} tests: {summary}")
