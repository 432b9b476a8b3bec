"""The monthly report as an Excel workbook: one sheet per section, typed cells, frozen headers."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any
from zipfile import ZIP_DEFLATED, ZipFile

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.writer.excel import ExcelWriter

from reports.data import CountRow, ReportData, local_time

# A text cell starting with one of these is run as a formula by spreadsheet programs (CSV/formula
# injection): account names and excerpts come from the outside world.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
PERCENT = "0.0%"
POINTS = "0.00"
INTEGER = "0"
HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DCE6F1")
HEADER_ALIGNMENT = Alignment(vertical="center", wrap_text=True)
WRAP = Alignment(wrap_text=True, vertical="top")
EMPTY_NOTE = "（本月无此类情况）"


def safe(value: Any) -> Any:
    """The value as a cell holds it: text that would start a formula is prefixed with an apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


# (header, width, number format or None[, wrap text])
Column = tuple[str, float, str | None] | tuple[str, float, str | None, bool]


def _sheet(workbook: Workbook, title: str, columns: Sequence[Column], rows: list[list[Any]]) -> None:
    """One write-only sheet: widths and frozen header first (write-only sheets take them up front)."""
    sheet = workbook.create_sheet(title)
    for index, column in enumerate(columns, 1):
        sheet.column_dimensions[get_column_letter(index)].width = column[1]
    sheet.freeze_panes = "A2"
    if rows:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(rows) + 1}"
    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=column[0])
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = HEADER_ALIGNMENT
        header.append(cell)
    sheet.append(header)
    if not rows:
        sheet.append([EMPTY_NOTE])
    styled = [
        (index, column[2], len(column) > 3 and bool(column[3]))
        for index, column in enumerate(columns)
        if column[2] or (len(column) > 3 and column[3])
    ]
    for row in rows:
        values: list[Any] = [safe(v) for v in row]
        for index, number_format, wrap in styled:
            if values[index] is None:
                continue
            cell = WriteOnlyCell(sheet, value=values[index])
            if number_format:
                cell.number_format = number_format
            if wrap:
                cell.alignment = WRAP
            values[index] = cell
        sheet.append(values)


def _count_row(group: str, row: CountRow, previous: CountRow | None = None) -> list[Any]:
    return [
        group,
        row.label,
        row.filed,
        row.checked,
        row.check_rate,
        row.failed,
        row.pass_rate,
        previous.pass_rate if previous else None,
        row.pass_rate - previous.pass_rate if previous else None,
    ]


def workbook_for(data: ReportData) -> Workbook:
    # Write-only: rows stream to the file instead of living as cell objects (20,000 accounts).
    workbook = Workbook(write_only=True)
    overview_rows = [_count_row("总体", data.overview, data.previous_overview)]
    overview_rows += [_count_row("平台", row) for row in data.by_platform]
    overview_rows += [_count_row("地区", row) for row in data.by_subregion]
    _sheet(
        workbook,
        "一、检查情况",
        [
            ("分组", 8, None),
            ("名称", 24, None),
            ("登记账号", 10, INTEGER),
            ("检查账号", 10, INTEGER),
            ("检查率", 10, PERCENT),
            ("不合格", 10, INTEGER),
            ("合格率", 10, PERCENT),
            ("上月合格率", 12, PERCENT),
            ("变化", 10, PERCENT),
        ],
        overview_rows,
    )

    veto_rows: list[list[Any]] = []
    for _, label, items in data.vetoes:
        for row, veto, evidence in items:
            base = [label, row.name, row.platform_label, row.region_name, row.organization, veto["detail"]]
            if not evidence:
                veto_rows.append([*base, None, None, None, None, None])
            for f in evidence:
                veto_rows.append([*base, f["id"], f["date"], f.get("title"), f.get("excerpt"), f.get("url")])
    _sheet(
        workbook,
        "二、单项否决名单",
        [
            ("否决事项", 22, None),
            ("账号", 24, None),
            ("平台", 12, None),
            ("地区", 14, None),
            ("主办单位", 24, None),
            ("情况", 40, None),
            ("发现编号", 10, INTEGER),
            ("日期", 12, None),
            ("标题", 30, None),
            ("证据摘录", 60, None),
            ("原文链接", 40, None),
        ],
        veto_rows,
    )

    _sheet(
        workbook,
        "三、扣分情形",
        [
            ("问题类型", 20, None),
            ("扣分次数", 10, INTEGER),
            ("占比", 10, PERCENT),
            ("涉及账号", 10, INTEGER),
            ("合计扣分", 10, POINTS),
        ],
        [[p["label"], p["count"], p["share"], p["accounts"], p["points"]] for p in data.problems],
    )
    _sheet(
        workbook,
        "三、典型问题",
        [
            ("问题类型", 16, None),
            ("账号", 24, None),
            ("平台", 12, None),
            ("发现编号", 10, INTEGER),
            ("日期", 12, None),
            ("标题", 30, None),
            ("内容摘录", 60, None),
            ("原文链接", 40, None),
        ],
        [
            [
                t["label"],
                t["account"],
                t["platform"],
                t["id"],
                t["date"],
                t.get("title"),
                t["excerpt"],
                t.get("url"),
            ]
            for t in data.typical
        ],
    )

    _sheet(
        workbook,
        "四、排名",
        [
            ("名次", 7, INTEGER),
            ("账号", 26, None),
            ("平台", 12, None),
            ("账号ID", 20, None),
            ("地区", 14, None),
            ("主办单位", 24, None),
            ("得分", 9, POINTS),
            ("计分", 9, POINTS),
            ("扣分", 9, POINTS),
            ("加分", 9, POINTS),
            ("发布数", 9, INTEGER),
            ("最长未更新天数", 10, INTEGER),
            ("便民服务占比", 10, PERCENT),
            ("传播力指数", 10, POINTS),
            ("单项否决", 30, None),
            ("结果", 10, None),
            ("版本", 7, INTEGER),
        ],
        [
            [
                r.rank,
                r.name,
                r.platform_label,
                r.handle,
                r.region_name,
                r.organization,
                r.total,
                r.points,
                r.components.get("deducted"),
                r.components.get("bonus"),
                r.components["update"]["posts"],
                r.components["update"]["longest_gap_days"],
                r.components["service"]["share"],
                r.components["influence"]["wci"],
                "、".join(v["label"] for v in r.vetoes) or None,
                "合格" if r.passed else "不合格",
                r.revision,
            ]
            for r in data.accounts
        ],
    )

    _sheet(
        workbook,
        "五、复查",
        [
            ("账号", 26, None),
            ("平台", 12, None),
            ("上月得分", 10, POINTS),
            ("上月问题", 40, None),
            ("本月得分", 10, POINTS),
            ("复查结果", 12, None),
        ],
        [
            [r["account"], r["platform"], r["previous_total"], r["previous_reasons"], r["total"], r["status"]]
            for r in data.recheck
        ],
    )

    _sheet(
        workbook,
        "六、整改要求",
        [("项目", 14, None), ("内容", 100, "yyyy-mm-dd", True)],
        [["整改要求", data.rectification], ["整改期限", data.deadline]],
    )

    card_rows: list[list[Any]] = []
    for r in data.accounts:
        for v in r.vetoes:
            card_rows.append(
                [r.name, r.rank, r.total, "单项否决", v["label"], v["detail"], None, None, None, None, None]
            )
        for d in r.deductions:
            behind = r.findings.get(d["finding_id"]) if d.get("finding_id") else None
            card_rows.append(
                [
                    r.name,
                    r.rank,
                    r.total,
                    "扣分",
                    d["label"],
                    "已达本类扣分上限" if d.get("capped") else None,
                    -d["points"],
                    d.get("finding_id"),
                    behind["date"] if behind else None,
                    behind["excerpt"] if behind else None,
                    behind.get("url") if behind else None,
                ]
            )
        for b in r.bonuses:
            card_rows.append(
                [r.name, r.rank, r.total, "加分", b["label"], None, b["points"], None, None, None, None]
            )
        for f in r.findings.values():
            if f["appeal_upheld"]:
                card_rows.append(
                    [
                        r.name,
                        r.rank,
                        r.total,
                        "申诉成立",
                        f["category"],
                        "不计扣分",
                        0,
                        f["id"],
                        f["date"],
                        f["excerpt"],
                        f.get("url"),
                    ]
                )
    _sheet(
        workbook,
        "评分卡",
        [
            ("账号", 26, None),
            ("名次", 7, INTEGER),
            ("得分", 9, POINTS),
            ("项目", 10, None),
            ("内容", 36, None),
            ("说明", 24, None),
            ("分值", 9, POINTS),
            ("发现编号", 10, INTEGER),
            ("日期", 12, None),
            ("证据摘录", 60, None),
            ("原文链接", 40, None),
        ],
        card_rows,
    )
    _sheet(
        workbook,
        "修订说明",
        [("账号", 26, None), ("版本", 7, INTEGER), ("变化", 80, None)],
        [[c["account"], c["revision"], c["note"]] for c in data.revisions],
    )
    _sheet(
        workbook,
        "评估信息",
        [("项目", 16, None), ("内容", 80, None)],
        [
            ["报告", data.title],
            ["评估月份", data.month],
            ["数据截至（北京时间）", local_time(data.generated_at).strftime("%Y-%m-%d %H:%M:%S")],
            ["评分细则", f"{data.scoring.title}（{'、'.join(data.scoring_versions)}）"],
            ["模型版本", "、".join(data.model_versions) or None],
            ["规则版本", "、".join(data.rules_versions) or None],
        ],
    )
    created = data.generated_at.replace(tzinfo=None)
    workbook.properties.creator = "govwatch"
    workbook.properties.title = data.title
    workbook.properties.created = created
    workbook.properties.modified = created
    return workbook


def write_xlsx(data: ReportData, path: Path) -> None:
    workbook = workbook_for(data)
    # Not openpyxl's save(), which stamps the file with the current time: the workbook's dates are
    # the assessment's, so the same month and inputs give the same document.
    with ZipFile(path, "w", ZIP_DEFLATED, allowZip64=True) as archive:
        ExcelWriter(workbook, archive).save()
