"""A simulated month, driven by the jobs with a fixed clock over the fixture site on 127.0.0.1.

Every few days some accounts publish; two never do. The jobs crawl what is due, classify it,
raise account-level findings, send the reviewers' digests and the operators' notices to a real
SMTP server and a webhook receiver. At the end: every post published is stored once, the silent
accounts are flagged inactive once, the spammed account compromised once, nothing twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from govwatch.context import open_store
from govwatch.sample_site import SampleSite
from govwatch.sample_site.content import SamplePost, registry_rows
from govwatch.settings import Settings
from scheduler.context import JobContext
from scheduler.jobs import (
    account_findings_job,
    assess_month_job,
    crawl_due_job,
    deliver_notifications_job,
    reviewer_digest_job,
)
from store.accounts import ensure_organization, upsert_account
from store.models import Account, CrawlSchedule, Finding, JobRun, Notification, Post
from store.notifications import notify_finding_confirmed
from tests.crawler.conftest import FAST
from tests.scheduler.conftest import FixedClock, Mailbox, Webhook
from tests.scheduler.helpers import add_user

SHANGHAI = ZoneInfo("Asia/Shanghai")
# The month is in the past, so the crawler never sees a post dated after the real clock.
START = (datetime.now(SHANGHAI) - timedelta(days=70)).replace(hour=1, minute=0, second=0, microsecond=0)
SILENT = ("赛罕发布", "呼和浩特教育")  # never publish during the month
SPAMMED = "玉泉区人民政府"
UNFILED = "玉泉融媒"
INTERVAL_DAYS = 3
SPAM = "澳门赌场|真人百家乐|注册送88元|成人视频免费看|六合彩开奖"


@pytest.fixture
def month_site() -> Iterator[SampleSite]:
    with SampleSite(now=START.astimezone(UTC).replace(tzinfo=UTC)) as site:
        yield site


def add_registry(factory: sessionmaker[Session], site: SampleSite) -> dict[str, int]:
    ids = {}
    with factory.begin() as session:
        for row in registry_rows(site.url):
            org = ensure_organization(
                session=session, name=row["organization"], region_code=row["region_code"]
            )
            filed = row["name"] != UNFILED
            account, _ = upsert_account(
                session=session,
                platform=row["platform"],
                handle=row["handle"],
                fields={
                    "name": row["name"],
                    "organization_id": org.id,
                    "region_code": row["region_code"],
                    "filing_number": row["filing_number"] if filed else None,
                    "filing_date": datetime.strptime(row["filing_date"], "%Y-%m-%d").date()
                    if filed
                    else None,
                    "source": {"kind": row["source_kind"], "url": row["source_url"], **row["source_options"]},
                    "crawl_interval_minutes": INTERVAL_DAYS * 24 * 60,
                },
            )
            ids[row["name"]] = account.id
    return ids


def publish(site: SampleSite, name: str, when: datetime, number: int, body: str) -> str:
    """A new post on the site, published at `when` (ages count back from the site's fixed clock)."""
    account = next(a for a in site.state.accounts if a.name == name)
    title = f"{name}第{number}号通知"
    age = (site.state.now - when.astimezone(UTC)).total_seconds() / 3600
    post = SamplePost(number, title, f"{title}：{body}", age, account.name)
    if account.kind == "feed" and account.path.endswith(".xml"):
        post.body = f"<p>{post.body}</p>"
    with site.state.lock:
        account.posts.append(post)
    return title


@pytest.mark.slow
def test_a_month_of_jobs_over_the_fixture_site(
    month_site: SampleSite, tmp_path: Path, smtp_server: Mailbox, webhook: Webhook
) -> None:
    settings = Settings(
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'govwatch.db'}",
        redis_url=None,
        crawl_delay=0,
        crawl_processes=1,
        smtp_host=smtp_server.host,
        smtp_port=smtp_server.port,
    )
    factory = open_store(settings, migrate=True)
    ids = add_registry(factory, month_site)
    operator_account = ids["新城区发布"]
    add_user(factory, "xcq", "operator", accounts=(operator_account,), webhook=webhook.url)
    add_user(factory, "reviewer", "reviewer", region="150100", email="reviewer@example.org")
    add_user(factory, "admin", "admin", email="admin@example.org")
    clock = FixedClock(START.astimezone(UTC))
    context = JobContext(
        session_factory=factory, settings=settings, clock=clock, holder="test", scrapy_settings=FAST
    )

    published: dict[str, str] = {}  # title -> account name
    number = 5000
    crawl_outcomes = []
    for day in range(31):
        clock.set((START + timedelta(days=day)).astimezone(UTC))
        if day % 4 == 1 and day <= 31 - INTERVAL_DAYS - 2:  # leave each account a crawl after it
            for name in ids:
                if name not in SILENT:
                    number += 1
                    published[
                        publish(
                            month_site,
                            name,
                            clock() - timedelta(hours=2),
                            number,
                            "各单位要做好值班值守工作。",
                        )
                    ] = name
        if day == 9:
            number += 1
            published[publish(month_site, SPAMMED, clock() - timedelta(hours=1), number, SPAM)] = SPAMMED
        crawl_outcomes.append(crawl_due_job(context=context))
        if day == 12:  # a reviewer confirms a finding on the operator's account (issue-9's review step)
            with factory.begin() as session:
                finding = session.scalars(
                    select(Finding).where(
                        Finding.account_id == operator_account, Finding.post_id.is_not(None)
                    )
                ).first()
                assert finding is not None, "the sample site's 新城区发布 carries flagged posts"
                finding.state = "confirmed"
                notify_finding_confirmed(session=session, finding=finding, now=clock())
        account_findings_job(context=context)
        reviewer_digest_job(context=context)
        deliver_notifications_job(context=context)

    assert all(o.status in ("ok", "skipped") for o in crawl_outcomes), [o.error for o in crawl_outcomes]
    crawled_days = [o for o in crawl_outcomes if o.counts.get("accounts")]
    # Spread: every account is crawled once per 3-day slot, not all on the same day.
    assert 10 <= len(crawled_days) <= 31
    with factory() as session:
        schedules = session.scalars(select(CrawlSchedule)).all()
        assert {s.account_id for s in schedules} == set(ids.values())
        assert session.scalar(select(func.count()).select_from(JobRun).where(JobRun.job == "classify")) >= 10
        # Every post published during the month was stored, once.
        stored = session.execute(select(Post.account_id, Post.title, Post.text)).all()
        for title, name in published.items():
            # Weibo posts have no title of their own: the notice's name is in the text.
            holders = [a for a, t, text in stored if title == t or title in (text or "")]
            assert holders == [ids[name]], title
        duplicates = session.execute(
            select(Post.account_id, Post.content_hash, func.count())
            .group_by(Post.account_id, Post.content_hash)
            .having(func.count() > 1)
        ).all()
        assert duplicates == []
        duplicate_findings = session.execute(
            select(Finding.post_id, Finding.category, func.count())
            .where(Finding.post_id.is_not(None))
            .group_by(Finding.post_id, Finding.category, Finding.model_version)
            .having(func.count() > 1)
        ).all()
        assert duplicate_findings == []
        account_level = session.execute(
            select(Account.name, Finding.category)
            .join(Account, Finding.account_id == Account.id)
            .where(Finding.post_id.is_(None))
        ).all()
        inactive = sorted(name for name, category in account_level if category == "inactive")
        assert inactive == sorted(SILENT)
        assert [name for name, c in account_level if c == "unfiled"] == [UNFILED]
        assert [name for name, c in account_level if c == "compromised"] == [SPAMMED]
        # Flagged on the first day past the 14-day window, once.
        first_inactive = session.scalars(select(Finding).where(Finding.category == "inactive")).all()
        assert all(f.detail["days_without_post"] >= 14 for f in first_inactive)
        notes = session.scalars(select(Notification)).all()
        assert {n.status for n in notes} == {"sent"}
    # The operator heard about the confirmed finding on the robot webhook; the reviewer got digests.
    assert any("问题已确认" in text for text in webhook.texts())
    digests = smtp_server.to("reviewer@example.org")
    assert digests and all("每日待审核问题" in m["Subject"] for m in digests)
    assert any("长期未更新" in m.get_content() for m in digests)
    assert smtp_server.to("admin@example.org") == []  # no job failed


@pytest.mark.slow
def test_the_month_is_assessed_and_reported_on_the_first_at_two(
    month_site: SampleSite, tmp_path: Path, smtp_server: Mailbox
) -> None:
    pytest.importorskip("reports.assessment")
    pytest.importorskip("reports.render")
    settings = Settings(
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'govwatch.db'}",
        redis_url=None,
        crawl_delay=0,
        crawl_processes=1,
        smtp_host=smtp_server.host,
        smtp_port=smtp_server.port,
    )
    factory = open_store(settings, migrate=True)
    add_registry(factory, month_site)
    add_user(factory, "lead", "admin", email="lead@example.org")
    first = (START.replace(day=1) + timedelta(days=32)).replace(day=1, hour=2)
    clock = FixedClock(first.astimezone(UTC))
    context = JobContext(
        session_factory=factory, settings=settings, clock=clock, holder="test", scrapy_settings=FAST
    )
    crawl_due_job(context=context)
    outcome = assess_month_job(context=context)
    expected_month = (first - timedelta(days=1)).strftime("%Y-%m")
    assert outcome.status == "ok", outcome.error
    assert outcome.period == f"{expected_month}:all"
    assert outcome.counts["reports"] and all(Path(p).is_file() for p in outcome.counts["reports"])
    assert assess_month_job(context=context).status == "skipped"  # the month is done once
    deliver_notifications_job(context=context)
    (mail,) = smtp_server.to("lead@example.org")
    assert expected_month in mail["Subject"]
