"""The monthly report's content, gathered from stored assessments: sections 一 to 六 and score cards."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from reports.assessment import CATEGORY_NAMES, SHANGHAI, month_window, previous_month
from reports.scoring import Scoring, load_scoring
from store import assessments as store
from store.errors import NotFound
from store.models import PLATFORMS
from store.regions import level_of, parent_code_of, validate_region_code

PLATFORM_LABELS = {
    "wechat": "微信公众号",
    "weibo": "微博",
    "toutiao": "今日头条",
    "douyin": "抖音",
    "website": "政府网站",
    "other": "其他",
}
CATEGORY_LABELS = {
    **CATEGORY_NAMES,
    "update": "更新频率",
    "service": "便民服务",
    "filing": "备案信息",
}
TREND_MONTHS = 6
TYPICAL_PER_CATEGORY = 3


@dataclass
class AccountRow:
    account_id: int
    name: str
    platform: str
    platform_label: str
    handle: str
    region_code: str
    region_name: str
    subregion: str
    organization: str
    total: float
    points: float
    passed: bool
    revision: int
    vetoes: list[dict[str, Any]]
    deductions: list[dict[str, Any]]
    bonuses: list[dict[str, Any]]
    components: dict[str, Any]
    changes: list[dict[str, Any]]
    findings: dict[int, dict[str, Any]]
    rank: int = 0


@dataclass
class CountRow:
    label: str
    filed: int
    checked: int
    failed: int

    @property
    def check_rate(self) -> float:
        return self.checked / self.filed if self.filed else 0.0

    @property
    def pass_rate(self) -> float:
        return (self.checked - self.failed) / self.checked if self.checked else 0.0


@dataclass
class ReportData:
    month: str
    region_code: str | None
    root_code: str | None  # the region the report covers (the registry's common root without --region)
    region_name: str
    title: str
    generated_at: datetime
    check_date: str
    scoring: Scoring
    accounts: list[AccountRow]
    overview: CountRow
    previous_overview: CountRow | None
    by_platform: list[CountRow]
    by_subregion: list[CountRow]
    vetoes: list[tuple[str, str, list[tuple[AccountRow, dict[str, Any], list[dict[str, Any]]]]]]
    problems: list[dict[str, Any]]
    typical: list[dict[str, Any]]
    recheck: list[dict[str, Any]]
    rectification: str
    deadline: date
    trend: list[tuple[str, float | None]]
    revisions: list[dict[str, Any]] = field(default_factory=list)
    scoring_versions: list[str] = field(default_factory=list)
    model_versions: list[str] = field(default_factory=list)
    rules_versions: list[str] = field(default_factory=list)

    @property
    def slug(self) -> str:
        return f"{self.month}-{self.region_code or 'all'}"


def region_label(code: str, names: dict[str, str]) -> str:
    """The registry's name of a region, or its code when the registry never named it."""
    return names.get(code, code)


def _overview(label: str, filed: list[Any], rows: list[AccountRow]) -> CountRow:
    return CountRow(label, len(filed), len(rows), sum(1 for r in rows if not r.passed))


def _subregion_of(code: str, root: str | None) -> str:
    """The division directly under `root` that `code` lies in (or `root` itself for its own accounts)."""
    if root is None:
        return code[:2] + "0000"
    if code == root:
        return root
    level = level_of(root)
    child = code
    while level_of(child) > level + 1:
        parent = parent_code_of(child)
        if parent is None:
            break
        child = parent
    return child


def build_report(
    *, session: Session, month: str, region: str | None = None, scoring: Scoring | None = None
) -> ReportData:
    """Everything one region's monthly report shows, from the current assessment revisions."""
    window = month_window(month)
    region = validate_region_code(region) if region else None
    current = store.current_assessments(session=session, month=month, region=region)
    if not current:
        where = f" in region {region}" if region else ""
        raise NotFound(f"no assessments for {month}{where}: run `govwatch assess --month {month}` first")
    scoring = scoring or load_scoring()
    names = store.region_names(session=session)
    labels = store.account_labels(session=session, account_ids=list(current))
    root = region or _common_root([labels[a].region_code for a in current])
    region_name = region_label(root, names) if root else "全部地区"

    rows: list[AccountRow] = []
    for account_id, assessment in current.items():
        label = labels[account_id]
        components = assessment.components
        rows.append(
            AccountRow(
                account_id=account_id,
                name=label.name,
                platform=label.platform,
                platform_label=PLATFORM_LABELS.get(label.platform, label.platform),
                handle=label.handle,
                region_code=label.region_code,
                region_name=region_label(label.region_code, names),
                subregion=_subregion_of(label.region_code, root),
                organization=label.organization,
                total=assessment.total,
                points=float(components.get("points", assessment.total)),
                passed=assessment.passed,
                revision=assessment.revision,
                vetoes=list(assessment.veto_reasons),
                deductions=list(components.get("deductions", [])),
                bonuses=list(components.get("bonuses", [])),
                components=components,
                changes=list(assessment.changes),
                findings={f["id"]: f for f in components.get("findings", [])},
            )
        )
    rows.sort(key=lambda r: (-r.total, -r.points, r.name, r.account_id))
    for rank, row in enumerate(rows, 1):
        row.rank = rank

    filed = store.list_registry_accounts(session=session, region=region, created_before=window.end)
    overview = _overview(region_name, filed, rows)
    by_platform = [
        _overview(
            PLATFORM_LABELS[p], [f for f in filed if f.platform == p], [r for r in rows if r.platform == p]
        )
        for p in PLATFORMS
        if any(f.platform == p for f in filed)
    ]
    subregions = sorted({_subregion_of(f.region_code, root) for f in filed} | {r.subregion for r in rows})
    by_subregion = [
        _overview(
            f"{region_name}本级" if code == root else region_label(code, names),
            [f for f in filed if _subregion_of(f.region_code, root) == code],
            [r for r in rows if r.subregion == code],
        )
        for code in subregions
    ]

    previous = previous_month(month)
    before = store.current_assessments(session=session, month=previous, region=region)
    previous_overview = None
    if before:
        previous_filed = store.list_registry_accounts(
            session=session, region=region, created_before=month_window(previous).end
        )
        previous_overview = CountRow(
            region_name, len(previous_filed), len(before), sum(1 for a in before.values() if not a.passed)
        )

    vetoes = _veto_groups(rows, scoring)
    problems, typical = _problems(rows)
    recheck = _recheck(before, {r.account_id: r for r in rows}, session)
    trend = _trend(session, month, region, rows)
    deadline = window.check_date + timedelta(days=int(scoring.report.get("rectification_days", 15)))
    rectification = str(scoring.report.get("rectification", "")).replace(
        "{deadline}", f"{deadline.year}年{deadline.month}月{deadline.day}日"
    )
    generated_at = max(a.created_at for a in current.values())
    revisions = [
        {"account": r.name, "revision": r.revision, "note": change["note"]}
        for r in rows
        if r.revision > 1
        for change in r.changes
    ]
    return ReportData(
        month=month,
        region_code=region,
        root_code=root,
        region_name=region_name,
        title=f"{region_name}政务新媒体{int(month[:4])}年{int(month[5:])}月检查情况通报",
        generated_at=generated_at,
        check_date=max(str(r.components.get("check_date", window.check_date.isoformat())) for r in rows),
        scoring=scoring,
        accounts=rows,
        overview=overview,
        previous_overview=previous_overview,
        by_platform=by_platform,
        by_subregion=by_subregion,
        vetoes=vetoes,
        problems=problems,
        typical=typical,
        recheck=recheck,
        rectification=rectification,
        deadline=deadline,
        trend=trend,
        revisions=revisions,
        scoring_versions=sorted({a.scoring_version for a in current.values()}),
        model_versions=sorted({v for a in current.values() for v in a.model_version.split("+") if v}),
        rules_versions=sorted({v for a in current.values() for v in a.rules_version.split("+") if v}),
    )


def _common_root(codes: list[str]) -> str | None:
    """The deepest region containing every code, or None when they span provinces."""
    if not codes:
        return None
    candidates = []
    code: str | None = codes[0]
    while code is not None:
        candidates.append(code)
        code = parent_code_of(code)
    for candidate in candidates:
        level = level_of(candidate)
        prefix = candidate[: {1: 2, 2: 4, 3: 6}[level]]
        if all(c.startswith(prefix) for c in codes):
            return candidate
    return None


def _veto_groups(
    rows: list[AccountRow], scoring: Scoring
) -> list[tuple[str, str, list[tuple[AccountRow, dict[str, Any], list[dict[str, Any]]]]]]:
    groups: dict[str, list[tuple[AccountRow, dict[str, Any], list[dict[str, Any]]]]] = defaultdict(list)
    for row in rows:
        for veto in row.vetoes:
            evidence = [row.findings[i] for i in veto.get("finding_ids", []) if i in row.findings]
            groups[veto["code"]].append((row, veto, evidence))
    order = ["serious", "inactive", "interaction", "compromised"]
    return [
        (code, scoring.veto_label(code), sorted(groups[code], key=lambda g: (g[0].region_code, g[0].name)))
        for code in sorted(groups, key=lambda c: (order.index(c) if c in order else len(order), c))
    ]


def _problems(rows: list[AccountRow]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Deductions and vetoes by problem type with counts and shares, and typical counted findings."""
    counter: Counter[str] = Counter()
    accounts: dict[str, set[int]] = defaultdict(set)
    points: dict[str, float] = defaultdict(float)
    for row in rows:
        for d in row.deductions:
            counter[d["category"]] += 1
            accounts[d["category"]].add(row.account_id)
            points[d["category"]] += d["points"]
    total = sum(counter.values())
    problems = [
        {
            "category": category,
            "label": CATEGORY_LABELS.get(category, category),
            "count": count,
            "share": count / total if total else 0.0,
            "accounts": len(accounts[category]),
            "points": round(points[category], 2),
        }
        for category, count in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    typical: list[dict[str, Any]] = []
    per_category: Counter[str] = Counter()
    for row in rows:
        for finding in row.findings.values():
            if not finding["counts"] or not finding.get("excerpt"):
                continue
            if per_category[finding["category"]] >= TYPICAL_PER_CATEGORY:
                continue
            per_category[finding["category"]] += 1
            typical.append(
                {
                    "category": finding["category"],
                    "label": CATEGORY_LABELS.get(finding["category"], finding["category"]),
                    "account": row.name,
                    "platform": row.platform_label,
                    **finding,
                }
            )
    typical.sort(key=lambda t: (t["category"], t["date"], t["id"]))
    return problems, typical


def _recheck(before: dict[int, Any], now: dict[int, AccountRow], session: Session) -> list[dict[str, Any]]:
    failing = [a for a in before.values() if not a.passed]
    labels = store.account_labels(session=session, account_ids=[a.account_id for a in failing])
    out = []
    for assessment in sorted(failing, key=lambda a: a.account_id):
        current = now.get(assessment.account_id)
        label = labels.get(assessment.account_id)
        reasons = [v["label"] for v in assessment.veto_reasons] or [
            f"得分 {assessment.components.get('points', assessment.total):g} 低于合格线"
        ]
        out.append(
            {
                "account": label.name if label else str(assessment.account_id),
                "platform": PLATFORM_LABELS.get(label.platform, label.platform) if label else "",
                "previous_total": assessment.total,
                "previous_reasons": "；".join(reasons),
                "total": current.total if current else None,
                "fixed": bool(current and current.passed),
                "status": "已整改" if current and current.passed else ("未整改" if current else "本月未检查"),
            }
        )
    return out


def _trend(
    session: Session, month: str, region: str | None, rows: list[AccountRow]
) -> list[tuple[str, float | None]]:
    trend: list[tuple[str, float | None]] = []
    for steps in range(TREND_MONTHS - 1, 0, -1):
        earlier = previous_month(month, steps)
        assessed = store.current_assessments(session=session, month=earlier, region=region)
        rate = sum(1 for a in assessed.values() if a.passed) / len(assessed) if assessed else None
        trend.append((earlier, rate))
    trend.append((month, sum(1 for r in rows if r.passed) / len(rows) if rows else None))
    return trend


def local_time(at: datetime) -> datetime:
    return at.astimezone(SHANGHAI) if at.tzinfo else at.replace(tzinfo=UTC).astimezone(SHANGHAI)
