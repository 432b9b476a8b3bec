"""Which year a statement in a post speaks of, for the checks that judge numbers against a year.

Congress and plenum numbers, numbered anniversaries (新中国成立75周年), numbered days (第十一个
国家宪法日) and five-year-plan years (十四五收官之年) are right or wrong only for a year. That year
is, in order: (a) an explicit year written in the same sentence (2024年是…), else (b) the post's
published date, else (c) the latest 20xx year written anywhere in the post, else unknown (the
check is skipped or judges only what no year allows). Years that do not say when the text was
written are left out: targets (到2035年, 2025年底前, 2035年远景目标) and, for (a), starting points
and other years compared with (2023年以来, 比2010年翻一番, 于2019年): a 2024 post writes
"2023年以来…三中全会精神" without anything being wrong.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from datetime import date

__all__ = ["PostYears", "Year", "parse_number"]

_YEAR = re.compile(r"(?<![\d.])(20\d{2})\s*年")
# Before the year: a target or the end of a range (2021-2025年 ends in the future).
_TARGET_BEFORE = re.compile(r"(?:到|至|力争|计划|预计|争取|向着|面向|迈向|展望|瞄准|着眼|-|—|－|~|～)\s*$")
# Before the year: another year the sentence compares with (比2010年翻一番): not its own year.
_OTHER_BEFORE = re.compile(r"(?:比|较|同|与|和|相比|对比|自|从|于|截至|截止)\s*$")
# After 年: a target (2025年底前, 2035年远景目标, 2030年前).
_TARGET_AFTER = re.compile(r"\s*(?:底前|末前|前|以前|之前|远景|目标)")
# After 年: a starting point, true of later years too.
_SINCE_AFTER = re.compile(r"\s*(?:以来|起|开始|至今|至|到|-|—|－|~|～)")
_SENTENCE_END = re.compile(r"[。！？!?；;\n]")
_DIGITS = {c: i for i, c in enumerate("零一二三四五六七八九")}
_DIGITS["〇"] = 0
_DIGITS["两"] = 2


@dataclass(frozen=True, slots=True)
class Year:
    """A year and where it came from: "sentence", "published" or "latest"."""

    year: int
    source: str

    @property
    def exact(self) -> bool:
        """Whether the year is known (a or b), not guessed from the latest year written (c)."""
        return self.source != "latest"


class PostYears:
    """The years written in one post, and the year a position in it speaks of."""

    def __init__(self, text: str, published: date | None) -> None:
        self.text = text
        self.published = published
        self._positions: list[int] = []
        self._sentence_years: list[int | None] = []
        latest: int | None = None
        for m in _YEAR.finditer(text):
            before = text[max(0, m.start() - 3) : m.start()]
            if _TARGET_BEFORE.search(before) or _TARGET_AFTER.match(text, m.end()):
                continue
            year = int(m.group(1))
            latest = year if latest is None else max(latest, year)
            self._positions.append(m.start())
            own = not (_SINCE_AFTER.match(text, m.end()) or _OTHER_BEFORE.search(before))
            self._sentence_years.append(year if own else None)
        self.latest = latest
        self._ends = [m.start() for m in _SENTENCE_END.finditer(text)]

    def _sentence(self, position: int) -> tuple[int, int]:
        i = bisect_right(self._ends, position - 1)
        start = self._ends[i - 1] + 1 if i > 0 else 0
        end = self._ends[i] if i < len(self._ends) else len(self.text)
        return start, end

    def sentence_year(self, position: int) -> int | None:
        """The latest explicit year written in the sentence around `position` (a)."""
        if not self._positions:
            return None
        start, end = self._sentence(position)
        lo = bisect_right(self._positions, start - 1)
        pairs = zip(self._positions[lo:], self._sentence_years[lo:], strict=True)
        found = [y for p, y in pairs if p < end and y]
        return max(found) if found else None

    def at(self, position: int) -> Year | None:
        """The year the text at `position` speaks of: (a), else (b), else (c), else None."""
        year = self.sentence_year(position)
        if year is not None:
            return Year(year, "sentence")
        if self.published is not None:
            return Year(self.published.year, "published")
        if self.latest is not None:
            return Year(self.latest, "latest")
        return None

    def day_at(self, position: int) -> date | None:
        """A date to judge `position` against: the published date, or the last day of the year
        from (a) or (c) (the most lenient day of a year known only by its number)."""
        year = self.sentence_year(position)
        if year is not None:
            if self.published is not None and self.published.year == year:
                return self.published
            return date(year, 12, 31)
        if self.published is not None:
            return self.published
        if self.latest is not None:
            return date(self.latest, 12, 31)
        return None


def parse_number(text: str) -> int | None:
    """75, 七十五, 一百零三, 一百, 十一 → ints; None for anything else (up to 999)."""
    text = text.strip()
    if not text:
        return None
    if text.isdigit():
        return int(text)
    total = 0
    rest = text
    if "百" in rest:
        hundreds, _, rest = rest.partition("百")
        if hundreds not in _DIGITS and hundreds != "":
            return None
        total += (_DIGITS[hundreds] if hundreds else 1) * 100
        rest = rest.lstrip("零〇")
        if not rest:
            return total
        if len(rest) == 1 and rest in _DIGITS:  # 一百零三 (三 after 零) or 一百五 (150)
            return total + _DIGITS[rest] * (1 if "零" in text or "〇" in text else 10)
    if "十" in rest:
        tens, _, units = rest.partition("十")
        if len(tens) > 1 or len(units) > 1 or not all(c in _DIGITS for c in tens + units):
            return None
        if not tens and total:
            return None  # 一百十 is not written
        return total + (_DIGITS[tens] if tens else 1) * 10 + (_DIGITS[units] if units else 0)
    if len(rest) == 1 and rest in _DIGITS:
        return total + _DIGITS[rest]
    return None
