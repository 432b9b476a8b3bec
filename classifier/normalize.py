"""Text normalisation before rules and model, keeping a map back to offsets in the original text.

Steps, in order: NFKC (character by character, so the offset map stays exact), removal of inline
pinyin annotations (`網(wǎng)` → `網`), OpenCC Traditional → Simplified, whitespace folding. Every
step records, for each output character, the input position it came from; composing those gives
`Normalized.index`, so a span found in the normalised text highlights the right original text.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import opencc

__all__ = ["Normalized", "codepoints", "from_codepoints", "normalize", "normalize_many"]

_IntArray = np.ndarray


# Code point ranges where NFKC can change a character; scanning these once (about 80k code points,
# a few milliseconds) is cheaper than asking unicodedata about every character of every post.
_NFKC_RANGES = (
    (0x00A0, 0x33FF),
    (0xA640, 0xABFF),
    (0xF900, 0xFFFF),
    (0x10780, 0x107BF),
    (0x1D000, 0x1D7FF),
    (0x1E030, 0x1E08F),
    (0x1EE00, 0x1F2FF),
    (0x1FBF0, 0x1FBFF),
    (0x2F800, 0x2FA1F),
)
_N_CODEPOINTS = 0x110000


class _NfkcTables:
    """Per-code-point NFKC as numpy lookup tables (built on first use, shared by all threads).

    Looking characters up in an array is several times faster than str.translate or a regex.
    `length[cp]` is how many characters cp becomes (1 for nearly all), `first[cp]` the first of
    them, and `rest` holds the further characters of the few that expand (…, ㈱, ﬁ), starting
    at `rest_at[cp]`.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ready = False
        self.first = np.zeros(0, dtype=np.uint32)
        self.length = np.zeros(0, dtype=np.uint8)
        self.rest_at = np.zeros(0, dtype=np.int32)
        self.rest = np.zeros(0, dtype=np.uint32)
        self.first_bmp = np.zeros(0, dtype=np.uint16)
        self.length_bmp = np.zeros(0, dtype=np.uint8)

    def ensure(self) -> _NfkcTables:
        if self._ready:
            return self
        with self._lock:
            if not self._ready:
                first = np.arange(_N_CODEPOINTS, dtype=np.uint32)
                length = np.ones(_N_CODEPOINTS, dtype=np.uint8)
                rest_at = np.zeros(_N_CODEPOINTS, dtype=np.int32)
                rest: list[int] = [0]
                for lo, hi in _NFKC_RANGES:
                    for cp in range(lo, hi + 1):
                        char = chr(cp)
                        out = unicodedata.normalize("NFKC", char)
                        if out == char:
                            continue
                        first[cp] = ord(out[0])
                        length[cp] = len(out)
                        if len(out) > 1:
                            # rest_at points one before the 2nd character, so that the k-th
                            # character (k >= 1) is rest[rest_at + k].
                            rest_at[cp] = len(rest) - 1
                            rest.extend(ord(c) for c in out[1:])
                self.first, self.length, self.rest_at = first, length, rest_at
                self.rest = np.array(rest, dtype=np.uint32)
                # Small copies for the Basic Multilingual Plane: nearly every post stays in it,
                # and tables that fit the CPU cache make the lookups several times faster.
                self.first_bmp = first[:0x10000].astype(np.uint16)
                self.length_bmp = length[:0x10000].copy()
                self._ready = True
        return self


_NFKC = _NfkcTables()


class _ScriptTables:
    """Which characters OpenCC t2s changes, and which are whitespace (built on first use).

    OpenCC runs only on texts with at least one Traditional character: converting Simplified
    text gains nothing and its phrase rules occasionally rewrite correct Simplified words.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ready = False
        self.traditional = np.zeros(0, dtype=bool)
        self.space = np.zeros(0, dtype=bool)
        self.odd_space = np.zeros(0, dtype=bool)

    def ensure(self) -> _ScriptTables:
        if self._ready:
            return self
        with self._lock:
            if not self._ready:
                traditional = np.zeros(_N_CODEPOINTS, dtype=bool)
                converter = _t2s()
                for lo, hi in ((0x2E80, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x2FA1F)):
                    chars = [chr(cp) for cp in range(lo, hi + 1)]
                    # One call per range; newlines keep OpenCC's phrase rules from joining chars.
                    converted = converter.convert("\n".join(chars)).split("\n")
                    if len(converted) != len(chars):
                        converted = [converter.convert(c) for c in chars]
                    for cp, before, after in zip(range(lo, hi + 1), chars, converted, strict=True):
                        if before != after:
                            traditional[cp] = True
                space = np.zeros(_N_CODEPOINTS, dtype=bool)
                for cp in range(0x3000 + 1):
                    if chr(cp).isspace():
                        space[cp] = True
                zero_width = [ord(c) for c in _ZERO_WIDTH]
                space[zero_width] = True
                odd_space = space.copy()
                odd_space[[ord(" "), ord("\n")]] = False
                self.traditional, self.space, self.odd_space = traditional, space, odd_space
                self._ready = True
        return self


_SCRIPTS = _ScriptTables()


def codepoints(text: str) -> np.ndarray:
    """The text's code points as a uint32 array (a view on one UTF-32 encoding)."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def from_codepoints(cps: np.ndarray) -> str:
    return cps.astype(np.uint32, copy=False).tobytes().decode("utf-32-le", "surrogatepass")


# Tone-marked vowels (precomposed), plus combining tone marks for decomposed input.
_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ\u0300\u0301\u0304\u030c"
# Neutral-tone syllables carry no mark; accept only the few that annotate real text, so that a
# bracketed abbreviation such as `(ai)` or `(AI)` after a Chinese word is never removed.
_NEUTRAL = "de|le|me|men|ne|ma|ba|zi|zhe|guo|li|shang|tou|r"
# Starts with a literal "(" so the regex engine can skip ahead quickly; the character before
# it must be Chinese, which is checked on the few matches.
_PINYIN = re.compile(rf"\((?:[a-zü\u0308 ]*[{_TONED}][a-zü{_TONED} ]*|(?:{_NEUTRAL}))\)")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# Only what folding changes: runs of two or more, a lone whitespace that is not " " or "\n",
# zero-width characters. Lone spaces and newlines are left alone without a Python callback.
_SPACE = re.compile(r"[\s\u200b-\u200d\u2060\ufeff]{2,}|[^\S \n]|[\u200b-\u200d\u2060\ufeff]")
_ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff")
_SEGMENT = re.compile(r"[^\n。！？!?；;]*[\n。！？!?；;]?")

_converter_lock = threading.Lock()
_converters: dict[str, opencc.OpenCC] = {}


def _t2s() -> opencc.OpenCC:
    with _converter_lock:
        if "t2s" not in _converters:
            _converters["t2s"] = opencc.OpenCC("t2s")
        return _converters["t2s"]


@dataclass(frozen=True, slots=True)
class Normalized:
    """Normalised text and, for each of its characters, the original offset it came from."""

    original: str
    text: str
    # index[i] is the offset in `original` of normalised character i; None means identity.
    index: _IntArray | None

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """The original span covering normalised characters [start, end)."""
        n = len(self.text)
        start = max(0, min(start, n))
        end = max(start, min(end, n))
        if self.index is None:
            return start, end
        if start == n:
            return len(self.original), len(self.original)
        first = int(self.index[start])
        if end == start:
            return first, first
        last = int(self.index[end - 1])
        # The last normalised character may come from an original character that NFKC expanded
        # or from the first character of a folded whitespace run; cover that whole character.
        return first, last + 1


def _compose(index: _IntArray | None, source: _IntArray | None) -> _IntArray | None:
    if source is None:
        return index
    return source if index is None else index[source]


def _apply_nfkc(text: str, cps: np.ndarray | None = None) -> tuple[str, _IntArray | None]:
    out, source, _ = _nfkc(text, cps)
    return out, source


def _nfkc(text: str, cps: np.ndarray | None = None) -> tuple[str, _IntArray | None, np.ndarray]:
    """NFKC character by character: (text, offset map or None, the output's code points)."""
    if cps is None:
        cps = codepoints(text)
    stable = text.isascii() or unicodedata.is_normalized("NFKC", text)
    if stable and not ((cps >= 0xD800) & (cps <= 0xDFFF)).any():
        return text, None, cps
    tables = _NFKC.ensure()
    surrogate = (cps >= 0xD800) & (cps <= 0xDFFF)
    if surrogate.any():
        # Lone surrogates (badly decoded input) cannot be encoded for OpenCC; a same-length
        # replacement keeps every offset valid.
        cps = np.where(surrogate, 0xFFFD, cps).astype(np.uint32)
    if int(cps.max()) < 0x10000:
        mapped = tables.first_bmp[cps].astype(np.uint32)
        lengths = tables.length_bmp[cps]
    else:
        mapped = tables.first[cps]
        lengths = tables.length[cps]
    if (lengths == 1).all():
        return from_codepoints(mapped), None, mapped
    # Some characters become several: place each output character, all at once.
    counts = lengths.astype(np.int64)
    source = np.repeat(np.arange(len(cps), dtype=np.int64), counts)
    starts = np.cumsum(counts) - counts
    k = np.arange(len(source), dtype=np.int64) - starts[source]
    out = mapped[source]
    later = k > 0
    out[later] = tables.rest[tables.rest_at[cps[source[later]]] + k[later]]
    return from_codepoints(out), source, out


def _delete(text: str, spans: list[tuple[int, int]]) -> tuple[str, _IntArray]:
    keep = np.ones(len(text), dtype=bool)
    pieces = []
    last = 0
    for start, end in spans:
        keep[start:end] = False
        pieces.append(text[last:start])
        last = end
    pieces.append(text[last:])
    return "".join(pieces), np.flatnonzero(keep)


def _strip_pinyin(text: str) -> tuple[str, _IntArray | None]:
    if "(" not in text:
        return text, None
    spans = [m.span() for m in _PINYIN.finditer(text) if m.start() and _HAN.match(text, m.start() - 1)]
    if not spans:
        return text, None
    return _delete(text, spans)


def _to_simplified(text: str) -> tuple[str, _IntArray | None]:
    if text.isascii():
        return text, None
    converter = _t2s()
    out = converter.convert(text)
    if len(out) == len(text):
        return out, None
    # Rare: a phrase conversion changed the length. Convert sentence by sentence and fall back to
    # character by character where a sentence still changes length, so offsets stay exact.
    pieces: list[str] = []
    sources: list[_IntArray] = []
    for m in _SEGMENT.finditer(text):
        seg = m.group()
        if not seg:
            continue
        conv = converter.convert(seg)
        if len(conv) == len(seg):
            pieces.append(conv)
            sources.append(np.arange(m.start(), m.end(), dtype=np.int64))
            continue
        for offset, char in enumerate(seg, start=m.start()):
            c = converter.convert(char)
            pieces.append(c)
            sources.append(np.full(len(c), offset, dtype=np.int64))
    return "".join(pieces), np.concatenate(sources) if sources else np.zeros(0, dtype=np.int64)


def _fold_space(text: str) -> tuple[str, _IntArray | None]:
    edits: list[tuple[int, int, str]] = []
    for m in _SPACE.finditer(text):
        run = m.group()
        repl = "" if all(c in _ZERO_WIDTH for c in run) else "\n" if "\n" in run or "\r" in run else " "
        if run != repl:
            edits.append((m.start(), m.end(), repl))
    if not edits:
        return text, None
    pieces: list[str] = []
    sources: list[_IntArray] = []
    last = 0
    for start, end, repl in edits:
        pieces.append(text[last:start])
        sources.append(np.arange(last, start, dtype=np.int64))
        if repl:
            pieces.append(repl)
            # The folded character stands for the first non-zero-width character of the run.
            first = next(i for i in range(start, end) if text[i] not in _ZERO_WIDTH)
            sources.append(np.array([first], dtype=np.int64))
        last = end
    pieces.append(text[last:])
    sources.append(np.arange(last, len(text), dtype=np.int64))
    return "".join(pieces), np.concatenate(sources)


def normalize(text: str) -> Normalized:
    """Normalise `text` for rules and model; see the module docstring for the steps."""
    if not isinstance(text, str):
        raise TypeError(f"expected str, got {type(text).__name__}")
    if not text:
        return Normalized(original=text, text=text, index=None)
    current, index, cps = _nfkc(text)
    scripts = _SCRIPTS.ensure()
    if "(" in current:
        current, source = _strip_pinyin(current)
        index = _compose(index, source)
    if scripts.traditional[cps].any():
        current, source = _to_simplified(current)
        index = _compose(index, source)
    space = scripts.space[cps]
    if scripts.odd_space[cps].any() or (space[1:] & space[:-1]).any():
        current, source = _fold_space(current)
        index = _compose(index, source)
    return Normalized(original=text, text=current, index=index)


def normalize_many(texts: Sequence[str]) -> list[Normalized]:
    """`normalize` for a batch: NFKC and the pinyin pass run once over all texts joined by NUL,
    so numpy's per-call cost is paid per batch; the rarer steps (OpenCC, folding) run only on
    the texts that need them. Gives exactly what `normalize` gives text by text."""
    results: list[Normalized | None] = [None] * len(texts)
    joinable: list[int] = []
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"expected str, got {type(text).__name__}")
        if text and "\0" not in text:
            joinable.append(i)
        else:
            results[i] = normalize(text)
    if joinable:
        parts = [texts[i] for i in joinable]
        joined = "\0".join(parts)
        current, index, cps = _nfkc(joined)
        scripts = _SCRIPTS.ensure()
        separators = np.flatnonzero(cps == 0)
        # Which texts need OpenCC or whitespace folding, from where such characters sit.
        traditional = np.zeros(len(parts), dtype=bool)
        traditional[np.searchsorted(separators, np.flatnonzero(scripts.traditional[cps]))] = True
        space = scripts.space[cps]
        fold_at = np.flatnonzero(scripts.odd_space[cps])
        pairs = np.flatnonzero(space[1:] & space[:-1])
        fold = np.zeros(len(parts), dtype=bool)
        fold[np.searchsorted(separators, fold_at)] = True
        fold[np.searchsorted(separators, pairs)] = True
        if "(" in current:
            current, source = _strip_pinyin(current)
            index = _compose(index, source)
        pieces = current.split("\0")
        original_starts = np.cumsum([0] + [len(p) + 1 for p in parts[:-1]])
        position = 0
        for k, (i, piece) in enumerate(zip(joinable, pieces, strict=True)):
            local: _IntArray | None = None
            if index is not None:
                local = index[position : position + len(piece)] - original_starts[k]
                if len(piece) == len(parts[k]) and np.array_equal(local, np.arange(len(piece))):
                    local = None
            position += len(piece) + 1
            if traditional[k]:
                piece, source = _to_simplified(piece)
                local = _compose(local, source)
            if fold[k]:
                piece, source = _fold_space(piece)
                local = _compose(local, source)
            results[i] = Normalized(original=parts[k], text=piece, index=local)
    return [r for r in results if r is not None]
