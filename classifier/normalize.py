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
from dataclasses import dataclass

import numpy as np
import opencc

__all__ = ["Normalized", "codepoints", "from_codepoints", "html_to_text", "normalize"]

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
_SURROGATE = re.compile("[\ud800-\udfff]")
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


def _apply_nfkc(text: str) -> tuple[str, _IntArray | None]:
    if text.isascii() or unicodedata.is_normalized("NFKC", text):
        return text, None
    tables = _NFKC.ensure()
    cps = codepoints(text)
    if int(cps.max()) < 0x10000:
        mapped = tables.first_bmp[cps].astype(np.uint32)
        lengths = tables.length_bmp[cps]
    else:
        mapped = tables.first[cps]
        lengths = tables.length[cps]
    if (lengths == 1).all():
        return from_codepoints(mapped), None
    # Some characters become several: place each output character, all at once.
    counts = lengths.astype(np.int64)
    source = np.repeat(np.arange(len(cps), dtype=np.int64), counts)
    starts = np.cumsum(counts) - counts
    k = np.arange(len(source), dtype=np.int64) - starts[source]
    out = mapped[source]
    later = k > 0
    out[later] = tables.rest[tables.rest_at[cps[source[later]]] + k[later]]
    return from_codepoints(out), source


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


# Substrings whose absence proves folding has nothing to do; `in` is a fast C search, far cheaper
# than running the regex over every character.
_SPACE_HINTS = (
    "  ",
    "\n\n",
    " \n",
    "\n ",
    "\t",
    "\r",
    "\x0b",
    "\x0c",
    "\x1c",
    "\x1d",
    "\x1e",
    "\x1f",
    "\x85",
    "\u1680",
    "\u2028",
    "\u2029",
    "\u200b",
    "\u200c",
    "\u200d",
    "\u2060",
    "\ufeff",
)


def _fold_space(text: str) -> tuple[str, _IntArray | None]:
    if not any(hint in text for hint in _SPACE_HINTS):
        return text, None
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
    current = text
    if _SURROGATE.search(text):
        # Lone surrogates (badly decoded input) cannot be encoded for OpenCC; a same-length
        # replacement keeps every offset valid.
        current = _SURROGATE.sub("\ufffd", text)
    index: _IntArray | None = None
    for step in (_apply_nfkc, _strip_pinyin, _to_simplified, _fold_space):
        current, source = step(current)
        index = _compose(index, source)
    return Normalized(original=text, text=current, index=index)


_BLOCK_TAGS = frozenset(
    {
        *("p", "div", "br", "li", "ul", "ol", "tr", "table", "section", "article", "header", "footer"),
        *("h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "hr", "dd", "dt", "dl"),
        *("figure", "figcaption", "td", "th"),
    }
)


def html_to_text(html: str) -> str:
    """Visible text of an HTML fragment, one block per line, with link targets kept.

    A link is written as `text (href)`: a link to a shop is evidence of marketing even when its
    anchor text says nothing, so the target must survive the conversion.
    """
    import lxml.html

    if not html.strip():
        return ""
    root = lxml.html.fragment_fromstring(html, create_parent="div")
    for bad in root.xpath("//script|//style|//noscript|//template"):
        bad.drop_tree()
    parts: list[str] = []

    def walk(el: lxml.html.HtmlElement) -> None:
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag in _BLOCK_TAGS:
            parts.append("\n")
        if el.text and tag:
            parts.append(el.text)
        for child in el:
            walk(child)
        if tag == "a":
            href = (el.get("href") or "").strip()
            label = el.text_content().strip()
            if href and not href.startswith(("#", "javascript:")) and href != label:
                parts.append(f" ({href})")
        if tag in _BLOCK_TAGS:
            parts.append("\n")
        if el.tail:
            parts.append(el.tail)

    walk(root)
    text = "".join(parts)
    text = re.sub(r"[ \t\r\f\v]*\n[\s]*", "\n", text)
    return text.strip()
