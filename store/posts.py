"""Query functions for posts and their versions: upsert by (account, stable key), edits, deletions."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from store.errors import InvalidInput, NotFound
from store.models import POST_STATUSES, Post, PostMetrics, PostVersion, utcnow
from store.snapshots import put_snapshots

METRICS = ("reads", "likes", "shares", "comments", "wows")
GONE_STATUSES = ("deleted", "violation", "unavailable")
MAX_KEY_LENGTH = 255
_WHITESPACE = re.compile(r"\s+")


def content_hash(title: str | None, text: str) -> str:
    """What decides whether a post was edited: its title and text, whitespace-insensitive."""
    normalized = _WHITESPACE.sub(" ", f"{title or ''}\n{text}").strip()
    return hashlib.sha256(normalized.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class PostInput:
    """One post as a crawler saw it."""

    source_key: str
    text: str
    title: str | None = None
    url: str | None = None
    author: str | None = None
    published_at: datetime | None = None
    fetched_at: datetime | None = None
    metrics: Mapping[str, int | None] = field(default_factory=dict)
    is_original: bool | None = None
    snapshot: bytes | None = None
    content_type: str | None = None
    # Outbound links of the body: [{"href": ..., "text": ...}]; None when the source gives none.
    links: Sequence[Mapping[str, str]] | None = None


@dataclass(frozen=True)
class StatusInput:
    """A post that turned into a deletion/violation/unavailable notice, or vanished from its listing."""

    source_key: str
    status: str
    fetched_at: datetime | None = None
    snapshot: bytes | None = None  # the notice page, kept as evidence of the deletion
    content_type: str | None = None


@dataclass
class UpsertResult:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    unavailable: int = 0
    unknown: int = 0  # status notices for posts never stored: nothing to mark
    post_ids: list[int] = field(default_factory=list)

    def add(self, other: UpsertResult) -> None:
        for name in ("new", "updated", "unchanged", "deleted", "unavailable", "unknown"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.post_ids.extend(other.post_ids)

    def counts(self) -> dict[str, int]:
        return {
            name: getattr(self, name)
            for name in ("new", "updated", "unchanged", "deleted", "unavailable", "unknown")
            if getattr(self, name)
        }


def _check_key(key: str) -> None:
    if not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidInput(f"post key {key[:80]!r} must be 1 to {MAX_KEY_LENGTH} characters")


def _existing(*, session: Session, account_id: int, keys: Sequence[str]) -> dict[str, Post]:
    if not keys:
        return {}
    query = select(Post).where(Post.account_id == account_id, Post.source_key.in_(list(set(keys))))
    return {post.source_key: post for post in session.scalars(query)}


def upsert_posts(*, session: Session, account_id: int, posts: Sequence[PostInput]) -> UpsertResult:
    """Inserts new posts, versions edited ones, refreshes metrics of unchanged ones.

    A post whose content is unchanged keeps its version and snapshot; an edited one (or one that
    reappears after a deletion notice) gets a new PostVersion and the snapshot it was seen in.
    """
    for item in posts:
        _check_key(item.source_key)
    result = UpsertResult()
    for chunk in _chunks_with_unique_keys(posts):
        result.add(_upsert_unique(session=session, account_id=account_id, posts=chunk))
    return result


def _chunks_with_unique_keys(posts: Sequence[PostInput]) -> Iterator[list[PostInput]]:
    """The batch in order, cut wherever a key repeats: a later sighting must find the earlier one stored."""
    chunk: list[PostInput] = []
    seen: set[str] = set()
    for item in posts:
        if item.source_key in seen:
            yield chunk
            chunk, seen = [], set()
        chunk.append(item)
        seen.add(item.source_key)
    if chunk:
        yield chunk


def _upsert_unique(*, session: Session, account_id: int, posts: Sequence[PostInput]) -> UpsertResult:
    existing = _existing(session=session, account_id=account_id, keys=[item.source_key for item in posts])
    result = UpsertResult()
    now = utcnow()
    history: list[dict[str, object]] = []  # one post_metrics row per sighting that carried metrics
    digests = [content_hash(item.title, item.text) for item in posts]
    changes = [
        existing[item.source_key].content_hash != digest or existing[item.source_key].status in GONE_STATUSES
        if item.source_key in existing
        else True
        for item, digest in zip(posts, digests, strict=True)
    ]
    # Every snapshot of the batch in one statement.
    blobs = {
        i: (item.snapshot, item.content_type) for i, item in enumerate(posts) if item.snapshot and changes[i]
    }
    stored = put_snapshots(session=session, blobs=list(blobs.values()))
    shas: dict[int, str] = dict(zip(blobs, stored, strict=True))

    # New posts: bulk INSERT ... RETURNING, not one ORM object each (the crawler's hot path).
    new = [i for i, item in enumerate(posts) if item.source_key not in existing]
    if new:
        rows = [
            {
                "account_id": account_id,
                "source_key": posts[i].source_key,
                "url": posts[i].url,
                "title": posts[i].title,
                "author": posts[i].author,
                "text": posts[i].text,
                "snapshot_sha256": shas.get(i),
                "content_hash": digests[i],
                "published_at": posts[i].published_at,
                "fetched_at": posts[i].fetched_at or now,
                "is_original": posts[i].is_original,
                "status": "live",
                "version": 1,
                "links": _links(posts[i].links),
                **_metrics(posts[i].metrics),
            }
            for i in new
        ]
        ids = list(session.scalars(insert(Post).returning(Post.id, sort_by_parameter_order=True), rows))
        session.execute(
            insert(PostVersion),
            [
                {
                    "post_id": post_id,
                    "version": 1,
                    "title": row["title"],
                    "text": row["text"],
                    "content_hash": row["content_hash"],
                    "status": "live",
                    "snapshot_sha256": row["snapshot_sha256"],
                    "recorded_at": row["fetched_at"],
                    "links": row["links"],
                }
                for post_id, row in zip(ids, rows, strict=True)
            ],
        )
        result.new = len(new)
        result.post_ids.extend(ids)
        history.extend(
            _history_row(post_id, posts[i].fetched_at or now, posts[i].metrics)
            for post_id, row, i in zip(ids, rows, new, strict=True)
            if _has_metrics(posts[i].metrics)
        )

    for i, item in enumerate(posts):
        post = existing.get(item.source_key)
        if post is None:
            continue
        fetched_at = item.fetched_at or now
        if changes[i]:
            changed = post.content_hash != digests[i]
            sha = shas.get(i, post.snapshot_sha256)
            post.version += 1
            post.title = item.title
            post.text = item.text
            post.content_hash = digests[i]
            post.snapshot_sha256 = sha
            post.status = "edited" if changed else "live"
            post.links = _links(item.links)
            session.add(
                PostVersion(
                    post_id=post.id,
                    version=post.version,
                    title=post.title,
                    text=post.text,
                    content_hash=digests[i],
                    status=post.status,
                    snapshot_sha256=sha,
                    recorded_at=fetched_at,
                    links=post.links,
                )
            )
            result.updated += 1
        else:
            result.unchanged += 1
        _refresh(post, item, fetched_at)
        if _has_metrics(item.metrics):
            history.append(_history_row(post.id, fetched_at, item.metrics))
        result.post_ids.append(post.id)
    if history:
        session.execute(insert(PostMetrics), history)
    session.flush()
    return result


def _has_metrics(metrics: Mapping[str, int | None]) -> bool:
    return any(metrics.get(name) is not None for name in METRICS)


def _history_row(post_id: int, recorded_at: datetime, metrics: Mapping[str, int | None]) -> dict[str, object]:
    return {"post_id": post_id, "recorded_at": recorded_at, **_metrics(metrics)}


def list_post_metrics(*, session: Session, post_id: int) -> list[PostMetrics]:
    """Every crawl's metrics of a post, oldest first."""
    query = select(PostMetrics).where(PostMetrics.post_id == post_id).order_by(PostMetrics.recorded_at)
    return list(session.scalars(query))


def _refresh(post: Post, item: PostInput, fetched_at: datetime) -> None:
    """What a new sighting updates without making a version: metrics, and fields missing so far."""
    post.fetched_at = fetched_at
    for name, value in _metrics(item.metrics).items():
        if value is not None:
            setattr(post, name, value)
    if item.url and post.url is None:
        post.url = item.url
    if item.published_at and post.published_at is None:
        post.published_at = item.published_at
    if item.author and post.author is None:
        post.author = item.author
    if item.is_original is not None:
        post.is_original = item.is_original
    if post.links is None and item.links is not None:
        post.links = _links(item.links)  # stored before links were read


def _links(links: Sequence[Mapping[str, str]] | None) -> list[dict[str, str]] | None:
    """Links as stored: a list of {"href", "text"}, both strings."""
    if links is None:
        return None
    return [
        {"href": str(link.get("href") or ""), "text": str(link.get("text") or "")}
        for link in links
        if link.get("href")
    ]


def _metrics(metrics: Mapping[str, int | None]) -> dict[str, int | None]:
    return {name: metrics.get(name) for name in METRICS}


def mark_posts_status(*, session: Session, account_id: int, changes: Sequence[StatusInput]) -> UpsertResult:
    """Marks stored posts deleted/violation/unavailable, keeping their text and content snapshot.

    The post keeps pointing at the snapshot of its last content (the evidence); the new version
    records the status and, when there is one, the snapshot of the notice page.
    """
    result = UpsertResult()
    for change in changes:
        if change.status not in GONE_STATUSES:
            raise InvalidInput(f"status {change.status!r} is not one of {', '.join(GONE_STATUSES)}")
    existing = _existing(session=session, account_id=account_id, keys=[c.source_key for c in changes])
    todo = [(c, existing.get(c.source_key)) for c in changes]
    notices = [
        (c.snapshot, c.content_type) for c, post in todo if post is not None and c.snapshot is not None
    ]
    shas = iter(put_snapshots(session=session, blobs=notices))
    now = utcnow()
    for change, post in todo:
        if post is None:
            result.unknown += 1
            continue
        sha = next(shas) if change.snapshot is not None else None
        if post.status == change.status:
            continue
        post.version += 1
        post.status = change.status
        post.fetched_at = change.fetched_at or now
        session.add(
            PostVersion(
                post_id=post.id,
                version=post.version,
                title=post.title,
                text=post.text,
                content_hash=post.content_hash,
                status=change.status,
                snapshot_sha256=sha,
                recorded_at=change.fetched_at or now,
                links=post.links,
            )
        )
        if change.status == "unavailable":
            result.unavailable += 1
        else:
            result.deleted += 1
        result.post_ids.append(post.id)
    session.flush()
    return result


@dataclass(frozen=True)
class KnownPost:
    """What a crawler needs to know about a stored post to crawl incrementally."""

    source_key: str
    url: str | None
    published_at: datetime | None
    content_hash: str
    status: str


def list_known_posts(
    *, session: Session, account_id: int, since: datetime | None = None, limit: int = 2000
) -> list[KnownPost]:
    """The account's most recent posts (published since `since`, or undated), newest first."""
    query = select(Post.source_key, Post.url, Post.published_at, Post.content_hash, Post.status).where(
        Post.account_id == account_id
    )
    if since is not None:
        query = query.where((Post.published_at >= since) | Post.published_at.is_(None))
    query = query.order_by(Post.published_at.desc(), Post.id.desc()).limit(limit)
    return [KnownPost(*row) for row in session.execute(query)]


def get_post(*, session: Session, post_id: int) -> Post:
    post = session.get(Post, post_id)
    if post is None:
        raise NotFound(f"post {post_id} does not exist")
    return post


def find_post(*, session: Session, account_id: int, source_key: str) -> Post | None:
    return session.scalar(select(Post).where(Post.account_id == account_id, Post.source_key == source_key))


def list_posts(
    *,
    session: Session,
    account_id: int | None = None,
    status: str | None = None,
    limit: int | None = None,
) -> list[Post]:
    """Posts, newest first, optionally of one account and in one status."""
    if status is not None and status not in POST_STATUSES:
        raise InvalidInput(f"unknown post status {status!r}")
    query = select(Post).order_by(Post.published_at.desc(), Post.id.desc())
    if account_id is not None:
        query = query.where(Post.account_id == account_id)
    if status is not None:
        query = query.where(Post.status == status)
    if limit:
        query = query.limit(limit)
    return list(session.scalars(query))


def list_post_versions(*, session: Session, post_id: int) -> list[PostVersion]:
    query = select(PostVersion).where(PostVersion.post_id == post_id).order_by(PostVersion.version)
    return list(session.scalars(query))


def count_posts(*, session: Session, account_id: int | None = None) -> dict[str, int]:
    """Number of posts per status."""
    query = select(Post.status, func.count()).group_by(Post.status)
    if account_id is not None:
        query = query.where(Post.account_id == account_id)
    return {status: count for status, count in session.execute(query)}
