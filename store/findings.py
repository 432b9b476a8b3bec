"""Query functions for findings and for the markers that say a post was classified."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, and_, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from store.db import dialect_insert
from store.errors import InvalidInput
from store.models import FINDING_CATEGORIES, Finding, Post, PostClassification, utcnow

# Posts that still show text worth classifying; deleted posts keep the findings they already have.
CLASSIFIABLE_STATUSES = ("live", "edited")


@dataclass(frozen=True)
class NewFinding:
    """A finding to store; `spans` are [{"start", "end", "text", "source"}] into the post's text."""

    category: str
    score: float
    source: str
    spans: list[dict[str, Any]] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)


def _pending_condition(model_version: str, rules_version: str) -> Any:
    """Posts with no marker for these versions, or whose text changed since they were marked."""
    marker = aliased(PostClassification)
    done = (
        select(marker.id)
        .where(
            marker.post_id == Post.id,
            marker.model_version == model_version,
            marker.rules_version == rules_version,
            marker.post_version >= Post.version,
        )
        .exists()
    )
    return and_(Post.status.in_(CLASSIFIABLE_STATUSES), ~done)


def list_unclassified_posts(
    *, session: Session, model_version: str, rules_version: str, limit: int, after_id: int = 0
) -> list[Post]:
    """Up to `limit` posts (by id, after `after_id`) not yet classified by these versions."""
    query = (
        select(Post)
        .where(_pending_condition(model_version, rules_version), Post.id > after_id)
        .order_by(Post.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def count_unclassified_posts(*, session: Session, model_version: str, rules_version: str) -> int:
    query = select(func.count()).select_from(Post).where(_pending_condition(model_version, rules_version))
    return int(session.scalar(query) or 0)


def claim_posts(
    *,
    session: Session,
    posts: Sequence[Post],
    model_version: str,
    rules_version: str,
    classified_at: datetime | None = None,
) -> list[Post]:
    """Mark `posts` as classified by these versions and return the ones this caller claimed.

    The marker is written first and tolerates a concurrent writer: a post another job already
    marked (for its current text) is not returned, so its findings are written once. Call it in
    the same unit of work as `store_findings`: a rolled-back batch releases its claims.
    """
    if not posts:
        return []
    when = classified_at or utcnow()
    statement = (
        dialect_insert(session, PostClassification)
        .on_conflict_do_nothing()
        .returning(PostClassification.post_id)
    )
    rows = [
        {
            "post_id": post.id,
            "model_version": model_version,
            "rules_version": rules_version,
            "post_version": post.version,
            "classified_at": when,
        }
        for post in posts
    ]
    claimed = set(session.scalars(statement, rows))
    for post in posts:
        if post.id in claimed:
            continue
        # A marker exists: claim it only if it is for an older text of the post (an edit).
        result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
            update(PostClassification)
            .where(
                PostClassification.post_id == post.id,
                PostClassification.model_version == model_version,
                PostClassification.rules_version == rules_version,
                PostClassification.post_version < post.version,
            )
            .values(post_version=post.version, classified_at=when)
        )
        if result.rowcount:
            claimed.add(post.id)
    return [post for post in posts if post.id in claimed]


def store_findings(
    *,
    session: Session,
    post: Post,
    findings: Sequence[NewFinding],
    model_version: str,
    rules_version: str,
    created_at: datetime | None = None,
) -> int:
    """Insert a claimed post's findings, leaving alone one that already exists; returns how many were new."""
    when = created_at or utcnow()
    rows = []
    for item in findings:
        if item.category not in FINDING_CATEGORIES:
            raise InvalidInput(f"unknown finding category {item.category!r}")
        rows.append(
            {
                "account_id": post.account_id,
                "post_id": post.id,
                "category": item.category,
                "score": float(item.score),
                "spans": list(item.spans),
                "source": item.source[:100],
                "detail": dict(item.detail),
                "model_version": model_version,
                "rules_version": rules_version,
                "post_version": post.version,
                "state": "open",
                "created_at": when,
                "updated_at": when,
            }
        )
    if not rows:
        return 0
    statement = dialect_insert(session, Finding).on_conflict_do_nothing().returning(Finding.id)
    return len(list(session.scalars(statement, rows)))


def record_classification(
    *,
    session: Session,
    post: Post,
    findings: Sequence[NewFinding],
    model_version: str,
    rules_version: str,
    classified_at: datetime | None = None,
) -> int:
    """Claim one post for these versions, store its findings and supersede its earlier open ones
    (in the caller's unit of work), as the classify job does for a batch.

    Returns the number of findings stored; 0 with nothing written when another job claimed it.
    """
    from store.reviews import supersede_findings

    claimed = claim_posts(
        session=session, posts=[post], model_version=model_version, rules_version=rules_version,
        classified_at=classified_at,
    )  # fmt: skip
    if not claimed:
        return 0
    stored = store_findings(
        session=session, post=post, findings=findings, model_version=model_version,
        rules_version=rules_version, created_at=classified_at,
    )  # fmt: skip
    supersede_findings(
        session=session, posts=claimed, model_version=model_version, rules_version=rules_version,
        now=classified_at or utcnow(),
    )  # fmt: skip
    return stored


def list_findings(
    *,
    session: Session,
    post_id: int | None = None,
    account_id: int | None = None,
    category: str | None = None,
    state: str | None = None,
    model_version: str | None = None,
    limit: int | None = None,
) -> list[Finding]:
    """Findings, highest score first within the newest."""
    query = select(Finding).order_by(Finding.created_at.desc(), Finding.score.desc(), Finding.id.desc())
    if post_id is not None:
        query = query.where(Finding.post_id == post_id)
    if account_id is not None:
        query = query.where(Finding.account_id == account_id)
    if category is not None:
        query = query.where(Finding.category == category)
    if state is not None:
        query = query.where(Finding.state == state)
    if model_version is not None:
        query = query.where(Finding.model_version == model_version)
    if limit:
        query = query.limit(limit)
    return list(session.scalars(query))


def list_newer_findings(*, session: Session, finding: Finding) -> list[Finding]:
    """The findings that a later classification of the finding's post made and that still stand
    (not superseded themselves): where a reviewer goes from a superseded finding."""
    if finding.post_id is None:
        return []
    query = (
        select(Finding)
        .where(
            Finding.post_id == finding.post_id,
            Finding.id > finding.id,
            Finding.state != "superseded",
            or_(
                Finding.post_version > finding.post_version,
                Finding.model_version != finding.model_version,
                Finding.rules_version != finding.rules_version,
            ),
        )
        .order_by(Finding.id)
    )
    return list(session.scalars(query))


def count_findings(
    *, session: Session, model_version: str | None = None, rules_version: str | None = None
) -> dict[str, int]:
    """Number of findings per category, optionally for one model and rules version."""
    query = select(Finding.category, func.count()).group_by(Finding.category)
    conditions = []
    if model_version is not None:
        conditions.append(Finding.model_version == model_version)
    if rules_version is not None:
        conditions.append(Finding.rules_version == rules_version)
    if conditions:
        query = query.where(and_(*conditions))
    return {category: count for category, count in session.execute(query)}


def count_classified_posts(*, session: Session, model_version: str, rules_version: str) -> int:
    query = select(func.count()).where(
        PostClassification.model_version == model_version, PostClassification.rules_version == rules_version
    )
    return int(session.scalar(query) or 0)


__all__ = [
    "CLASSIFIABLE_STATUSES",
    "NewFinding",
    "claim_posts",
    "count_classified_posts",
    "count_findings",
    "count_unclassified_posts",
    "list_findings",
    "list_newer_findings",
    "list_unclassified_posts",
    "record_classification",
    "store_findings",
]
