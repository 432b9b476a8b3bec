"""A fixed synthetic month (2026-10, Asia/Shanghai) with one account for each case the scoring knows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from store.models import Account, Appeal, Finding, Organization, Post, PostMetrics, Review, User
from store.regions import ensure_region

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONTH = "2026-10"
# Assessed on 3 November; a later decision arrives on the 10th.
ASSESSED_AT = datetime(2026, 11, 3, 9, 0, tzinfo=SHANGHAI).astimezone(UTC)
LATER = datetime(2026, 11, 10, 9, 0, tzinfo=SHANGHAI).astimezone(UTC)
REGIONS = {
    "150000": "内蒙古自治区",
    "150100": "呼和浩特市",
    "150102": "新城区",
    "150103": "回民区",
    "150104": "玉泉区",
    "150105": "赛罕区",
}


def local(day: int, hour: int = 10, month: int = 10) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=SHANGHAI).astimezone(UTC)


@dataclass
class Synthetic:
    accounts: dict[str, int]
    findings: dict[str, int]
    reviewer_id: int
    operator_id: int


def _account(
    session: Session,
    name: str,
    platform: str,
    region: str,
    *,
    filing: str | None = "蒙网信备2026",
    contact: bool = True,
    interaction_ok: bool | None = True,
) -> Account:
    org = Organization(
        name=f"{name}主办单位",
        region_code=region,
        contact_name="张三" if contact else None,
        created_at=local(1, month=1),
    )
    session.add(org)
    session.flush()
    account = Account(
        platform=platform,
        handle=f"h-{name}",
        name=name,
        organization_id=org.id,
        region_code=region,
        filing_number=filing,
        interaction_ok=interaction_ok,
        created_at=local(1, month=1),
    )
    session.add(account)
    session.flush()
    return account


def _posts(
    session: Session,
    account: Account,
    days: list[int],
    *,
    month: int = 10,
    service_every: int = 0,
    reads: int = 0,
) -> list[Post]:
    posts = []
    for i, day in enumerate(days):
        service = bool(service_every) and i % service_every == 0
        title = f"{'办事指南' if service else '工作动态'}：第{i + 1}期"
        text = f"{account.name}{month}月{day}日发布的{title}。" + "这是正文内容。" * 5
        post = Post(
            account_id=account.id,
            source_key=f"{account.id}-{month}-{day}-{i}",
            title=title,
            text=text,
            url=f"https://example.gov.cn/{account.id}/{month}/{day}.html",
            content_hash=f"h{account.id}{month}{day}{i}",
            published_at=local(day, month=month),
            fetched_at=local(day, 20, month=month),
        )
        session.add(post)
        posts.append(post)
    session.flush()
    for post in posts:
        if reads:
            # Two crawls: the month-end figures count, not the later (higher) ones.
            session.add(
                PostMetrics(
                    post_id=post.id,
                    recorded_at=post.fetched_at,
                    reads=reads,
                    wows=reads // 50,
                    likes=reads // 20,
                    shares=reads // 40,
                )
            )
            session.add(
                PostMetrics(
                    post_id=post.id,
                    recorded_at=local(5, month=11),
                    reads=reads * 100,
                    wows=reads,
                    likes=reads,
                    shares=reads,
                )
            )
    return posts


def _finding(
    session: Session,
    account: Account,
    post: Post | None,
    category: str,
    *,
    source: str = "rule",
    score: float = 0.9,
    created: datetime | None = None,
    span_text: str = "",
) -> Finding:
    text = post.text if post is not None else ""
    start = text.find(span_text) if span_text and span_text in text else 0
    finding = Finding(
        account_id=account.id,
        post_id=post.id if post else None,
        category=category,
        score=score,
        spans=[{"start": start, "end": start + len(span_text), "text": span_text, "source": source}]
        if post
        else [],
        source=source,
        model_version="m-test",
        rules_version="r-test",
        created_at=created or ((post.fetched_at + timedelta(hours=1)) if post else local(20)),
    )
    session.add(finding)
    session.flush()
    return finding


def _review(session: Session, finding: Finding, reviewer: User, decision: str, at: datetime) -> None:
    session.add(Review(finding_id=finding.id, reviewer_id=reviewer.id, decision=decision, created_at=at))


def build_month(session_factory: sessionmaker[Session]) -> Synthetic:
    with session_factory.begin() as session:
        for code, name in REGIONS.items():
            ensure_region(session=session, code=code, name=name)
        reviewer = User(username="reviewer", password_hash="x", role="reviewer", region_code="150000")
        operator = User(username="operator", password_hash="x", role="operator")
        session.add_all([reviewer, operator])
        session.flush()
        every_other = list(range(1, 32, 2))  # 16 posts, longest gap 1 day
        accounts: dict[str, int] = {}
        findings: dict[str, int] = {}

        # A healthy account with reach: one confirmed marketing finding, influence bonus.
        good = _account(session, "新城区发布", "wechat", "150102")
        posts = _posts(session, good, every_other, service_every=4, reads=20000)
        f = _finding(session, good, posts[3], "marketing", span_text="正文内容")
        _review(session, f, reviewer, "confirm", local(25))
        findings["good_marketing"] = f.id
        # In September it was vetoed for harmful content (section 五 re-checks it).
        september = _posts(session, good, list(range(1, 31, 2)), month=9)
        f = _finding(session, good, september[2], "harmful", span_text="正文")
        _review(session, f, reviewer, "confirm", local(20, month=9))
        findings["good_september"] = f.id
        accounts["good"] = good.id

        # Confirmed harmful content: single veto "serious".
        harmful = _account(session, "赛罕发布", "weibo", "150105")
        posts = _posts(session, harmful, every_other, service_every=2)
        f = _finding(session, harmful, posts[5], "harmful", span_text="正文")
        _review(session, f, reviewer, "confirm", local(28))
        findings["harmful"] = f.id
        # A serious expression error (wrong leader title) counts as serious too.
        f = _finding(session, harmful, posts[6], "expression", source="ex.leader_title")
        _review(session, f, reviewer, "confirm", local(28))
        findings["leader_title"] = f.id
        accounts["harmful"] = harmful.id

        # Last post on 10 October: nothing in the 14 days before the check date.
        quiet = _account(session, "回民区发布", "weibo", "150103")
        _posts(session, quiet, [2, 4, 6, 8, 10], service_every=2)
        accounts["inactive"] = quiet.id

        # The registry says its interaction function does not work.
        mute = _account(session, "玉泉区人民政府", "website", "150104", interaction_ok=False)
        _posts(session, mute, every_other, service_every=2)
        accounts["interaction"] = mute.id

        # A compromised account (account-level finding raised in the month), confirmed.
        hacked = _account(session, "呼和浩特教育", "toutiao", "150100")
        _posts(session, hacked, every_other, service_every=2)
        f = _finding(session, hacked, None, "compromised", created=local(29))
        _review(session, f, reviewer, "confirm", local(30))
        findings["compromised"] = f.id
        accounts["compromised"] = hacked.id

        # Six confirmed marketing findings: 5 points each, capped at 20. A privacy finding whose
        # appeal was upheld (it no longer counts), and an unverified one confirmed before the
        # assessment and dismissed after it (a later revision restores its points).
        capped = _account(session, "呼和浩特发布", "wechat", "150100")
        posts = _posts(session, capped, every_other, service_every=2)
        for i in range(6):
            f = _finding(session, capped, posts[i], "marketing", span_text="正文内容")
            _review(session, f, reviewer, "confirm", local(26))
            findings[f"capped_marketing_{i}"] = f.id
        f = _finding(session, capped, posts[7], "privacy", span_text="正文")
        _review(session, f, reviewer, "confirm", local(20))
        session.add(
            Appeal(
                finding_id=f.id,
                operator_id=operator.id,
                reason="已打码",
                outcome="upheld",
                decided_by=reviewer.id,
                decided_at=local(1, month=11),
            )
        )
        findings["appealed"] = f.id
        f = _finding(session, capped, posts[8], "unverified", span_text="正文")
        _review(session, f, reviewer, "confirm", local(27))
        findings["later_dismissed"] = f.id
        # Open and dismissed findings never count.
        f = _finding(session, capped, posts[9], "marketing", score=0.99)
        findings["open"] = f.id
        f = _finding(session, capped, posts[10], "marketing")
        _review(session, f, reviewer, "dismiss", local(27))
        accounts["capped"] = capped.id

        # Few posts, a long gap, no filing number and no contact: only deductions, no veto.
        sparse = _account(session, "玉泉融媒", "douyin", "150104", filing=None, contact=False)
        _posts(session, sparse, [1, 2, 3, 20, 21, 30])
        accounts["sparse"] = sparse.id

        # Closed accounts are not assessed.
        closed = _account(session, "已关闭账号", "wechat", "150102")
        closed.status = "closed"
        accounts["closed"] = closed.id
        return Synthetic(accounts, findings, reviewer.id, operator.id)


def decide_later(session_factory: sessionmaker[Session], synthetic: Synthetic) -> None:
    """After the first assessment: the confirmed unverified finding is dismissed on review, and the
    operator of 新城区发布 wins an appeal against its confirmed marketing finding."""
    with session_factory.begin() as session:
        session.add(
            Review(
                finding_id=synthetic.findings["later_dismissed"],
                reviewer_id=synthetic.reviewer_id,
                decision="dismiss",
                created_at=LATER - timedelta(hours=1),
            )
        )
        session.add(
            Appeal(
                finding_id=synthetic.findings["good_marketing"],
                operator_id=synthetic.operator_id,
                reason="转载自官方通知，并非营销",
                outcome="upheld",
                decided_by=synthetic.reviewer_id,
                decided_at=LATER - timedelta(minutes=30),
                created_at=ASSESSED_AT,
            )
        )
