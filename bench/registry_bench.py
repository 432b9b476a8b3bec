"""Imports a 10,000-row registry workbook into a fresh SQLite file; target: under 10 s.

Baseline in the same run: reading and validating the same workbook without storing it, so the
printed ratio shows what storage adds on this machine, whatever its speed today.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from openpyxl import Workbook

from govwatch.registry import parse_registry
from govwatch.registry_import import import_registry
from store.db import make_engine, make_session_factory
from store.migrate import upgrade_database

ROWS = 10_000
TARGET_SECONDS = 10.0
PLATFORMS = ("微信", "微博", "抖音", "头条", "网站")


def write_workbook(path: Path, rows: int = ROWS) -> Path:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("名录")
    sheet.append(
        [
            "账号名称",
            "平台",
            "账号ID",
            "主办单位",
            "行政区划代码",
            "地区名称",
            "备案编号",
            "备案日期",
            "联系人",
            "联系电话",
            "采集地址",
        ]
    )
    for i in range(rows):
        county = 150102 + (i % 40) * 100 + (i % 7)
        sheet.append(
            [
                f"政务账号{i:05d}",
                PLATFORMS[i % len(PLATFORMS)],
                f"handle_{i:05d}",
                f"单位{i % 2500:04d}",
                str(county),
                f"地区{county}",
                f"蒙网备{i:06d}",
                f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}",
                f"联系人{i % 300}",
                f"0471-{6000000 + i}",
                f"https://rss.example.gov.cn/{i}.xml",
            ]
        )
    workbook.save(path)
    return path


def main() -> bool:
    with tempfile.TemporaryDirectory() as directory:
        path = write_workbook(Path(directory) / "registry.xlsx")
        started = time.perf_counter()
        parsed = parse_registry(path)
        parse_seconds = time.perf_counter() - started
        assert not parsed.errors, parsed.errors[:3]

        engine = make_engine(f"sqlite:///{directory}/bench.db")
        upgrade_database(engine)
        session_factory = make_session_factory(engine)
        started = time.perf_counter()
        report = import_registry(session_factory, path)
        import_seconds = time.perf_counter() - started
        started = time.perf_counter()
        again = import_registry(session_factory, path)
        reimport_seconds = time.perf_counter() - started
        engine.dispose()

    assert report.created == ROWS and again.unchanged == ROWS
    ok = import_seconds < TARGET_SECONDS
    print(
        f"registry import: {ROWS} rows in {import_seconds:.2f} s ({ROWS / import_seconds:,.0f} rows/s), "
        f"target < {TARGET_SECONDS:.0f} s: {'met' if ok else 'MISSED'}"
    )
    print(
        f"  baseline (read + validate only): {parse_seconds:.2f} s; "
        f"import/baseline ratio {import_seconds / parse_seconds:.2f}"
    )
    print(f"  re-import of the same sheet (no changes): {reimport_seconds:.2f} s")
    return ok


if __name__ == "__main__":
    main()
