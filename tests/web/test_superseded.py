"""A superseded finding in the portal, on SQLite and PostgreSQL: out of the queue, a 409 for a
decision, its state in the API and on its page with a link to the post's newer finding."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from store.findings import NewFinding, record_classification
from store.models import Finding, Post, PostVersion
from store.posts import PostInput, upsert_posts
from tests.web.conftest import Portal


@pytest.fixture
def api_portal(portal_factory, empty_engine: Engine) -> Portal:
    return portal_factory(empty_engine)


def edit_and_reclassify(portal: Portal) -> tuple[int, int]:
    """Post a1 is edited (the crawler's storage path) and classified again: its open marketing
    finding gives way to a new one on the new text. Returns (old id, new id)."""
    old_id = portal.ids["finding_a_top"]
    with portal.session_factory.begin() as session:
        old = session.get(Finding, old_id)
        assert old is not None and old.post_id is not None
        post = session.get(Post, old.post_id)
        assert post is not None
        # The seed wrote the post directly; the crawler would also have kept its first version.
        session.add(
            PostVersion(
                post_id=post.id, version=1, title=post.title, text=post.text,
                content_hash=post.content_hash, status=post.status,
            )
        )  # fmt: skip
        text = "本周政务信息发布。加微信下单立减80元欢迎关注。"
        upsert_posts(
            session=session,
            account_id=post.account_id,
            posts=[
                PostInput(source_key=post.source_key, title=post.title, text=text, fetched_at=portal.clock())
            ],
        )
        start = text.index("加微信")
        record_classification(
            session=session,
            post=post,
            findings=[
                NewFinding(
                    category="marketing",
                    score=0.96,
                    source="mk.order_contact",
                    spans=[
                        {"start": start, "end": start + 5, "text": "加微信下单", "source": "mk.order_contact"}
                    ],
                )
            ],
            model_version=old.model_version,
            rules_version=old.rules_version,
            classified_at=portal.clock(),
        )
        new_id = session.scalars(
            select(Finding.id).where(Finding.post_id == post.id, Finding.post_version == 2)
        ).one()
    return old_id, new_id


def test_a_superseded_finding_in_the_api(api_portal: Portal) -> None:
    portal = api_portal
    reviewer, csrf = portal.api_login("reviewer")
    before = reviewer.get(f"/api/findings/{portal.ids['finding_a_top']}").json()
    old_id, new_id = edit_and_reclassify(portal)

    queue = reviewer.get("/api/findings").json()
    assert old_id not in {i["id"] for i in queue["items"]} and new_id in {i["id"] for i in queue["items"]}
    assert queue["total"] == 4  # one left the queue, one came in
    listed = reviewer.get("/api/findings", params={"state": "superseded"}).json()
    assert [(i["id"], i["state"], i["post_version"]) for i in listed["items"]] == [(old_id, "superseded", 1)]

    detail = reviewer.get(f"/api/findings/{old_id}").json()
    assert detail["state"] == "superseded" and detail["version"] == before["version"] + 1
    assert detail["newer_findings"] == [
        {"id": new_id, "category": "marketing", "state": "open", "post_version": 2}
    ]
    assert detail["history"][-1]["what"] == "supersede"
    # The evidence is still shown on the text it was found in.
    assert [s["text"] for s in detail["text_segments"] if s["evidence"]] == ["加微信下单立减50元"]

    for version in (before["version"], detail["version"]):
        refused = reviewer.post(
            f"/api/findings/{old_id}/decision",
            json={"decision": "confirm", "reason_code": "commercial_ad", "version": version},
            headers={"X-CSRF-Token": csrf},
        )
        assert refused.status_code == 409 and "已失效" in refused.json()["detail"]
    assert reviewer.get(f"/api/findings/{old_id}").json()["state"] == "superseded"
    ok = reviewer.post(
        f"/api/findings/{new_id}/decision",
        json={"decision": "confirm", "reason_code": "commercial_ad", "version": 1},
        headers={"X-CSRF-Token": csrf},
    )
    assert ok.status_code == 200, ok.text


def test_a_superseded_finding_on_its_page(portal: Portal) -> None:
    from tests.web.test_smoke import login

    old_id, new_id = edit_and_reclassify(portal)
    client = login(portal, "reviewer")
    page = client.get(f"/findings/{old_id}").text
    assert "已失效" in page and f'href="/findings/{new_id}"' in page
    assert 'id="decide-confirm"' not in page  # nothing to decide
    assert "已失效" in client.get("/queue", params={"state": "superseded"}).text
    assert f'href="/findings/{old_id}"' not in client.get("/queue").text
    operator = login(portal, "operator")
    account_page = operator.get(f"/accounts/{portal.ids['account_a']}").text
    assert f'href="/findings/{old_id}"' not in account_page
