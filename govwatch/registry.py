"""Reads an office's account registry (CSV or XLSX, Chinese or English headers) into validated rows."""

from __future__ import annotations

import csv
import difflib
import io
import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from store.models import ACCOUNT_STATUSES, PLATFORMS, Account, Organization, Region
from store.regions import region_code_problem
from store.validation import column_length, json_problem, text_problem

# Header spellings seen in office spreadsheets, normalised (lower case, no spaces or brackets).
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("账号名称", "名称", "账号", "公众号名称", "name", "accountname", "account_name"),
    "platform": ("平台", "平台类型", "平台名称", "platform"),
    "handle": ("账号id", "平台账号", "账号标识", "微信号", "原始id", "handle", "accountid", "account_id"),
    "organization": ("主办单位", "责任主体", "运营单位", "开办主体", "开办单位", "organization", "unit"),
    "region_code": ("行政区划代码", "区划代码", "regioncode", "region_code"),
    "region_name": ("行政区划名称", "地区名称", "地区", "行政区划", "所属地区", "regionname", "region_name"),
    "interaction": ("互动功能", "留言功能", "interaction"),
    "filing_number": ("备案编号", "备案号", "filingnumber", "filing_number"),
    "filing_date": ("备案日期", "备案时间", "filingdate", "filing_date"),
    "status": ("状态", "账号状态", "运行状态", "status"),
    "contact_name": ("联系人", "contactname", "contact_name"),
    "contact_phone": ("联系电话", "联系方式", "contactphone", "contact_phone"),
    "contact_email": ("联系邮箱", "电子邮箱", "contactemail", "contact_email"),
    "source_kind": ("采集方式", "sourcekind", "source_kind"),
    "source_url": ("采集地址", "链接", "主页地址", "sourceurl", "source_url", "url"),
    "source_options": ("采集配置", "sourceoptions", "source_options"),
    "crawl_interval_minutes": ("采集间隔分钟", "采集间隔", "crawlintervalminutes", "crawl_interval_minutes"),
}
REQUIRED_FIELDS = ("name", "platform", "handle", "organization", "region_code")
FIELD_LABELS = {
    "name": "账号名称/name",
    "platform": "平台/platform",
    "handle": "账号ID/handle",
    "organization": "主办单位/organization",
    "region_code": "行政区划代码/region_code",
}

PLATFORM_ALIASES: dict[str, str] = {
    **{p: p for p in PLATFORMS},
    "微信": "wechat", "微信公众号": "wechat", "公众号": "wechat", "微信公众平台": "wechat",
    "微博": "weibo", "新浪微博": "weibo",
    "头条": "toutiao", "今日头条": "toutiao", "头条号": "toutiao",
    "抖音": "douyin", "抖音号": "douyin",
    "网站": "website", "政府网站": "website", "门户网站": "website", "web": "website",
    "其他": "other", "其它": "other",
}  # fmt: skip
STATUS_ALIASES: dict[str, str] = {
    **{s: s for s in ACCOUNT_STATUSES},
    "正常": "active", "运行": "active", "在用": "active", "启用": "active",
    "暂停": "suspended", "停更": "suspended", "停用": "suspended",
    "关闭": "closed", "注销": "closed", "已关闭": "closed", "已注销": "closed",
}  # fmt: skip
# 互动功能: whether the account's comment/message function works (no working one is a single veto).
INTERACTION_ALIASES: dict[str, bool] = {
    "正常": True, "有": True, "可用": True, "开通": True, "yes": True, "true": True, "1": True,
    "无": False, "没有": False, "不可用": False, "关闭": False, "未开通": False, "失效": False,
    "no": False, "false": False, "0": False,
}  # fmt: skip
SOURCE_KINDS = ("feed", "wechat", "weibo", "govsite")
DATE_PATTERN = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
# The longest value each text field may have: the column sizes, the same on SQLite and PostgreSQL.
FIELD_LIMITS: dict[str, int | None] = {
    "name": column_length(Account, "name"),
    "handle": column_length(Account, "handle"),
    "organization": column_length(Organization, "name"),
    "region_name": column_length(Region, "name"),
    "filing_number": column_length(Account, "filing_number"),
    "contact_name": column_length(Organization, "contact_name"),
    "contact_phone": column_length(Organization, "contact_phone"),
    "contact_email": column_length(Organization, "contact_email"),
    "source_url": 2000,
    "source_options": 20_000,
}
HEADER_SEARCH_ROWS = 10  # offices often put a title row or two above the header


class RegistryFileError(Exception):
    """The file as a whole cannot be read (not a spreadsheet, no recognisable header)."""


@dataclass
class RowError:
    row: int
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}: {self.reason}"


@dataclass
class RegistryRow:
    """One valid registry row, ready to upsert."""

    row: int
    platform: str
    handle: str
    name: str
    organization: str
    region_code: str
    region_name: str | None = None
    filing_number: str | None = None
    filing_date: date | None = None
    status: str = "active"
    contact: dict[str, str | None] = field(default_factory=dict)
    source: dict[str, Any] = field(default_factory=dict)
    crawl_interval_minutes: int | None = None
    interaction_ok: bool | None = None
    # Fields whose cell this row fills: a column that is absent, or an empty cell, changes nothing.
    given: frozenset[str] = frozenset()


@dataclass
class ParsedRegistry:
    rows: list[RegistryRow]
    errors: list[RowError]
    notices: list[str]
    columns: frozenset[str] = frozenset()  # the fields the header row has


def _normalise_header(value: Any) -> str:
    return re.sub(r"[\s()（）\[\]【】*:：_-]", "", str(value or "")).lower()


_ALIAS_TO_FIELD = {_normalise_header(a): f for f, aliases in HEADER_ALIASES.items() for a in aliases}


def _header_map(cells: list[Any]) -> dict[int, str]:
    mapping: dict[int, str] = {}
    for index, cell in enumerate(cells):
        field_name = _ALIAS_TO_FIELD.get(_normalise_header(cell))
        if field_name and field_name not in mapping.values():
            mapping[index] = field_name
    return mapping


_KNOWN_HEADERS = [alias for aliases in HEADER_ALIASES.values() for alias in aliases]


def unknown_header_notices(cells: list[Any], header: dict[int, str]) -> list[str]:
    """A warning for each header cell that names no known column, with the nearest known header."""
    notices = []
    for index, cell in enumerate(cells):
        text = _cell_text(cell)
        if not text or index in header:
            continue
        if _ALIAS_TO_FIELD.get(_normalise_header(cell)):
            notices.append(f"column {index + 1} {text!r} repeats a column already read; it is ignored")
            continue
        nearest = difflib.get_close_matches(text, _KNOWN_HEADERS, n=1, cutoff=0.4)
        hint = f"; did you mean {nearest[0]!r}?" if nearest else ""
        notices.append(f"unknown column {index + 1} {text!r} is ignored{hint}")
    return notices


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # Excel stores 150102 as 150102.0
    return str(value).strip()


def parse_registry(path: Path) -> ParsedRegistry:
    """Read and validate every row of a CSV or XLSX registry; invalid rows become errors, not exceptions."""
    notices: list[str] = []
    errors: list[RowError] = []
    if path.suffix.lower() in WORKBOOK_SUFFIXES:
        raw_rows = _read_workbook(path)
    elif path.suffix.lower() in (".csv", ".txt"):
        raw_rows = _read_csv(path, notices, errors)
    else:
        raise RegistryFileError(
            f"{path}: unsupported file type {path.suffix!r}; use .csv, .xlsx, .xls or .ods"
        )

    header: dict[int, str] | None = None
    rows: list[RegistryRow] = []
    first_row_of: dict[tuple[str, str], int] = {}
    for row_number, cells in raw_rows:
        if header is None:
            candidate = _header_map(cells)
            if len(set(candidate.values()) & set(REQUIRED_FIELDS)) >= 3:
                header = candidate
                missing = [FIELD_LABELS[f] for f in REQUIRED_FIELDS if f not in header.values()]
                if missing:
                    raise RegistryFileError(
                        f"{path}: header row {row_number} lacks columns {', '.join(missing)}"
                    )
                notices.extend(f"{path.name}: {n}" for n in unknown_header_notices(cells, header))
            elif row_number >= HEADER_SEARCH_ROWS:
                break
            continue
        values = {name: _cell_text(cells[i]) if i < len(cells) else "" for i, name in header.items()}
        if not any(values.values()):
            continue
        try:
            row = _validate_row(row_number, values, cells, header)
        except ValueError as error:
            errors.append(RowError(row_number, str(error)))
            continue
        key = (row.platform, row.handle)
        if key in first_row_of:
            errors.append(
                RowError(
                    row_number,
                    f"duplicate account {row.platform}/{row.handle}: already in row {first_row_of[key]}",
                )
            )
            continue
        first_row_of[key] = row_number
        rows.append(row)
    if header is None:
        expected = " / ".join(FIELD_LABELS[f] for f in REQUIRED_FIELDS)
        raise RegistryFileError(
            f"{path}: no header row found in the first {HEADER_SEARCH_ROWS} rows (need {expected})"
        )
    if path.suffix.lower() in (".xlsx", ".xlsm") and any("missing" in e.reason for e in errors):
        _explain_formula_cells(path, header, errors)
    errors.sort(key=lambda e: e.row)
    return ParsedRegistry(rows=rows, errors=errors, notices=notices, columns=frozenset(header.values()))


def _explain_formula_cells(path: Path, header: dict[int, str], errors: list[RowError]) -> None:
    """A formula saved without its value reads as an empty cell: say so instead of "missing"."""
    from openpyxl import load_workbook

    try:
        sheet = load_workbook(path, read_only=True).worksheets[0]
    except Exception:  # calamine read it; openpyxl's opinion is only a better message
        return
    rows = {error.row: error for error in errors if "missing" in error.reason}
    for row_number, cells in enumerate(sheet.iter_rows(max_row=max(rows)), start=1):
        error = rows.get(row_number)
        if error is None:
            continue
        formulas = [
            FIELD_LABELS.get(name, name)
            for index, name in header.items()
            if index < len(cells) and getattr(cells[index], "data_type", None) == "f"
        ]
        if formulas:
            error.reason += (
                f" ({', '.join(formulas)}: a formula without a saved value; "
                "open and save the file in Excel, or paste the values)"
            )


def _validate_row(
    row_number: int, values: dict[str, str], cells: list[Any], header: dict[int, str]
) -> RegistryRow:
    problems: list[str] = []
    missing = [FIELD_LABELS[f] for f in REQUIRED_FIELDS if not values.get(f)]
    if missing:
        problems.append(f"missing {', '.join(missing)}")
    for name, value in values.items():
        label = FIELD_LABELS.get(name, name)
        problem = text_problem(
            value, label=label, max_length=FIELD_LIMITS.get(name, 1000), multiline=name == "source_options"
        )
        if problem:
            problems.append(problem)
            values[name] = ""  # checked once; the checks below must not repeat it
    platform = PLATFORM_ALIASES.get(values.get("platform", "").lower(), "")
    if values.get("platform") and not platform:
        problems.append(
            f"unknown platform {values['platform']!r} "
            f"(expected one of {', '.join(PLATFORMS)} or 微信/微博/...)"
        )
    region_code = values.get("region_code", "")
    problem = region_code_problem(region_code) if region_code else None
    if problem is not None:
        problems.append(problem)
    status = "active"
    if values.get("status"):
        status_value = STATUS_ALIASES.get(values["status"].lower())
        if status_value is None:
            problems.append(
                f"unknown status {values['status']!r} "
                f"(expected 正常/暂停/关闭 or {'/'.join(ACCOUNT_STATUSES)})"
            )
        else:
            status = status_value
    filing_date = None
    if values.get("filing_date"):
        raw_date = next((cells[i] for i, name in header.items() if name == "filing_date"), None)
        try:
            filing_date = _parse_date(raw_date)
        except ValueError as error:
            problems.append(str(error))
    interval = None
    if values.get("crawl_interval_minutes"):
        try:
            interval = int(float(values["crawl_interval_minutes"]))
        except (ValueError, OverflowError):
            problems.append(f"crawl interval {values['crawl_interval_minutes']!r} is not a number of minutes")
        else:
            if interval < 5:
                problems.append(f"crawl interval {interval} is below the 5-minute minimum")
            elif interval > 525_600:
                problems.append(f"crawl interval {interval} is over a year (525600 minutes)")
    interaction_ok = None
    if values.get("interaction"):
        interaction_ok = INTERACTION_ALIASES.get(values["interaction"].lower())
        if interaction_ok is None:
            problems.append(f"unknown interaction value {values['interaction']!r} (expected 正常/无)")
    source: dict[str, Any] = {}
    try:
        source = _source_config(platform, values)
    except ValueError as error:
        problems.append(str(error))
    if problems:
        raise ValueError("; ".join(problems))
    return RegistryRow(
        row=row_number,
        platform=platform,
        handle=values["handle"],
        name=values["name"],
        organization=values["organization"],
        region_code=region_code,
        region_name=values.get("region_name") or None,
        filing_number=values.get("filing_number") or None,
        filing_date=filing_date,
        status=status,
        contact={k: values.get(f"contact_{k}") or None for k in ("name", "phone", "email")},
        source=source,
        crawl_interval_minutes=interval,
        interaction_ok=interaction_ok,
        given=frozenset(name for name, value in values.items() if value),
    )


def _parse_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _cell_text(value)
    if re.fullmatch(r"\d{8}", text):
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    match = DATE_PATTERN.match(text)
    if match:
        try:
            return date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            pass
    raise ValueError(f"filing date {text!r} is not a date (expected 2026-01-22 or 2026年1月22日)")


def _source_config(platform: str, values: dict[str, str]) -> dict[str, Any]:
    """The crawler's source configuration from the 采集方式/采集地址/采集配置 columns."""
    source: dict[str, Any] = {}
    if values.get("source_options"):
        try:
            options = json.loads(values["source_options"])
        except json.JSONDecodeError as error:
            raise ValueError(
                f"采集配置/source_options is not valid JSON: {error.msg} at column {error.colno}"
            ) from None
        if not isinstance(options, dict):
            raise ValueError(
                '采集配置/source_options must be a JSON object such as {"list_selector": "ul.news a"}'
            )
        problem = json_problem(options, label="采集配置/source_options")
        if problem:
            raise ValueError(problem)
        source.update(options)
    url = values.get("source_url")
    if url:
        if not re.match(r"^https?://", url):
            raise ValueError(f"采集地址/source_url {url!r} is not an http(s) URL")
        source["url"] = url
    kind = values.get("source_kind", "").lower() or source.get("kind")
    if kind:
        if kind not in SOURCE_KINDS:
            raise ValueError(f"unknown source kind {kind!r} (expected {', '.join(SOURCE_KINDS)})")
        source["kind"] = kind
    elif url:
        source["kind"] = _guess_source_kind(platform, url)
    return source


def _guess_source_kind(platform: str, url: str) -> str:
    if "mp.weixin.qq.com" in url:
        return "wechat"
    if "weibo.cn" in url or "weibo.com" in url:
        return "weibo"
    if platform == "website" and not re.search(r"(rss|atom|feed)", url, re.IGNORECASE):
        return "govsite"
    return "feed"


def _read_workbook(path: Path) -> Iterator[tuple[int, list[Any]]]:
    # calamine (Rust) reads a 10,000-row sheet about 18x faster than openpyxl, and also reads .xls and .ods.
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
        rows = workbook.get_sheet_by_index(0).to_python(skip_empty_area=False)
    except (CalamineError, OSError, ValueError) as error:
        raise RegistryFileError(f"{path}: not a readable spreadsheet ({error})") from None
    for row_number, cells in enumerate(rows, start=1):
        yield row_number, list(cells)


def _read_csv(path: Path, notices: list[str], errors: list[RowError]) -> Iterator[tuple[int, list[Any]]]:
    """CSV rows with their line numbers; UTF-8 (with or without BOM) or GBK/GB18030, as Excel saves it."""
    data = path.read_bytes()
    text = _decode_whole(data, path, notices)
    if text is None:
        # Neither encoding reads the whole file: keep the lines that do decode, report the others.
        lines = []
        gbk_lines = []
        for line_number, raw_line in enumerate(data.split(b"\n"), start=1):
            try:
                lines.append(raw_line.decode("utf-8-sig"))
                continue
            except UnicodeDecodeError as error:
                utf8_error = error
            try:
                lines.append(raw_line.decode("gb18030"))  # Excel's GBK, pasted into a UTF-8 file
                gbk_lines.append(line_number)
            except UnicodeDecodeError:
                errors.append(
                    RowError(
                        line_number, f"not valid UTF-8 or GBK text (byte {utf8_error.start + 1} of the line)"
                    )
                )
                lines.append("")
        if gbk_lines:
            shown = ", ".join(map(str, gbk_lines[:10])) + (" ..." if len(gbk_lines) > 10 else "")
            notices.append(f"{path.name}: line(s) {shown} are GBK inside a UTF-8 file; read as GBK")
        text = "\n".join(lines)
    dialect = _sniff_dialect(text)
    # The csv module refuses a cell over 131,072 characters with an exception; read it whole
    # and let the row's length check name the field.
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    start = 1
    try:
        for cells in reader:
            yield start, list(cells)  # the line the row starts on, even after a multi-line cell
            start = reader.line_num + 1
    except csv.Error as error:
        raise RegistryFileError(f"{path}: line {reader.line_num}: not readable as CSV ({error})") from None


def _decode_whole(data: bytes, path: Path, notices: list[str]) -> str | None:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        return None
    notices.append(f"{path.name}: not UTF-8; read as GBK/GB18030 (the encoding Excel uses for Chinese CSV)")
    return text


def _sniff_dialect(text: str) -> type[csv.Dialect] | csv.Dialect:
    """Excel's CSV dialect with the delimiter the first line uses most (comma, tab or semicolon).

    csv.Sniffer guesses quoting from the sample too, and a JSON cell (采集配置) fools it into
    splitting a correctly quoted cell; the delimiter is all that differs between offices' files.
    """
    first_line = text.split("\n", 1)[0]
    delimiter = max(",\t;", key=first_line.count)
    if first_line.count(delimiter) == 0:
        return csv.excel

    class Dialect(csv.excel):
        pass

    Dialect.delimiter = delimiter
    return Dialect
