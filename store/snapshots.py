"""Query functions for snapshots: fetched pages stored once, zstd-compressed, addressed by their SHA-256."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable
from typing import Any

import zstandard
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from store.errors import NotFound
from store.models import Snapshot

ZSTD_LEVEL = 3
# One compressor per thread: zstandard's (de)compressor objects must not be shared between threads,
# and building one per call costs more than compressing a typical 20 KB page.
_local = threading.local()


def _compressor() -> zstandard.ZstdCompressor:
    compressor = getattr(_local, "compressor", None)
    if compressor is None:
        compressor = _local.compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL)
    return compressor


def _decompressor() -> zstandard.ZstdDecompressor:
    decompressor = getattr(_local, "decompressor", None)
    if decompressor is None:
        decompressor = _local.decompressor = zstandard.ZstdDecompressor()
    return decompressor


def snapshot_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def put_snapshots(*, session: Session, blobs: Iterable[tuple[bytes, str | None]]) -> list[str]:
    """Stores each (raw bytes, content type) unless already stored; returns their SHA-256s in order.

    Race-safe across crawl processes: a snapshot another process inserted meanwhile is skipped by
    the database (ON CONFLICT DO NOTHING), never duplicated or failed on.
    """
    shas: list[str] = []
    pending: dict[str, tuple[bytes, str | None]] = {}
    for data, content_type in blobs:
        sha = snapshot_sha256(data)
        shas.append(sha)
        pending.setdefault(sha, (data, content_type))
    if not pending:
        return shas
    existing = set(session.scalars(select(Snapshot.sha256).where(Snapshot.sha256.in_(list(pending)))))
    rows = [
        {
            "sha256": sha,
            "size": len(data),
            "content_type": (content_type or "")[:100] or None,
            "data": _compressor().compress(data),
        }
        for sha, (data, content_type) in pending.items()
        if sha not in existing
    ]
    if rows:
        session.execute(_insert_ignoring_duplicates(session), rows)
    return shas


def put_snapshot(*, session: Session, data: bytes, content_type: str | None = None) -> str:
    return put_snapshots(session=session, blobs=[(data, content_type)])[0]


def _insert_ignoring_duplicates(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(Snapshot).on_conflict_do_nothing(index_elements=["sha256"])
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(Snapshot).on_conflict_do_nothing(index_elements=["sha256"])
    return insert(Snapshot)


def get_snapshot(*, session: Session, sha256: str) -> Snapshot:
    snapshot = session.get(Snapshot, sha256)
    if snapshot is None:
        raise NotFound(f"snapshot {sha256} does not exist")
    return snapshot


def read_snapshot(*, session: Session, sha256: str) -> bytes:
    """The raw bytes of a snapshot, decompressed."""
    return decompress(get_snapshot(session=session, sha256=sha256).data)


def decompress(data: bytes) -> bytes:
    return _decompressor().decompress(data)
