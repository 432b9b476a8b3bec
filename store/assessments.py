"""Query functions for monthly assessments and the stored inputs they are computed from."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime, Select, and_, case, func, insert, or_, select, type_coerce
from sqlalchemy.orm import Session

from store.errors import NotFound
from store.models import (
    Account,
    Appeal,
    Assessment,
    Finding,
    Organization,
    Post,
    PostMetrics,
    Region,
    Review,
)
from store.regions import level_of, validate_region_code

CHUNK = 900  # under SQLite's default limit of bound parameters


def region_prefix(code: str) -> str:
    """The code prefix every region under `code` shares (150000 → "15", 150100 → "1501")."""
    code = validate_region_code(code)
    return code[: {1: 2, 2: 4, 3: 6}[level_of(code)]]


Q = TypeVar("Q", bound=Select)


def _in_region(query: Q, region: str | None) -> Q:
    if region is None:
        return query
    return query.where(Account.region_code.startswith(region_prefix(region)))


def list_account_assessments(*, session: Session, account_id: int) -> list[Assessment]:
    """The current (latest) revision of each month assessed for the account, newest month first."""
    latest = (
        select(Assessment.month, func.max(Assessment.revision).label("revision"))
        .where(Assessment.account_id == account_id)
        .group_by(Assessment.month)
        .subquery()
    )
    query = (
        select(Assessment)
        .join(latest, and_(Assessment.month == latest.c.month, Assessment.revision == latest.c.revision))
        .where(Assessment.account_id == account_id)
        .order_by(Assessment.month.desc())
    )
    return list(session.scalars(query))


def get_assessment(*, session: Session, account_id: int, month: str) -> Assessment:
    """The current revision of one account's assessment for `month`."""
    query = (
        select(Assessment)
        .where(Assessment.account_id == account_id, Assessment.month == month)
        .order_by(Assessment.revision.desc())
        .limit(1)
    )
    assessment = session.scalar(query)
    if assessment is None:
        raise NotFound(f"account {account_id} has no assessment for {month}")
    return assessment


def list_assessment_revisions(*, session: Session, account_id: int, month: str) -> list[Assessment]:
    """Every revision of one account's assessment for `month`, oldest first."""
    query = (
        select(Assessment)
        .where(Assessment.account_id == account_id, Assessment.month == month)
        .order_by(Assessment.revision)
    )
    return list(session.scalars(query))


def current_assessments(*, session: Session, month: str, region: str | None = None) -> dict[int, Assessment]:
    """The current revision of every account assessed for `month` (in `region`), by account id."""
    latest = (
        select(Assessment.account_id, func.max(Assessment.revision).label("revision"))
        .where(Assessment.month == month)
        .group_by(Assessment.account_id)
        .subquery()
    )
    query = (
        select(Assessment)
        .join(
            latest,
            and_(Assessment.account_id == latest.c.account_id, Assessment.revision == latest.c.revision),
        )
        .join(Account, Account.id == Assessment.account_id)
        .where(Assessment.month == month)
    )
    return {a.account_id: a for a in session.scalars(_in_region(query, region))}


def list_revised_assessments(*, session: Session, month: str, region: str | None = None) -> list[Assessment]:
    """Revisions after the first for `month`, in account and revision order (what changed, and when)."""
    query = (
        select(Assessment)
        .join(Account, Account.id == Assessment.account_id)
        .where(Assessment.month == month, Assessment.revision > 1)
        .order_by(Assessment.account_id, Assessment.revision)
    )
    return list(session.scalars(_in_region(query, region)))


def insert_assessments(*, session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """New assessment rows (each a new revision), in one multi-row INSERT per chunk."""
    for start in range(0, len(rows), 5000):
        session.execute(insert(Assessment), list(rows[start : start + 5000]))


# --- inputs of an assessment ------------------------------------------------------------------


def list_assessed_accounts(*, session: Session, region: str | None, created_before: datetime) -> list[Any]:
    """Active accounts (in `region`) filed before `created_before`, with their organization."""
    query = (
        select(
            Account.id,
            Account.name,
            Account.platform,
            Account.handle,
            Account.region_code,
            Account.filing_number,
            Account.interaction_ok,
            Organization.name.label("organization"),
            Organization.contact_name,
            Organization.contact_phone,
        )
        .join(Organization, Organization.id == Account.organization_id)
        .where(Account.status == "active", _filed_before(created_before))
        .order_by(Account.id)
    )
    return list(session.execute(_in_region(query, region)))


def _filed_before(moment: datetime) -> Any:
    # The registry's filing date (备案日期) says since when an account exists for the office; the
    # row's own created_at only says when this installation imported it (often after the month).
    filed_by = moment.astimezone(ZoneInfo("Asia/Shanghai")).date()
    return or_(Account.filing_date.is_(None), Account.filing_date < filed_by)


def _naive(column: Any) -> Any:
    # The plain DateTime type: naive UTC values without the per-value Python step of UTCDateTime,
    # for the hot loops that read every post of a month.
    return type_coerce(column, DateTime())


def iter_month_posts(
    *, session: Session, region: str | None, start: datetime, end: datetime, metrics_before: datetime
) -> Iterator[Any]:
    """Posts of active accounts published in [start, end): id, account, naive UTC time, title, and
    the metrics stored on the post itself when it was last fetched before `metrics_before` (else None).
    """
    fresh = Post.fetched_at < metrics_before
    query = (
        select(
            Post.id,
            Post.account_id,
            _naive(Post.published_at).label("published_at"),
            Post.title,
            case((fresh, Post.reads), else_=None).label("reads"),
            case((fresh, Post.wows), else_=None).label("wows"),
            case((fresh, Post.likes), else_=None).label("likes"),
            case((fresh, Post.shares), else_=None).label("shares"),
        )
        .join(Account, Account.id == Post.account_id)
        .where(Account.status == "active", Post.published_at >= start, Post.published_at < end)
    )
    # Core rows, not ORM ones: a month is hundreds of thousands of tuples.
    result = session.connection().execute(_in_region(query, region).execution_options(yield_per=20000))
    yield from result


def iter_metrics_as_of(
    *, session: Session, region: str | None, start: datetime, end: datetime, as_of: datetime
) -> Iterator[Any]:
    """Metrics rows recorded before `as_of` for posts published in [start, end), oldest first per post."""
    query = (
        select(
            PostMetrics.post_id, PostMetrics.reads, PostMetrics.wows, PostMetrics.likes, PostMetrics.shares
        )
        .join(Post, Post.id == PostMetrics.post_id)
        .join(Account, Account.id == Post.account_id)
        .where(
            Account.status == "active",
            Post.published_at >= start,
            Post.published_at < end,
            PostMetrics.recorded_at < as_of,
        )
        .order_by(PostMetrics.post_id, PostMetrics.recorded_at, PostMetrics.id)
    )
    result = session.connection().execute(_in_region(query, region).execution_options(yield_per=20000))
    yield from result


def last_post_before(*, session: Session, region: str | None, before: datetime) -> dict[int, datetime]:
    """When each active account last published before `before`."""
    query = (
        select(Post.account_id, func.max(Post.published_at))
        .join(Account, Account.id == Post.account_id)
        .where(Account.status == "active", Post.published_at < before)
        .group_by(Post.account_id)
    )
    return {row[0]: row[1] for row in session.execute(_in_region(query, region)) if row[1]}


def list_month_findings(
    *, session: Session, region: str | None, start: datetime, end: datetime, as_of: datetime
) -> list[Any]:
    """Findings known at `as_of` on posts published in [start, end), or on accounts raised in it."""
    query = (
        select(
            Finding.id,
            Finding.account_id,
            Finding.post_id,
            Finding.category,
            Finding.score,
            Finding.source,
            Finding.spans,
            Finding.model_version,
            Finding.rules_version,
            Finding.created_at,
            Post.published_at,
            Post.title,
            Post.url,
            Post.text,
        )
        .join(Account, Account.id == Finding.account_id)
        .outerjoin(Post, Post.id == Finding.post_id)
        .where(
            Account.status == "active",
            Finding.created_at < as_of,
            or_(
                and_(Finding.post_id.is_not(None), Post.published_at >= start, Post.published_at < end),
                and_(Finding.post_id.is_(None), Finding.created_at >= start, Finding.created_at < end),
            ),
        )
        .order_by(Finding.id)
    )
    return list(session.execute(_in_region(query, region)))


def _chunks(ids: Sequence[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield list(ids[start : start + CHUNK])


def latest_decisions(*, session: Session, finding_ids: Sequence[int], before: datetime) -> dict[int, str]:
    """Each finding's latest review decision made before `before` (findings never reviewed are absent)."""
    decisions: dict[int, str] = {}
    for chunk in _chunks(finding_ids):
        query = (
            select(Review.finding_id, Review.decision)
            .where(Review.finding_id.in_(chunk), Review.created_at < before)
            .order_by(Review.finding_id, Review.created_at, Review.id)
        )
        for finding_id, decision in session.execute(query):
            decisions[finding_id] = decision
    return decisions


def upheld_appeals(
    *, session: Session, finding_ids: Sequence[int], before: datetime
) -> dict[int, datetime | None]:
    """Findings with an appeal upheld before `before`, and when it was decided."""
    upheld: dict[int, datetime | None] = {}
    for chunk in _chunks(finding_ids):
        query = (
            select(Appeal.finding_id, func.min(Appeal.decided_at))
            .where(
                Appeal.finding_id.in_(chunk),
                Appeal.outcome == "upheld",
                Appeal.decided_at.is_not(None),
                Appeal.decided_at < before,
            )
            .group_by(Appeal.finding_id)
        )
        for finding_id, decided_at in session.execute(query):
            upheld[finding_id] = decided_at
    return upheld


def region_names(*, session: Session) -> dict[str, str]:
    """Code → name of every region the registry named (placeholders repeating the code left out)."""
    return {code: name for code, name in session.execute(select(Region.code, Region.name)) if name != code}


def list_registry_accounts(*, session: Session, region: str | None, created_before: datetime) -> list[Any]:
    """Every account filed in the registry (in `region`) by `created_before`, any status but closed."""
    query = select(Account.id, Account.platform, Account.region_code, Account.status).where(
        Account.status != "closed", _filed_before(created_before)
    )
    return list(session.execute(_in_region(query, region)))


def account_labels(*, session: Session, account_ids: Sequence[int]) -> dict[int, Any]:
    """Name, platform, region and organization of the given accounts."""
    labels: dict[int, Any] = {}
    for chunk in _chunks(list(account_ids)):
        query = (
            select(
                Account.id,
                Account.name,
                Account.platform,
                Account.handle,
                Account.region_code,
                Organization.name.label("organization"),
            )
            .join(Organization, Organization.id == Account.organization_id)
            .where(Account.id.in_(chunk))
        )
        labels.update({row.id: row for row in session.execute(query)})
    return labels
