"""Party congresses and plenums, and sessions of the National People's Congress and of the CPPCC
National Committee, numbered impossibly for a post's date (data: congresses.toml).

The rule set's automaton reports where 党的 / 中共 / 中国共产党 / 届 occur; the regular
expressions here then run only at those places. The post's date comes from the caller (never
the clock): a check run today on a 2024 post judges it as of 2024.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

__all__ = ["ANCHORS", "CongressTable", "chinese_number"]

_NUM = "[一二三四五六七八九十]{1,3}"
# 党的二十大, 中共十九大, 中国共产党第二十次全国代表大会
_CONGRESS = re.compile(rf"(?:党的|中共|中国共产党)第?({_NUM})(?:大(?![会学厦队])|次全国代表大会)")
# 十九届五中全会, 二十届中央委员会第三次全体会议 (a province's 届…次全会 is not matched)
_PLENUM = re.compile(rf"({_NUM})届(?:中共中央|中央委员会|中央)?(?:({_NUM})中全会|第({_NUM})次全体会议)")
# 十四届全国人大二次会议, 第十四届全国人民代表大会第二次会议, 全国政协十四届二次会议,
# 政协第十四届全国委员会第二次会议 (not the standing committee's many meetings: 常委会第十次会议)
_SESSION = re.compile(
    rf"(?:第?({_NUM})届全国人大(?!常委)第?({_NUM})次会议|第?({_NUM})届全国人民代表大会第({_NUM})次会议)"
    rf"|(?:全国政协第?({_NUM})届第?({_NUM})次会议|政协第?({_NUM})届全国委员会第({_NUM})次会议)"
)
ANCHORS = ("党的", "中共", "中国共产党", "届")
# A provincial, city or county Party committee numbers its own plenums (省委十二届二中全会).
_LOCAL = re.compile(r"(?:省|市|县|区|州|旗|盟|党|工|局|镇|乡)委(?:员会)?$")
_DIGITS = {c: i for i, c in enumerate("零一二三四五六七八九")}


def chinese_number(text: str) -> int | None:
    """十 → 10, 十九 → 19, 二十一 → 21, 五 → 5; None for anything else."""
    if not text or any(c not in _DIGITS and c != "十" for c in text):
        return None
    if "十" not in text:
        return _DIGITS[text] if len(text) == 1 else None
    tens, _, units = text.partition("十")
    if len(tens) > 1 or len(units) > 1 or "十" in units:
        return None
    return (_DIGITS[tens] if tens else 1) * 10 + (_DIGITS[units] if units else 0)


@dataclass(frozen=True, slots=True)
class _Congress:
    number: int
    opened: date
    plenums: tuple[date, ...]
    plenum_count: int | None  # None: not known or not complete (the current term)


@dataclass(frozen=True, slots=True)
class Impossible:
    start: int
    end: int
    note: str


class CongressTable:
    def __init__(self, data: dict[str, Any]) -> None:
        self.as_of: date = data["as_of"]
        self.weight = float(data.get("weight", 0.85))
        self.max_plenums = int(data.get("max_plenums", 12))
        self.cadence = int(data.get("cadence_years", 5))
        self.congresses: dict[int, _Congress] = {}
        for entry in data.get("congress", []):
            plenums = tuple(entry.get("plenums", ()))
            count = entry.get("plenum_count")
            if count is None and plenums and not entry.get("current"):
                count = len(plenums)
            self.congresses[int(entry["number"])] = _Congress(
                int(entry["number"]), entry["opened"], plenums, int(count) if count is not None else None
            )
        self.latest = max(self.congresses) if self.congresses else 0
        # First sessions of the NPC's and the CPPCC National Committee's terms (`[[npc]]`,
        # `[[cppcc]]`): session k of a term meets in March of the term's year + k - 1.
        self.terms = {
            body: {int(e["number"]): e["opened"] for e in data.get(body, [])} for body in ("npc", "cppcc")
        }
        self.sessions_per_term = int(data.get("sessions_per_term", 5))

    # --- when events took place ---------------------------------------------------------------

    def _congress_date(self, number: int) -> date | None:
        known = self.congresses.get(number)
        return known.opened if known else None

    def _plenum_date(self, congress: int, plenum: int) -> date | None:
        known = self.congresses.get(congress)
        if known is None or plenum > len(known.plenums):
            return None
        return known.plenums[plenum - 1]

    def _expected(self, number: int) -> date:
        """When congress `number` opened, or (beyond the table) would open on the usual cadence."""
        known = self._congress_date(number)
        if known is not None:
            return known
        latest = self._congress_date(self.latest) or self.as_of
        return latest.replace(year=latest.year + self.cadence * (number - self.latest))

    def congress_impossible(self, number: int, published: date | None) -> bool:
        if number < 1:
            return True
        if published is None:
            return number > self.latest + 1
        # The next congress is named in the year before it (迎接党的二十大胜利召开), not earlier.
        expected = self._expected(number)
        return published < expected.replace(year=expected.year - 1)

    def plenum_impossible(self, congress: int, plenum: int, published: date | None) -> bool:
        if plenum < 1 or plenum > self.max_plenums:
            return True
        if congress > self.latest + 1 or self.congress_impossible(congress, published):
            return True
        known = self.congresses.get(congress)
        if known is not None and known.plenum_count is not None:
            if plenum > known.plenum_count:
                return True
            if len(known.plenums) < plenum:  # a complete past term without dates in the table
                return False
        previous = self._congress_date(congress) if plenum == 1 else self._plenum_date(congress, plenum - 1)
        if previous is not None:
            return published is not None and published < previous
        # The one before it is not in the table: it had not met by `as_of`.
        if published is not None and published <= self.as_of:
            return True
        held = len(known.plenums) if known is not None else 0
        return plenum > held + 1

    def session_impossible(self, body: str, term: int, session: int, published: date | None) -> bool:
        """Session `session` of the `term`-th NPC or CPPCC (`body`) cannot be meant on `published`:
        past the sessions of a term, or in a year after the next (the next year's session may be
        named from October: 明年全国两会)."""
        if session < 1 or session > self.sessions_per_term:
            return True
        terms = self.terms.get(body) or {}
        if not terms:
            return False
        latest = max(terms)
        if published is None:
            return term > latest + 1
        first = terms.get(term)
        year = (first.year if first else terms[latest].year + self.cadence * (term - latest)) + session - 1
        return year > published.year + 1 or (year == published.year + 1 and published.month < 10)

    # --- matching -----------------------------------------------------------------------------

    def check(
        self,
        text: str,
        positions: list[int],
        when: Callable[[int], date | None],
        published: date | None = None,
    ) -> list[Impossible]:
        """Impossible numbers at the anchors' `positions`; `when(position)` is the date to judge
        a match against (the sentence's year, the post's date or the latest year written)."""
        found: dict[tuple[int, int], Impossible] = {}
        for position in sorted(set(positions)):
            day = when(position)
            if text.startswith("届", position):
                session = _SESSION.search(text, max(0, position - 8), position + 20)
                if session is not None and session.start() <= position < session.end():
                    if session.span() not in found and self._session_impossible_match(session, day):
                        note = f"{session.group()}: {_when(day, published)}"
                        found[session.span()] = Impossible(session.start(), session.end(), note)
                    continue
                m = _PLENUM.search(text, max(0, position - 3), position + 16)
                if m is None or not m.start() <= position < m.end() or (m.start(), m.end()) in found:
                    continue
                if _LOCAL.search(text, max(0, m.start() - 4), m.start()):
                    continue
                congress = chinese_number(m.group(1))
                plenum = chinese_number(m.group(2) or m.group(3))
                if (
                    congress is not None
                    and plenum is not None
                    and self.plenum_impossible(congress, plenum, day)
                ):
                    found[m.span()] = Impossible(m.start(), m.end(), f"{m.group()}: {_when(day, published)}")
                continue
            m = _CONGRESS.match(text, position)
            if m is None or m.span() in found:
                continue
            number = chinese_number(m.group(1))
            if number is not None and self.congress_impossible(number, day):
                found[m.span()] = Impossible(m.start(), m.end(), f"{m.group()}: {_when(day, published)}")
        return list(found.values())

    def _session_impossible_match(self, m: re.Match[str], day: date | None) -> bool:
        groups = m.groups()
        body = "npc" if groups[0] or groups[2] else "cppcc"
        term_text, session_text = next((groups[i], groups[i + 1]) for i in range(0, 8, 2) if groups[i])
        term, session = chinese_number(term_text), chinese_number(session_text)
        return term is not None and session is not None and self.session_impossible(body, term, session, day)


def _when(day: date | None, published: date | None) -> str:
    if day is None:
        return "beyond the latest known + 1"
    if day == published:
        return f"not yet held on {day.isoformat()}"
    return f"not yet held in {day.year}"
