"""Registry import from CSV and XLSX into a real database (SQLite file and PostgreSQL)."""

from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from govwatch.registry import RegistryFileError, parse_registry
from govwatch.registry_import import import_registry
from store.accounts import list_accounts
from store.audit import list_audit
from store.models import Account, Organization, Region

HEADER = [
    "账号名称",
    "平台",
    "账号ID",
    "主办单位",
    "行政区划代码",
    "地区名称",
    "备案编号",
    "备案日期",
    "采集地址",
]
GOOD_ROWS = [
    [
        "呼和浩特发布",
        "微信",
        "hhht_fabu",
        "呼和浩特市人民政府新闻办公室",
        "150100",
        "呼和浩特市",
        "蒙网备001",
        "2025年3月1日",
        "https://rss.example.gov.cn/wechat/hhht.xml",
    ],
    ["新城区发布", "微博", "1234567", "新城区委宣传部", "150102", "新城区", "", "2025/4/2", ""],
    [
        "内蒙古自治区人民政府",
        "网站",
        "www.nmg.gov.cn",
        "自治区人民政府办公厅",
        "150000",
        "内蒙古自治区",
        "",
        "",
        "https://www.nmg.gov.cn/zwyw/",
    ],
]


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    path.write_text("\n".join(",".join(row) for row in rows) + "\n", encoding=encoding)
    return path


def write_xlsx(path: Path, rows: list[list[object]]) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def test_csv_import_creates_accounts_regions_and_organizations(session_factory, tmp_path: Path) -> None:
    report = import_registry(session_factory, write_csv(tmp_path / "reg.csv", [HEADER, *GOOD_ROWS]))
    assert (report.rows, report.created, report.updated, report.errors, report.applied) == (3, 3, 0, [], True)
    with session_factory() as session:
        accounts = {a.handle: a for a in list_accounts(session=session)}
        assert accounts["hhht_fabu"].platform == "wechat"
        assert accounts["hhht_fabu"].filing_date == date(2025, 3, 1)
        assert accounts["hhht_fabu"].source == {
            "url": "https://rss.example.gov.cn/wechat/hhht.xml",
            "kind": "feed",
        }
        assert accounts["www.nmg.gov.cn"].source["kind"] == "govsite"
        assert accounts["1234567"].source == {}
        region = session.get(Region, "150102")
        assert (region.name, region.parent_code, region.level) == ("新城区", "150100", 3)
        assert session.get(Region, "150100").parent_code == "150000"
        assert [a.handle for a in list_accounts(session=session, region_code="150100")] == [
            "hhht_fabu",
            "1234567",
        ]
        assert [a.handle for a in list_accounts(session=session, platform="website")] == ["www.nmg.gov.cn"]


def test_reimporting_the_same_sheet_changes_nothing(session_factory, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "reg.xlsx", [HEADER, *GOOD_ROWS])
    import_registry(session_factory, path)
    with session_factory() as session:
        audit_before = len(list_audit(session=session, limit=1000))
    report = import_registry(session_factory, path)
    assert (report.created, report.updated, report.unchanged) == (0, 0, 3)
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Account)) == 3
        assert session.scalar(select(func.count()).select_from(Organization)) == 3
        # Only the import summary is logged; no account changed.
        assert len(list_audit(session=session, limit=1000)) == audit_before + 1


def test_a_changed_row_updates_the_account_and_is_audited(session_factory, tmp_path: Path) -> None:
    import_registry(session_factory, write_csv(tmp_path / "a.csv", [HEADER, *GOOD_ROWS]))
    changed = [row[:] for row in GOOD_ROWS]
    changed[1][0] = "新城区融媒"
    changed[1][6] = "蒙网备002"
    report = import_registry(session_factory, write_csv(tmp_path / "b.csv", [HEADER, *changed]))
    assert (report.created, report.updated, report.unchanged) == (0, 1, 2)
    with session_factory() as session:
        account = session.scalar(select(Account).where(Account.handle == "1234567"))
        assert (account.name, account.filing_number) == ("新城区融媒", "蒙网备002")
        entry = list_audit(session=session, entity_type="account", entity_id=account.id)[0]
        assert entry.before == {"name": "新城区发布", "filing_number": None}
        assert entry.after == {"name": "新城区融媒", "filing_number": "蒙网备002"}


BAD_ROWS = [
    (["坏区划", "抖音", "dy1", "某单位", "15010", "", "", "", ""], "malformed region code '15010'"),
    (["无此省", "抖音", "dy2", "某单位", "990100", "", "", "", ""], "starting with 1–8"),
    (
        ["重复", "公众号", "hhht_fabu", "某单位", "150100", "", "", "", ""],
        "duplicate account wechat/hhht_fabu: already in row 2",
    ),
    (["未知平台", "qq", "q1", "某单位", "150100", "", "", "", ""], "unknown platform 'qq'"),
    (["缺单位", "微博", "wb9", "", "150100", "", "", "", ""], "missing 主办单位/organization"),
    (
        ["坏日期", "微博", "wb8", "某单位", "150100", "", "", "2025-13-45", ""],
        "filing date '2025-13-45' is not a date",
    ),
    (["坏地址", "网站", "site9", "某单位", "150100", "", "", "", "ftp://x"], "is not an http(s) URL"),
]


@pytest.mark.parametrize(("bad_row", "reason"), BAD_ROWS)
def test_an_invalid_row_is_reported_with_its_row_number_and_nothing_is_imported(
    session_factory, tmp_path: Path, bad_row: list[str], reason: str
) -> None:
    path = write_csv(tmp_path / "reg.csv", [HEADER, *GOOD_ROWS, bad_row])
    report = import_registry(session_factory, path)
    assert not report.applied
    assert len(report.errors) == 1
    assert report.errors[0].row == 5
    assert reason in report.errors[0].reason
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Account)) == 0


def test_skip_invalid_imports_the_valid_rows(session_factory, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "reg.csv", [HEADER, *GOOD_ROWS, *(row for row, _ in BAD_ROWS)])
    report = import_registry(session_factory, path, skip_invalid=True)
    assert report.applied
    assert [e.row for e in report.errors] == list(range(5, 5 + len(BAD_ROWS)))
    assert report.created == 3
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Account)) == 3


def test_gbk_csv_is_decoded_and_said_so(tmp_path: Path) -> None:
    parsed = parse_registry(write_csv(tmp_path / "reg.csv", [HEADER, *GOOD_ROWS], encoding="gbk"))
    assert [r.name for r in parsed.rows] == ["呼和浩特发布", "新城区发布", "内蒙古自治区人民政府"]
    assert parsed.errors == []
    assert "GBK" in parsed.notices[0]


def test_lines_in_no_known_encoding_are_reported_and_the_rest_kept(tmp_path: Path) -> None:
    good = "\n".join(",".join(row) for row in [HEADER, *GOOD_ROWS]).encode("utf-8")
    path = tmp_path / "reg.csv"
    path.write_bytes(good + b"\n\xff\xfe\xfa broken,\x80\x81\n")
    parsed = parse_registry(path)
    assert len(parsed.rows) == 3
    assert [(e.row, "not valid UTF-8 or GBK" in e.reason) for e in parsed.errors] == [(5, True)]


def test_xlsx_with_a_title_row_english_headers_and_numeric_cells(tmp_path: Path) -> None:
    rows: list[list[object]] = [
        ["2026年政务新媒体名录"],
        [],
        ["Name", "Platform", "Handle", "Organization", "Region Code", "Filing Date", "Status"],
        ["新城区发布", "weibo", 1234567, "新城区委宣传部", 150102, date(2025, 4, 2), "暂停"],
    ]
    parsed = parse_registry(write_xlsx(tmp_path / "reg.xlsx", rows))
    assert parsed.errors == []
    row = parsed.rows[0]
    assert (row.row, row.handle, row.region_code, row.filing_date, row.status) == (
        4,
        "1234567",
        "150102",
        date(2025, 4, 2),
        "suspended",
    )


def test_a_file_without_the_required_header_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RegistryFileError, match="no header row"):
        parse_registry(write_csv(tmp_path / "reg.csv", [["a", "b"], ["1", "2"]]))
    with pytest.raises(RegistryFileError, match="lacks columns 行政区划代码"):
        parse_registry(write_csv(tmp_path / "reg2.csv", [HEADER[:4], GOOD_ROWS[0][:4]]))


def test_a_corrupt_workbook_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "reg.xlsx"
    path.write_bytes(b"this is not a zip file")
    with pytest.raises(RegistryFileError, match="not a readable spreadsheet"):
        parse_registry(path)


def test_a_formula_without_a_saved_value_is_named_not_called_missing(tmp_path: Path) -> None:
    rows: list[list[object]] = [
        HEADER[:5],
        ["=B3", "微信", "h1", "单位", "150100"],
        ["名", "微信", "h2", "单位", "150100"],
    ]
    parsed = parse_registry(write_xlsx(tmp_path / "formula.xlsx", rows))
    assert [(e.row, "a formula without a saved value" in e.reason) for e in parsed.errors] == [(2, True)]
    assert [r.handle for r in parsed.rows] == ["h2"]


def test_unknown_headers_are_warned_with_the_nearest_known_one(tmp_path: Path) -> None:
    parsed = parse_registry(write_csv(tmp_path / "r.csv", [[*HEADER, "采集网址"], [*GOOD_ROWS[0], "x"]]))
    assert any("'采集网址' is ignored; did you mean '采集地址'?" in n for n in parsed.notices)
    assert parsed.columns >= {"name", "platform", "handle", "source_url"}
