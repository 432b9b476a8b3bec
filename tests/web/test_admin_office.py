"""Admin pages (registry upload through the import code path, users, reason codes, audit search),
office views (scores, inactive accounts, crawl failures, report downloads) and `govwatch serve`."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import select

from store.models import Account, AuditLog, CrawlRun, ReasonCode, User
from tests.web.conftest import START, Portal, free_port
from tests.web.test_security import csrf_of
from tests.web.test_smoke import login

REGISTRY = (
    "账号名称,平台,账号ID,主办单位,行政区划代码,地区名称,备案编号,备案日期,采集方式,采集地址\n"
    "赛罕发布,微信,gh_saihan,赛罕区委宣传部,150105,赛罕区,蒙网信备1号,2026-01-07,feed,https://example.gov.cn/a.xml\n"
    "回民区发布,微博,6087654321,回民区委宣传部,150103,回民区,蒙网信备2号,2026-01-08,feed,https://example.gov.cn/b.xml\n"
)


def test_registry_upload_uses_the_import_path_and_is_audited(portal: Portal) -> None:
    admin = login(portal, "admin")
    csrf = csrf_of(admin)
    response = admin.post(
        "/admin/registry",
        data={"csrf_token": csrf},
        files={"file": ("名录.csv", REGISTRY.encode("utf-8"), "text/csv")},
    )
    assert response.status_code == 200, response.text[:500]
    assert "导入完成" in response.text and "新建 2" in response.text
    with portal.session_factory() as session:
        names = set(
            session.scalars(select(Account.name).where(Account.region_code.in_(["150105", "150103"])))
        )
        assert names == {"赛罕发布", "回民区发布"}
        actions = [a.action for a in session.scalars(select(AuditLog).where(AuditLog.actor == "admin"))]
        assert actions.count("account.create") == 2 and "registry.import" in actions
    # A sheet with an invalid row imports nothing and lists the row.
    bad = REGISTRY.replace("150105", "999999").replace("gh_saihan", "gh_other")
    response = admin.post(
        "/admin/registry", data={"csrf_token": csrf}, files={"file": ("bad.csv", bad.encode())}
    )
    assert "未导入" in response.text and "第 2 行" in response.text
    response = admin.post("/admin/registry", data={"csrf_token": csrf}, files={"file": ("x.exe", b"MZ")})
    assert response.status_code == 422
    # Only admins may upload.
    reviewer = login(portal, "reviewer")
    files = {"file": ("r.csv", REGISTRY.encode())}
    assert (
        reviewer.post("/admin/registry", data={"csrf_token": csrf_of(reviewer)}, files=files).status_code
        == 403
    )


def test_admin_users_reason_codes_and_audit_search(portal: Portal) -> None:
    admin = login(portal, "admin")
    csrf = csrf_of(admin)
    response = admin.post(
        "/admin/users",
        data={
            "csrf_token": csrf,
            "username": "lead2",
            "password": "lead-password-1",
            "role": "lead",
            "region_code": "150200",
            "display_name": "包头领导",
        },
    )
    assert response.status_code == 303
    bad = admin.post(
        "/admin/users", data={"csrf_token": csrf, "username": "x", "password": "short", "role": "lead"}
    )
    assert bad.status_code == 422
    with portal.session_factory() as session:
        user = session.scalar(select(User).where(User.username == "lead2"))
        assert (user.role, user.region_code) == ("lead", "150200")
    lead2 = portal.client()
    assert (
        lead2.post("/api/session", json={"username": "lead2", "password": "lead-password-1"}).status_code
        == 200
    )
    assert lead2.get(f"/api/findings/{portal.ids['finding_b']}").status_code == 200
    assert lead2.get(f"/api/findings/{portal.ids['finding_a_top']}").status_code == 404
    # Moving the lead to another region moves what they see, at once.
    assert (
        admin.post(
            f"/admin/users/{user.id}/scope", data={"csrf_token": csrf, "region_code": "150100"}
        ).status_code
        == 303
    )
    assert lead2.get(f"/api/findings/{portal.ids['finding_b']}").status_code == 404
    assert lead2.get(f"/api/findings/{portal.ids['finding_a_top']}").status_code == 200
    no_region = admin.post(f"/admin/users/{user.id}/scope", data={"csrf_token": csrf, "region_code": ""})
    assert no_region.status_code == 422
    # Deactivating a user ends their sessions.
    admin.post(f"/admin/users/{user.id}/active", data={"csrf_token": csrf, "active": "0"})
    assert lead2.get("/api/me").status_code == 401
    response = admin.post(
        "/admin/reasons",
        data={
            "csrf_token": csrf,
            "code": "duplicate_post",
            "decision": "dismiss",
            "label": "重复线索",
            "position": "5",
            "is_active": "1",
        },
    )
    assert response.status_code == 303
    with portal.session_factory() as session:
        assert session.get(ReasonCode, "duplicate_post").label == "重复线索"
    reviewer = login(portal, "reviewer")
    assert "重复线索" in reviewer.get(f"/findings/{portal.ids['finding_a_top']}").text
    # The audit log finds rows by a readable name, which survives the target's deletion.
    page = admin.get("/admin/audit", params={"q": "lead2"})
    assert page.status_code == 200 and "user.create" in page.text and "user.deactivate" in page.text
    assert "user.scope" in page.text
    with portal.session_factory.begin() as session:
        session.delete(session.scalar(select(User).where(User.username == "lead2")))
    page = admin.get("/admin/audit", params={"q": "lead2", "entity_type": "user"})
    assert "user.create" in page.text
    assert "duplicate_post" in admin.get("/admin/audit", params={"q": "reason_code"}).text


def test_office_views_and_report_downloads(portal: Portal) -> None:
    with portal.session_factory.begin() as session:
        session.add(
            CrawlRun(
                account_id=portal.ids["account_a2"],
                started_at=START - timedelta(hours=1),
                status="failed",
                error="HTTP 403 at https://weibo.example/…",
            )
        )
        session.add(
            CrawlRun(account_id=portal.ids["account_b"], started_at=START, status="blocked", error="432")
        )
    portal.clock.advance(days=20)  # every seeded post is now older than 14 days
    reports = Path(portal.settings.resolved_report_dir) / "2026-10"
    (reports / "region-150100").mkdir(parents=True)
    (reports / "region-150100" / "report.xlsx").write_bytes(b"PK\x03\x04 xlsx")
    (reports / "summary.pdf").write_bytes(b"%PDF-1.7")
    (Path(portal.settings.resolved_report_dir) / "secret.txt").write_text("no")
    lead = login(portal, "lead")
    page = lead.get("/office").text
    assert "新城区发布" in page and "92.0" in page and "合格" in page
    assert "包头发布" not in page  # another region's account, score and crawl failure
    assert "HTTP 403 at" in page and "432" not in page.split("采集失败")[1].split("月度报告")[0]
    assert "长期未更新" in page and "呼和浩特微博" in page.split("长期未更新")[1]
    assert "region-150100/report.xlsx" in page and "summary.pdf" in page
    download = lead.get("/reports/2026-10/region-150100/report.xlsx")
    assert download.status_code == 200 and download.content.startswith(b"PK")
    assert "attachment" in download.headers["content-disposition"]
    for path in (
        "/reports/2026-10/%2e%2e/secret.txt",
        "/reports/2026-10/..%2fsecret.txt",
        "/reports/..%2f/secret.txt",
    ):
        response = lead.get(path)
        assert response.status_code == 404, path
        assert response.content != b"no"
    operator = login(portal, "operator")
    assert operator.get("/office").status_code == 403
    assert operator.get("/reports/2026-10/summary.pdf").status_code == 403


def test_govwatch_serve_starts_the_portal(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "GOVWATCH_DATA_DIR": str(tmp_path), "GOVWATCH_LOG_LEVEL": "WARNING"}
    env.pop("GOVWATCH_DATABASE_URL", None)
    # Only `db upgrade` creates and migrates a database; `serve` refuses a missing one.
    refused = subprocess.run(
        [sys.executable, "-m", "govwatch", "serve", "--port", str(port)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert refused.returncode != 0 and "govwatch db upgrade" in refused.stderr
    assert "Traceback" not in refused.stderr and not (tmp_path / "govwatch.db").exists()
    upgraded = subprocess.run(
        [sys.executable, "-m", "govwatch", "db", "upgrade"], env=env, capture_output=True
    )
    assert upgraded.returncode == 0, upgraded.stderr
    process = subprocess.Popen(
        [sys.executable, "-m", "govwatch", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.stdout.read().decode() if process.stdout else ""
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/login", timeout=2)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "govwatch serve did not answer"
                time.sleep(0.3)
        assert response.status_code == 200 and "登录" in response.text
        schema = httpx.get(f"http://127.0.0.1:{port}/openapi.json").json()
        assert "/api/findings/{finding_id}/decision" in schema["paths"]
        assert "/api/findings/{finding_id}" in httpx.get(f"http://127.0.0.1:{port}/docs").text
        assert (tmp_path / "govwatch.db").exists()
    finally:
        process.terminate()
        process.wait(timeout=20)
