"""Near-misses of fixed phrases: one character replaced by a homophone or by a look-alike.

The rule set puts every near-miss into its one Aho-Corasick automaton, so a misspelt formulation
(不忘出心 for 不忘初心) is found in the same single pass as every other term; nothing here scans a
post. Homophones come from pypinyin's character readings, tone-insensitive, limited to common
characters (those of jieba's dictionary words): a typist's input method offers those. A variant
that reads as ordinary words (the replaced character forms a dictionary word with a neighbour:
乡村振兴 → 乡村镇兴 holds 村镇) is skipped, so that normal text does not fire.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = [
    "common_words",
    "fuzzy_readings",
    "homophones_of",
    "joins_a_word",
    "near_misses",
    "read_lookalikes",
    "read_phrases",
]

_HAN = re.compile(r"[\u4e00-\u9fff]")
# Numerals are not replaced: 四个意识 → 是个意识 would fire on 是个… in any text, and a typist
# rarely gets a numeral wrong.
_NEVER_REPLACED = frozenset("一二三四五六七八九十百千万两〇零")
# A dictionary word this frequent (jieba's counts) is an ordinary word: a variant that contains
# one across its replaced character is not reported.
_WORD_FREQ = 20
# Phrases of this many Chinese characters or more keep variants that read as words.
_ALWAYS_WRONG_FROM = 6
# Characters whose summed word frequency reaches this are "common": homophone candidates.
_CHAR_FREQ = 3000
# Given names use characters rarer than that (萍, 琳, 钰): for names the input method's pool of
# homophones is every character at least this frequent.
NAME_CHAR_FREQ = 100


def read_phrases(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def read_lookalikes(path: Path) -> list[tuple[str, ...]]:
    groups: list[tuple[str, ...]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            groups.append(tuple(line.split()))
    return groups


def _dictionary() -> Iterator[tuple[str, int]]:
    """jieba's dictionary: (word, frequency) pairs."""
    import jieba

    path = Path(jieba.__file__).resolve().parent / "dict.txt"
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            parts = line.split(" ")
            if len(parts) >= 2:
                yield parts[0], int(parts[1])


@lru_cache(maxsize=1)
def common_words() -> frozenset[str]:
    """Ordinary words (two to four characters, frequent in jieba's dictionary): the guard's list.

    Only these are kept in memory, not the whole dictionary with its counts.
    """
    return frozenset(w for w, count in _dictionary() if count >= _WORD_FREQ and 2 <= len(w) <= 4)


@lru_cache(maxsize=1)
def _char_frequencies() -> dict[str, int]:
    freq: dict[str, int] = defaultdict(int)
    for word, count in _dictionary():
        for ch in word:
            freq[ch] += count
    return freq


@lru_cache(maxsize=2)
def _homophones(min_freq: int = _CHAR_FREQ) -> tuple[dict[str, frozenset[str]], dict[str, frozenset[str]]]:
    """(reading → characters with it at least `min_freq` frequent, character → its readings),
    tones ignored."""
    from pypinyin import Style, pinyin

    by_reading: dict[str, set[str]] = defaultdict(set)
    readings: dict[str, frozenset[str]] = {}
    for ch, count in _char_frequencies().items():
        if count < min_freq or not _HAN.fullmatch(ch):
            continue
        found = frozenset(pinyin(ch, style=Style.NORMAL, heteronym=True)[0])
        readings[ch] = found
        for reading in found:
            by_reading[reading].add(ch)
    return {r: frozenset(c) for r, c in by_reading.items()}, readings


# Readings an input method confuses (模糊音): zh/z, ch/c, sh/s and l/n initials, in/ing,
# en/eng and an/ang finals. A typist who does not tell them apart picks 复心 for 复兴.
_FUZZY_INITIALS = (("zh", "z"), ("ch", "c"), ("sh", "s"), ("l", "n"))
_FUZZY_FINALS = (("ing", "in"), ("eng", "en"), ("ang", "an"))


def fuzzy_readings(reading: str) -> frozenset[str]:
    """`reading` and the readings a fuzzy input method confuses with it (xin → xing, sen, …)."""
    initials = {reading}
    for a, b in _FUZZY_INITIALS:
        if reading.startswith(a):
            initials.add(b + reading[len(a) :])
        elif reading.startswith(b) and not reading.startswith(a):
            initials.add(a + reading[len(b) :])
    found = set(initials)
    for r in initials:
        for a, b in _FUZZY_FINALS:
            if r.endswith(a):
                found.add(r[: -len(a)] + b)
            elif r.endswith(b):
                found.add(r + "g")
    return frozenset(found)


def homophones_of(ch: str) -> frozenset[str]:
    """Common characters sharing a reading with `ch` (tones ignored), `ch` itself excluded."""
    by_reading, readings = _homophones()
    if ch not in readings:
        from pypinyin import Style, pinyin

        found = frozenset(pinyin(ch, style=Style.NORMAL, heteronym=True)[0])
    else:
        found = readings[ch]
    return frozenset(c for r in found for c in by_reading.get(r, ()) if c != ch)


def _unknown_readings(chars: str) -> list[str]:
    return ["?"] * len(chars)


def joins_a_word(text: str, start: int, end: int, position: int) -> bool:
    """Whether the replaced character at the edge of a match forms a common word with the text
    next to it (各种 + 小微企业 is no misspelt 中小微企业)."""
    words = common_words()
    at = start + position
    if position == 0 and start > 0 and text[start - 1 : at + 1] in words:
        return True
    return at == end - 1 and end < len(text) and text[at : end + 1] in words


def _reads_as_words(variant: str, position: int, original: str, words: frozenset[str]) -> bool:
    """Whether a dictionary word of `variant` spans `position` (and is not in `original`)."""
    for length in (2, 3, 4):
        for start in range(max(0, position - length + 1), min(position, len(variant) - length) + 1):
            word = variant[start : start + length]
            if word in words and word not in original:
                return True
    return False


def near_misses(
    phrase: str,
    lookalikes: Iterable[tuple[str, ...]] = (),
    *,
    homophones: bool = True,
    min_han: int = 4,
    positions: Iterable[int] | None = None,
    fuzzy: bool = False,
    char_freq: int = _CHAR_FREQ,
) -> dict[str, tuple[int, str]]:
    """Variants of `phrase` with one character replaced: variant → (position, note "初→出").

    Only phrases with at least `min_han` Chinese characters get variants (shorter ones would
    collide with ordinary words); `positions` limits which characters may be replaced; `fuzzy`
    adds the readings a fuzzy input method confuses (zh/z, in/ing …, see fuzzy_readings);
    homophones are characters at least `char_freq` frequent (NAME_CHAR_FREQ for names).
    """
    return dict(
        _near_misses(
            phrase,
            tuple(tuple(g) for g in lookalikes),
            homophones,
            min_han,
            tuple(positions) if positions is not None else None,
            fuzzy,
            char_freq,
        )
    )


# Rule sets are loaded again and again (tests, each classify run): the variants of an unchanged
# phrase are computed once per process.
@lru_cache(maxsize=4096)
def _near_misses(
    phrase: str,
    lookalikes: tuple[tuple[str, ...], ...],
    homophones: bool,
    min_han: int,
    positions: tuple[int, ...] | None,
    fuzzy: bool = False,
    char_freq: int = _CHAR_FREQ,
) -> tuple[tuple[str, tuple[int, str]], ...]:
    han = len(_HAN.findall(phrase))
    if han < min_han:
        return ()
    alike: dict[str, set[str]] = defaultdict(set)
    for group in lookalikes:
        for ch in group:
            alike[ch].update(c for c in group if c != ch)
    by_reading, _ = _homophones(char_freq) if homophones else ({}, {})
    context_reading: list[str] = []
    if homophones:
        from pypinyin import Style, lazy_pinyin

        # A callable `errors` may return a list (one reading per character); the stubs say str.
        unknown: Any = _unknown_readings
        context_reading = lazy_pinyin(phrase, style=Style.NORMAL, errors=unknown)
    words = common_words()
    variants: dict[str, tuple[int, str]] = {}
    allowed = set(positions) if positions is not None else None
    for i, ch in enumerate(phrase):
        if not _HAN.fullmatch(ch) or ch in _NEVER_REPLACED or (allowed is not None and i not in allowed):
            continue
        candidates = set(alike.get(ch, ()))
        if homophones and i < len(context_reading):
            readings = fuzzy_readings(context_reading[i]) if fuzzy else (context_reading[i],)
            for reading in readings:
                candidates |= by_reading.get(reading, frozenset())
        candidates.discard(ch)
        for other in candidates:
            if other in _NEVER_REPLACED:
                continue
            variant = phrase[:i] + other + phrase[i + 1 :]
            # A long fixed phrase with one character replaced is never correct text, even where
            # the replaced character forms a word (中华人名共和国 holds 人名); a short one may be.
            if han < _ALWAYS_WRONG_FROM and _reads_as_words(variant, i, phrase, words):
                continue
            variants.setdefault(variant, (i, f"{ch}→{other}"))
    return tuple(variants.items())
