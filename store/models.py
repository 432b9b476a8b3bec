"""The relational schema of govwatch (SQLAlchemy 2 typed models, portable to SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Dialect,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

PLATFORMS = ("wechat", "weibo", "toutiao", "douyin", "website", "other")
ACCOUNT_STATUSES = ("active", "suspended", "closed")
ROLES = ("admin", "reviewer", "lead", "operator")
# "violation": taken down by the platform itself (e.g. WeChat's 此内容因违规无法查看), not by the publisher.
POST_STATUSES = ("live", "edited", "deleted", "violation", "unavailable")
POST_CATEGORIES = ("marketing", "unverified", "harmful", "privacy", "expression")
ACCOUNT_CATEGORIES = ("inactive", "unfiled", "compromised")
FINDING_CATEGORIES = POST_CATEGORIES + ACCOUNT_CATEGORIES
# "superseded": an open finding made on an older text of its post, or by other model or rules
# versions, replaced by what the classify job found on the post's current text (closed, never counted).
FINDING_STATES = ("open", "confirmed", "dismissed", "escalated", "appealed", "superseded")
# "supersede" is the system's, written by the classify job; reviewers never pick it.
REVIEW_DECISIONS = ("confirm", "dismiss", "escalate", "reopen", "supersede")
# The decisions a reviewer picks a reason code for (reopen is a lead's or an undo, with a note).
REASON_DECISIONS = ("confirm", "dismiss", "escalate")
APPEAL_OUTCOMES = ("pending", "upheld", "rejected")
# "interrupted": the crawl was stopped (SIGTERM, Ctrl-C, a dead process) before it finished the account.
CRAWL_STATUSES = ("running", "ok", "partial", "failed", "blocked", "interrupted")
JOB_STATUSES = ("running", "ok", "failed", "interrupted", "skipped")
NOTIFICATION_CHANNELS = ("email", "webhook")
NOTIFICATION_STATUSES = ("pending", "sent", "failed")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both backends (SQLite keeps no offset, so store naive UTC)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: store only timezone-aware datetimes")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _choice(values: tuple[str, ...], name: str) -> Enum:
    # Non-native enums are VARCHAR + CHECK on both backends, so adding a value is a plain migration.
    return Enum(*values, name=name, native_enum=False, create_constraint=True, length=16)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime,
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


class Region(Base):
    """An administrative division keyed by its 6-digit code (150000 → 150100 → 150102)."""

    __tablename__ = "regions"

    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"), index=True)
    level: Mapped[int] = mapped_column(Integer)  # 1 province, 2 prefecture, 3 county

    parent: Mapped[Region | None] = relationship(remote_side=[code])


class Organization(Base):
    """The responsible entity (责任主体) that runs one or more accounts."""

    __tablename__ = "organizations"
    __table_args__ = (UniqueConstraint("name", "region_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    contact_name: Mapped[str | None] = mapped_column(String(100))
    contact_phone: Mapped[str | None] = mapped_column(String(50))
    contact_email: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Account(Base):
    """A government public account on one platform."""

    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("platform", "handle"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(_choice(PLATFORMS, "platform"))
    handle: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    filing_number: Mapped[str | None] = mapped_column(String(100))
    filing_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(_choice(ACCOUNT_STATUSES, "account_status"), default="active")
    # The registry's word on the account's interaction function (留言/评论/私信): False = none working.
    interaction_ok: Mapped[bool | None] = mapped_column(Boolean)
    # What the crawler needs: {"kind": "feed|wechat|weibo|govsite", "url": ..., adapter options}.
    source: Mapped[dict[str, Any]] = mapped_column(default=dict)
    crawl_interval_minutes: Mapped[int] = mapped_column(Integer, default=360)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    organization: Mapped[Organization] = relationship()
    region: Mapped[Region] = relationship()


user_accounts = Table(
    "user_accounts",
    Base.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
)


class User(Base):
    """A person who logs in: admins see all, reviewers their region, operators their accounts."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(_choice(ROLES, "role"))
    region_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"))
    display_name: Mapped[str | None] = mapped_column(String(100))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    accounts: Mapped[list[Account]] = relationship(secondary=user_accounts)


class Snapshot(Base):
    """A fetched page or payload, zstd-compressed and addressed by the SHA-256 of its raw bytes.

    Kept in the database rather than files so that crawlers on several machines share it through
    the one database, it commits or rolls back with the post that cites it, and a backup of the
    database is a backup of the evidence. Identical bytes are stored once.
    """

    __tablename__ = "snapshots"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str | None] = mapped_column(String(100))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Post(Base):
    """One post of an account, as last seen; its history is in post_versions."""

    __tablename__ = "posts"
    __table_args__ = (
        UniqueConstraint("account_id", "source_key"),
        Index("ix_posts_account_id_published_at", "account_id", "published_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    source_key: Mapped[str] = mapped_column(String(255))
    url: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text, default="")
    snapshot_sha256: Mapped[str | None] = mapped_column(ForeignKey("snapshots.sha256"))
    content_hash: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime | None]
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)
    reads: Mapped[int | None] = mapped_column(BigInteger)
    likes: Mapped[int | None] = mapped_column(BigInteger)
    shares: Mapped[int | None] = mapped_column(BigInteger)
    comments: Mapped[int | None] = mapped_column(BigInteger)
    wows: Mapped[int | None] = mapped_column(BigInteger)  # 在看
    is_original: Mapped[bool | None] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(_choice(POST_STATUSES, "post_status"), default="live")
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Outbound links of the body, in order: [{"href": ..., "text": anchor text}] (None: not read).
    links: Mapped[list[dict[str, str]] | None] = mapped_column(JSON)

    account: Mapped[Account] = relationship()


class PostVersion(Base):
    """Every text or status a post has had, so edits and deletions keep their history."""

    __tablename__ = "post_versions"
    __table_args__ = (UniqueConstraint("post_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text, default="")
    content_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(_choice(POST_STATUSES, "post_status"))
    snapshot_sha256: Mapped[str | None] = mapped_column(ForeignKey("snapshots.sha256"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    links: Mapped[list[dict[str, str]] | None] = mapped_column(JSON)


class PostClassification(Base):
    """Marks a post as classified by one model+rules version, findings or not (makes reruns resumable)."""

    __tablename__ = "post_classifications"
    __table_args__ = (UniqueConstraint("post_id", "model_version", "rules_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    model_version: Mapped[str] = mapped_column(String(64))
    rules_version: Mapped[str] = mapped_column(String(64))
    post_version: Mapped[int] = mapped_column(Integer, default=1)
    classified_at: Mapped[datetime] = mapped_column(default=utcnow)


# post_id, category, model_version, rules_version, post_version (the full name is over PostgreSQL's 63).
FINDINGS_UNIQUE = "uq_findings_post_id_category_versions"


class Finding(Base):
    """A flag on a post (or, for account-level categories, on an account), with its evidence."""

    __tablename__ = "findings"
    __table_args__ = (
        # One finding per post, category, model and rules versions and post version: two classify jobs
        # at once cannot duplicate one, and an edited post can be flagged again in the same category.
        # A unique index rather than a constraint: SQLite adds it without rebuilding the table, and
        # ON CONFLICT uses either.
        Index(
            FINDINGS_UNIQUE,
            "post_id",
            "category",
            "model_version",
            "rules_version",
            "post_version",
            unique=True,
        ),
        Index("ix_findings_state_category", "state", "category"),
        Index("ix_findings_account_id_created_at", "account_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id"), index=True)
    category: Mapped[str] = mapped_column(_choice(FINDING_CATEGORIES, "finding_category"))
    score: Mapped[float] = mapped_column(Float)
    # [{"start", "end", "text", "source"}] with offsets into the post's stored text.
    spans: Mapped[list[Any]] = mapped_column(default=list)
    source: Mapped[str] = mapped_column(String(100))  # rule id(s) or "model"
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    model_version: Mapped[str] = mapped_column(String(64))
    rules_version: Mapped[str] = mapped_column(String(64))
    # The post's version whose text the spans point into (1 for account-level findings).
    post_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    state: Mapped[str] = mapped_column(_choice(FINDING_STATES, "finding_state"), default="open")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Optimistic concurrency: every review transition bumps it; a decision made on an older one fails.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    claimed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    claimed_at: Mapped[datetime | None]

    post: Mapped[Post | None] = relationship()
    account: Mapped[Account] = relationship()


# The reviewer queue: open findings by score, then the longest waiting; account_id last so that the
# scope is checked in the index, before any row is read.
Index(
    "ix_findings_state_score_created_at",
    Finding.state,
    Finding.score.desc(),
    Finding.created_at,
    Finding.account_id,
)


class Review(Base):
    """One reviewer decision on a finding."""

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decision: Mapped[str] = mapped_column(_choice(REVIEW_DECISIONS, "review_decision"))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    reason_code: Mapped[str | None] = mapped_column(String(50))
    # The finding's state before and after, so an undo knows what to restore.
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str | None] = mapped_column(String(16))


class ReasonCode(Base):
    """One entry of the short, admin-editable list of reasons a reviewer picks for a decision."""

    __tablename__ = "reason_codes"

    code: Mapped[str] = mapped_column(String(50), primary_key=True)
    decision: Mapped[str] = mapped_column(_choice(REASON_DECISIONS, "reason_decision"))
    label: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)


class LoginThrottle(Base):
    """Failed sign-ins per key ("user:NAME" or "addr:IP"), so several web workers slow down alike."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime] = mapped_column(default=utcnow)


class Appeal(Base):
    """An operator's appeal against a finding on one of their accounts."""

    __tablename__ = "appeals"

    id: Mapped[int] = mapped_column(primary_key=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id"), index=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(_choice(APPEAL_OUTCOMES, "appeal_outcome"), default="pending")
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decision_note: Mapped[str | None] = mapped_column(Text)


class PostMetrics(Base):
    """The metrics of a post as one crawl saw them, so a past month is scored on its own figures."""

    __tablename__ = "post_metrics"
    __table_args__ = (Index("ix_post_metrics_post_id_recorded_at", "post_id", "recorded_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    reads: Mapped[int | None] = mapped_column(BigInteger)
    likes: Mapped[int | None] = mapped_column(BigInteger)
    shares: Mapped[int | None] = mapped_column(BigInteger)
    comments: Mapped[int | None] = mapped_column(BigInteger)
    wows: Mapped[int | None] = mapped_column(BigInteger)  # 在看


class Assessment(Base):
    """The monthly score of one account: one row per revision, the highest revision is current."""

    __tablename__ = "assessments"
    __table_args__ = (
        UniqueConstraint("account_id", "month", "revision"),
        Index("ix_assessments_month_account_id", "month", "account_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    month: Mapped[str] = mapped_column(String(7))  # "2026-10"
    revision: Mapped[int] = mapped_column(Integer, default=1)
    total: Mapped[float] = mapped_column(Float)
    passed: Mapped[bool] = mapped_column(Boolean)
    components: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # [{"code", "label", "detail", "finding_ids"}]
    veto_reasons: Mapped[list[Any]] = mapped_column(default=list)
    # What differs from the previous revision: [{"field", "before", "after", "note"}].
    changes: Mapped[list[Any]] = mapped_column(default=list)
    # SHA-256 of the outcome, so a rerun on the same inputs writes nothing.
    digest: Mapped[str] = mapped_column(String(64))
    scoring_version: Mapped[str] = mapped_column(String(64))
    model_version: Mapped[str] = mapped_column(String(255), default="")
    rules_version: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CrawlRun(Base):
    """One crawl of one account: when, how it ended, what it stored, and the error a user can read."""

    __tablename__ = "crawl_runs"
    __table_args__ = (Index("ix_crawl_runs_account_id_started_at", "account_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(_choice(CRAWL_STATUSES, "crawl_status"), default="running")
    # {"pages", "new", "updated", "unchanged", "deleted", "errors"}
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    host: Mapped[str | None] = mapped_column(String(200))


class Lease(Base):
    """A named lease: one holder at a time, until it expires; `token` fences out stale holders."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    token: Mapped[int] = mapped_column(BigInteger)
    acquired_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class AuditLog(Base):
    """Who changed what and when, with the state before and after."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity", "entity_type", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor: Mapped[str] = mapped_column(String(100))  # username, or "system"/"cli" for jobs
    action: Mapped[str] = mapped_column(String(100))
    entity_type: Mapped[str] = mapped_column(String(50))
    entity_id: Mapped[str | None] = mapped_column(String(50))
    # A readable name of the target (username, account name), kept when the target is deleted.
    entity_label: Mapped[str | None] = mapped_column(String(200))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class JobRun(Base):
    """One run of a scheduled job: what it was asked, when it ran, how it ended and what it did."""

    __tablename__ = "job_runs"
    __table_args__ = (
        Index("ix_job_runs_job_started_at", "job", "started_at"),
        Index("ix_job_runs_job_period", "job", "period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(50))
    # The unit of work the run is idempotent for: "account 12 slot 2026-10-03T06:00", "2026-10".
    period: Mapped[str] = mapped_column(String(100), default="")
    args: Mapped[dict[str, Any]] = mapped_column(default=dict)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(_choice(JOB_STATUSES, "job_status"), default="running")
    error: Mapped[str | None] = mapped_column(Text)
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    holder: Mapped[str | None] = mapped_column(String(200))
    token: Mapped[int | None] = mapped_column(Integer)


class CrawlSchedule(Base):
    """When the scheduler next crawls an account: its slots are offset per account, so the crawls of
    many accounts with one interval are spread over that interval instead of all starting at once."""

    __tablename__ = "crawl_schedules"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    last_slot_at: Mapped[datetime | None]
    next_due_at: Mapped[datetime] = mapped_column(index=True)
    last_run_id: Mapped[int | None] = mapped_column(Integer)


class NotificationChannel(Base):
    """Where one user wants to be told: an e-mail address or a group-robot webhook URL."""

    __tablename__ = "notification_channels"
    __table_args__ = (UniqueConstraint("user_id", "channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(_choice(NOTIFICATION_CHANNELS, "notification_channel"))
    address: Mapped[str] = mapped_column(Text)
    # Extra events beyond the user's role (e.g. "report_ready" for an office lead); [] = role only.
    events: Mapped[list[Any]] = mapped_column(default=list)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Notification(Base):
    """The outbox: one message to one address, delivered (and retried) by the delivery job."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("dedupe_key"),
        Index("ix_notifications_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    event: Mapped[str] = mapped_column(String(50))
    channel: Mapped[str] = mapped_column(_choice(NOTIFICATION_CHANNELS, "notification_channel"))
    address: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    # Makes writing a notification idempotent: one message per event, user and channel.
    dedupe_key: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(
        _choice(NOTIFICATION_STATUSES, "notification_status"), default="pending"
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


__all__ = [
    "Account",
    "Appeal",
    "Assessment",
    "AuditLog",
    "Base",
    "CrawlRun",
    "CrawlSchedule",
    "Finding",
    "JobRun",
    "Lease",
    "LoginThrottle",
    "Notification",
    "NotificationChannel",
    "Organization",
    "Post",
    "PostClassification",
    "PostMetrics",
    "PostVersion",
    "ReasonCode",
    "Region",
    "Review",
    "Snapshot",
    "User",
]
