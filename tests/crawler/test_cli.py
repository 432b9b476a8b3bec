"""`govwatch crawl inspect|run|status` as a user runs them, and the sample registry the demo imports."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from govwatch.cli import app
from govwatch.sample_site import SampleSite
from govwatch.sample_site.content import registry_rows, wechat_mid, wechat_short
from govwatch.sample_site.pages import gov_detail_path

REPO = Path(__file__).resolve().parents[2]
REGISTRY = REPO / "govwatch" / "sample" / "registry.csv"
# No delay between requests to our own 127.0.0.1 site (the deployed default is 1 s).
FAST_ENV = {"COLUMNS": "200", "GOVWATCH_CRAWL_DELAY": "0", "GOVWATCH_CRAWL_CONCURRENCY_PER_SITE": "4"}


def govwatch(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GOVWATCH_DATA_DIR": str(tmp_path / "var"), **FAST_ENV}
    for name in ("GOVWATCH_DATABASE_URL", "GOVWATCH_REDIS_URL"):
        env.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "govwatch", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=180,
    )


def inspect(tmp_path: Path, url: str, *extra: str) -> dict:
    """In this process (the command needs no database): one subprocess test below covers the real CLI."""
    result = CliRunner().invoke(app, ["crawl", "inspect", url, "--json", *extra])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_inspect_reads_every_kind_and_notice(site: SampleSite, tmp_path: Path) -> None:
    wechat = site.state.account("hhht-wechat")
    gov = site.state.account("hhht-gov")
    assert wechat is not None and gov is not None
    article = inspect(tmp_path, f"{site.url}/s/{wechat_short(wechat.slug, wechat.posts[0])}")
    assert (article["kind"], article["status"], article["error"]) == ("wechat", "ok", None)
    (post,) = article["posts"]
    assert (
        post["key"] == f"{wechat.biz}/{wechat_mid(wechat.posts[0])}/1" and post["account"] == "呼和浩特发布"
    )
    assert post["published_at"].endswith("+08:00") and post["text"].startswith("1月21日")
    assert set(post) == {
        *("key", "url", "title", "account", "author", "published_at", "text", "metrics", "links"),
    }

    deleted = inspect(tmp_path, f"{site.url}/s?__biz={wechat.biz}&mid={wechat_mid(wechat.posts[5])}&idx=1")
    assert (deleted["status"], deleted["posts"]) == ("deleted", [])
    xcq = site.state.account("xinchengqu-wechat")
    assert xcq is not None
    for number, status in ((14, "violation"), (15, "unavailable")):
        url = f"{site.url}/s?__biz={xcq.biz}&mid={2650000000 + number}&idx=1"
        assert inspect(tmp_path, url)["status"] == status
    assert inspect(tmp_path, f"{site.url}/fault/waf/s/1")["status"] == "waf"

    feed = inspect(tmp_path, f"{site.url}/feeds/nmg.xml")
    assert feed["kind"] == "feed" and len(feed["posts"]) == 5
    weibo_url = f"{site.url}/api/container/getIndex?containerid=1076036012345678"
    weibo = inspect(tmp_path, weibo_url, "--cookie", "SUB=x")
    assert weibo["kind"] == "weibo" and len(weibo["posts"]) == 4 and "since_id=" in weibo["next"]
    assert inspect(tmp_path, weibo_url)["status"] == "error"  # no cookie: ok:-100
    listing = inspect(tmp_path, f"{site.url}{gov.path}", "--kind", "govsite")
    assert listing["next"] == f"{site.url}/gov/hhht/xwdt/index_1.html" and len(listing["posts"]) == 4
    detail_path = gov_detail_path(gov, gov.posts[0], site.state.published(gov.posts[0]))
    detail = inspect(tmp_path, f"{site.url}{detail_path}")
    assert detail["kind"] == "govsite" and "堃实向上" in detail["posts"][0]["text"]  # GBK page
    assert "堃实向上" in inspect(tmp_path, f"{site.url}/fault/mislabeled.html")["posts"][0]["text"]
    forbidden = inspect(tmp_path, f"{site.url}/fault/403.xml")
    assert (
        forbidden["status"] == "error"
        and forbidden["error"] == f"HTTP 403 Forbidden at {site.url}/fault/403.xml"
    )
    truncated = inspect(tmp_path, f"{site.url}/fault/truncated.xml")
    assert (
        truncated["status"] == "ok"
        and len(truncated["posts"]) == 2
        and "malformed feed" in truncated["error"]
    )
    unreachable = inspect(tmp_path, "http://127.0.0.1:9/nothing.xml")
    assert unreachable["status"] == "error" and "http://127.0.0.1:9/nothing.xml" in unreachable["error"]


def test_inspect_refuses_an_oversize_page(site: SampleSite, tmp_path: Path) -> None:
    site.config.oversize_bytes = 11 * 1024 * 1024
    result = inspect(tmp_path, f"{site.url}/fault/oversize.xml")
    assert result["status"] == "error" and "larger than the 10485760-byte limit" in result["error"]


def test_sample_registry_matches_the_sample_site() -> None:
    with REGISTRY.open(encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == [
        "账号名称",
        "平台",
        "账号ID",
        "主办单位",
        "行政区划代码",
        "地区名称",
        "备案编号",
        "备案日期",
        "采集方式",
        "采集地址",
        "采集配置",
    ]
    expected = registry_rows()
    assert [row[0] for row in rows[1:]] == [row["name"] for row in expected]
    for row, wanted in zip(rows[1:], expected, strict=True):
        assert row[9].startswith("{site}/") and row[9] == wanted["source_url"]
        assert (json.loads(row[10]) if row[10] else {}) == wanted["source_options"]
        assert row[4] == "150000" or row[4].startswith("1501")


def test_import_crawl_and_status_from_the_command_line(site: SampleSite, tmp_path: Path) -> None:
    registry = tmp_path / "registry.csv"
    registry.write_text(REGISTRY.read_text(encoding="utf-8").replace("{site}", site.url), encoding="utf-8")
    assert govwatch(tmp_path, "db", "upgrade").returncode == 0
    imported = govwatch(tmp_path, "accounts", "import", str(registry))
    assert imported.returncode == 0, imported.stdout + imported.stderr
    run = govwatch(tmp_path, "crawl", "run", "--all", "--json")
    assert run.returncode == 0, run.stdout + run.stderr
    summary = json.loads(run.stdout)
    assert len(summary["runs"]) == 9 and {r["status"] for r in summary["runs"]} == {"ok"}
    assert summary["totals"]["new"] == sum(
        1 for a in site.state.accounts for p in a.posts if p.status == "live"
    )
    as_user = govwatch(tmp_path, "crawl", "inspect", f"{site.url}/feeds/nmg.xml", "--json")
    assert as_user.returncode == 0 and json.loads(as_user.stdout)["kind"] == "feed"
    status = govwatch(tmp_path, "crawl", "status", "--json")
    assert status.returncode == 0, status.stderr
    assert {row["status"] for row in json.loads(status.stdout)} == {"ok"}
    table = govwatch(tmp_path, "crawl", "status")
    assert "呼和浩特发布" in table.stdout and "9 accounts" in table.stdout
    again = govwatch(tmp_path, "crawl", "run", "--account", "1")
    assert again.returncode == 0 and "1 accounts" in again.stdout and "1 ok" in again.stdout
