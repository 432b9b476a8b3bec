"""`govwatch assess` and `govwatch report` end to end in a subprocess, from a registry import."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from openpyxl import load_workbook

from govwatch.registry import parse_registry
from tests.govwatch.test_cli import run_cli

REGISTRY = """账号名称,平台,账号ID,主办单位,行政区划代码,行政区划名称,备案编号,互动功能
武川发布,微信,gh_wuchuan,武川县委宣传部,150125,武川县,蒙网信备1,无
托县发布,微博,60001,托克托县委宣传部,150122,托克托县,蒙网信备2,正常
"""


def test_registry_reads_region_names_and_the_interaction_flag(tmp_path: Path) -> None:
    path = tmp_path / "registry.csv"
    path.write_text(REGISTRY, encoding="utf-8")
    parsed = parse_registry(path)
    assert parsed.errors == []
    assert [(r.region_name, r.interaction_ok) for r in parsed.rows] == [("武川县", False), ("托克托县", True)]
    path.write_text(REGISTRY.replace(",正常", ",也许"), encoding="utf-8")
    assert "unknown interaction value '也许'" in str(parse_registry(path).errors[0])


def test_assess_then_report_from_the_command_line(tmp_path: Path) -> None:
    assert run_cli(tmp_path, "db", "upgrade").returncode == 0
    registry = tmp_path / "registry.csv"
    registry.write_text(REGISTRY, encoding="utf-8")
    assert run_cli(tmp_path, "accounts", "import", str(registry)).returncode == 0
    month = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")  # an interim check of this month

    bad = run_cli(tmp_path, "assess", "--month", "2026-13")
    assert bad.returncode == 2 and "must be written YYYY-MM" in bad.stderr and "Traceback" not in bad.stderr
    missing = run_cli(tmp_path, "report", "--month", "2020-01")
    assert missing.returncode == 2 and "govwatch assess --month 2020-01" in missing.stderr

    first = run_cli(tmp_path, "assess", "--month", month)
    assert first.returncode == 0, first.stderr
    assert "2 accounts, 0 passed, 2 failed (2 vetoed); 2 new, 0 revised, 0 unchanged" in first.stdout
    again = run_cli(tmp_path, "assess", "--month", month)
    assert "0 new, 0 revised, 2 unchanged" in again.stdout

    out = tmp_path / "out"
    result = run_cli(tmp_path, "report", "--month", month, "--format", "xlsx,html", "--out", str(out))
    assert result.returncode == 0, result.stderr
    written = sorted(p.name for p in out.iterdir())
    assert (
        f"govwatch-report-{month}-all.xlsx" in written and f"govwatch-report-{month}-150122.html" in written
    )
    workbook = load_workbook(out / f"govwatch-report-{month}-all.xlsx")
    vetoes = [row for row in workbook["二、单项否决名单"].iter_rows(min_row=2, values_only=True)]
    assert ("互动功能不可用", "武川发布", "微信公众号", "武川县") in [row[:4] for row in vetoes]
    regions = [
        row[1] for row in workbook["一、检查情况"].iter_rows(min_row=2, values_only=True) if row[0] == "地区"
    ]
    # The registry named the counties; 呼和浩特市 (150100), created as their parent, was never named.
    assert regions == ["托克托县", "武川县"]
    title = workbook["评估信息"]["B2"].value
    assert title.startswith("150100政务新媒体")
