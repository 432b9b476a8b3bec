"""store/posts.py keeps every crawl's metrics of a post (post_metrics), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from store.accounts import ensure_organization, upsert_account
from store.models import PostMetrics
from store.posts import PostInput, find_post, list_post_metrics, upsert_posts

T0 = datetime(2026, 10, 20, 2, 0, tzinfo=UTC)


def test_each_sighting_with_metrics_adds_a_history_row(session_factory) -> None:
    with session_factory.begin() as session:
        organization = ensure_organization(session=session, name="单位", region_code="150100")
        account, _ = upsert_account(
            session=session,
            platform="wechat",
            handle="gh_m",
            fields={"name": "号", "organization_id": organization.id, "region_code": "150100"},
        )
        account_id = account.id

    def crawl(at: datetime, reads: int | None, text: str = "正文") -> None:
        metrics = {"reads": reads, "likes": 3} if reads is not None else {}
        with session_factory.begin() as session:
            upsert_posts(
                session=session,
                account_id=account_id,
                posts=[PostInput(source_key="a", text=text, published_at=T0, fetched_at=at, metrics=metrics)],
            )

    crawl(T0, 10)
    crawl(T0 + timedelta(days=1), 200)
    crawl(T0 + timedelta(days=2), None)  # a listing without figures records nothing
    crawl(T0 + timedelta(days=3), 900, text="改过的正文")  # an edit keeps the history going
    with session_factory() as session:
        post = find_post(session=session, account_id=account_id, source_key="a")
        assert post is not None and post.reads == 900  # the post shows the latest figures
        history = list_post_metrics(session=session, post_id=post.id)
        assert [(m.recorded_at, m.reads, m.likes) for m in history] == [
            (T0, 10, 3),
            (T0 + timedelta(days=1), 200, 3),
            (T0 + timedelta(days=3), 900, 3),
        ]
        assert session.scalar(select(func.count()).select_from(PostMetrics)) == 3
