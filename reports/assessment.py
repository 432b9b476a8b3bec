"""The monthly assessment: every active account scored from stored data as of one moment."""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from reports.scoring import Scoring, load_scoring
from store import assessments as store
from store.errors import Conflict, InvalidInput

log = logging.getLogger(__name__)

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
EXCERPT_CONTEXT = 30


@dataclass(frozen=True)
class MonthWindow:
    """A calendar month in Asia/Shanghai: [start, end) as UTC instants, and its check date."""

    month: str
    start: datetime
    end: datetime
    first_day: date
    check_date: date  # the month's last day: the check looks at the two weeks before its end
    check_end: datetime  # the end of the check date (earlier for an interim check of a running month)

    @property
    def days(self) -> int:
        return (self.check_date - self.first_day).days + 1

    def checked_at(self, now: datetime) -> MonthWindow:
        """The window of a check made at `now`: the month's end, or `now` while the month runs."""
        if now >= self.end:
            return self
        if now <= self.start:
            raise InvalidInput(f"{self.month} has not begun at {now.isoformat()}")
        return replace(self, check_end=now, check_date=local_date(now))


def month_window(month: str) -> MonthWindow:
    match = MONTH.match(month or "")
    if not match:
        raise InvalidInput(f"month {month!r} must be written YYYY-MM, such as 2026-10")
    year, number = int(match[1]), int(match[2])
    first = date(year, number, 1)
    following = date(year + (number == 12), number % 12 + 1, 1)
    start = datetime(first.year, first.month, 1, tzinfo=SHANGHAI).astimezone(UTC)
    end = datetime(following.year, following.month, 1, tzinfo=SHANGHAI).astimezone(UTC)
    return MonthWindow(month, start, end, first, following - timedelta(days=1), end)


def previous_month(month: str, steps: int = 1) -> str:
    year, number = int(month[:4]), int(month[5:7])
    index = year * 12 + number - 1 - steps
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


SHANGHAI_OFFSET = timedelta(hours=8)


def local_date(at: datetime) -> date:
    """The Asia/Shanghai calendar date of an instant (UTC+8 all year: no DST there since 1991)."""
    if at.year < 1992:
        return at.astimezone(SHANGHAI).date()
    return (
        (at.astimezone(UTC) + SHANGHAI_OFFSET).date()
        if at.tzinfo is not UTC
        else (at + SHANGHAI_OFFSET).date()
    )


@dataclass
class AccountInputs:
    """What one account's score is computed from."""

    account: Any
    post_times: list[datetime] = field(default_factory=list)
    service_posts: int = 0
    metrics: list[tuple[datetime, int, int, int, int]] = field(default_factory=list)  # time, R, Z, L, RE
    findings: list[dict[str, Any]] = field(default_factory=list)
    last_post_before: datetime | None = None


@dataclass
class AssessSummary:
    month: str
    region: str | None
    scoring_version: str
    accounts: int = 0
    written: int = 0
    new: int = 0
    revised: int = 0
    unchanged: int = 0
    passed: int = 0
    failed: int = 0
    vetoed: int = 0
    as_of: datetime | None = None


Progress = Callable[[str], None]


def assess_month(
    *,
    session_factory: sessionmaker[Session],
    month: str,
    region: str | None = None,
    now: datetime,
    scoring: Scoring | None = None,
    progress: Progress | None = None,
) -> AssessSummary:
    """Assess every active account (in `region`) for `month`, reading inputs as of `now`.

    Writes a new revision only for accounts whose outcome differs from their current revision,
    so a rerun on unchanged inputs writes nothing.
    """
    if now.tzinfo is None:
        raise InvalidInput("the assessment time must be timezone-aware")
    scoring = scoring or load_scoring()
    # A month still running gets an interim check as of `now`; a rerun after its end revises it.
    window = month_window(month).checked_at(now)
    say = progress or (lambda message: None)
    summary = AssessSummary(month=month, region=region, scoring_version=scoring.version, as_of=now)
    try:
        _assess(session_factory, window, region, now, scoring, summary, say)
    except IntegrityError:
        # Two runs wrote the same next revision: the unique (account, month, revision) kept one.
        raise Conflict(f"another assessment of {month} was written meanwhile; run it again") from None
    log.info("assessed %s region=%s: %s", month, region, summary)
    return summary


def _assess(
    session_factory: sessionmaker[Session],
    window: MonthWindow,
    region: str | None,
    now: datetime,
    scoring: Scoring,
    summary: AssessSummary,
    say: Progress,
) -> None:
    month = window.month
    with session_factory.begin() as session:
        say("reading accounts, posts, metrics and findings")
        inputs = load_inputs(session=session, window=window, region=region, as_of=now, scoring=scoring)
        say(f"scoring {len(inputs)} accounts")
        outcomes = {
            account_id: score_account_month(item, window, scoring) for account_id, item in inputs.items()
        }
        say("comparing with the current revisions")
        current = store.current_assessments(session=session, month=month, region=region)
        rows = []
        for account_id, outcome in outcomes.items():
            summary.accounts += 1
            if outcome["passed"]:
                summary.passed += 1
            else:
                summary.failed += 1
            if outcome["veto_reasons"]:
                summary.vetoed += 1
            previous = current.get(account_id)
            if previous is not None and previous.digest == outcome["digest"]:
                summary.unchanged += 1
                continue
            changes = describe_changes(previous, outcome) if previous is not None else []
            rows.append(
                {
                    "account_id": account_id,
                    "month": month,
                    "revision": 1 if previous is None else previous.revision + 1,
                    "changes": changes,
                    "created_at": now,
                    **outcome,
                }
            )
            if previous is None:
                summary.new += 1
            else:
                summary.revised += 1
        say(f"writing {len(rows)} assessments")
        store.insert_assessments(session=session, rows=rows)
        summary.written = len(rows)


def load_inputs(
    *, session: Session, window: MonthWindow, region: str | None, as_of: datetime, scoring: Scoring
) -> dict[int, AccountInputs]:
    """Every active account's inputs for the month, read in a few set-based queries."""
    inputs = {
        row.id: AccountInputs(account=row)
        for row in store.list_assessed_accounts(
            session=session, region=region, created_before=window.check_end
        )
    }
    keywords = [str(k) for k in scoring.service.get("keywords", [])]
    pattern = re.compile("|".join(map(re.escape, keywords))) if keywords else None
    stored_metrics: dict[int, tuple[Any, ...]] = {}
    post_time: dict[int, tuple[int, datetime]] = {}
    posts = store.iter_month_posts(
        session=session,
        region=region,
        start=window.start,
        end=window.check_end,
        metrics_before=window.check_end,
    )
    for post_id, account_id, published_at, title, *metrics in posts:
        item = inputs.get(account_id)
        if item is None:
            continue
        at = published_at.replace(tzinfo=UTC)
        item.post_times.append(at)
        if pattern is not None and title and pattern.search(title):
            item.service_posts += 1
        post_time[post_id] = (account_id, at)
        # Metrics kept on the post itself stand for the month only if fetched before it ended.
        if metrics[0] is not None or metrics[3] is not None:
            stored_metrics[post_id] = tuple(metrics)
    history: dict[int, tuple[Any, ...]] = {}
    for post_id, *metrics in store.iter_metrics_as_of(
        session=session, region=region, start=window.start, end=window.end, as_of=window.check_end
    ):
        history[post_id] = tuple(metrics)
    for post_id, (account_id, published_at) in post_time.items():
        values = history.get(post_id) or stored_metrics.get(post_id)
        if values is None:
            continue
        reads, wows, likes, shares = (int(v or 0) for v in values)
        inputs[account_id].metrics.append((published_at, reads, wows, likes, shares))
    for account_id, at in store.last_post_before(session=session, region=region, before=window.start).items():
        if account_id in inputs:
            inputs[account_id].last_post_before = at

    findings = store.list_month_findings(
        session=session, region=region, start=window.start, end=window.end, as_of=as_of
    )
    ids = [row.id for row in findings]
    decisions = store.latest_decisions(session=session, finding_ids=ids, before=as_of)
    upheld = store.upheld_appeals(session=session, finding_ids=ids, before=as_of)
    threshold = scoring.auto_confirm_threshold
    for row in findings:
        item = inputs.get(row.account_id)
        if item is None:
            continue
        decision = decisions.get(row.id)
        confirmed = decision == "confirm" or (
            decision is None and threshold is not None and row.score >= threshold
        )
        item.findings.append(
            {
                "id": row.id,
                "post_id": row.post_id,
                "category": row.category,
                "score": row.score,
                "source": row.source,
                "model_version": row.model_version,
                "rules_version": row.rules_version,
                "confirmed": confirmed,
                "decision": decision,
                "appeal_upheld": row.id in upheld,
                "counts": confirmed and row.id not in upheld,
                "date": local_date(row.published_at or row.created_at).isoformat(),
                "title": row.title,
                "url": row.url,
                "excerpt": excerpt(row.text, row.spans),
            }
        )
    return inputs


def excerpt(text: str | None, spans: Any) -> str:
    """The evidence with some context, from the first span into the post's text."""
    if not text:
        return ""
    for span in spans or []:
        if isinstance(span, dict) and span.get("field", "text") == "text" and "start" in span:
            start = int(span["start"])
            end = int(span.get("end") or start)
            before = max(0, start - EXCERPT_CONTEXT)
            after = min(len(text), end + EXCERPT_CONTEXT)
            return ("…" if before else "") + text[before:after].strip() + ("…" if after < len(text) else "")
    return text[: EXCERPT_CONTEXT * 2].strip() + ("…" if len(text) > EXCERPT_CONTEXT * 2 else "")


def _rounded(value: float) -> float:
    return round(value + 0.0, 2)


def wci(metrics: list[tuple[datetime, int, int, int, int]], days: int, weights: dict[str, Any]) -> float:
    """A WCI-style influence index (see DOMAIN.md) from (time, reads, 在看, likes, shares) per post."""
    if not metrics:
        return 0.0
    factor = float(weights.get("engagement_factor", 10))
    w = [float(weights.get(k, 0)) for k in ("reads", "wows", "likes", "shares")]

    def part(values: list[int], divisor: float) -> float:
        r, z, likes, re_ = values
        divisor = max(divisor, 1.0)
        return (
            w[0] * math.log(r / divisor + 1)
            + w[1] * math.log(factor * z / divisor + 1)
            + w[2] * math.log(factor * likes / divisor + 1)
            + w[3] * math.log(factor * re_ / divisor + 1)
        )

    def figures(rows: list[tuple[datetime, int, int, int, int]]) -> list[list[int]]:
        return [[m[1] for m in rows], [m[2] for m in rows], [m[3] for m in rows], [m[4] for m in rows]]

    sums = [sum(column) for column in figures(metrics)]
    o_part = part(sums, days)
    a_part = part(sums, len(metrics))
    headlines: dict[date, tuple[datetime, int, int, int, int]] = {}
    for m in sorted(metrics):
        headlines.setdefault(local_date(m[0]), m)
    head = list(headlines.values())
    h_sums = [sum(column) for column in figures(head)]
    h_part = part(h_sums, len(head))
    p_part = part([max(column) for column in figures(metrics)], 1)
    combined = (
        float(weights.get("o", 0.6)) * o_part
        + float(weights.get("a", 0.2)) * a_part
        + float(weights.get("h", 0.1)) * h_part
        + float(weights.get("p", 0.1)) * p_part
    )
    return combined**2 * float(weights.get("scale", 12.0))


def longest_gap_days(times: list[datetime], window: MonthWindow) -> int:
    """Longest run of whole days in the month without a post (month start and end count as edges)."""
    days = sorted({local_date(t) for t in times})
    edges = [window.first_day - timedelta(days=1), *days, window.check_date + timedelta(days=1)]
    return max((b - a).days - 1 for a, b in pairwise(edges))


def score_account_month(item: AccountInputs, window: MonthWindow, scoring: Scoring) -> dict[str, Any]:
    """One account's outcome for the month: total, passed, vetoes, components, versions and digest."""
    account = item.account
    counted = [f for f in item.findings if f["counts"]]
    vetoes: list[dict[str, Any]] = []

    serious = scoring.veto["serious"]
    serious_ids = [
        f["id"]
        for f in counted
        if f["category"] in serious.get("categories", [])
        or any(rule in f["source"] for rule in serious.get("sources", []))
    ]
    if serious_ids:
        vetoes.append(
            {
                "code": "serious",
                "label": scoring.veto_label("serious"),
                "detail": f"经确认的严重问题 {len(serious_ids)} 条",
                "finding_ids": serious_ids,
            }
        )

    inactive_days = int(scoring.veto["inactive"].get("days", 14))
    since = window.check_end - timedelta(days=inactive_days)
    recent = [t for t in item.post_times if t >= since]
    inactive_ids = [f["id"] for f in counted if f["category"] == "inactive"]
    if not recent or inactive_ids:
        last = max(item.post_times, default=item.last_post_before)
        last_text = f"最近一次发布于 {local_date(last).isoformat()}" if last else "无发布记录"
        vetoes.append(
            {
                "code": "inactive",
                "label": scoring.veto_label("inactive"),
                "detail": f"检查日 {window.check_date.isoformat()} 前 {inactive_days} 天内无更新，{last_text}"
                if not recent
                else "经确认的长期未更新问题",
                "finding_ids": inactive_ids,
            }
        )

    if account.interaction_ok is False:
        vetoes.append(
            {
                "code": "interaction",
                "label": scoring.veto_label("interaction"),
                "detail": "登记信息显示账号无可用的互动功能（留言、评论或私信）",
                "finding_ids": [],
            }
        )

    compromised_ids = [
        f["id"]
        for f in counted
        if f["category"] in scoring.veto["compromised"].get("categories", ["compromised"])
    ]
    if compromised_ids:
        vetoes.append(
            {
                "code": "compromised",
                "label": scoring.veto_label("compromised"),
                "detail": f"经确认的账号被盗用问题 {len(compromised_ids)} 条",
                "finding_ids": compromised_ids,
            }
        )

    deductions: list[dict[str, Any]] = []
    update = scoring.update
    posts = len(item.post_times)
    missing = max(0, int(update["min_posts"]) - posts)
    if missing:
        points = min(missing * float(update["points_per_missing_post"]), float(update["missing_posts_cap"]))
        deductions.append(
            {
                "code": "update.frequency",
                "label": f"本月发布 {posts} 条，少于 {int(update['min_posts'])} 条",
                "points": _rounded(points),
                "category": "update",
                "finding_id": None,
            }
        )
    gap = longest_gap_days(item.post_times, window)
    over = max(0, gap - int(update["max_gap_days"]))
    if over:
        points = min(over * float(update.get("points_per_gap_day", 1)), float(update.get("gap_cap", 7)))
        deductions.append(
            {
                "code": "update.gap",
                "label": f"最长连续 {gap} 天未更新（超过 {int(update['max_gap_days'])} 天）",
                "points": _rounded(points),
                "category": "update",
                "finding_id": None,
            }
        )

    used: dict[str, float] = defaultdict(float)
    for finding in counted:
        rule = scoring.findings.get(finding["category"])
        if rule is None or rule.points <= 0:
            continue
        points = max(0.0, min(rule.points, rule.cap - used[finding["category"]]))
        used[finding["category"]] += points
        deductions.append(
            {
                "code": f"finding.{finding['category']}",
                "label": rule.label,
                "points": _rounded(points),
                "category": finding["category"],
                "finding_id": finding["id"],
                "capped": points < rule.points,
            }
        )

    service = scoring.service
    share = item.service_posts / posts if posts else 0.0
    if share < float(service.get("min_share", 0)):
        deductions.append(
            {
                "code": "service.share",
                "label": f"便民服务内容占比 {share:.0%}，低于 {float(service['min_share']):.0%}",
                "points": _rounded(float(service.get("low_share_points", 0))),
                "category": "service",
                "finding_id": None,
            }
        )

    filing = scoring.filing
    if not account.filing_number:
        deductions.append(
            {
                "code": "filing.number",
                "label": str(filing.get("missing_number_label", "未登记备案编号")),
                "points": _rounded(float(filing.get("missing_number_points", 0))),
                "category": "filing",
                "finding_id": None,
            }
        )
    if not (account.contact_name or account.contact_phone):
        deductions.append(
            {
                "code": "filing.contact",
                "label": str(filing.get("missing_contact_label", "未登记责任主体联系人")),
                "points": _rounded(float(filing.get("missing_contact_points", 0))),
                "category": "filing",
                "finding_id": None,
            }
        )
    deductions = [d for d in deductions if d["points"] > 0 or d.get("capped")]

    bonuses: list[dict[str, Any]] = []
    if posts and share >= float(service.get("bonus_share", 2)):
        bonuses.append(
            {
                "code": "service.share",
                "label": f"便民服务内容占比 {share:.0%}",
                "points": _rounded(float(service.get("bonus_points", 0))),
            }
        )
    index = wci(item.metrics, window.days, scoring.influence)
    tiers = sorted(scoring.influence.get("bonus", []), key=lambda t: float(t["min_wci"]))
    reached = [t for t in tiers if index >= float(t["min_wci"])]
    if reached:
        bonuses.append(
            {
                "code": "influence",
                "label": f"{scoring.influence.get('label', '传播力指数')} {index:.1f}",
                "points": _rounded(float(reached[-1]["points"])),
            }
        )

    deducted = sum(d["points"] for d in deductions)
    bonus = min(sum(b["points"] for b in bonuses), scoring.max_bonus)
    points = max(0.0, min(scoring.base_points - deducted + bonus, scoring.base_points + scoring.max_bonus))
    total = points
    if vetoes and scoring.vetoed_score is not None:
        total = min(points, scoring.vetoed_score)
    passed = not vetoes and points >= scoring.pass_mark

    considered = item.findings
    last_post = max(item.post_times, default=item.last_post_before)
    components = {
        "check_date": window.check_date.isoformat(),
        "points": _rounded(points),
        "deducted": _rounded(deducted),
        "bonus": _rounded(bonus),
        "deductions": deductions,
        "bonuses": bonuses,
        "update": {
            "posts": posts,
            "longest_gap_days": gap,
            "last_post": local_date(last_post).isoformat() if last_post else None,
        },
        "service": {"posts": item.service_posts, "share": round(share, 4)},
        "influence": {
            "wci": round(index, 2),
            "reads": sum(m[1] for m in item.metrics),
            "wows": sum(m[2] for m in item.metrics),
            "likes": sum(m[3] for m in item.metrics),
            "shares": sum(m[4] for m in item.metrics),
        },
        "findings": [
            {
                k: f[k]
                for k in (
                    "id",
                    "post_id",
                    "category",
                    "decision",
                    "counts",
                    "appeal_upheld",
                    "date",
                    "title",
                    "url",
                    "excerpt",
                )
            }
            for f in considered
        ],
    }
    outcome: dict[str, Any] = {
        "total": _rounded(total),
        "passed": passed,
        "veto_reasons": vetoes,
        "components": components,
        "scoring_version": scoring.version,
        "model_version": "+".join(sorted({f["model_version"] for f in considered}))[:255],
        "rules_version": "+".join(sorted({f["rules_version"] for f in considered}))[:255],
    }
    outcome["digest"] = hashlib.sha256(
        json.dumps(outcome, sort_keys=True, ensure_ascii=False, default=str).encode("utf-8")
    ).hexdigest()
    return outcome


CATEGORY_NAMES = {
    "marketing": "商业营销",
    "unverified": "未经核实信息",
    "harmful": "有害信息",
    "privacy": "泄露个人信息",
    "expression": "错别字或表述错误",
    "inactive": "长期未更新",
    "unfiled": "未按规定备案",
    "compromised": "账号被盗用",
}
DECISION_LABELS = {
    "confirm": "确认",
    "dismiss": "驳回",
    "escalate": "上报",
    "reopen": "重新打开",
    "supersede": "已失效",
    None: "未审核",
}


def _decision(decision: str | None) -> str:
    return DECISION_LABELS.get(decision, decision or "未审核")


def describe_changes(previous: Any, outcome: dict[str, Any]) -> list[dict[str, Any]]:
    """What differs from the previous revision, in words an office reads."""
    changes: list[dict[str, Any]] = []
    if previous.total != outcome["total"]:
        changes.append(
            {
                "field": "total",
                "before": previous.total,
                "after": outcome["total"],
                "note": f"得分由 {previous.total:g} 变为 {outcome['total']:g}",
            }
        )
    if previous.passed != outcome["passed"]:
        changes.append(
            {
                "field": "passed",
                "before": previous.passed,
                "after": outcome["passed"],
                "note": "由不合格变为合格" if outcome["passed"] else "由合格变为不合格",
            }
        )
    before_vetoes = {v["code"]: v for v in previous.veto_reasons}
    after_vetoes = {v["code"]: v for v in outcome["veto_reasons"]}
    for code in sorted(before_vetoes.keys() - after_vetoes.keys()):
        changes.append(
            {
                "field": "veto",
                "before": code,
                "after": None,
                "note": f"撤销单项否决：{before_vetoes[code]['label']}",
            }
        )
    for code in sorted(after_vetoes.keys() - before_vetoes.keys()):
        changes.append(
            {
                "field": "veto",
                "before": None,
                "after": code,
                "note": f"新增单项否决：{after_vetoes[code]['label']}",
            }
        )

    def keyed(items: list[dict[str, Any]]) -> dict[tuple[str, Any], dict[str, Any]]:
        return {(d["code"], d.get("finding_id")): d for d in items}

    before_d = keyed(previous.components.get("deductions", []))
    after_d = keyed(outcome["components"]["deductions"])
    for key in sorted(before_d.keys() - after_d.keys(), key=str):
        d = before_d[key]
        what = f"（发现 #{d['finding_id']}）" if d.get("finding_id") else ""
        changes.append(
            {
                "field": "deduction",
                "before": d,
                "after": None,
                "note": f"撤销扣分：{d['label']}{what} {d['points']:g} 分",
            }
        )
    for key in sorted(after_d.keys() - before_d.keys(), key=str):
        d = after_d[key]
        what = f"（发现 #{d['finding_id']}）" if d.get("finding_id") else ""
        changes.append(
            {
                "field": "deduction",
                "before": None,
                "after": d,
                "note": f"新增扣分：{d['label']}{what} {d['points']:g} 分",
            }
        )
    for key in sorted(before_d.keys() & after_d.keys(), key=str):
        if before_d[key]["points"] != after_d[key]["points"]:
            d = after_d[key]
            changes.append(
                {
                    "field": "deduction",
                    "before": before_d[key],
                    "after": d,
                    "note": f"扣分调整：{d['label']} {before_d[key]['points']:g} → {d['points']:g} 分",
                }
            )
    before_f = {f["id"]: f for f in previous.components.get("findings", [])}
    for f in outcome["components"]["findings"]:
        old = before_f.get(f["id"])
        if old is not None and old.get("appeal_upheld") != f["appeal_upheld"] and f["appeal_upheld"]:
            changes.append(
                {
                    "field": "appeal",
                    "before": None,
                    "after": f["id"],
                    "note": f"发现 #{f['id']} 申诉成立，不再计入",
                }
            )
        elif old is not None and old.get("decision") != f["decision"]:
            changes.append(
                {
                    "field": "review",
                    "before": old.get("decision"),
                    "after": f["decision"],
                    "note": f"发现 #{f['id']} 审核结论由{_decision(old.get('decision'))}"
                    f"变为{_decision(f['decision'])}",
                }
            )
        elif old is None:
            counted = "计入" if f["counts"] else "未计入"
            category = CATEGORY_NAMES.get(f["category"], f["category"])
            changes.append(
                {
                    "field": "finding",
                    "before": None,
                    "after": f["id"],
                    "note": f"新增发现 #{f['id']}（{category}，{counted}）",
                }
            )
    for label, path in (
        ("检查日", ("check_date",)),
        ("本月发布数", ("update", "posts")),
        ("传播力指数", ("influence", "wci")),
    ):
        before_value: Any = previous.components
        after_value: Any = outcome["components"]
        for name in path:
            before_value = before_value.get(name) if isinstance(before_value, dict) else None
            after_value = after_value.get(name) if isinstance(after_value, dict) else None
        if before_value != after_value:
            changes.append(
                {
                    "field": ".".join(path),
                    "before": before_value,
                    "after": after_value,
                    "note": f"{label}由 {before_value} 变为 {after_value}",
                }
            )
    if not changes:
        changes.append(
            {
                "field": "versions",
                "before": previous.scoring_version,
                "after": outcome["scoring_version"],
                "note": "评分依据或版本变化",
            }
        )
    return changes
