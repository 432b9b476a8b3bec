"""Numbered anniversaries, numbered days and five-year-plan years judged against the year a
statement speaks of (data: anniversaries.toml; the year: classifier.rules.years).

新中国成立76周年 in a 2024 post, 第十个国家宪法日 in 2024 (the eleventh), 2024年是“十四五”收官之年
(2025 is): each is right only in another year. The rule set's automaton reports where the names
occur; the regular expressions here then run only at those places.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from classifier.rules.years import PostYears, Year, parse_number

__all__ = ["DatedFinding", "DatedTable"]

_NUM = r"(\d{1,3}|[一二三四五六七八九十百零〇两]{1,6})"
_AFTER_NAME = re.compile(rf"\s*{_NUM}\s*周年")
_BEFORE_DAY = re.compile(rf"第\s*{_NUM}\s*(?:个|次|届)\s*[“\"《]?\s*$")
_HAN = re.compile(r"[\u4e00-\u9fff]")
# A short name (建党, 建军) after a Chinese word is part of another name (人民空军建军) unless
# the word is one of these.
_SHORT_LEAD = re.compile(
    r"(?:庆祝|纪念|迎接|喜迎|欢庆|喜庆|迎来|值此|正值|恰逢|适逢|时值|献礼|是|暨|和|及|与|的|在|为|年|月|日)$"
)
_PLAN = re.compile(r"十([一二三四五六七八九])五")
_PLAN_PART = re.compile(
    r"[”\"’]?\s*(?:规划)?\s*(?:实施)?\s*(?:的)?\s*(开局之年|开局年|起步之年|开局起步之年|第一年|收官之年|收官年|最后一年|决胜之年|终结之年)"
)
_FIRST_YEAR = ("开局之年", "开局年", "起步之年", "开局起步之年", "第一年")
_CLAUSE = re.compile(r"[，,。！？!?；;\n]")
_NEXT_YEAR = re.compile(r"明年\s*(?:是|为|将是|作为|恰逢|迎来)?[^，,。；;\n]{0,12}$")
PLAN_ANCHORS = tuple(f"十{d}五" for d in "一二三四五六七八九")


@dataclass(frozen=True, slots=True)
class DatedFinding:
    start: int
    end: int
    note: str


@dataclass(frozen=True, slots=True)
class _Anniversary:
    names: tuple[str, ...]
    year: int


@dataclass(frozen=True, slots=True)
class _Day:
    names: tuple[str, ...]
    first: date


class DatedTable:
    def __init__(self, data: dict[str, Any]) -> None:
        self.weight = float(data.get("weight", 0.8))
        self.window = timedelta(days=int(data.get("window_days", 60)))
        self.current_before = re.compile(data.get("current_before", "(?!)") + "$")
        self.ahead_before = re.compile(data.get("ahead_before", "(?!)") + "$")
        self.current_after = re.compile(data.get("current_after", "(?!)"))
        self.ahead_after = re.compile(data.get("ahead_after", "(?!)"))
        self.past_after = re.compile(data.get("past_after", "(?!)"))
        self.anniversaries = [
            _Anniversary(tuple(e["names"]), int(e["year"])) for e in data.get("anniversary", [])
        ]
        self.days = [_Day(tuple(e["names"]), e["first"]) for e in data.get("day", [])]
        plans = data.get("five_year_plans", {})
        self.fourteenth_first = int(plans.get("fourteenth_first", 2021))
        self.named_before = int(plans.get("named_before", 3))

    def anchors(self) -> list[tuple[str, tuple[str, int]]]:
        """(literal, reference) pairs for the rule set's automaton."""
        found: list[tuple[str, tuple[str, int]]] = []
        for i, anniversary in enumerate(self.anniversaries):
            found.extend((name, ("anniversary", i)) for name in anniversary.names)
        for i, day in enumerate(self.days):
            found.extend((name, ("day", i)) for name in day.names)
        found.extend((anchor, ("plan", 0)) for anchor in PLAN_ANCHORS)
        return found

    def check(
        self, text: str, found: list[tuple[str, int, int, int]], years: PostYears
    ) -> list[DatedFinding]:
        """Findings for the automaton's hits `found`: (kind, index, start, end) each."""
        results: dict[tuple[int, int], DatedFinding] = {}
        for kind, index, start, end in found:
            if kind == "anniversary":
                hit = self._anniversary(text, self.anniversaries[index], start, end, years)
            elif kind == "day":
                hit = self._day(text, self.days[index], start, end, years)
            else:
                hit = self._plan(text, start, years)
            if hit is not None:
                # Several names of one event end at the same 周年 (中华人民共和国成立 / 共和国成立):
                # one finding, from the longest name (the first to start).
                key = (0, hit.end)
                if key not in results or hit.start < results[key].start:
                    results[key] = hit
        return list(results.values())

    # --- anniversaries ------------------------------------------------------------------------

    def _anniversary(
        self, text: str, event: _Anniversary, start: int, end: int, years: PostYears
    ) -> DatedFinding | None:
        m = _AFTER_NAME.match(text, end)
        if m is None:
            return None
        name = text[start:end]
        if (
            len(name) < 4
            and start > 0
            and _HAN.match(text, start - 1)
            and not _SHORT_LEAD.search(text, max(0, start - 4), start)
        ):
            return None
        number = parse_number(m.group(1))
        year = years.at(start)
        if number is None or number < 1 or year is None:
            return None
        expected = year.year - event.year
        clause_start = _clause_start(text, start)
        lead = text[clause_start:start]
        tail = text[m.end() : m.end() + 8]
        if self.past_after.search(tail):
            allowed = range(1, expected + 2)
        elif (
            self.current_before.search(lead)
            or self.current_before.search(lead.rstrip('“"‘ '))
            or self.current_after.search(tail)
            or _year_is(lead)
        ):
            ahead = self.ahead_before.search(lead) or self.ahead_after.search(tail)
            allowed = range(expected, expected + (2 if ahead else 1))
        elif self.ahead_before.search(lead) or self.ahead_after.search(tail):
            allowed = range(expected, expected + 2)
        else:
            allowed = range(1, expected + 2)
        if not year.exact:
            # The latest year written may be a year before the post's (2023年以来…), not after
            # it (targets are not counted): the post's year may be one later.
            allowed = range(allowed.start, allowed.stop + 1)
        if number in allowed:
            return None
        return DatedFinding(start, m.end(), f"{text[start : m.end()]}: {_expected_note(expected, year)}")

    # --- numbered days ------------------------------------------------------------------------

    def _day(self, text: str, day: _Day, start: int, end: int, years: PostYears) -> DatedFinding | None:
        m = _BEFORE_DAY.search(text, max(0, start - 12), start)
        if m is None:
            return None
        number = parse_number(m.group(1))
        year = years.at(start)
        if number is None or year is None:
            return None
        expected = year.year - day.first.year + 1
        allowed = {expected}
        if year.source == "published" and years.published is not None:
            published = years.published
            this_year = _on(day.first, published.year)
            if published < this_year and published - _on(day.first, published.year - 1) <= self.window:
                allowed.add(expected - 1)
            if published >= this_year and _on(day.first, published.year + 1) - published <= self.window:
                allowed.add(expected + 1)
        elif not year.exact:
            allowed.add(expected + 1)  # the post may be a year after the latest year written
        if number in allowed:
            return None
        note = f"{text[m.start() : end]}: {_expected_note(expected, year, '第')}"
        return DatedFinding(m.start(), end, note)

    # --- five-year plans ----------------------------------------------------------------------

    def _plan(self, text: str, start: int, years: PostYears) -> DatedFinding | None:
        m = _PLAN.match(text, start)
        if m is None or (start > 0 and text[start - 1] in "二三四五六七八九十"):
            return None
        number = 10 + "一二三四五六七八九".index(m.group(1)) + 1
        first = self.fourteenth_first + 5 * (number - 14)
        part = _PLAN_PART.match(text, m.end())
        year = years.at(start)
        if year is None:
            return None
        lead = text[_clause_start(text, start) : start]
        if part is not None:
            # Only a statement about the present is judged (今年是…, 2025年是…, …是…收官之年):
            # 回顾“十四五”开局之年 in a later post is not wrong.
            if year.source != "sentence" and not _PRESENT.search(lead):
                return None
            said = year.year + 1 if _NEXT_YEAR.search(lead) else year.year
            target = first if part.group(1) in _FIRST_YEAR else first + 4
            if part.group(1) == "决胜之年":
                target = first + 4
            if said == target or (not year.exact and said + 1 == target):
                return None
            return DatedFinding(
                start, part.end(), f"{text[start : part.end()]}: the year {target}, not {said}"
            )
        # Only by a known year: the latest year written may be a year compared with (比2010年).
        if year.exact and year.year < first - self.named_before:
            return DatedFinding(start, m.end(), f"{m.group()}: starts {first}, named in {year.year}")
        return None


def _on(first: date, year: int) -> date:
    try:
        return first.replace(year=year)
    except ValueError:  # 29 February
        return first.replace(year=year, day=28)


def _clause_start(text: str, position: int) -> int:
    lo = max(0, position - 24)
    ends = [m.end() for m in _CLAUSE.finditer(text, lo, position)]
    return ends[-1] if ends else lo


_PRESENT = re.compile(r"今年|本年|明年|是|为|作为|迎来|正值|时值|恰逢|值此|适逢")
_EXPLICIT_YEAR_IS = re.compile(r"20\d{2}\s*年\s*(?:是|为|恰逢|正值|适逢|迎来|喜迎)")


def _year_is(lead: str) -> bool:
    """2024年是… : the anniversary is that year's."""
    return _EXPLICIT_YEAR_IS.search(lead) is not None


def _expected_note(expected: int, year: Year, prefix: str = "") -> str:
    where = {
        "sentence": "the sentence's year",
        "published": "the post's date",
        "latest": "the latest year written",
    }
    return f"{prefix}{expected} in {year.year} ({where[year.source]})"
