"""Normalisation: NFKC, pinyin annotations, Traditional → Simplified, whitespace, and the offset map."""

from __future__ import annotations

import random
import unicodedata

import pytest

from classifier.normalize import normalize


@pytest.mark.parametrize(
    ("original", "expected"),
    [
        ("網(wǎng)絡(luò)社會", "网络社会"),  # seeds 001, 003, 004
        ("發(fā)布時(shí)間", "发布时间"),
        ("内蒙古(nèi)", "内蒙古"),
        ("人工智能(AI)和(ai)", "人工智能(AI)和(ai)"),  # not pinyin: kept
        ("第(1)条", "第(1)条"),
        ("ｆｕｌｌ１２３，！", "full123,!"),  # NFKC
        ("㈱…", "(株)..."),  # NFKC expansions
        ("軟體與資訊", "软体与资讯"),  # OpenCC t2s
        ("a  b\t\tc", "a b c"),
        ("一\n\n\n二  \n 三", "一\n二\n三"),
        ("零\u200b宽\ufeff字", "零宽字"),
        ("", ""),
    ],
)
def test_normalized_text(original: str, expected: str) -> None:
    assert normalize(original).text == expected


@pytest.mark.parametrize(
    "original",
    [
        "內(nèi)蒙古出臺(tái)新規(guī)｜政務(wù)公眾賬號(hào)  管理……第１２３號",
        "㈱ﬁ…\u200b\n\n  end",
        "English text, with  two spaces and\ttabs.",
        "🙂😀 emoji 😀🙂 and ᠮᠣᠩᠭᠣᠯ script and བོད་ཡིག",
        "",
    ],
)
def test_every_normalised_span_maps_into_the_original(original: str) -> None:
    norm = normalize(original)
    rng = random.Random(0)
    for _ in range(200):
        if not norm.text:
            assert norm.to_original(0, 0) == (0, 0)
            break
        start = rng.randrange(len(norm.text))
        end = rng.randrange(start, len(norm.text)) + 1
        s, e = norm.to_original(start, end)
        assert 0 <= s <= e <= len(original)
        # What the span covers in the original normalises back to (a superset of) the span's text,
        # apart from folded whitespace.
        piece = normalize(original[s:e]).text.strip()
        assert norm.text[start:end].strip() in piece or piece in norm.text[start:end].strip()


def test_offsets_skip_removed_pinyin() -> None:
    original = "網(wǎng)絡(luò)诈骗"
    norm = normalize(original)
    start = norm.text.index("诈骗")
    s, e = norm.to_original(start, start + 2)
    assert original[s:e] == "诈骗"
    s, e = norm.to_original(0, 2)
    assert original[s:e] == "網(wǎng)絡"


def test_one_megabyte_text_is_fine() -> None:
    text = ("市政府召开常务会议，研究部署安全生产工作。網(wǎng)絡安全。" * 40_000)[: 1 << 20]
    norm = normalize(text)
    assert len(norm.text) < len(text)
    _, end = norm.to_original(len(norm.text) - 5, len(norm.text))
    assert end <= len(text)


def test_nfkc_matches_unicodedata_per_character() -> None:
    sample = "".join(chr(c) for c in range(0x2000, 0x2400)) + "ＡＢＣ１２３（）「」㍿"
    expected = "".join(unicodedata.normalize("NFKC", c) for c in sample)
    # Whitespace is folded afterwards, and t2s may change a few letters: compare without them.
    got = normalize(sample).text
    assert got.replace(" ", "") == normalize(expected).text.replace(" ", "")
