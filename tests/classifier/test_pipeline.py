"""The public API: classify / classify_many, findings, evidence spans in the original text."""

from __future__ import annotations

import pytest

import classifier
import classifier.pipeline
from classifier import Classifier, Finding

VALID_ID = "110101199003074514"


def test_public_api_shape(shipped: Classifier) -> None:
    findings = shipped.classify("正宗羊肉加微信下单，原价128元现价88元，满200包邮！")
    assert findings and isinstance(findings[0], Finding)
    top = findings[0]
    assert top.category == "marketing"
    assert 0.0 <= top.score <= 1.0
    assert top.model_version == shipped.model_version and top.rules_version == shipped.rules_version
    assert "mk.order_contact" in top.source
    data = top.to_dict()
    assert set(data) >= {"category", "score", "spans", "source", "model_version", "rules_version"}
    assert set(data["spans"][0]) == {"start", "end", "text", "source"}


def test_spans_point_into_the_original_text(shipped: Classifier) -> None:
    text = (
        "通知：\n\n  各位居民請加微信下單，\u200b優惠多多！身份證號" + VALID_ID + "，網(wǎng)傳消息不可信。"
    )
    findings = shipped.classify(text)
    assert {f.category for f in findings} >= {"marketing", "privacy"}
    for finding in findings:
        for span in finding.spans:
            assert text[span.start : span.end] == span.text
    privacy = next(f for f in findings if f.category == "privacy")
    assert any(s.text == VALID_ID for s in privacy.spans)


def test_title_spans_say_so(shipped: Classifier) -> None:
    findings = shipped.classify("正文没有问题，介绍本周天气情况。", title="加微信下单，全场包邮")
    marketing = next(f for f in findings if f.category == "marketing")
    title_spans = [s for s in marketing.spans if s.field == "title"]
    assert title_spans and title_spans[0].to_dict()["field"] == "title"
    assert "加微信下单" in title_spans[0].text


def test_model_catches_what_no_rule_names(shipped: Classifier) -> None:
    text = (
        "震惊！某地小学门口出现一伙人用迷药拐卖儿童，已经有十几个孩子失踪了，警察都不敢管，"
        "家里有孩子的一定看好，大家都要小心啊！！！"
    )
    unverified = [f for f in shipped.classify(text) if f.category == "unverified"]
    assert unverified and unverified[0].model_fired
    assert "model" in unverified[0].source
    assert all(text[s.start : s.end] == s.text for s in unverified[0].spans)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\t ",
        "The city government held a meeting on work safety on Monday.",
        "🎉🎉🎉 👍",
        "ᠮᠣᠩᠭᠣᠯ ᠪᠢᠴᠢᠭ ᠦᠨ ᠵᠢᠱᠢᠶ᠎ᠡ",  # Mongolian script
        "བོད་ཀྱི་ཡི་གེ་ནི་དཔེ་མཚོན་ཞིག་ཡིན།",  # Tibetan
        "\x00\x01 control characters \ud800 and a lone surrogate",
    ],
)
def test_unusual_input_is_handled(shipped: Classifier, text: str) -> None:
    findings = shipped.classify(text)
    assert isinstance(findings, list)
    assert not [f for f in findings if f.category in ("marketing", "unverified", "harmful")]


def test_one_megabyte_text(shipped: Classifier) -> None:
    body = "市政府召开常务会议，研究部署安全生产、森林防火和春耕生产等工作。" * 40_000
    text = body[: 1 << 20] + "加微信下单，全场包邮"
    findings = shipped.classify(text)
    marketing = [f for f in findings if f.category == "marketing"]
    # Rules read everything, including the end of a very long text.
    assert marketing and any(s.text == "加微信下单" for s in marketing[0].spans)


def test_classify_many_accepts_several_item_shapes(shipped: Classifier) -> None:
    items: list[classifier.pipeline.Item] = [
        "加微信下单，全场包邮",
        ("市政府召开常务会议。", "会议通知"),
        {"text": "网传明天停水，紧急扩散，转发给家人！", "title": None},
        {"text": ""},
    ]
    results = shipped.classify_many(items)
    assert len(results) == 4
    assert results[0][0].category == "marketing"
    assert results[1] == []
    assert results[2] and results[2][0].category == "unverified"
    assert results[3] == []
    assert results[0] == shipped.classify("加微信下单，全场包邮")


def test_findings_are_sorted_by_score(shipped: Classifier) -> None:
    text = "加微信下单，全场包邮。低保对象张三，身份证号" + VALID_ID + "。"
    scores = [f.score for f in shipped.classify(text)]
    assert scores == sorted(scores, reverse=True) and len(scores) >= 2


def test_load_with_explicit_paths(shipped: Classifier) -> None:
    again = classifier.load(classifier.resolve_model_dir(), rules=shipped.rules.directory)
    assert again.model_version == shipped.model_version and again.rules_version == shipped.rules_version
