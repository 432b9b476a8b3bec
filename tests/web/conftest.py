"""A real portal for web tests: a migrated database with two regions, users of every role, and
uvicorn serving the app on 127.0.0.1 in a thread, with a clock the tests move."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from govwatch.settings import Settings
from store.db import make_session_factory
from store.migrate import upgrade_database
from store.models import Account, Assessment, Finding, Organization, Post, Review
from store.regions import ensure_region
from store.reviews import ensure_default_reason_codes
from store.snapshots import put_snapshot
from store.users import create_user
from web.app import create_app

PASSWORD = "correct-horse-42"
START = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
HOSTILE_TEXT = (
    "通知：<script>window.__pwned = 1; alert('xss')</script> 请看图 "
    '<img src=x onerror="window.__pwned = 2; alert(2)"> 加微信下单 '
    '<a href="javascript:alert(3)">点此</a>'
)
HOSTILE_PAGE = (
    b"<html><head><title>x</title><script>parent.__pwned = 3; alert('frame')</script></head>"
    b'<body><h1>\xe5\x8e\x9f\xe6\x96\x87</h1><img src=x onerror="parent.__pwned = 4">'
    b'<a href="javascript:alert(5)">link</a>'
    b"<p>\xe5\x8a\xa0\xe5\xbe\xae\xe4\xbf\xa1\xe4\xb8\x8b\xe5\x8d\x95</p></body></html>"
)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@dataclass
class Portal:
    url: str
    session_factory: sessionmaker[Session]
    settings: Settings
    clock: Clock
    ids: dict[str, int] = field(default_factory=dict)

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, follow_redirects=False, timeout=30)

    def api_login(self, username: str, password: str = PASSWORD) -> tuple[httpx.Client, str]:
        client = self.client()
        response = client.post("/api/session", json={"username": username, "password": password})
        assert response.status_code == 200, response.text
        return client, response.json()["csrf_token"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _text_with(
    marker: str, before: str = "本周政务信息发布。", after: str = "欢迎关注。"
) -> tuple[str, int, int]:
    text = before + marker + after
    return text, len(before), len(before) + len(marker)


def seed(session_factory: sessionmaker[Session]) -> dict[str, int]:
    """Two prefectures of Inner Mongolia; each has an account, an operator and reviewers."""
    ids: dict[str, int] = {}
    with session_factory.begin() as session:
        ensure_default_reason_codes(session=session)
        ensure_region(session=session, code="150000", name="内蒙古自治区")
        ensure_region(session=session, code="150100", name="呼和浩特市")
        ensure_region(session=session, code="150102", name="新城区")
        ensure_region(session=session, code="150200", name="包头市")
        org_a = Organization(name="新城区委宣传部", region_code="150102")
        org_b = Organization(name="包头市委宣传部", region_code="150200")
        session.add_all([org_a, org_b])
        session.flush()
        a = Account(
            platform="wechat",
            handle="gh_xcq",
            name="新城区发布",
            organization_id=org_a.id,
            region_code="150102",
        )
        a2 = Account(
            platform="weibo",
            handle="60001",
            name="呼和浩特微博",
            organization_id=org_a.id,
            region_code="150102",
        )
        b = Account(
            platform="wechat", handle="gh_bt", name="包头发布", organization_id=org_b.id, region_code="150200"
        )
        session.add_all([a, a2, b])
        session.flush()
        ids.update(account_a=a.id, account_a2=a2.id, account_b=b.id)
        snapshot = put_snapshot(session=session, data=HOSTILE_PAGE, content_type="text/html")

        def post(account: Account, key: str, title: str, text: str, **extra: Any) -> Post:
            row = Post(
                account_id=account.id,
                source_key=key,
                url=extra.pop("url", f"https://mp.weixin.qq.com/s/{key}"),
                title=title,
                text=text,
                content_hash=key.ljust(64, "0"),
                published_at=START - timedelta(days=2),
                fetched_at=START - timedelta(days=1),
                reads=1234,
                likes=56,
                **extra,
            )
            session.add(row)
            session.flush()
            return row

        def finding(row: Post, category: str, score: float, start: int, end: int, **extra: Any) -> Finding:
            item = Finding(
                account_id=row.account_id,
                post_id=row.id,
                category=category,
                score=score,
                spans=[
                    {"start": start, "end": end, "text": row.text[start:end], "source": "mk.order_contact"}
                ],
                source="mk.order_contact",
                detail={"rules": ["mk.order_contact"], "model_probability": 0.91},
                model_version="m-test",
                rules_version="r-test",
                created_at=extra.pop("created_at", START - timedelta(hours=5)),
                **extra,
            )
            session.add(item)
            session.flush()
            return item

        text, s, e = _text_with("加微信下单立减50元")
        p1 = post(a, "a1", "冬季供暖通知", text)
        ids["finding_a_top"] = finding(p1, "marketing", 0.97, s, e).id
        text, s, e = _text_with("据说明天全市停水")
        p2 = post(a, "a2", "停水传言", text)
        ids["finding_a_unverified"] = finding(p2, "unverified", 0.72, s, e).id
        text, s, e = _text_with("扫码购买特价年货")
        p3 = post(a2, "a3", "年货节", text, status="deleted")
        ids["finding_a2_deleted"] = finding(p3, "marketing", 0.66, s, e).id
        start = HOSTILE_TEXT.index("加微信下单")
        p4 = post(
            a,
            "a4",
            "<b onmouseover=alert(9)>标题</b>",
            HOSTILE_TEXT,
            url="javascript:alert(4)",
            snapshot_sha256=snapshot,
        )
        ids["finding_hostile"] = finding(p4, "marketing", 0.5, start, start + 5).id
        text, s, e = _text_with("加微信购买")
        pb = post(b, "b1", "包头通知", text)
        ids["finding_b"] = finding(pb, "marketing", 0.95, s, e).id
        text, s, e = _text_with("加我微信")
        p5 = post(a, "a5", "上月活动", text)
        ids["finding_a_confirmed"] = finding(p5, "marketing", 0.88, s, e, state="confirmed").id

        users = {}
        for name, role, region, accounts in (
            ("admin", "admin", None, ()),
            ("reviewer", "reviewer", "150100", ()),
            ("reviewer2", "reviewer", "150100", ()),
            ("reviewer_bt", "reviewer", "150200", ()),
            ("lead", "lead", "150100", ()),
            ("operator", "operator", None, (a.id, a2.id)),
            ("operator_bt", "operator", None, (b.id,)),
        ):
            user = create_user(
                session=session,
                username=name,
                password=PASSWORD,
                role=role,
                region_code=region,
                account_ids=accounts,
                display_name=name,
            )
            users[name] = user.id
        ids.update({f"user_{k}": v for k, v in users.items()})
        session.add(
            Review(
                finding_id=ids["finding_a_confirmed"],
                reviewer_id=users["reviewer"],
                decision="confirm",
                reason_code="commercial_ad",
                from_state="open",
                to_state="confirmed",
                created_at=START - timedelta(days=1),
            )
        )
        for account_id, fid in ((a.id, ids["finding_a_confirmed"]), (b.id, ids["finding_b"])):
            session.add(
                Assessment(
                    account_id=account_id,
                    month="2026-10",
                    revision=1,
                    total=92.0,
                    passed=True,
                    components={
                        "deductions": [
                            {
                                "code": "violation.marketing",
                                "label": "商业营销内容",
                                "points": 8,
                                "category": "marketing",
                                "finding_id": fid,
                            },
                        ],
                        "bonuses": [],
                    },
                    veto_reasons=[],
                    digest=f"test-{account_id}",
                    scoring_version="s-test",
                )
            )
    return ids


@pytest.fixture
def portal_factory(tmp_path: Path) -> Iterator[Callable[[Engine | None], Portal]]:
    servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def make(engine: Engine | None = None, **overrides: Any) -> Portal:
        from store.db import make_engine

        engine = engine or make_engine(f"sqlite:///{tmp_path / 'portal.db'}")
        upgrade_database(engine)
        session_factory = make_session_factory(engine)
        ids = seed(session_factory)
        settings = Settings(
            data_dir=tmp_path,
            secret_key="test-secret-key-0123456789abcdef0123456789",
            **overrides,
        )
        clock = Clock(START)
        app = create_app(settings, session_factory, clock=clock)
        port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        servers.append((server, thread))
        return Portal(
            url=f"http://127.0.0.1:{port}",
            session_factory=session_factory,
            settings=settings,
            clock=clock,
            ids=ids,
        )

    yield make
    for server, thread in servers:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def portal(portal_factory: Callable[..., Portal]) -> Portal:
    """The portal on a SQLite file."""
    return portal_factory()
