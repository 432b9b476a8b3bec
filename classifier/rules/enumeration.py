"""Fixed enumerations with one item replaced (data: enumerations.toml).

自由、平等、公正、法制 (法治), 政治意识、大局意识、核心意识、看齐思想 (看齐意识): a list whose items
all match the fixed enumeration in order except one. The rule set's automaton reports where the
items occur; only where two or more different items of one enumeration stand close together is
the sentence split into list segments and compared with the enumeration.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

__all__ = ["EnumerationFinding", "EnumerationTable"]

# What separates list items; quotes around items (“富强”“民主”) separate them too.
_SEPARATORS = re.compile(r"[、，,；;：:\s“”\"‘’'《》〈〉()（）]+")
_SENTENCE_END = re.compile(r"[。！？!?\n]")
# Joins the last item to the list (核心意识和看齐意识).
_CONJUNCTION = re.compile(r"以及|和|与|及")
_LIST_JOIN = re.compile(r"[、“”\"‘’'《》和与及]")
_REACH = 40  # characters between two items' occurrences for them to be one list


@dataclass(frozen=True, slots=True)
class EnumerationFinding:
    start: int
    end: int
    note: str


@dataclass(frozen=True, slots=True)
class _Enumeration:
    name: str
    items: tuple[tuple[str, ...], ...]  # accepted forms of each item


class EnumerationTable:
    def __init__(self, data: dict[str, Any], normalise: Any = str) -> None:
        self.weight = float(data.get("weight", 0.8))
        self.enumerations: list[_Enumeration] = []
        for entry in data.get("enumeration", []):
            items = tuple(
                tuple(normalise(form) for form in str(item).split("|") if form.strip())
                for item in entry["items"]
            )
            if len(items) < 3:
                raise ValueError(f"enumeration {entry['name']}: fewer than three items")
            self.enumerations.append(_Enumeration(str(entry["name"]), items))

    def anchors(self) -> list[tuple[str, tuple[int, int]]]:
        """(item form, (enumeration, item)) pairs for the rule set's automaton."""
        return [
            (form, (e, i))
            for e, enumeration in enumerate(self.enumerations)
            for i, forms in enumerate(enumeration.items)
            for form in forms
        ]

    def check(self, text: str, found: list[tuple[int, int, int, int]]) -> list[EnumerationFinding]:
        """Findings for the automaton's hits `found`: (enumeration, item, start, end) each."""
        by_enumeration: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
        for e, i, start, end in found:
            by_enumeration[e].append((start, end, i))
        results: dict[tuple[int, int], EnumerationFinding] = {}
        for e, hits in by_enumeration.items():
            enumeration = self.enumerations[e]
            hits.sort()
            cluster: list[tuple[int, int, int]] = []
            for hit in [*hits, (len(text) + 10 * _REACH, 0, -1)]:
                if cluster and hit[0] - cluster[-1][1] > _REACH:
                    if len({i for _, _, i in cluster}) >= 2:
                        for finding in self._compare(text, enumeration, cluster[0][0], cluster[-1][1]):
                            results.setdefault((finding.start, finding.end), finding)
                    cluster = []
                cluster.append(hit)
        return list(results.values())

    def _compare(
        self, text: str, enumeration: _Enumeration, start: int, end: int
    ) -> list[EnumerationFinding]:
        """Compare the list segments around [start, end) with the enumeration."""
        longest = max(len(f) for forms in enumeration.items for f in forms)
        lo, hi = max(0, start - longest - 12), min(len(text), end + longest + 12)
        for m in _SENTENCE_END.finditer(text, lo, start):
            lo = m.end()
        stop = _SENTENCE_END.search(text, end, hi)
        if stop is not None:
            hi = stop.start()
        segments, joins = self._segments(text, lo, hi, enumeration)
        k = len(enumeration.items)
        findings: list[EnumerationFinding] = []
        for p in range(len(segments) - k + 1):
            window = segments[p : p + k]
            odd = [j for j, (s, e) in enumerate(window) if not _matches(text[s:e], enumeration.items[j])]
            if len(odd) != 1:
                continue
            j = odd[0]
            s, e = window[j]
            # At either end, the odd segment must be joined as a list item (、, 和, quotes), not
            # start a new clause after a comma.
            if j == 0 and not _LIST_JOIN.search(joins[p + 1]):
                continue
            if j == k - 1 and not _LIST_JOIN.search(joins[p + k - 1]):
                continue
            segment = text[s:e]
            if any(_matches(segment, forms) for forms in enumeration.items):
                continue  # an item out of order or repeated, not a replaced one
            expected = enumeration.items[j]
            size = max(len(f) for f in expected)
            trimmed = j in (0, k - 1) and len(segment) > size + 1
            if trimmed and j == 0:
                s = e - size
            elif trimmed:
                e = s + size
            elif len(segment) > size + 2:
                continue  # a clause, not a list item
            replaced = text[s:e]
            # A long segment at either end is judged by its part next to the list, which must
            # recall the item (法制… for 法治): else the list has simply ended there.
            if trimmed and not set(replaced) & self._distinctive(enumeration, j):
                continue
            findings.append(
                EnumerationFinding(
                    window[0][0], window[-1][1], f"{replaced}→{expected[0]} ({enumeration.name})"
                )
            )
        return findings

    @staticmethod
    def _distinctive(enumeration: _Enumeration, j: int) -> set[str]:
        """Characters of item j not shared by every item (建设 in all of 五位一体's items)."""
        common = set.intersection(*(set("".join(forms)) for forms in enumeration.items))
        return set("".join(enumeration.items[j])) - common

    @staticmethod
    def _segments(
        text: str, lo: int, hi: int, enumeration: _Enumeration
    ) -> tuple[list[tuple[int, int]], list[str]]:
        """List segments in [lo, hi) and, for each, what joins it to the one before."""
        segments: list[tuple[int, int]] = []
        joins: list[str] = []
        position, join = lo, ""
        for m in [*_SEPARATORS.finditer(text, lo, hi), None]:
            seg_end = m.start() if m is not None else hi
            if seg_end > position:
                parts = _split_conjunction(text, position, seg_end, enumeration)
                segments.extend(parts)
                joins.append(join)
                joins.extend("和" for _ in parts[1:])
            if m is not None:
                position, join = m.end(), m.group()
        return segments, joins


def _matches(segment: str, forms: tuple[str, ...]) -> bool:
    """A segment holds the item (坚定道路自信) or abbreviates it (道路 for 道路自信)."""
    return any(form in segment or (len(segment) >= 2 and form.startswith(segment)) for form in forms)


def _split_conjunction(text: str, start: int, end: int, enumeration: _Enumeration) -> list[tuple[int, int]]:
    """核心意识和看齐意识 → two segments, where a part is an item; 和谐 stays whole."""
    segment = text[start:end]
    if any(_matches(segment, forms) and segment in forms for forms in enumeration.items):
        return [(start, end)]
    for m in _CONJUNCTION.finditer(segment):
        left, right = segment[: m.start()], segment[m.end() :]
        if len(left) < 2 or len(right) < 2:
            continue
        if any(_matches(left, forms) or _matches(right, forms) for forms in enumeration.items):
            return [(start, start + m.start()), (start + m.end(), end)]
    return [(start, end)]
