"""What pages and API show of a finding: evidence highlighted in the original text, the reason in Chinese."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import Session

from store.models import Finding, PostVersion
from store.reviews import STATE_LABELS, QueueItem

CATEGORY_LABELS = {
    "marketing": "商业营销",
    "unverified": "未经核实信息",
    "harmful": "有害信息",
    "privacy": "个人信息泄露",
    "expression": "表述错误",
    "inactive": "长期未更新",
    "unfiled": "备案不全",
    "compromised": "疑似被盗号",
}
CATEGORY_REASONS = {
    "marketing": "含商业营销、广告或引流内容，与政务账号职能不符",
    "unverified": "含未经权威渠道核实的信息或传言",
    "harmful": "含色情、赌博、诈骗、暴力等有害信息",
    "privacy": "含未脱敏的身份证号、手机号或银行卡号",
    "expression": "含错别字或严重表述错误",
    "inactive": "账号长期未更新",
    "unfiled": "账号备案信息不完整",
    "compromised": "账号疑似被盗用（突发大量有害内容）",
}
RULE_FAMILY_REASONS = {
    "mk": "营销用语",
    "uv": "传言用语",
    "hf": "有害信息词库",
    "seo": "注入的垃圾推广内容",
    "pv": "个人信息格式",
    "ex": "表述错误规则",
    "ctx": "上下文规则",
}
PLATFORM_LABELS = {
    "wechat": "微信",
    "weibo": "微博",
    "toutiao": "头条",
    "douyin": "抖音",
    "website": "网站",
    "other": "其他",
}
POST_STATUS_LABELS = {
    "live": "正常",
    "edited": "已修改",
    "deleted": "已删除",
    "violation": "因违规被平台删除",
    "unavailable": "无法访问",
}


def safe_url(url: str | None) -> str | None:
    """Only http(s) links are rendered as links: a crawled `javascript:` or `data:` URL stays text.

    A prefix test rather than urlsplit (it is called for every row of an API page): the scheme is
    what precedes the first colon, and anything odd before it (a tab, a control character) leaves
    the URL as text.
    """
    if not url:
        return None
    url = url.strip()
    return url if url[:6].lower() == "https:" or url[:5].lower() == "http:" else None


@dataclass
class Segment:
    text: str
    mark: bool
    source: str = ""


def evidence_text(*, session: Session, finding: Finding) -> tuple[str, bool]:
    """The text the spans point into: the post version the finding was made on, if still stored.

    Returns the text and whether it is the post's current text.
    """
    post = finding.post
    version = finding.post_version
    if post is None:
        return "", False
    if version != post.version:
        stored = session.scalar(
            select(PostVersion.text).where(PostVersion.post_id == post.id, PostVersion.version == version)
        )
        if stored is not None:
            return stored, False
    return post.text or "", True


def segments(text: str, spans: list[dict[str, Any]]) -> list[Segment]:
    """Cut `text` into plain and highlighted pieces; spans that do not match the text are left out."""
    good = []
    for span in spans or []:
        if span.get("field", "text") != "text":
            continue
        try:
            start, end = int(span["start"]), int(span["end"])
        except (KeyError, TypeError, ValueError):
            continue
        if 0 <= start < end <= len(text) and (not span.get("text") or text[start:end] == span["text"]):
            good.append((start, end, str(span.get("source", ""))))
    good.sort()
    pieces: list[Segment] = []
    cursor = 0
    for start, end, source in good:
        if start < cursor:  # overlapping spans: extend the previous highlight
            if end > cursor and pieces:
                pieces[-1].text += text[cursor:end]
                cursor = end
            continue
        if start > cursor:
            pieces.append(Segment(text[cursor:start], False))
        pieces.append(Segment(text[start:end], True, source))
        cursor = end
    if cursor < len(text):
        pieces.append(Segment(text[cursor:], False))
    return pieces


def segments_html(pieces: list[Segment]) -> Markup:
    """The same markup as the `show` macro in _segments.html, escaped the same way.

    The queue page shows 50 excerpts: a macro call per row, or Markup.format per highlight (a
    formatter written in Python), cost more than escaping the pieces and joining strings.
    """
    parts = []
    for piece in pieces:
        if piece.mark:
            parts.append(f'<mark class="evidence" title="{escape(piece.source)}">{escape(piece.text)}</mark>')
        else:
            parts.append(escape(piece.text))
    return Markup("".join(parts))


@dataclass(frozen=True, slots=True)
class QueueRow:
    """One row of the queue page as the strings it shows (the template still escapes each).

    Attributes, not a dict, and no lookups left for the template: Jinja2 reads `row.x` as an
    attribute first (a dict's key only after a caught AttributeError) and each `a.b.c`, label
    lookup or filter is a call of its own, for 50 rows.
    """

    id: int
    version: int
    href: str
    score: str
    waiting: str
    category: str
    category_label: str
    account_name: str
    platform_label: str
    region_code: str
    title: str
    excerpt: Markup
    reason: str
    state_label: str
    claimed: bool


def queue_row(item: QueueItem, *, now: datetime, query: str, excerpt: Markup) -> QueueRow:
    return QueueRow(
        id=item.id,
        version=item.version,
        href=f"/findings/{item.id}?{query}",
        score=f"{item.score:.2f}",
        waiting=waiting(item.created_at, now),
        category=item.category,
        category_label=CATEGORY_LABELS.get(item.category, ""),
        account_name=item.account.name,
        platform_label=PLATFORM_LABELS.get(item.account.platform, ""),
        region_code=item.account.region_code,
        title=(item.post.title if item.post else "账号级线索") or "（无标题）",
        excerpt=excerpt,
        reason=reason_lines(item)[0],
        state_label=STATE_LABELS.get(item.state, ""),
        claimed=bool(item.claimed_by),
    )


def region_options(regions: Iterable[Sequence[Any]], selected: str) -> Markup:
    """The `<option>`s of the queue's region filter, built once per region list and selection."""
    return _region_options(tuple((code, name) for code, name in regions), selected)


@lru_cache(maxsize=256)
def _region_options(regions: tuple[tuple[str, str], ...], selected: str) -> Markup:
    # The key is the region list as read on this request, so a region added or renamed shows at once;
    # what is kept is only the escaping of some hundred names (a province's list) on every page.
    option = Markup('<option value="{0}" {1}>{2}（{0}）</option>')
    return Markup("").join(
        option.format(code, Markup("selected") if code == selected else "", name) for code, name in regions
    )


def reason_lines(finding: Finding | QueueItem) -> list[str]:
    """The reason in plain Chinese: the rules' descriptions, or the model's score and passage."""
    detail = finding.detail or {}
    lines = [CATEGORY_REASONS.get(finding.category, finding.category)]
    rules = [str(r) for r in detail.get("rules", [])]
    if rules:
        families = sorted({RULE_FAMILY_REASONS.get(r.split(".")[0], "规则") for r in rules})
        lines.append(f"命中规则：{'、'.join(families)}（{', '.join(rules)}）")
    probability = detail.get("model_probability")
    if probability is not None:
        fired = "，模型判定命中" if detail.get("model_fired") else ""
        lines.append(f"模型 {finding.model_version} 评分 {float(probability):.2f}{fired}")
    passages = [s.get("text") for s in finding.spans or [] if str(s.get("source", "")).startswith("model")]
    if passages:
        lines.append("模型依据的段落：" + "；".join(str(p) for p in passages[:3] if p))
    for note in detail.get("notes", []) or []:
        lines.append(str(note))
    return lines


def waiting(created_at: datetime, now: datetime) -> str:
    seconds = max(0, int((now - created_at).total_seconds()))
    if seconds < 3600:
        return f"{seconds // 60} 分钟"
    if seconds < 86400:
        return f"{seconds // 3600} 小时"
    return f"{seconds // 86400} 天"


def metrics(post: Any) -> dict[str, int]:
    if post is None:
        return {}
    labels = {"reads": "阅读", "likes": "点赞", "shares": "转发", "comments": "评论", "wows": "在看"}
    return {label: value for key, label in labels.items() if (value := getattr(post, key, None)) is not None}


def finding_json(finding: Finding | QueueItem, now: datetime) -> dict[str, Any]:
    post = finding.post
    return {
        "id": finding.id,
        "account_id": finding.account_id,
        "account_name": finding.account.name if finding.account is not None else None,
        "region_code": finding.account.region_code if finding.account is not None else None,
        "platform": finding.account.platform if finding.account is not None else None,
        "post_id": finding.post_id,
        "category": finding.category,
        "score": finding.score,
        "state": finding.state,
        "version": finding.version,
        "source": finding.source,
        "model_version": finding.model_version,
        "rules_version": finding.rules_version,
        "post_version": finding.post_version,
        "created_at": finding.created_at,
        "waiting_seconds": max(0, int((now - finding.created_at).total_seconds())),
        "claimed_by": finding.claimed_by,
        "spans": finding.spans or [],
        "reason": reason_lines(finding),
        "post": None
        if post is None
        else {
            "title": post.title,
            "url": safe_url(post.url),
            "published_at": post.published_at,
            "status": post.status,
            "metrics": {k: getattr(post, k) for k in ("reads", "likes", "shares", "comments", "wows")},
        },
    }
