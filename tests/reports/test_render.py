"""The monthly report files: XLSX layout and values, PDF fonts/text/pages, HTML, reproducibility."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy.orm import Session, sessionmaker

from reports.assessment import assess_month
from reports.render import write_region_reports, write_reports
from store.errors import InvalidInput, NotFound
from store.models import Account
from tests.reports.synthetic import ASSESSED_AT, LATER, MONTH, Synthetic, build_month, decide_later

GOLDEN = Path(__file__).parent / "golden" / "report-2026-10-ranking.json"
HEADINGS = (
    "一、检查情况",
    "二、单项否决名单",
    "三、扣分情形及典型问题",
    "四、排名",
    "五、复查情况",
    "六、整改要求",
)
SHEETS = [
    "一、检查情况", "二、单项否决名单", "三、扣分情形", "三、典型问题", "四、排名", "五、复查",
    "六、整改要求", "评分卡", "修订说明", "评估信息",
]  # fmt: skip


def poppler(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.fail(f"{tool} (Debian poppler-utils) is needed to check the PDF")
    return path


@pytest.fixture
def month(sqlite_session_factory: sessionmaker[Session]) -> Synthetic:
    synthetic = build_month(sqlite_session_factory)
    with sqlite_session_factory.begin() as session:
        # A name that a spreadsheet would run as a formula.
        session.get(Account, synthetic.accounts["sparse"]).name = '=HYPERLINK("http://evil","玉泉融媒")'
    assess_month(session_factory=sqlite_session_factory, month="2026-09", now=ASSESSED_AT)
    assess_month(session_factory=sqlite_session_factory, month=MONTH, now=ASSESSED_AT)
    return synthetic


def cells(path: Path) -> dict[str, list[list[Any]]]:
    workbook = load_workbook(path)
    return {sheet.title: [list(row) for row in sheet.iter_rows(values_only=True)] for sheet in workbook}


def test_the_workbook_has_one_sheet_per_section_typed_and_frozen(
    sqlite_session_factory: sessionmaker[Session], month: Synthetic, tmp_path: Path
) -> None:
    [path] = write_reports(
        session_factory=sqlite_session_factory, month=MONTH, formats=("xlsx",), out_dir=tmp_path, now=LATER
    )
    assert path.name == "govwatch-report-2026-10-all.xlsx"
    workbook = load_workbook(path)
    assert workbook.sheetnames == SHEETS
    for sheet in workbook:
        assert sheet.freeze_panes == "A2", sheet.title
        assert sheet["A1"].font.bold
        assert sheet.column_dimensions["A"].width >= 7
    overview = workbook["一、检查情况"]
    assert [c.value for c in overview[1]][:7] == [
        "分组",
        "名称",
        "登记账号",
        "检查账号",
        "检查率",
        "不合格",
        "合格率",
    ]
    # The registry's region names, not codes; 7 accounts checked of 7 filed (the closed one is not filed).
    assert [c.value for c in overview[2]][:7] == ["总体", "呼和浩特市", 7, 7, 1.0, 4, pytest.approx(3 / 7)]
    assert overview["E2"].number_format == "0.0%" and overview["G2"].number_format == "0.0%"
    assert overview["H2"].value == 0  # September: none of the 7 passed
    regions = [row[1].value for row in overview.iter_rows(min_row=2) if row[0].value == "地区"]
    assert regions == ["呼和浩特市本级", "新城区", "回民区", "玉泉区", "赛罕区"]
    ranking = workbook["四、排名"]
    assert ranking["G2"].number_format == "0.00" and ranking["M2"].number_format == "0.0%"
    names = [row[1].value for row in ranking.iter_rows(min_row=2)]
    # Formula injection: the name is text with an apostrophe in front, never a formula.
    assert '\'=HYPERLINK("http://evil","玉泉融媒")' in names
    assert all(cell.data_type != "f" for sheet in workbook for row in sheet.iter_rows() for cell in row)
    ranked = [[row[i] for i in (0, 1, 2, 4, 6, 7, 8, 9, 14, 15)] for row in cells(path)["四、排名"][1:]]
    if os.environ.get("GOVWATCH_UPDATE_GOLDEN") == "1":
        GOLDEN.write_text(json.dumps(ranked, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    assert ranked == json.loads(GOLDEN.read_text(encoding="utf-8"))
    vetoes = cells(path)["二、单项否决名单"]
    assert {row[0] for row in vetoes[1:]} == {
        "存在严重错误或有害信息",
        "检查日前两周内未更新",
        "互动功能不可用",
        "账号被盗用",
    }
    evidence = [row for row in vetoes[1:] if row[1] == "赛罕发布"]
    assert [row[6] for row in evidence] == [month.findings["harmful"], month.findings["leader_title"]]
    assert all(row[7] and row[9] and row[10].startswith("https://") for row in evidence)
    recheck = cells(path)["五、复查"]
    status = {row[0]: (row[3], row[5]) for row in recheck[1:]}
    assert status["新城区发布"] == ("存在严重错误或有害信息", "已整改")  # vetoed in September, fixed
    assert status["赛罕发布"] == ("检查日前两周内未更新", "未整改")  # no posts in September, vetoed again
    card = [row for row in cells(path)["评分卡"][1:] if row[0] == "呼和浩特发布"]
    assert [row[3] for row in card].count("扣分") == 7
    assert ["申诉成立", month.findings["appealed"]] == [card[-1][3], card[-1][7]]


def test_the_same_month_and_inputs_give_the_same_files(
    sqlite_session_factory: sessionmaker[Session], month: Synthetic, tmp_path: Path
) -> None:
    first = write_reports(
        session_factory=sqlite_session_factory, month=MONTH, out_dir=tmp_path / "a", now=LATER
    )
    # Rerunning the assessment on the same inputs and rendering later changes nothing.
    assess_month(session_factory=sqlite_session_factory, month=MONTH, now=LATER - ASSESSED_AT + LATER)
    second = write_reports(
        session_factory=sqlite_session_factory, month=MONTH, out_dir=tmp_path / "b", now=LATER
    )
    assert cells(first[0]) == cells(second[0])
    assert load_workbook(first[0]).properties.created == load_workbook(second[0]).properties.created
    pdftotext = poppler("pdftotext")
    texts = [
        subprocess.run([pdftotext, str(p[1]), "-"], capture_output=True, text=True, check=True).stdout
        for p in (first, second)
    ]
    assert texts[0] == texts[1]
    info = subprocess.run(
        [poppler("pdfinfo"), str(first[1])], capture_output=True, text=True, check=True
    ).stdout
    assert "CreationDate:" in info and "2026" in info
    assert first[2].read_text(encoding="utf-8") == second[2].read_text(encoding="utf-8")


def test_the_pdf_embeds_its_fonts_and_reads_in_chinese(
    sqlite_session_factory: sessionmaker[Session], month: Synthetic, tmp_path: Path
) -> None:
    [pdf] = write_reports(
        session_factory=sqlite_session_factory, month=MONTH, formats=("pdf",), out_dir=tmp_path, now=LATER
    )
    fonts = subprocess.run([poppler("pdffonts"), str(pdf)], capture_output=True, text=True, check=True).stdout
    rows = fonts.splitlines()[2:]
    assert rows, fonts
    for row in rows:
        columns = row.split()
        # name type... emb sub uni id gen: emb and sub are the 4th and 3rd from the end of 5 flags.
        assert columns[-5:-3] == ["yes", "yes"], row
    assert any("CJK" in row for row in rows)
    text = subprocess.run(
        [poppler("pdftotext"), str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    for heading in (*HEADINGS, "呼和浩特市政务新媒体2026年10月检查情况通报", "附：账号评分卡"):
        assert heading in text, heading
    for name in ("新城区发布", "赛罕发布", "回民区发布", "玉泉区人民政府", "呼和浩特教育", "呼和浩特发布"):
        assert name in text, name
    subprocess.run([poppler("pdftoppm"), "-png", "-r", "40", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) >= 3
    assert pages[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert all(page.stat().st_size > 3000 for page in pages)  # drawn pages, not blank ones


def test_the_html_has_every_section_the_charts_and_the_revisions(
    sqlite_session_factory: sessionmaker[Session], month: Synthetic, tmp_path: Path
) -> None:
    decide_later(sqlite_session_factory, month)
    assess_month(session_factory=sqlite_session_factory, month=MONTH, now=LATER)
    [html_path] = write_reports(
        session_factory=sqlite_session_factory,
        month=MONTH,
        region="150100",
        formats=("html",),
        out_dir=tmp_path,
        now=LATER,
    )
    assert html_path.name == "govwatch-report-2026-10-150100.html"
    html = html_path.read_text(encoding="utf-8")
    for heading in HEADINGS:
        assert heading in html
    assert html.count("data:image/svg+xml;base64,") == 4
    assert "&#34;http://evil&#34;" in html or "&quot;http://evil&quot;" in html  # escaped, not markup
    assert "附：评估修订说明" in html and "得分由 80 变为 85" in html
    assert "整改期限：2026年11月15日" in html


def test_without_a_region_each_sub_region_gets_its_report(
    sqlite_session_factory: sessionmaker[Session], month: Synthetic, tmp_path: Path
) -> None:
    paths = write_region_reports(
        session_factory=sqlite_session_factory, month=MONTH, formats=("xlsx",), out_dir=tmp_path, now=LATER
    )
    assert [p.name for p in paths] == [
        "govwatch-report-2026-10-all.xlsx",
        *(f"govwatch-report-2026-10-{code}.xlsx" for code in ("150102", "150103", "150104", "150105")),
    ]
    yuquan = cells(paths[3])["一、检查情况"]
    assert yuquan[1][:4] == ["总体", "玉泉区", 2, 2]


def test_a_month_never_assessed_or_an_unknown_format_is_refused(
    sqlite_session_factory: sessionmaker[Session], month: Synthetic, tmp_path: Path
) -> None:
    with pytest.raises(NotFound, match="govwatch assess --month 2026-08"):
        write_reports(session_factory=sqlite_session_factory, month="2026-08", out_dir=tmp_path, now=LATER)
    with pytest.raises(InvalidInput, match="docx"):
        write_reports(
            session_factory=sqlite_session_factory,
            month=MONTH,
            formats=("docx",),
            out_dir=tmp_path,
            now=LATER,
        )
