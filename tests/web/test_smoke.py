"""Quick checks that every page renders for the role it is for."""

from tests.web.conftest import PASSWORD, Portal


def login(portal: Portal, username: str):
    client = portal.client()
    page = client.get("/login")
    token = page.cookies.get("govwatch_login_csrf")
    response = client.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf_token": token, "next": "/"}
    )
    assert response.status_code == 303, response.text
    return client


def test_pages_render(portal: Portal) -> None:
    reviewer = login(portal, "reviewer")
    for path in (
        "/queue",
        f"/findings/{portal.ids['finding_a_top']}",
        "/appeals",
        "/office",
        "/my",
        f"/accounts/{portal.ids['account_a']}",
        f"/findings/{portal.ids['finding_hostile']}/archive",
        "/docs",
    ):
        response = reviewer.get(path)
        assert response.status_code == 200, (path, response.text[:2000])
    admin = login(portal, "admin")
    for path in ("/admin/users", "/admin/registry", "/admin/audit", "/admin/reasons", "/admin/settings"):
        response = admin.get(path)
        assert response.status_code == 200, (path, response.text[:2000])
    settings_page = admin.get("/admin/settings").text
    assert "GOVWATCH_APPEAL_DEADLINE_DAYS" in settings_page
    assert portal.settings.secret_key not in settings_page  # never shown
    assert reviewer.get("/admin/settings").status_code == 403
