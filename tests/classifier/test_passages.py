"""Passages: how a long post is cut, and that the pipeline points at the passage that fired."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from classifier.passages import MAX_PASSAGE_CHARS, MAX_PASSAGES, split_passages
from classifier.pipeline import best_passages

NOTICE = (
    "关于做好冬季安全生产工作的通知\n"
    "各乡镇、各部门：\n"
    "为切实做好冬季安全生产工作，有效防范各类事故发生，现将有关事项通知如下。\n"
    "一、加强隐患排查治理。各单位要组织力量对辖区内企业、场所开展全面排查，建立台账，限期整改。\n"
    "二、压实安全责任。严格落实企业主体责任和部门监管责任，主要负责人要亲自部署、亲自检查。\n"
    "特此通知。"
)


def texts(text: str) -> list[str]:
    return [text[s:e] for s, e in split_passages(text)]


def test_a_one_paragraph_post_is_one_passage() -> None:
    assert split_passages("今天白天多云转晴，气温零下八度到三度，请市民注意保暖。") == []
    assert split_passages("") == []


def test_paragraphs_are_passages_and_short_lines_join_the_next() -> None:
    parts = texts(NOTICE)
    # The title and the salutation are too short alone: they open the first passage.
    assert parts[0].startswith("关于做好冬季安全生产工作的通知\n各乡镇、各部门：\n为切实")
    assert parts[1].startswith("一、加强隐患排查治理")
    # The closing line joins the passage before it.
    assert parts[-1].endswith("亲自检查。\n特此通知。")
    assert "".join(parts).replace("\n", "") == NOTICE.replace("\n", "")


def test_offsets_are_exact_and_stripped() -> None:
    text = (
        "  第一段内容足够长，说明本次会议的主要议程和参会人员。  \n\n"
        "   第二段内容同样足够长，介绍下一步的工作安排和要求。"
    )
    for start, end in split_passages(text):
        assert text[start:end] == text[start:end].strip()
        assert text[start:end]


def test_a_long_paragraph_is_cut_into_sentence_windows() -> None:
    sentence = "各地各部门要认真贯彻落实会议精神，结合实际细化工作措施，确保各项任务落地见效。"
    text = sentence * 20
    spans = split_passages(text)
    assert len(spans) >= 2
    assert all(e - s <= MAX_PASSAGE_CHARS for s, e in spans)
    # Windows hold whole sentences and cover the paragraph without a gap.
    assert all(text[s:e].endswith("。") for s, e in spans)
    assert spans[0][0] == 0 and spans[-1][1] == len(text)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))


def test_text_after_the_last_full_stop_stays_in_the_last_window() -> None:
    text = "各单位要高度重视安全生产工作，层层压实责任，确保不发生较大事故。" * 10 + "联系人张某某"
    assert text[split_passages(text)[-1][0] :].endswith("联系人张某某")


def test_a_very_long_post_has_a_bounded_number_of_passages() -> None:
    text = "\n".join(f"第{i}段：本段介绍辖区第{i}项重点工作的推进情况和下一步安排。" for i in range(200))
    spans = split_passages(text)
    assert len(spans) == MAX_PASSAGES
    assert spans[-1][1] == len(text)


def test_best_passages_takes_each_posts_strongest() -> None:
    proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    owners = np.array([0, 0, 2, 2])
    best, where = best_passages(proba, owners, 3)
    assert best.tolist() == [[0.9, 0.8], [0.0, 0.0], [0.6, 0.7]]
    assert where.tolist() == [[0, 1], [-1, -1], [0, 1]]


@pytest.mark.parametrize("position", ["end", "middle"])
def test_a_marketing_passage_in_an_official_notice_is_the_evidence(shipped, position: str) -> None:
    ad = "另外，本周末春蕾培训学校推出中考冲刺班，早鸟价仅需998元，扫码报名立减200元，名额有限，欲报从速！"
    paragraphs = NOTICE.split("\n")
    at = len(paragraphs) - 1 if position == "end" else 3
    text = "\n".join([*paragraphs[:at], ad, *paragraphs[at:]])
    findings = shipped.classify(text)
    assert findings and findings[0].category == "marketing"
    assert any(ad in span.text or span.text in ad for span in findings[0].spans)
    assert not shipped.classify(NOTICE)
