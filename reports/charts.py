"""The report's charts (matplotlib, SVG with text as paths, so they look the same everywhere)."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from matplotlib import font_manager
from matplotlib import pyplot as plt
from matplotlib.figure import Figure

from reports.data import ReportData

# Debian's fonts-noto-cjk; the Simplified Chinese face is looked up by its family name.
CJK_FONT_FILES = (
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/opentype/noto-cjk/NotoSansCJK-Regular.ttc"),
)
CJK_FAMILIES = ["Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans CJK", "WenQuanYi Zen Hei", "DejaVu Sans"]
COLOURS = ["#1f5fa8", "#c0392b", "#27ae60", "#e67e22", "#8e44ad", "#16a085", "#7f8c8d", "#d35400"]


def _setup() -> None:
    for path in CJK_FONT_FILES:
        if path.exists():
            font_manager.fontManager.addfont(str(path))
    plt.rcParams.update(
        {
            "font.family": "sans-serif",
            "font.sans-serif": CJK_FAMILIES,
            "axes.unicode_minus": False,
            "svg.fonttype": "path",
            "svg.hashsalt": "govwatch",  # stable ids: the same data gives the same SVG bytes
            "figure.dpi": 100,
            "font.size": 13,
        }
    )


def _svg(figure: Figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": "govwatch"})
    plt.close(figure)
    return buffer.getvalue()


def score_distribution(data: ReportData) -> str:
    figure, axes = plt.subplots(figsize=(6, 3))
    bins = [0, 60, 70, 80, 90, 100, 125]
    labels = ["<60", "60-69", "70-79", "80-89", "90-99", "≥100"]
    counts = [0] * len(labels)
    for row in data.accounts:
        for i in range(len(labels)):
            if bins[i] <= row.total < bins[i + 1] or (i == len(labels) - 1 and row.total >= bins[i]):
                counts[i] += 1
                break
    bars = axes.bar(labels, counts, color=[COLOURS[1]] + [COLOURS[0]] * (len(labels) - 1))
    axes.bar_label(bars)
    axes.set_title("得分分布")
    axes.set_ylabel("账号数")
    return _svg(figure)


def findings_by_category(data: ReportData) -> str:
    figure, axes = plt.subplots(figsize=(6, 3))
    labels = [p["label"] for p in data.problems] or ["无"]
    counts = [p["count"] for p in data.problems] or [0]
    bars = axes.barh(labels[::-1], counts[::-1], color=COLOURS[3])
    axes.bar_label(bars)
    axes.set_title("扣分情形（按问题类型）")
    axes.set_xlabel("次数")
    return _svg(figure)


def pass_rate_by_platform(data: ReportData) -> str:
    figure, axes = plt.subplots(figsize=(6, 3))
    labels = [row.label for row in data.by_platform]
    rates = [row.pass_rate * 100 for row in data.by_platform]
    bars = axes.bar(labels, rates, color=COLOURS[2])
    axes.bar_label(bars, fmt="%.0f%%")
    axes.set_ylim(0, 110)
    axes.set_title("各平台合格率")
    axes.set_ylabel("合格率（%）")
    return _svg(figure)


def pass_rate_trend(data: ReportData) -> str:
    figure, axes = plt.subplots(figsize=(6, 3))
    months = [m for m, _ in data.trend]
    rates = [None if r is None else r * 100 for _, r in data.trend]
    xs = [i for i, r in enumerate(rates) if r is not None]
    ys = [r for r in rates if r is not None]
    axes.plot(xs, ys, marker="o", color=COLOURS[0])
    for x, y in zip(xs, ys, strict=True):
        axes.annotate(f"{y:.0f}%", (x, y), textcoords="offset points", xytext=(0, 6), ha="center")
    # The year only where it starts or changes, so six labels fit under the chart.
    labels = [
        f"{m[:4]}年{int(m[5:])}月" if i == 0 or m.endswith("-01") else f"{int(m[5:])}月"
        for i, m in enumerate(months)
    ]
    axes.set_xticks(range(len(months)), labels)
    axes.set_ylim(0, 110)
    axes.set_title("近六个月合格率")
    axes.set_ylabel("合格率（%）")
    return _svg(figure)


def render_charts(data: ReportData) -> dict[str, str]:
    """Every chart of the report as SVG text, by name."""
    _setup()
    return {
        "scores": score_distribution(data),
        "categories": findings_by_category(data),
        "platforms": pass_rate_by_platform(data),
        "trend": pass_rate_trend(data),
    }
