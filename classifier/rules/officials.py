"""Local officials named with their titles: one person given two offices that exclude each other,
and one name written two ways (data: the `[officials]` table of expression.toml).

县委书记王海平 … 王海平县长: a county's Party secretary is not its county head. 县长王海平 …
王海萍县长 or 王海萍指出: the same official's name with one character of the given name replaced by
a homophone or a look-alike. Titles are recognised before the name (县长王海平) and after it
(王海平县长); a name ends where a title, 同志, punctuation or a verb such as 主持 / 指出 follows.
The national leaders have their own checks (leader titles, name variants); these run only on
posts where a local title stands next to a name, found with the rule set's automaton.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

__all__ = ["ANCHORS", "OfficialFinding", "OfficialsTable"]

_HAN = "\u4e00-\u9fff"
# Characters that end organs' names (高新区, 经开区管委会), never a given name in these checks.
_NOT_A_NAME = re.compile(r"[区县市镇乡村省州局委院校所部厅办站队组会司处科团旗盟街社中]")


@dataclass(frozen=True, slots=True)
class OfficialFinding:
    start: int
    end: int
    note: str


@dataclass(frozen=True, slots=True)
class _Mention:
    name: str
    title: str
    kind: str | None  # which office, for the exclusion check (None: not judged)
    start: int
    end: int


# Where these occur the post is checked (the rule set's automaton reports them). Every title in
# `[officials.titles]` contains one: the regexes are tried only just before them.
ANCHORS = ("书记", "省长", "市长", "县长", "区长", "州长", "旗长", "镇长", "乡长", "主任", "主席")
_ANCHOR = re.compile("|".join(ANCHORS))


class OfficialsTable:
    def __init__(self, data: dict[str, Any], lookalikes: Iterable[tuple[str, ...]]) -> None:
        self.weight = float(data.get("weight", 0.8))
        self.surnames = str(data["surnames"])
        # kind → regular expression of the titles of that office, e.g. gov_head → 县长|市长…
        self.kinds: dict[str, str] = dict(data["titles"])
        self.excluding = {(str(a), str(b)) for a, b in data.get("pairs", {}).get("excluding", [])}
        before_title = data.get("not_before_title", "(?!)")
        after_name = str(data["after_name"])
        titles = "|".join(f"(?P<{kind}>{pattern})" for kind, pattern in self.kinds.items())
        name = rf"[{self.surnames}][{_HAN}]{{1,2}}?"
        boundary = rf"(?=(?:同志)?(?:{after_name})|[、，,。；;：:\s（(”）)]|$)"
        self._title_then_name = re.compile(rf"(?:{titles})(?P<name>{name}){boundary}")
        # A name then its title: the name must start after punctuation or a joining word.
        self._name_then_title = re.compile(
            rf"(?:(?<=[、，,。；;：:\s“”（()由和与及同向对请])|^)(?P<name>[{self.surnames}][{_HAN}]{{1,2}})"
            rf"(?:{titles})"
        )
        # A mention starts at most this far before an anchor: the longest title, then a name.
        self._reach = int(min(sre_parse.parse(titles).getwidth()[1], 64)) + 3
        self._not_before_title = re.compile(f"(?:{before_title})$")
        self._after_name = re.compile(rf"(?:同志)?(?:{after_name})|[、，,。；;：:\s（(”）)]|(?:{titles})|$")
        self._alike: dict[str, set[str]] = {}
        for group in lookalikes:
            for ch in group:
                self._alike.setdefault(ch, set()).update(c for c in group if c != ch)

    def _mentions(self, text: str) -> list[_Mention]:
        found: dict[tuple[int, int], _Mention] = {}
        # Scanning the whole post with these regexes was most of the rules' time: they are tried
        # only at the positions a mention can start, near an anchor, in the order finditer would.
        starts = sorted(
            {p for a in _ANCHOR.finditer(text) for p in range(max(0, a.start() - self._reach), a.start() + 1)}
        )
        for regex in (self._title_then_name, self._name_then_title):
            for m in _matches_from(regex, text, starts):
                kind = next((k for k in self.kinds if m.group(k)), None)
                title = m.group(kind) if kind else ""
                t_start = m.start(kind) if kind else m.start()
                if regex is self._title_then_name and self._not_before_title.search(
                    text, max(0, t_start - 6), t_start
                ):
                    kind = None  # 任县长 / 原县长: not the office the name holds now
                name_start, name_end = m.span("name")
                if _NOT_A_NAME.search(m.group("name"), 1):
                    continue  # 高新区区长: an organ, not a person
                found.setdefault((name_start, name_end), _Mention(m.group("name"), title, kind, *m.span()))
        return sorted(found.values(), key=lambda x: x.start)

    def check(self, text: str) -> list[OfficialFinding]:
        mentions = self._mentions(text)
        if not mentions:
            return []
        findings: list[OfficialFinding] = []
        # One person, two offices that exclude each other (县委书记 and 县长).
        kinds: dict[str, dict[str, _Mention]] = {}
        for mention in mentions:
            if mention.kind is None:
                continue
            held = kinds.setdefault(mention.name, {})
            for other_kind, other in held.items():
                if (other_kind, mention.kind) in self.excluding or (
                    mention.kind,
                    other_kind,
                ) in self.excluding:
                    findings.append(
                        OfficialFinding(
                            mention.start,
                            mention.end,
                            f"{mention.name}: {other.title} and {mention.title}",
                        )
                    )
                    break
            held.setdefault(mention.kind, mention)
        # One name written two ways: a titled name and a one-character variant of it.
        names = sorted({m.name for m in mentions if len(m.name) >= 2}, key=len, reverse=True)
        seen: set[tuple[str, str]] = set()
        for name in names:
            variants = self._variants(name)
            if not variants:
                continue
            pattern = re.compile("|".join(sorted(map(re.escape, variants), key=len, reverse=True)))
            for m in pattern.finditer(text):
                variant = m.group()
                if not self._after_name.match(text, m.end()) or (name, variant) in seen:
                    continue
                if (variant, name) in seen:
                    continue
                seen.add((name, variant))
                n_name = text.count(name)
                n_variant = text.count(variant)
                wrong = variant if n_variant <= n_name else name
                right = name if wrong == variant else variant
                spans = [(s.start(), s.end()) for s in re.finditer(re.escape(wrong), text)]
                findings.extend(OfficialFinding(s, e, f"{wrong}→{right}") for s, e in spans)
        return findings

    def _variants(self, name: str) -> set[str]:
        """`name` with one character of the given name replaced by a homophone or a look-alike."""
        found: set[str] = set()
        for i in range(1, len(name)):
            ch = name[i]
            for other in _homophones(ch) | self._alike.get(ch, set()):
                if other != ch:
                    found.add(name[:i] + other + name[i + 1 :])
        found.discard(name)
        return found


def _matches_from(regex: re.Pattern[str], text: str, starts: list[int]) -> Iterator[re.Match[str]]:
    """`regex.finditer(text)` where every match starts at one of `starts` (ascending)."""
    position = 0
    for start in starts:
        if start < position:
            continue
        m = regex.match(text, start)
        if m is not None:
            yield m
            position = max(m.end(), start + 1)


@lru_cache(maxsize=8192)
def _homophones(ch: str) -> frozenset[str]:
    """Common characters read like `ch` (any of its readings, tones ignored)."""
    from classifier.rules.nearmiss import homophones_of

    return homophones_of(ch)
