"""Writes the monthly report of a region as XLSX, PDF and HTML (one template for HTML and PDF)."""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy.orm import Session, sessionmaker

from reports.data import ReportData, build_report, local_time
from reports.scoring import Scoring
from store.errors import InvalidInput

log = logging.getLogger(__name__)

FORMATS = ("xlsx", "pdf", "html")


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def num(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.2f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))


def _environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("reports", "templates"), autoescape=select_autoescape(["html"])
    )
    environment.globals.update(pct=pct, num=num)
    return environment


def render_html(data: ReportData) -> str:
    """The report as one self-contained HTML page (charts inlined), also the PDF's source."""
    from reports.charts import render_charts

    charts = {
        name: "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")
        for name, svg in render_charts(data).items()
    }
    created = local_time(data.generated_at)
    change_text = "持平"
    if data.previous_overview is not None:
        delta = (data.overview.pass_rate - data.previous_overview.pass_rate) * 100
        if abs(delta) >= 0.05:
            change_text = f"{'上升' if delta > 0 else '下降'} {abs(delta):.1f} 个百分点"
    window_month = f"{int(data.month[:4])}年{int(data.month[5:])}月"

    context: dict[str, Any] = {
        "data": data,
        "charts": charts,
        "month_label": window_month,
        "check_date": data.check_date,
        "created_iso": created.isoformat(timespec="seconds"),
        "created_local": created.strftime("%Y-%m-%d %H:%M"),
        "deadline": f"{data.deadline.year}年{data.deadline.month}月{data.deadline.day}日",
        "change_text": change_text,
    }
    return _environment().get_template("report.html").render(**context)


def write_pdf(html: str, path: Path, created: datetime) -> None:
    """HTML → PDF with WeasyPrint: fonts embedded as subsets, dates fixed to the assessment's."""
    from weasyprint import HTML

    document = HTML(string=html, base_url=str(path.parent)).render()
    stamp = local_time(created).isoformat(timespec="seconds")
    document.metadata.created = stamp
    document.metadata.modified = stamp
    document.write_pdf(path, pdf_identifier=created.strftime("%Y%m%d%H%M%S").encode("ascii"))


def report_stem(data: ReportData) -> str:
    return f"govwatch-report-{data.slug}"


def write_reports(
    *,
    session_factory: sessionmaker[Session],
    month: str,
    region: str | None = None,
    formats: Sequence[str] = FORMATS,
    out_dir: Path,
    now: datetime,
    scoring: Scoring | None = None,
) -> list[Path]:
    """Write the month's report for `region` (every account when None) in each format; the paths written.

    `now` is when the report is asked for; the files' own dates come from the assessments, so the
    same month and inputs give the same files.
    """
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise InvalidInput(
            f"unknown report format(s) {', '.join(unknown) or '(none)'}: use {', '.join(FORMATS)}"
        )
    with session_factory() as session:
        data = build_report(session=session, month=month, region=region, scoring=scoring)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = report_stem(data)
    written: list[Path] = []
    html: str | None = None
    for kind in formats:
        path = out_dir / f"{stem}.{kind}"
        if kind == "xlsx":
            from reports.xlsx import write_xlsx

            write_xlsx(data, path)
        else:
            html = html or render_html(data)
            if kind == "html":
                path.write_text(html, encoding="utf-8")
            else:
                write_pdf(html, path, data.generated_at)
        written.append(path)
    log.info("report %s written at %s: %s", stem, now.isoformat(), ", ".join(map(str, written)))
    return written


def write_region_reports(
    *,
    session_factory: sessionmaker[Session],
    month: str,
    region: str | None = None,
    formats: Sequence[str] = FORMATS,
    out_dir: Path,
    now: datetime,
    scoring: Scoring | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[Path]:
    """`region`'s report; without a region, the whole registry's and one per sub-region (each office's)."""
    say = progress or (lambda message: None)
    if region is not None:
        say(f"report {month} {region}")
        return write_reports(
            session_factory=session_factory,
            month=month,
            region=region,
            formats=formats,
            out_dir=out_dir,
            now=now,
            scoring=scoring,
        )
    with session_factory() as session:
        data = build_report(session=session, month=month, region=None, scoring=scoring)
    say(f"report {month} (all)")
    paths = write_reports(
        session_factory=session_factory,
        month=month,
        formats=formats,
        out_dir=out_dir,
        now=now,
        scoring=scoring,
    )
    codes = sorted({row.subregion for row in data.accounts} - {data.root_code or ""})
    for code in codes:
        say(f"report {month} {code}")
        paths += write_reports(
            session_factory=session_factory,
            month=month,
            region=code,
            formats=formats,
            out_dir=out_dir,
            now=now,
            scoring=scoring,
        )
    return paths
