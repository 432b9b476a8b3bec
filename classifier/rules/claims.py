"""Passage-level claim rules: a specific claim whose only source is vague, and health-myth shapes.

A rumour inside a formal post is one passage that states something specific (a casualty count, a
price surge, a subsidy and its date, an exam change, an imminent disaster, a health effect) on
the word of "netizens", a chat group, an insider or an unnamed expert, while nothing in that
passage names a document, an official body or monitoring data. A lexicon cannot see that: the
same hearsay word is harmless next to "经核查" and the same number is news next to "据市统计局".
So the cues (data in claims.toml) are collected in the rule set's one Aho-Corasick pass and
judged here per passage (classifier/passages.py gives the split; a short post is one passage).

These rules judge their own context: authority per passage, debunking per post (a post that
calls the claim 谣言 or 不实 quotes it to refute it). Their hits are therefore structural (never
lowered again by context.toml), and a debunking post yields none. Hedges such as 以官方发布为准
are not debunking: a claim published as guidance "until the official notice" is still published.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from classifier.normalize import normalize
from classifier.passages import SENTENCE_ENDS, split_passages

__all__ = ["CLAIM_KINDS", "ClaimLexicon", "ClaimRules", "ClaimTerm"]

# What a cue found by the automaton stands for.
CLAIM_KINDS = ("vague", "claim", "authority", "debunk", "myth")
# Characters either side of a myth anchor that its regular expression may reach.
_MYTH_REACH = 40
# A claim in quotation marks is reported, not made: 一则“…每人发放3000元”的消息在群里流传.
_QUOTED = re.compile(r"“[^“”\n]{1,200}”|「[^「」\n]{1,200}」|\"[^\"\n]{1,200}\"")
# A myth asked, not stated: 打流感疫苗会引起流感吗？ (a Q&A post that answers it).
_QUESTION = re.compile(r"[^。！!\n]{0,3}?[吗么][？?]?|[^。！!\n]{0,3}?[？?]")

_SENTENCE_ENDS = (*SENTENCE_ENDS, "\n")
# What opens a clause, and how far into its clause the source may stand to open it
# (另据游客反映，…; 据城区几个加油站员工透露，…; …，现场围观群众称…).
_CLAUSE_OPENS = (*_SENTENCE_ENDS, "，", ",", "：", ":", "】", "#")
_SOURCE_OPENS = 8


@dataclass(frozen=True, slots=True)
class ClaimTerm:
    """One cue group: its kind and, optionally, what must follow or must not precede a term."""

    kind: str
    followed_by: re.Pattern[str] | None = None
    not_followed_by: re.Pattern[str] | None = None
    not_preceded_by: re.Pattern[str] | None = None
    index: int = -1  # for "myth": which myth pattern this anchor belongs to


@dataclass(frozen=True, slots=True)
class ClaimLexicon:
    """A plain lexicon that lives in claims.toml (harmful promotion terms)."""

    id: str
    category: str
    weight: float
    terms: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Myth:
    id: str
    weight: float
    regex: re.Pattern[str]
    negated: re.Pattern[str] | None


@dataclass(frozen=True, slots=True)
class ClaimHit:
    """What ClaimRules found: the rule set turns it into a RuleHit."""

    rule_id: str
    category: str
    weight: float
    start: int
    end: int
    note: str | None = None


class ClaimRules:
    """The claim rules of one claims.toml; immutable and safe to share between threads."""

    def __init__(self, data: Mapping[str, Any], name: str = "claims.toml") -> None:
        section = data.get("claims", {})
        self.rule_id = str(section.get("id", "uv.unsourced_claim"))
        self.weight = float(section.get("weight", 0.35))
        self.weight_multi = float(section.get("weight_multi", self.weight))
        self.multi_cues = int(section.get("multi_cues", 2))
        # A clause that opens with the vague source, in a sentence that goes on to
        # `sentence_cues` claim cues, asserts the hearsay itself (据游客反映，…已造成好几名游客受伤).
        self.weight_sentence = float(section.get("weight_sentence", self.weight_multi))
        self.sentence_cues = int(section.get("sentence_cues", 2))
        self.negation = _regex(section.get("authority_negation"), name, "authority_negation")
        # Regular expressions of the claim and authority groups, run on candidate passages only.
        patterns: dict[str, list[re.Pattern[str]]] = {"claim": [], "authority": []}
        self.terms: dict[str, list[ClaimTerm]] = {}
        for kind in ("vague", "claim", "authority", "debunk"):
            for group in section.get(kind, []):
                if group.get("patterns") and kind not in patterns:
                    raise ValueError(f"{name}: claims.{kind}: only claim and authority take patterns")
                patterns.get(kind, []).extend(
                    _compiled(p, name, f"claims.{kind}.patterns") for p in group.get("patterns", [])
                )
                cue = ClaimTerm(
                    kind,
                    followed_by=_regex(group.get("followed_by"), name, f"{kind}.followed_by"),
                    not_followed_by=_regex(group.get("not_followed_by"), name, f"{kind}.not_followed_by"),
                    not_preceded_by=_regex(
                        _suffix(group.get("not_preceded_by")), name, f"{kind}.not_preceded_by"
                    ),
                )
                for term in group.get("terms", []):
                    self._add_term(term, cue)
        self.claim_patterns = tuple(patterns["claim"])
        self.authority_patterns = tuple(patterns["authority"])
        self.myths: list[_Myth] = []
        for entry in data.get("myth", []):
            try:
                myth = _Myth(
                    id=str(entry["id"]),
                    weight=float(entry["weight"]),
                    regex=re.compile(entry["pattern"]),
                    negated=re.compile(entry["negated"]) if entry.get("negated") else None,
                )
            except (KeyError, re.error) as exc:
                raise ValueError(f"{name}: myth {entry.get('id')!r}: {exc}") from exc
            if not entry.get("anchors"):
                raise ValueError(f"{name}: myth {myth.id!r}: needs anchors")
            for anchor in entry["anchors"]:
                self._add_term(anchor, ClaimTerm("myth", index=len(self.myths)))
            self.myths.append(myth)
        self.lexicons = tuple(
            ClaimLexicon(
                str(entry["id"]),
                str(entry["category"]),
                float(entry["weight"]),
                tuple(entry.get("terms", [])),
            )
            for entry in data.get("lexicon", [])
        )

    def _add_term(self, term: str, cue: ClaimTerm) -> None:
        key = normalize(term.strip()).text.lower()
        if key:
            self.terms.setdefault(key, []).append(cue)

    # --- matching -----------------------------------------------------------------------------

    def hits(
        self,
        text: str,
        found: Iterable[tuple[ClaimTerm, int, int]],
        lexicon_weights: Iterable[float] = (),
    ) -> list[ClaimHit]:
        """Claim evidence in normalised, lower-cased `text`, given the cues the automaton found.

        `lexicon_weights` are the weights of the post's unverified lexicon hits (uv.hearsay …).
        Those cues are part of what an unsourced claim is, so the claim rule does not add its
        weight on top of them: it brings the post's evidence up to its weight (a hit weighing
        what is missing), never past it. A hearsay word and a claim next to it are one piece of
        evidence that needs the model's agreement, not two that flag alone.
        """
        cues: dict[str, list[tuple[int, int]]] = {kind: [] for kind in CLAIM_KINDS}
        myth_at: dict[int, list[int]] = {}
        for cue, start, end in found:
            if cue.followed_by is not None and not cue.followed_by.match(text, end):
                continue
            if cue.not_followed_by is not None and cue.not_followed_by.match(text, end):
                continue
            if cue.not_preceded_by is not None and cue.not_preceded_by.search(text, max(0, start - 8), start):
                continue
            if cue.kind == "myth":
                myth_at.setdefault(cue.index, []).append(start)
            elif cue.kind == "authority" and self._negated(text, start):
                # 尚未发布 / 没有正式文件: a missing source is no source.
                continue
            else:
                end_at = end if cue.followed_by is None else _match_end(cue.followed_by, text, end)
                cues[cue.kind].append((start, end_at))
        if cues["debunk"]:
            return []
        quoted = [m.span() for m in _QUOTED.finditer(text)] if any(q in text for q in '“「"') else []
        hits: list[ClaimHit] = []
        myth_spans: list[tuple[int, int]] = []
        for index, positions in myth_at.items():
            myth = self.myths[index]
            for start, end in _anchored(myth.regex, text, positions):
                if myth.negated is not None and myth.negated.search(text, max(0, start - 4), end):
                    continue
                if _QUESTION.match(text, end) or _inside(start, quoted):
                    continue
                myth_spans.append((start, end))
                hits.append(ClaimHit(myth.id, "unverified", myth.weight, start, end))
        if not cues["vague"]:
            return hits
        lexicon_rest = 1.0  # 1 - the noisy-OR of the lexicon weights
        for w in lexicon_weights:
            lexicon_rest *= 1.0 - min(max(w, 0.0), 1.0)
        for p_start, p_end in split_passages(text) or [(0, len(text))]:
            vague = [s for s in cues["vague"] if p_start <= s[0] < p_end]
            if not vague or self._has_authority(text, p_start, p_end, cues["authority"]):
                continue
            claims = [s for s in (*cues["claim"], *myth_spans) if p_start <= s[0] < p_end]
            passage = text[p_start:p_end]
            for pattern in self.claim_patterns:
                claims.extend((p_start + m.start(), p_start + m.end()) for m in pattern.finditer(passage))
            distinct = [s for s in _distinct(claims) if not _inside(s[0], quoted)]
            if not distinct:
                continue
            weight = self.weight_multi if len(distinct) >= self.multi_cues else self.weight
            if any(self._asserted(text, v, distinct, quoted) for v in vague):
                weight = max(weight, self.weight_sentence)
            weight = max(0.0, 1.0 - (1.0 - weight) / lexicon_rest) if lexicon_rest > 0 else 0.0
            spans = [*vague, *distinct]
            note = f"{len(distinct)} claim cue(s), source: {text[vague[0][0] : vague[0][1]]}"
            hits.append(
                ClaimHit(
                    self.rule_id,
                    "unverified",
                    weight,
                    min(s for s, _ in spans),
                    max(e for _, e in spans),
                    note=note,
                )
            )
        return hits

    def _asserted(
        self, text: str, vague: tuple[int, int], claims: list[tuple[int, int]], quoted: list[tuple[int, int]]
    ) -> bool:
        """Whether the `vague` source opens a clause and its sentence states `sentence_cues`
        claims after it.

        Not when the source is quoted or the sentence asks (听说…是真的吗？): then the post
        reports or questions the hearsay instead of repeating it.
        """
        if _inside(vague[0], quoted):
            return False
        ends = [i for i in (text.find(mark, vague[1]) for mark in _SENTENCE_ENDS) if i >= 0]
        closing = min(ends) if ends else len(text)
        if (closing < len(text) and text[closing] in "？?") or "吗" in text[closing - 2 : closing]:
            return False
        clause = max(text.rfind(mark, 0, vague[0]) for mark in _CLAUSE_OPENS) + 1
        if vague[0] - clause > _SOURCE_OPENS:
            return False
        after = [c for c in claims if vague[1] <= c[0] < closing]
        return len(after) >= self.sentence_cues

    def _negated(self, text: str, start: int) -> bool:
        return self.negation is not None and self.negation.search(text, max(0, start - 6), start) is not None

    def _has_authority(self, text: str, start: int, end: int, authority: list[tuple[int, int]]) -> bool:
        if any(start <= s < end for s, _ in authority):
            return True
        for pattern in self.authority_patterns:
            for m in pattern.finditer(text, start, end):
                if not self._negated(text, m.start()):
                    return True
        return False


def _inside(position: int, spans: list[tuple[int, int]]) -> bool:
    return any(start < position < end for start, end in spans)


def _distinct(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Non-overlapping spans (the longest of overlapping ones): 200元 and 元 are one cue."""
    chosen: list[tuple[int, int]] = []
    for start, end in sorted(set(spans), key=lambda s: (s[0], -(s[1] - s[0]))):
        if chosen and start < chosen[-1][1]:
            continue
        chosen.append((start, end))
    return chosen


def _anchored(regex: re.Pattern[str], text: str, positions: list[int]) -> list[tuple[int, int]]:
    found: set[tuple[int, int]] = set()
    for p in sorted(set(positions)):
        for m in regex.finditer(text, max(0, p - _MYTH_REACH), min(len(text), p + _MYTH_REACH)):
            found.add(m.span())
    return _distinct(list(found))


def _match_end(pattern: re.Pattern[str], text: str, end: int) -> int:
    m = pattern.match(text, end)
    return m.end() if m else end


def _suffix(pattern: str | None) -> str | None:
    return f"(?:{pattern})$" if pattern else None


def _regex(pattern: str | None, name: str, where: str) -> re.Pattern[str] | None:
    return _compiled(pattern, name, where) if pattern else None


def _compiled(pattern: str, name: str, where: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"{name}: {where}: {exc}") from exc
