"""Canonical text, tokenisation and the hashed TF-IDF features."""

from __future__ import annotations

import numpy as np
import pytest

from classifier.features import (
    HashingFeaturizer,
    canonicalize,
    canonicalize_many,
    reference_tokenize,
    tokenize,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("截至2月15日24时，比例32.4%", "截至0月0日0时，比例0%"),  # punctuated
        ("截至x月xx日xx时比例xxx", "截至0月0日0时比例0"),  # the same text as the masked data has it
        ("请拨打1xxxxxxxxxx或访问http://xxx.xxx", "请拨打0或访问httpurl"),
        ("详情见https://www.gov.cn/zhengce/1.html!", "详情见httpurl!"),
        ("Xbox max 3XL 价格", "xboxmax0xl价格"),
        ("表情😀与符号★不计入 ", "表情与符号不计入"),
        ("", ""),
    ],
)
def test_canonical_form(text: str, expected: str) -> None:
    assert canonicalize(text) == expected


def test_batch_and_single_agree() -> None:
    texts = ["第1条", "x月x日", "", "网址www.example.com/a", "ＡＢＣ"]
    assert canonicalize_many(texts) == [canonicalize(t) for t in texts]


@pytest.mark.parametrize(
    "text",
    ["自治区人民政府办公厅印发通知要求加强政务公众账号管理", "市卫健委提醒广大市民注意防范一氧化碳中毒"],
)
def test_rjieba_cuts_chinese_like_jieba(text: str) -> None:
    assert tokenize(text) == reference_tokenize(text)


def test_featurizer_is_deterministic_and_normalised() -> None:
    texts = [canonicalize(t) for t in ["加微信下单包邮", "市政府召开常务会议", "加微信下单包邮"]]
    fz = HashingFeaturizer(word_bits=12, char_bits=14, min_df=1).fit(texts)
    x = fz.transform(texts)
    assert x.shape == (3, fz.n_features)
    assert np.allclose(x[0].toarray(), x[2].toarray())
    # Each non-empty block has unit L2 norm, so a row has squared norm 2.
    assert np.allclose(x.multiply(x).sum(axis=1).A.ravel(), 2.0, atol=1e-5)
    again = HashingFeaturizer(word_bits=12, char_bits=14, min_df=1).fit(texts).transform(texts)
    assert (x != again).nnz == 0


def test_unseen_and_empty_texts_give_empty_rows() -> None:
    fz = HashingFeaturizer(word_bits=12, char_bits=14).fit(["甲乙丙", "甲乙丙", "丁戊"])
    x = fz.transform(["", "己庚辛"])
    assert x.nnz == 0


def test_documents_and_their_parts_are_featurised_together_as_apart() -> None:
    # Parts that end in punctuation: the segmenter cuts there, so sharing the work must give
    # exactly the rows that featurising each part alone gives.
    parts = [
        ["市政府召开常务会议，", "研究部署冬季安全生产工作。", "加微信下单包邮！"],
        [],
        ["各乡镇要开展隐患排查。", "请拨打0咨询。"],
    ]
    docs = ["".join(p) for p in parts]
    docs[1] = "关于做好防汛工作的通知"
    # A document whose parts do not join up to its text is featurised the other way.
    parts.append(["市政府召开会议。", "另一段文字。"])
    docs.append("完全不同的一段文字")
    flat = [p for ps in parts for p in ps]
    fz = HashingFeaturizer(word_bits=12, char_bits=14, min_df=1).fit(docs + flat)
    x_docs, x_parts = fz.transform_with_parts(docs, parts)
    assert (x_docs != fz.transform(docs)).nnz == 0
    assert x_parts.shape == (len(flat), fz.n_features)
    assert np.allclose(x_parts.toarray(), fz.transform(flat).toarray(), atol=1e-6)
