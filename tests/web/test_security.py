"""Every scoped page and API route as the wrong user (404), without a session (redirect or 401),
without or with a wrong CSRF token (403); sign-in throttling; cookie flags and headers."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from store.models import Appeal, Finding, Review
from tests.web.conftest import PASSWORD, Portal
from tests.web.test_smoke import login


def scoped_gets(ids: dict[str, int]) -> list[str]:
    """Pages and API reads about objects of 新城区 (region 150102 under 150100), accounts a and a2."""
    f, a = ids["finding_a_top"], ids["account_a"]
    return [
        f"/findings/{f}",
        f"/findings/{f}/archive",
        f"/findings/{ids['finding_hostile']}/archive/raw",
        f"/accounts/{a}",
        f"/api/findings/{f}",
        f"/api/accounts/{a}/assessments",
    ]


def scoped_posts(ids: dict[str, int]) -> list[tuple[str, dict[str, object], bool]]:
    """(path, body, is_api) of every state-changing route on an object of 新城区."""
    f, c = ids["finding_a_top"], ids["finding_a_confirmed"]
    return [
        (
            f"/findings/{f}/decision",
            {"decision": "confirm", "reason_code": "commercial_ad", "version": 1},
            False,
        ),
        (f"/findings/{f}/claim", {}, False),
        (f"/findings/{f}/undo", {}, False),
        (f"/findings/{c}/reopen", {"note": "复核", "version": 1}, False),
        (f"/findings/{c}/appeal", {"reason": "不是营销"}, False),
        (
            f"/api/findings/{f}/decision",
            {"decision": "confirm", "reason_code": "commercial_ad", "version": 1},
            True,
        ),
        (f"/api/findings/{f}/claim", {}, True),
        (f"/api/findings/{f}/undo", {}, True),
        (f"/api/findings/{c}/reopen", {"note": "复核", "version": 1}, True),
        (f"/api/findings/{c}/appeal", {"reason": "不是营销"}, True),
    ]


def post(
    client: httpx.Client, path: str, body: dict[str, object], is_api: bool, csrf: str | None
) -> httpx.Response:
    if is_api:
        headers = {"X-CSRF-Token": csrf} if csrf is not None else {}
        return client.post(path, json=body, headers=headers)
    data = {k: str(v) for k, v in body.items()}
    if csrf is not None:
        data["csrf_token"] = csrf
    return client.post(path, data=data)


def csrf_of(client: httpx.Client) -> str:
    response = client.get("/api/me")
    assert response.status_code == 200
    # The token is in every page; read it from one.
    page = client.get("/password").text
    marker = 'name="csrf_token" value="'
    return page[page.index(marker) + len(marker) :].split('"', 1)[0]


def test_without_a_session_pages_redirect_and_the_api_answers_401(portal: Portal) -> None:
    client = portal.client()
    for path in [
        *scoped_gets(portal.ids),
        "/queue",
        "/appeals",
        "/office",
        "/my",
        "/admin/users",
        "/admin/audit",
        "/password",
    ]:
        response = client.get(path)
        if path.startswith("/api/"):
            assert response.status_code == 401, path
        else:
            assert response.status_code == 303, path
            assert response.headers["location"].startswith("/login?next="), path
    for path in ("/api/findings", "/api/accounts", "/api/me", "/api/appeals", "/api/reason-codes"):
        assert client.get(path).status_code == 401, path
    for path, body, is_api in scoped_posts(portal.ids):
        response = post(client, path, body, is_api, csrf="whatever")
        assert response.status_code == (401 if is_api else 303), path


@pytest.mark.parametrize("username", ["reviewer_bt", "operator_bt"])
def test_another_regions_or_accounts_objects_are_404_in_pages_and_api(portal: Portal, username: str) -> None:
    with portal.session_factory.begin() as session:  # a pending appeal in 新城区, to try deciding it
        appeal = Appeal(
            finding_id=portal.ids["finding_a_confirmed"],
            operator_id=portal.ids["user_operator"],
            reason="不是营销",
        )
        session.add(appeal)
        session.flush()
        appeal_id = appeal.id
    client = login(portal, username)
    csrf = csrf_of(client)
    for path, is_api in (
        (f"/api/appeals/{appeal_id}/decision", True),
        (f"/appeals/{appeal_id}/decision", False),
    ):
        response = post(client, path, {"outcome": "upheld"}, is_api, csrf)
        assert response.status_code == 404, (username, path, response.status_code)
    assert client.get("/api/appeals").json() == []
    for path in scoped_gets(portal.ids):
        response = client.get(path)
        assert response.status_code == 404, (username, path, response.status_code)
    for path, body, is_api in scoped_posts(portal.ids):
        response = post(client, path, body, is_api, csrf)
        assert response.status_code == 404, (username, path, response.status_code, response.text[:300])
    with portal.session_factory() as session:
        assert session.get(Finding, portal.ids["finding_a_top"]).state == "open"
        assert session.get(Finding, portal.ids["finding_a_confirmed"]).state == "confirmed"
        assert (
            session.scalar(select(Review.id).where(Review.finding_id == portal.ids["finding_a_top"])) is None
        )
        assert session.get(Appeal, appeal_id).outcome == "pending"
    # Lists leave the other region out.
    findings = client.get("/api/findings", params={"state": "active"}).json()["items"]
    assert portal.ids["finding_a_top"] not in {f["id"] for f in findings}
    accounts = {a["id"] for a in client.get("/api/accounts").json()["items"]}
    assert portal.ids["account_a"] not in accounts and accounts


def test_an_operator_sees_only_their_accounts(portal: Portal) -> None:
    client = login(portal, "operator")
    accounts = {a["id"] for a in client.get("/api/accounts").json()["items"]}
    assert accounts == {portal.ids["account_a"], portal.ids["account_a2"]}
    assert client.get(f"/api/accounts/{portal.ids['account_b']}/assessments").status_code == 404
    assert client.get(f"/accounts/{portal.ids['account_b']}").status_code == 404
    assert client.get(f"/api/findings/{portal.ids['finding_b']}").status_code == 404


def test_state_changes_without_or_with_a_wrong_csrf_token_are_403(portal: Portal) -> None:
    client = login(portal, "reviewer")
    for path, body, is_api in scoped_posts(portal.ids):
        for token in (None, "wrong-token"):
            response = post(client, path, body, is_api, csrf=token)
            assert response.status_code == 403, (path, token, response.status_code)
    admin = login(portal, "admin")
    for path, data in (
        ("/admin/users", {"username": "x", "password": "long-password", "role": "admin"}),
        ("/admin/reasons", {"code": "x", "decision": "dismiss", "label": "x"}),
        ("/logout", {}),
        (
            "/password",
            {"old_password": PASSWORD, "new_password": "n3w-password", "new_password2": "n3w-password"},
        ),
    ):
        assert admin.post(path, data=data).status_code == 403, path
        assert admin.post(path, data={**data, "csrf_token": "bad"}).status_code == 403, path
    assert admin.post("/admin/registry", files={"file": ("r.csv", b"x")}, data={}).status_code == 403
    api, _csrf = portal.api_login("reviewer")
    assert api.delete("/api/session").status_code == 403
    assert api.post("/api/appeals/1/decision", json={"outcome": "upheld"}).status_code == 403
    # The sign-in form has its own token too.
    fresh = portal.client()
    response = fresh.post("/login", data={"username": "reviewer", "password": PASSWORD, "csrf_token": "x"})
    assert response.status_code == 403
    with portal.session_factory() as session:
        assert session.scalar(select(Review.id)) is not None  # only the seeded one
        assert session.scalars(select(Review)).all()[0].finding_id == portal.ids["finding_a_confirmed"]
        assert session.scalar(select(Appeal.id)) is None


def test_wrong_passwords_are_slowed_down_per_user_and_per_address(portal: Portal) -> None:
    client = portal.client()
    free = portal.settings.login_free_attempts
    for _ in range(free):
        response = client.post("/api/session", json={"username": "reviewer", "password": "wrong"})
        assert response.status_code == 401
    # Now even the right password must wait: guessing faster gains nothing.
    response = client.post("/api/session", json={"username": "reviewer", "password": PASSWORD})
    assert response.status_code == 429
    assert "秒后再试" in response.json()["detail"]
    # The wait doubles with each further failure once it has passed.
    portal.clock.advance(seconds=1.5)
    assert client.post("/api/session", json={"username": "reviewer", "password": "wrong"}).status_code == 401
    assert client.post("/api/session", json={"username": "reviewer", "password": PASSWORD}).status_code == 429
    portal.clock.advance(seconds=2.5)
    assert client.post("/api/session", json={"username": "reviewer", "password": PASSWORD}).status_code == 200
    # Per address: failures spread over many usernames slow down the address as well.
    for i in range(free + 1):
        client.post("/api/session", json={"username": f"nobody{i}", "password": "wrong"})
    assert client.post("/api/session", json={"username": "lead", "password": PASSWORD}).status_code == 429
    # The page form says so in Chinese.
    page = client.get("/login")
    response = client.post(
        "/login",
        data={"username": "lead", "password": PASSWORD, "csrf_token": page.cookies["govwatch_login_csrf"]},
    )
    assert response.status_code == 429 and "秒后再试" in response.text


def test_cookie_flags_and_security_headers(portal: Portal) -> None:
    client = portal.client()
    response = client.post("/api/session", json={"username": "reviewer", "password": PASSWORD})
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    # Behind an HTTPS proxy the cookie is Secure (uvicorn would set the scheme from X-Forwarded-Proto).
    from fastapi.testclient import TestClient

    from web.app import create_app

    app = create_app(portal.settings, portal.session_factory, clock=portal.clock)
    with TestClient(app, base_url="https://portal.example") as https_client:
        secure = https_client.post("/api/session", json={"username": "lead", "password": PASSWORD})
        assert "Secure" in secure.headers["set-cookie"]
    page = client.get("/queue")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "SAMEORIGIN"
    raw = client.get(f"/findings/{portal.ids['finding_hostile']}/archive/raw")
    assert raw.status_code == 200
    assert raw.headers["content-security-policy"].startswith("sandbox;")
    assert "script" not in raw.headers["content-security-policy"]
    # A forged cookie is no session.
    forged = portal.client()
    forged.cookies.set("govwatch_session", cookie.split(";")[0].split("=", 1)[1][:-3] + "abc")
    assert forged.get("/api/me").status_code == 401


def test_changing_the_password_ends_other_sessions(portal: Portal) -> None:
    first = login(portal, "reviewer")
    second = login(portal, "reviewer")
    csrf = csrf_of(first)
    response = first.post(
        "/password",
        data={
            "old_password": PASSWORD,
            "new_password": "another-pass-9",
            "new_password2": "another-pass-9",
            "csrf_token": csrf,
        },
    )
    assert response.status_code == 200 and "密码已修改" in response.text
    assert first.get("/api/me").status_code == 200
    assert second.get("/api/me").status_code == 401
    fresh = portal.client()
    assert (
        fresh.post("/api/session", json={"username": "reviewer", "password": "another-pass-9"}).status_code
        == 200
    )


def test_stored_hostile_post_is_escaped_in_pages_and_api(portal: Portal) -> None:
    client = login(portal, "reviewer")
    html = client.get(f"/findings/{portal.ids['finding_hostile']}").text
    assert "<script>window.__pwned" not in html
    assert "&lt;script&gt;window.__pwned" in html
    assert 'onerror="window' not in html and "<b onmouseover" not in html
    assert 'href="javascript:' not in html
    queue = client.get("/queue").text
    assert "<script>window" not in queue and "<b onmouseover" not in queue
    detail = client.get(f"/api/findings/{portal.ids['finding_hostile']}").json()
    assert detail["post"]["url"] is None  # a javascript: URL is never handed out as a link
