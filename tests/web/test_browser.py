"""The journeys of the issue in a real headless Chromium (Debian's), with a screenshot of every page."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from store.models import Appeal, Finding, Review
from tests.web.conftest import PASSWORD, Portal

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        from tests.conftest import unavailable

        unavailable("Debian chromium is not installed (/usr/bin/chromium)")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    for prefix in ("reviewer", "operator", "confirmer", "hostile", "lead", "admin"):
        for old in ARTIFACTS.glob(f"{prefix}*-*.png"):  # this module's screenshots of an earlier run
            old.unlink()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


class Shooter:
    def __init__(self, page, prefix: str) -> None:
        self.page = page
        self.prefix = prefix
        self.count = 0

    def __call__(self, name: str) -> None:
        self.count += 1
        self.page.screenshot(
            path=str(ARTIFACTS / f"{self.prefix}-{self.count:02d}-{name}.png"), full_page=True
        )


def new_page(browser, portal: Portal):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.dialogs = dialogs  # type: ignore[attr-defined]
    return page


def sign_in(page, portal: Portal, username: str, shoot: Shooter | None = None) -> None:
    page.goto(portal.url + "/")
    assert "/login" in page.url
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    if shoot:
        shoot("login")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "/login" not in page.url


def test_reviewer_filters_opens_and_confirms_with_the_keyboard(browser, portal: Portal) -> None:
    page = new_page(browser, portal)
    shoot = Shooter(page, "reviewer")
    sign_in(page, portal, "reviewer", shoot)
    assert page.url.endswith("/queue")
    shoot("queue")
    rows = page.locator("tr.row")
    assert rows.count() == 4  # the four open findings of 呼和浩特 and 新城区, not 包头's
    assert "包头发布" not in page.content()
    page.select_option("select[name=category]", "marketing")
    page.click("#filters button[type=submit]")
    page.wait_for_load_state()
    assert "category=marketing" in page.url
    assert page.locator("tr.row").count() == 3
    shoot("queue-filtered")
    # The highest score first, with its waiting time shown.
    first = page.locator("tr.row").first
    assert "0.97" in first.inner_text() and "小时" in first.inner_text()
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/findings/{portal.ids['finding_a_top']}?*")
    evidence = page.locator("#post-text mark.evidence")
    assert evidence.count() == 1 and evidence.inner_text() == "加微信下单立减50元"
    assert "营销用语" in page.locator("ul.reasons").inner_text()
    assert "模型 m-test 评分 0.91" in page.locator("ul.reasons").inner_text()
    shoot("finding")
    page.select_option("#decide-confirm select[name=reason_code]", "commercial_ad")
    page.locator("body").click()
    page.keyboard.press("c")
    page.wait_for_url("**/findings/*done=*")
    # Moved on to the next marketing finding in the filtered queue.
    assert f"/findings/{portal.ids['finding_a2_deleted']}" in page.url
    assert "已处理线索" in page.content()
    shoot("next-finding-deleted-post")
    # A deleted post still shows its stored evidence.
    assert "原文已已删除" in page.content() or "已删除" in page.locator("section.post").inner_text()
    assert page.locator("#post-text mark.evidence").inner_text() == "扫码购买特价年货"
    with portal.session_factory() as session:
        finding = session.get(Finding, portal.ids["finding_a_top"])
        assert finding.state == "confirmed"
        review = session.scalar(select(Review).where(Review.finding_id == finding.id))
        assert (review.decision, review.reason_code, review.reviewer_id) == (
            "confirm",
            "commercial_ad",
            portal.ids["user_reviewer"],
        )
    # Undo from the next page with the key shown there.
    page.keyboard.press("u")
    page.wait_for_url(f"**/findings/{portal.ids['finding_a_top']}")
    shoot("after-undo")
    with portal.session_factory() as session:
        assert session.get(Finding, portal.ids["finding_a_top"]).state == "open"
    assert page.dialogs == []


def test_operator_appeals_and_a_second_reviewer_upholds(browser, portal: Portal) -> None:
    finding_id = portal.ids["finding_a_confirmed"]
    operator = new_page(browser, portal)
    shoot = Shooter(operator, "operator")
    sign_in(operator, portal, "operator", shoot)
    assert operator.url.endswith("/my")
    assert "包头发布" not in operator.content()
    shoot("my-accounts")
    operator.click("text=新城区发布")
    operator.wait_for_load_state()
    deduction = operator.locator(f"#finding-{finding_id}")
    assert "−8" in operator.locator("table.deductions").inner_text()
    assert "加我微信" in deduction.locator("mark.evidence").inner_text()
    shoot("account-score")
    deduction.locator("summary").click()
    deduction.locator("textarea[name=reason]").fill("该内容为转载的反诈骗提示，并非我单位营销。")
    shoot("appeal-form")
    deduction.locator("button[type=submit]").click()
    operator.wait_for_url("**appealed=*")
    assert "已对线索" in operator.content()
    shoot("appeal-sent")

    confirmer = new_page(browser, portal)
    sign_in(confirmer, portal, "reviewer")
    confirmer.goto(portal.url + "/appeals")
    assert "须由其他审核员处理" in confirmer.content()
    Shooter(confirmer, "confirmer")("appeals-own-confirmation")

    second = new_page(browser, portal)
    shoot2 = Shooter(second, "reviewer2")
    sign_in(second, portal, "reviewer2")
    second.goto(portal.url + "/appeals")
    assert "该内容为转载的反诈骗提示" in second.content()
    shoot2("appeals")
    second.fill("form.appeal-decide input[name=note]", "核实为转载提示，申诉成立")
    second.click("form.appeal-decide button[value=upheld]")
    second.wait_for_load_state()
    assert "没有待处理的申诉" in second.content()
    shoot2("appeals-decided")
    with portal.session_factory() as session:
        appeal = session.scalar(select(Appeal).where(Appeal.finding_id == finding_id))
        assert (appeal.outcome, appeal.decided_by) == ("upheld", portal.ids["user_reviewer2"])
        assert session.get(Finding, finding_id).state == "dismissed"

    operator.goto(portal.url + "/my")
    assert "申诉成立" in operator.locator("tr.appeal-row").inner_text()
    shoot("appeal-outcome")
    operator.goto(portal.url + f"/accounts/{portal.ids['account_a']}")
    assert "申诉成立" in operator.locator(f"#finding-{finding_id}").inner_text()
    shoot("account-after-appeal")


def test_hostile_post_is_inert_in_pages_and_archive(browser, portal: Portal) -> None:
    page = new_page(browser, portal)
    shoot = Shooter(page, "hostile")
    sign_in(page, portal, "reviewer")
    finding_id = portal.ids["finding_hostile"]
    page.goto(portal.url + f"/findings/{finding_id}")
    shoot("finding")
    text = page.locator("#post-text").inner_text()
    assert "<script>" in text and "onerror=" in text  # shown as text
    assert page.locator("#post-text script, #post-text img, #post-text a").count() == 0
    assert page.locator("a[href^='javascript:']").count() == 0
    page.goto(portal.url + f"/findings/{finding_id}/archive")
    page.wait_for_timeout(500)
    shoot("archive")
    assert "加微信下单" in page.locator("pre.archive-text").inner_text()
    assert page.locator("iframe[sandbox='']").count() == 1
    page.goto(portal.url + f"/findings/{finding_id}/archive/raw")  # opened directly: still sandboxed by CSP
    page.wait_for_timeout(500)
    shoot("archive-raw-direct")
    page.goto(portal.url + f"/findings/{finding_id}")
    assert page.evaluate("window.__pwned === undefined")
    assert page.dialogs == []


def test_every_other_page_renders(browser, portal: Portal) -> None:
    from store.models import CrawlRun

    with portal.session_factory.begin() as session:
        session.add(
            CrawlRun(account_id=portal.ids["account_a2"], status="failed", error="HTTP 403 Forbidden")
        )
    reports = Path(portal.settings.resolved_report_dir) / "2026-10"
    reports.mkdir(parents=True)
    for name in ("月度报告-150100.html", "月度报告-150100.xlsx", "月度报告-150100.pdf"):
        (reports / name).write_bytes(b"report")
    portal.clock.advance(days=15)
    for username, paths in (
        (
            "lead",
            [
                "/office",
                "/queue",
                "/appeals",
                f"/findings/{portal.ids['finding_a_confirmed']}",
                "/my",
                f"/accounts/{portal.ids['account_a']}",
            ],
        ),
        ("operator", [f"/findings/{portal.ids['finding_a_confirmed']}"]),
        (
            "admin",
            [
                "/admin/users",
                "/admin/registry",
                "/admin/reasons",
                "/admin/audit",
                "/admin/settings",
                "/password",
                "/docs",
                f"/accounts/{portal.ids['account_b']}",
            ],
        ),
        ("reviewer_bt", [f"/findings/{portal.ids['finding_a_top']}"]),  # out of scope: 404 page
    ):
        page = new_page(browser, portal)
        shoot = Shooter(page, username)
        sign_in(page, portal, username)
        if username == "admin":  # something for the audit log to show: a new reason code, by the form
            page.goto(portal.url + "/admin/reasons")
            form = page.locator("form:has(input[name=code][required])")
            form.locator("input[name=code]").fill("outdated_post")
            form.locator("select[name=decision]").select_option("dismiss")
            form.locator("input[name=label]").fill("内容已过时")
            form.locator("button[type=submit]").click()
            page.wait_for_load_state()
            assert "内容已过时" in page.content()
        for path in paths:
            response = page.goto(portal.url + path)
            assert response is not None
            expected = 404 if username == "reviewer_bt" else 200
            assert response.status == expected, (username, path)
            shoot(path.strip("/").replace("/", "-") or "home")
        assert page.dialogs == []
