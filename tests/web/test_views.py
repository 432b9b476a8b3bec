"""The queue page's pieces built in Python give the markup the templates gave, escaped the same way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from jinja2 import Environment, FileSystemLoader

from store.reviews import QueueAccount, QueueItem, QueuePost
from web.views import Segment, queue_row, region_options, safe_url, segments, segments_html

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parents[2] / "web" / "templates"), autoescape=True
)
HOSTILE = "<script>alert('x')</script> & \"quoted\""


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://mp.weixin.qq.com/s/1", "https://mp.weixin.qq.com/s/1"),
        ("  HTTP://example.cn/a  ", "HTTP://example.cn/a"),
        ("javascript:alert(1)", None),
        ("JavaScript:alert(1)", None),
        ("java\nscript:alert(1)", None),
        ("data:text/html,<script>", None),
        ("//evil.example/x", None),
        ("httpx://y", None),
        ("\x01http://x", None),
        ("", None),
        (None, None),
    ],
)
def test_only_http_links_are_links(url: str | None, expected: str | None) -> None:
    assert safe_url(url) == expected


def test_excerpt_markup_is_the_show_macros() -> None:
    text = f"开头{HOSTILE}加微信下单<b>结尾</b>"
    start = text.index("加微信")
    spans = [
        {"start": 0, "end": 2, "text": "开头", "source": 'mk."x"<y>'},
        {"start": start, "end": start + 5, "text": "加微信下单", "source": "mk.order_contact"},
    ]
    pieces = segments(text, spans)
    macro = TEMPLATES.from_string('{% import "_segments.html" as seg %}{{ seg.show(pieces) }}')
    assert str(segments_html(pieces)) == macro.render(pieces=pieces)
    assert "<script>" not in segments_html(pieces)
    assert str(segments_html([Segment("<i>", False)])) == "&lt;i&gt;"


def test_region_options_are_the_template_loops() -> None:
    loop = TEMPLATES.from_string(
        '{% for r in regions %}<option value="{{ r[0] }}" {% if selected == r[0] %}selected{% endif %}>'
        "{{ r[1] }}（{{ r[0] }}）</option>{% endfor %}"
    )
    regions = [("150000", "内蒙古自治区"), ("150102", HOSTILE), ('15"03', "<b>")]
    for selected in ("", "150102", '15"03', "999999"):
        assert str(region_options(regions, selected)) == loop.render(regions=regions, selected=selected)
    # Read afresh on every page: a renamed region shows at once, though the markup is kept.
    renamed = [("150000", "内蒙古"), *regions[1:]]
    assert "内蒙古（150000）" in region_options(renamed, "")
    assert "内蒙古自治区" not in region_options(renamed, "")


def _item(**changes: object) -> QueueItem:
    values: dict[str, object] = {
        "id": 7,
        "account_id": 3,
        "post_id": 9,
        "category": "marketing",
        "score": 0.8765,
        "spans": [],
        "source": "rules",
        "detail": {"rules": ["mk.order_contact"]},
        "model_version": "m",
        "rules_version": "r",
        "state": "open",
        "created_at": datetime(2026, 11, 20, 8, 0, tzinfo=UTC),
        "version": 2,
        "post_version": 1,
        "claimed_by": None,
        "account": QueueAccount(name=HOSTILE, platform="wechat", region_code="150102"),
        "post": QueuePost(
            title="标题",
            url=None,
            text="",
            published_at=None,
            status="live",
            reads=None,
            likes=None,
            shares=None,
            comments=None,
            wows=None,
        ),
    }
    values.update(changes)
    return QueueItem(**values)  # type: ignore[arg-type]


def test_a_queue_row_shows_what_the_template_computed() -> None:
    now = datetime(2026, 11, 20, 10, 30, tzinfo=UTC)
    row = queue_row(_item(), now=now, query="state=open&region=150102", excerpt=segments_html([]))
    assert (row.href, row.score, row.waiting) == ("/findings/7?state=open&region=150102", "0.88", "2 小时")
    assert (row.category_label, row.platform_label, row.state_label) == ("商业营销", "微信", "待审核")
    assert (row.title, row.account_name, row.claimed) == ("标题", HOSTILE, False)
    assert row.reason == "含商业营销、广告或引流内容，与政务账号职能不符"
    account_level = queue_row(
        _item(post=None, claimed_by=5, category="unknown", created_at=now - timedelta(minutes=5)),
        now=now,
        query="",
        excerpt=segments_html([]),
    )
    assert (account_level.title, account_level.claimed, account_level.category_label) == (
        "账号级线索",
        True,
        "",
    )
    untitled = _item(post=QueuePost(None, None, "", None, "live", None, None, None, None, None))
    assert queue_row(untitled, now=now, query="", excerpt=segments_html([])).title == "（无标题）"
