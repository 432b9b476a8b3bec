"""Small builders shared by the scheduler tests."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from store.accounts import ensure_organization, upsert_account
from store.models import Finding, Post
from store.notifications import set_channel
from store.posts import content_hash
from store.users import create_user


def add_account(
    factory: sessionmaker[Session], name: str, *, region: str = "150102", filed: bool = True, **fields: Any
) -> int:
    with factory.begin() as session:
        org = ensure_organization(session=session, name=f"{name}单位", region_code=region)
        account, _ = upsert_account(
            session=session,
            platform="website",
            handle=name,
            fields={
                "name": name,
                "organization_id": org.id,
                "region_code": region,
                "filing_number": "蒙网信备20260001号" if filed else None,
                "filing_date": date(2026, 1, 5) if filed else None,
                "source": {"kind": "feed", "url": f"http://127.0.0.1:9/{name}.xml"},
                **fields,
            },
        )
        return account.id


def add_user(
    factory: sessionmaker[Session],
    username: str,
    role: str,
    *,
    region: str | None = None,
    accounts: tuple[int, ...] = (),
    email: str | None = None,
    webhook: str | None = None,
    events: tuple[str, ...] = (),
) -> int:
    with factory.begin() as session:
        user = create_user(
            session=session,
            username=username,
            password="correct horse battery",
            role=role,
            region_code=region,
            account_ids=accounts,
        )
        if email:
            set_channel(session=session, user_id=user.id, channel="email", address=email, events=events)
        if webhook:
            set_channel(session=session, user_id=user.id, channel="webhook", address=webhook, events=events)
        return user.id


def add_post(
    factory: sessionmaker[Session], account_id: int, key: str, published: datetime, text: str = "正文"
) -> int:
    with factory.begin() as session:
        post = Post(
            account_id=account_id,
            source_key=key,
            title=f"标题{key}",
            text=text,
            content_hash=content_hash(f"标题{key}", text),
            published_at=published,
            fetched_at=published,
        )
        session.add(post)
        session.flush()
        return post.id


def add_finding(
    factory: sessionmaker[Session],
    account_id: int,
    post_id: int | None,
    category: str,
    *,
    when: datetime,
    source: str = "rule",
    state: str = "open",
    score: float = 0.9,
) -> int:
    with factory.begin() as session:
        finding = Finding(
            account_id=account_id,
            post_id=post_id,
            category=category,
            score=score,
            spans=[{"start": 0, "end": 2, "text": "证据", "source": source}],
            source=source,
            detail={},
            model_version="m",
            rules_version="r",
            state=state,
            created_at=when,
            updated_at=when,
        )
        session.add(finding)
        session.flush()
        return finding.id
