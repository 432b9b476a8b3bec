"""The rule engine: versioned lexicons, patterns, context and expression checks (data in this folder).

All lexicon terms, context terms, typo forms, formulations' and leaders' names' near-misses and
the congress check's anchors go into one Aho-Corasick automaton, so a post is scanned once for
all of them; patterns are regular expressions with optional validators (ID check digit, Luhn).
Everything runs on normalised text (see classifier.normalize) and reports spans in it; the
caller maps them back to the original. Link rules read the post's outbound links (href and
anchor text) and report the link's index (field "links").
"""

from __future__ import annotations

import hashlib
import itertools
import re
import tomllib
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import ahocorasick_rs

from classifier.normalize import normalize
from classifier.rules.anniversary import DatedTable
from classifier.rules.claims import ClaimRules, ClaimTerm
from classifier.rules.congress import ANCHORS as CONGRESS_ANCHORS
from classifier.rules.congress import CongressTable
from classifier.rules.enumeration import EnumerationTable
from classifier.rules.nearmiss import NAME_CHAR_FREQ, joins_a_word, near_misses, read_lookalikes, read_phrases
from classifier.rules.officials import ANCHORS as OFFICIAL_ANCHORS
from classifier.rules.officials import OfficialsTable
from classifier.rules.validators import VALIDATORS
from classifier.rules.years import PostYears

__all__ = ["DEFAULT_RULES_DIR", "CategoryEvidence", "RuleError", "RuleHit", "RuleResult", "RuleSet"]

DEFAULT_RULES_DIR = Path(__file__).resolve().parent
# The rule code: part of the rules version, so a changed matcher is a new version like changed data.
RULE_CODE = tuple(sorted(DEFAULT_RULES_DIR.glob("*.py")))
RULE_CATEGORIES = ("marketing", "unverified", "harmful", "privacy", "expression")


class RuleError(ValueError):
    """A rule file is malformed; the message names the file and the entry."""


@dataclass(frozen=True, slots=True)
class RuleHit:
    """One piece of rule evidence, with offsets into the normalised text."""

    rule_id: str
    category: str
    weight: float
    start: int
    end: int
    # Structural evidence is never lowered by context: an SEO spam block, and the claim rules
    # (claims.py), which judge their passage's sourcing and the post's debunking themselves.
    structural: bool = False
    note: str | None = None
    # "text": offsets into the normalised text; "links": [start, end) are indexes of the post's
    # links and `note` holds the href or anchor text that matched.
    field: str = "text"


@dataclass(slots=True)
class _DeniedQuote:
    """A cue quoted in order to deny it (不存在“花钱买证”的途径, 严禁“刷单返利”) is lowered by `factor`."""

    categories: tuple[str, ...]
    factor: float
    before: re.Pattern[str]  # what stands right before the opening quotation mark

    def applies(self, text: str, hit: RuleHit) -> bool:
        opening = text.rfind("“", max(0, hit.start - 12), hit.start + 1)
        if opening < 0 or "”" in text[opening : hit.start]:
            return False
        closing = text.find("”", hit.end - 1, hit.end + 12)
        return closing >= 0 and bool(self.before.search(text, max(0, opening - 12), opening))


@dataclass(frozen=True, slots=True)
class CategoryEvidence:
    category: str
    score: float
    hits: list[RuleHit]
    contexts: list[str] = field(default_factory=list)
    compromised: bool = False

    @property
    def rule_ids(self) -> list[str]:
        seen: dict[str, None] = {}
        for hit in sorted(self.hits, key=lambda h: -h.weight):
            seen.setdefault(hit.rule_id, None)
        return list(seen)


@dataclass(slots=True)
class RuleResult:
    categories: dict[str, CategoryEvidence]
    contexts: list[str]


@dataclass(frozen=True, slots=True)
class _Lexicon:
    id: str
    category: str
    weight: float


@dataclass(frozen=True, slots=True)
class _Context:
    id: str
    categories: tuple[str, ...]
    factor: float


@dataclass(frozen=True, slots=True)
class _Pattern:
    id: str
    category: str
    weight: float
    regex: re.Pattern[str]
    validate: str | None
    before: re.Pattern[str] | None
    before_weight: float
    window: int
    # Literals every match contains (or sits next to): the regex only runs in a window around
    # their occurrences, found with str.find, instead of scanning the whole post.
    anchors: tuple[str, ...]
    ignore_case: bool
    # Optional fast regex for the regions a match can lie in (e.g. long digit runs); the pattern
    # then runs only inside them. Patterns sharing one `within` share its single scan.
    within: re.Pattern[str] | None
    # A private person named before (or in) the match: the weight becomes `private_weight`.
    private: re.Pattern[str] | None = None
    private_weight: float = 0.0
    private_window: int = 40
    # Given as an office's or a staff member's contact (联系人：工作人员…): wins over `private`.
    office: re.Pattern[str] | None = None


@dataclass(frozen=True, slots=True)
class _Link:
    id: str
    category: str
    weight: float
    href: re.Pattern[str] | None
    text: re.Pattern[str] | None


@dataclass(frozen=True, slots=True)
class _SpamBlock:
    id: str
    category: str
    weight: float
    separators: str
    max_segment_length: int
    min_segments: int
    min_spam_share: float
    min_harmful_segments: int
    spam_lexicons: frozenset[str]
    harmful_lexicons: frozenset[str]
    compromised: bool


@dataclass(frozen=True, slots=True)
class _Typo:
    wrong: str
    right: str
    followed_by: re.Pattern[str] | None
    preceded_by: re.Pattern[str] | None
    weight: float | None = None  # None: the table's typo_weight


# Manifest keys naming one data file each (besides the lexicons), in the order they are hashed.
_DATA_FILES = (
    "patterns",
    "context",
    "expression",
    "typos",
    "formulations",
    "lookalikes",
    "congresses",
    "anniversaries",
    "enumerations",
    "claims",
)

_DFA = ahocorasick_rs.Implementation.DFA
_NFA = ahocorasick_rs.Implementation.ContiguousNFA
# What an automaton match stands for.
_LEX, _CTX, _TYPO, _LEADER, _ANCHOR, _NEAR, _NAME_VARIANT, _CONGRESS, _DATED, _ENUM, _OFFICIAL, _CLAIM = (
    range(12)
)


def _norm_term(term: str) -> str:
    """Terms are normalised like posts so an editor may write Traditional or full-width forms."""
    return normalize(term.strip()).text.lower()


class RuleSet:
    """A loaded rule set; immutable and safe to share between threads."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        manifest = _read_toml(directory / "manifest.toml")
        self.declared_version = str(manifest["version"])
        self.flag_threshold = float(manifest.get("flag_threshold", 0.5))
        files = ["manifest.toml", *manifest.get("lexicons", [])]
        for key in _DATA_FILES:
            if manifest.get(key):
                files.append(manifest[key])
        digest = hashlib.sha256()
        for name in files:
            digest.update(name.encode())
            digest.update((directory / name).read_bytes())
        # The rule code too: a changed matcher finds other things in the same files.
        for path in RULE_CODE:
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
        # The content hash makes an edited rule set a new version even if nobody bumps `version`,
        # so `govwatch classify` re-examines posts under the edited rules.
        self.version = f"{self.declared_version}+{digest.hexdigest()[:8]}"

        self._terms: dict[str, list[tuple[int, Any]]] = defaultdict(list)
        # SEO-spam words are common on their own (视频, 平台, 注册): they live in a second
        # automaton that only runs on posts with "|"-separated runs.
        self._seo_terms: dict[str, list[tuple[int, Any]]] = defaultdict(list)
        self.lexicons: dict[str, _Lexicon] = {}
        for name in manifest.get("lexicons", []):
            self._load_lexicon(directory / name)
        self.patterns: list[_Pattern] = []
        # Rule id → contexts that do not lower it (`not_lowered_by` of a pattern): a scam that
        # impersonates the police speaks in the words that mark an enforcement report.
        self._not_lowered_by: dict[str, frozenset[str]] = {}
        self.spam_blocks: list[_SpamBlock] = []
        self.links: list[_Link] = []
        if manifest.get("patterns"):
            self._load_patterns(directory / manifest["patterns"])
        self.claims: ClaimRules | None = None
        if manifest.get("claims"):
            self._load_claims(directory / manifest["claims"])
        self.contexts: dict[str, _Context] = {}
        self.denied_quote: _DeniedQuote | None = None
        if manifest.get("context"):
            self._load_context(directory / manifest["context"])
        for rule_id, names in self._not_lowered_by.items():
            unknown = sorted(names - set(self.contexts))
            if unknown:
                raise RuleError(f"pattern {rule_id!r}: not_lowered_by names unknown contexts {unknown}")
        self.typo_weight = 0.55
        self.title_weight = 0.9
        self.order_weight = 0.9
        self.formulation_weight = 0.8
        self.name_variant_weight = 0.8
        self.leader_titles: dict[str, frozenset[str]] = {}
        self.checked_titles: tuple[str, ...] = ()
        self.gap_titles: tuple[str, ...] = ()
        self.predicate_before_title: re.Pattern[str] = re.compile("(?!)")
        self.orders: list[tuple[str, list[str]]] = []
        self.lookalikes: list[tuple[str, ...]] = []
        self._officials_data: dict[str, Any] | None = None
        if manifest.get("lookalikes"):
            self.lookalikes = [
                tuple(_norm_term(c) for c in group)
                for group in read_lookalikes(directory / manifest["lookalikes"])
            ]
        if manifest.get("expression"):
            self._load_expression(directory / manifest["expression"])
        if manifest.get("typos"):
            self._load_typos(directory / manifest["typos"])
        self._title_before, self._title_after, self._enum_gap = self._title_patterns()
        self.officials: OfficialsTable | None = None
        if self._officials_data is not None:
            try:
                self.officials = OfficialsTable(self._officials_data, self.lookalikes)
            except (KeyError, re.error) as exc:
                raise RuleError(f"expression.toml: officials: {exc}") from exc
            for anchor in OFFICIAL_ANCHORS:
                self._terms[anchor].append((_OFFICIAL, None))
        self.formulations: tuple[str, ...] = ()
        if manifest.get("formulations"):
            self._load_formulations(directory / manifest["formulations"])
        self.congresses: CongressTable | None = None
        if manifest.get("congresses"):
            self.congresses = CongressTable(_read_toml(directory / manifest["congresses"]))
            for anchor in CONGRESS_ANCHORS:
                self._terms[anchor].append((_CONGRESS, None))
        self.dated: DatedTable | None = None
        if manifest.get("anniversaries"):
            self.dated = DatedTable(_read_toml(directory / manifest["anniversaries"]))
            for anchor, ref in self.dated.anchors():
                self._terms[_norm_term(anchor)].append((_DATED, ref))
        self.enumerations: EnumerationTable | None = None
        if manifest.get("enumerations"):
            path = directory / manifest["enumerations"]
            try:
                self.enumerations = EnumerationTable(_read_toml(path), _norm_term)
            except (KeyError, ValueError) as exc:
                raise RuleError(f"{path.name}: {exc}") from exc
            for item, position in self.enumerations.anchors():
                self._terms[item].append((_ENUM, position))

        for index, pattern in enumerate(self.patterns):
            for anchor in pattern.anchors:
                self._terms[anchor].append((_ANCHOR, index))
        self._keys = list(self._terms)
        self._values = [self._terms[k] for k in self._keys]
        # A contiguous NFA: with the formulations' near-misses (tens of thousands of keys) a DFA
        # takes ~300 MB for no faster scan (measured: 0.0045 vs 0.0042 ms per post, 25 MB).
        self._automaton = ahocorasick_rs.AhoCorasick(
            self._keys, matchkind=ahocorasick_rs.MatchKind.Standard, implementation=_NFA
        )
        self._seo_keys = list(self._seo_terms)
        self._seo_values = [self._seo_terms[k] for k in self._seo_keys]
        self._seo_automaton = (
            ahocorasick_rs.AhoCorasick(
                self._seo_keys, matchkind=ahocorasick_rs.MatchKind.Standard, implementation=_DFA
            )
            if self._seo_keys
            else None
        )

    # --- loading ------------------------------------------------------------------------------

    def _load_lexicon(self, path: Path) -> None:
        category = {
            "marketing.tsv": "marketing",
            "unverified.tsv": "unverified",
            "harmful.tsv": "harmful",
            "seo.tsv": "seo",
        }.get(path.name)
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            parts = line.split("\t")
            if len(parts) != 3:
                raise RuleError(f"{path.name}:{lineno}: expected id, weight, terms separated by tabs")
            rule_id, weight, terms = parts
            cat = category or rule_id.split(".")[0]
            self._add_lexicon(
                _Lexicon(rule_id.strip(), cat, float(weight)), terms.split("|"), f"{path.name}:{lineno}"
            )

    def _add_lexicon(self, lexicon: _Lexicon, terms: Iterable[str], where: str) -> None:
        """Register one lexicon rule and its terms on the automaton (SEO terms on their own)."""
        if lexicon.id in self.lexicons:
            raise RuleError(f"{where}: duplicate rule id {lexicon.id}")
        self.lexicons[lexicon.id] = lexicon
        target = self._seo_terms if lexicon.category == "seo" else self._terms
        for term in terms:
            if term.strip():
                target[_norm_term(term)].append((_LEX, lexicon))

    def _load_patterns(self, path: Path) -> None:
        data = _read_toml(path)
        for entry in data.get("pattern", []):
            try:
                flags = re.IGNORECASE if entry.get("ignore_case") else 0
                before = entry.get("before")
                self.patterns.append(
                    _Pattern(
                        id=entry["id"],
                        category=entry["category"],
                        weight=float(entry["weight"]),
                        regex=re.compile(entry["pattern"], flags),
                        validate=entry.get("validate"),
                        before=re.compile(before) if before else None,
                        before_weight=float(entry.get("before_weight", entry["weight"])),
                        window=int(entry.get("window", 20)),
                        anchors=tuple(a.lower() for a in entry.get("anchors", ())),
                        ignore_case=bool(entry.get("ignore_case")),
                        within=_compiled(entry["within"]) if entry.get("within") else None,
                        private=_compiled(entry["private"]) if entry.get("private") else None,
                        private_weight=float(entry.get("private_weight", entry["weight"])),
                        private_window=int(entry.get("private_window", 40)),
                        office=_compiled(entry["office"]) if entry.get("office") else None,
                    )
                )
            except (KeyError, re.error) as exc:
                raise RuleError(f"{path.name}: pattern {entry.get('id')!r}: {exc}") from exc
            if entry.get("not_lowered_by"):
                # Context applies per rule id: entries sharing an id must not disagree about it.
                kept = frozenset(entry["not_lowered_by"])
                if self._not_lowered_by.setdefault(entry["id"], kept) != kept:
                    raise RuleError(
                        f"{path.name}: pattern {entry['id']!r}: not_lowered_by differs from another "
                        "entry with this id"
                    )
            if entry.get("validate") and entry["validate"] not in VALIDATORS:
                raise RuleError(
                    f"{path.name}: pattern {entry['id']!r}: unknown validator {entry['validate']!r}"
                )
            if entry["category"] not in RULE_CATEGORIES:
                raise RuleError(f"{path.name}: pattern {entry['id']!r}: unknown category")
        for entry in data.get("link", []):
            try:
                link = _Link(
                    id=entry["id"],
                    category=entry["category"],
                    weight=float(entry["weight"]),
                    href=re.compile(entry["href"], re.IGNORECASE) if entry.get("href") else None,
                    text=re.compile(entry["text"], re.IGNORECASE) if entry.get("text") else None,
                )
            except (KeyError, re.error) as exc:
                raise RuleError(f"{path.name}: link {entry.get('id')!r}: {exc}") from exc
            if link.category not in RULE_CATEGORIES:
                raise RuleError(f"{path.name}: link {link.id!r}: unknown category")
            self.links.append(link)
        for entry in data.get("spam_block", []):
            self.spam_blocks.append(
                _SpamBlock(
                    id=entry["id"],
                    category=entry["category"],
                    weight=float(entry["weight"]),
                    separators=entry.get("separators", "|"),
                    max_segment_length=int(entry.get("max_segment_length", 40)),
                    min_segments=int(entry.get("min_segments", 3)),
                    min_spam_share=float(entry.get("min_spam_share", 0.5)),
                    min_harmful_segments=int(entry.get("min_harmful_segments", 1)),
                    spam_lexicons=frozenset(entry.get("spam_lexicons", [])),
                    harmful_lexicons=frozenset(entry.get("harmful_lexicons", [])),
                    compromised=bool(entry.get("compromised", False)),
                )
            )

    def _load_claims(self, path: Path) -> None:
        """claims.toml: passage claim rules and myths (claims.py), plus plain lexicons and
        [[pattern]] / [[link]] entries loaded like those of the other files."""
        try:
            self.claims = ClaimRules(_read_toml(path), path.name)
        except (KeyError, TypeError, ValueError) as exc:
            raise RuleError(f"{path.name}: {exc}") from exc
        for term, cues in self.claims.terms.items():
            self._terms[term].extend((_CLAIM, cue) for cue in cues)
        for entry in self.claims.lexicons:
            if entry.category not in RULE_CATEGORIES:
                raise RuleError(f"{path.name}: lexicon {entry.id!r}: unknown category")
            self._add_lexicon(_Lexicon(entry.id, entry.category, entry.weight), entry.terms, path.name)
        self._load_patterns(path)

    def _load_context(self, path: Path) -> None:
        data = _read_toml(path)
        denied = data.get("denied_quote")
        if denied:
            try:
                self.denied_quote = _DeniedQuote(
                    tuple(denied["categories"]), float(denied["factor"]), re.compile(denied["before"] + "$")
                )
            except (KeyError, re.error) as exc:
                raise RuleError(f"{path.name}: denied_quote: {exc}") from exc
        for entry in data.get("context", []):
            ctx = _Context(entry["id"], tuple(entry["categories"]), float(entry["factor"]))
            self.contexts[ctx.id] = ctx
            for term in entry["terms"]:
                self._terms[_norm_term(term)].append((_CTX, ctx))

    def _load_expression(self, path: Path) -> None:
        data = _read_toml(path)
        self.typo_weight = float(data.get("typo_weight", self.typo_weight))
        self.title_weight = float(data.get("title_weight", self.title_weight))
        self.order_weight = float(data.get("order_weight", self.order_weight))
        self.formulation_weight = float(data.get("formulation_weight", self.formulation_weight))
        self.name_variant_weight = float(data.get("name_variant_weight", self.name_variant_weight))
        self._officials_data = data.get("officials")
        self.gap_titles = tuple(_norm_term(t) for t in data.get("gap_titles", []))
        try:
            self.predicate_before_title = re.compile(data.get("predicate_before_title", "(?!)"))
        except re.error as exc:
            raise RuleError(f"{path.name}: predicate_before_title: {exc}") from exc
        for entry in data.get("typo", []):
            wrong, right = _norm_term(entry["wrong"]), _norm_term(entry["right"])
            if wrong == right:
                continue
            fb, pb = entry.get("followed_by"), entry.get("preceded_by")
            weight = float(entry["weight"]) if "weight" in entry else None
            typo = _Typo(
                wrong, right, re.compile(fb) if fb else None, re.compile(pb + "$") if pb else None, weight
            )
            self._terms[wrong].append((_TYPO, typo))
        titles = [_norm_term(t) for t in data.get("checked_titles", [])]
        # Longest first, so 国家副主席 is seen before 副主席 and 主席.
        self.checked_titles = tuple(sorted(set(titles), key=len, reverse=True))
        for entry in data.get("leader", []):
            name = _norm_term(entry["name"])
            self.leader_titles[name] = frozenset(_norm_term(t) for t in entry.get("titles", []))
            self._terms[name].append((_LEADER, name))
        # Each name with one character of the given name replaced (a homophone or look-alike):
        # written next to the correct name in one post, the rarer spelling is the mistake.
        for name in self.leader_titles:
            variants = near_misses(
                name, self.lookalikes, min_han=2, positions=range(1, len(name)), char_freq=NAME_CHAR_FREQ
            )
            for variant in variants:
                if variant not in self.leader_titles:
                    self._terms[variant].append((_NAME_VARIANT, name))
        for entry in data.get("order", []):
            self.orders.append((entry["name"], [_norm_term(n) for n in entry["names"]]))

    def _context_factor(self, present: Iterable[str], category: str) -> float:
        """How much the contexts present lower `category`'s evidence (the smallest factor wins)."""
        return min(
            (self.contexts[c].factor for c in present if category in self.contexts[c].categories), default=1.0
        )

    def _load_typos(self, path: Path) -> None:
        """typos.tsv: `wrong<TAB>right` per line, wrong in any context (no conditions)."""
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            parts = line.split("\t")
            if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
                raise RuleError(f"{path.name}:{lineno}: expected wrong and right separated by a tab")
            wrong, right = _norm_term(parts[0]), _norm_term(parts[1])
            if wrong == right:
                raise RuleError(f"{path.name}:{lineno}: {parts[0]} is the same as its correction")
            if any(kind == _TYPO for kind, _ in self._terms.get(wrong, ())):
                continue  # already in expression.toml, possibly with conditions
            self._terms[wrong].append((_TYPO, _Typo(wrong, right, None, None)))

    def _load_formulations(self, path: Path) -> None:
        phrases = [_norm_term(p) for p in read_phrases(path)]
        self.formulations = tuple(dict.fromkeys(p for p in phrases if p))
        # A variant that is part of a correct formulation (or a typo-table entry) is no near-miss.
        joined = "\n".join(self.formulations)
        for phrase in self.formulations:
            for variant, (position, note) in near_misses(phrase, self.lookalikes, fuzzy=True).items():
                if variant in joined:
                    continue
                entries = self._terms.get(variant)
                if entries and any(kind in (_TYPO, _NEAR) for kind, _ in entries):
                    continue
                self._terms[variant].append((_NEAR, (phrase, position, note)))

    def _title_patterns(self) -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
        # A checked title right before or right after a name; longest first (国家副主席 before 主席).
        checked = "|".join(re.escape(t) for t in self.checked_titles) or "(?!)"
        # Names listed together may carry titles between them (习近平总书记、李强总理、…).
        titles = "|".join(re.escape(t) for t in (*self.checked_titles, *self.gap_titles))
        gap = re.compile(rf"(?:{titles})?[、，, 和及与]{{1,2}}(?:{titles})?")
        return re.compile(rf"(?:{checked})$"), re.compile(rf"(?:{checked})"), gap

    # --- matching -----------------------------------------------------------------------------

    def match(
        self,
        text: str,
        *,
        links: Iterable[Mapping[str, Any]] | None = None,
        published: date | datetime | str | None = None,
    ) -> tuple[list[RuleHit], set[str]]:
        """All rule hits in normalised `text` and its `links`, and the ids of the contexts present.

        `published` (the post's date) is what the congress check and the ID-number birth date
        are judged against; without it only what is impossible on any date is flagged.
        """
        day = _as_date(published)
        lowered = text.lower()
        if len(lowered) != len(text):  # a few non-ASCII letters lower-case to two characters
            lowered = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
        hits: list[RuleHit] = []
        contexts: set[str] = set()
        lex_hits: list[tuple[_Lexicon, int, int]] = []
        leader_hits: list[tuple[str, int, int]] = []
        variant_hits: list[tuple[str, str, int, int]] = []
        congress_at: list[int] = []
        claim_cues: list[tuple[ClaimTerm, int, int]] = []
        dated_at: list[tuple[str, int, int, int]] = []
        enum_at: list[tuple[int, int, int, int]] = []
        officials = False
        anchors: dict[int, list[int]] = {}
        values = self._values
        for index, start, end in self._automaton.find_matches_as_indexes(lowered, overlapping=True):
            for kind, ref in values[index]:
                if kind == _LEX:
                    lex_hits.append((ref, start, end))
                elif kind == _ANCHOR:
                    anchors.setdefault(ref, []).append(start)
                elif kind == _CTX:
                    contexts.add(ref.id)
                elif kind == _TYPO:
                    if self._typo_applies(ref, lowered, start, end):
                        note = f"{ref.wrong}→{ref.right}"
                        weight = self.typo_weight if ref.weight is None else ref.weight
                        hits.append(RuleHit("ex.typo", "expression", weight, start, end, note=note))
                elif kind == _NEAR:
                    phrase, position, change = ref
                    if joins_a_word(lowered, start, end, position):
                        continue
                    note = f"{lowered[start:end]}→{phrase} ({change})"
                    hits.append(
                        RuleHit(
                            "ex.formulation", "expression", self.formulation_weight, start, end, note=note
                        )
                    )
                elif kind == _NAME_VARIANT:
                    variant_hits.append((ref, lowered[start:end], start, end))
                elif kind == _CONGRESS:
                    congress_at.append(start)
                elif kind == _CLAIM:
                    claim_cues.append((ref, start, end))
                elif kind == _DATED:
                    dated_at.append((ref[0], ref[1], start, end))
                elif kind == _ENUM:
                    enum_at.append((ref[0], ref[1], start, end))
                elif kind == _OFFICIAL:
                    officials = True
                else:
                    leader_hits.append((ref, start, end))

        for lexicon, start, end in lex_hits:
            if lexicon.weight > 0:
                hits.append(RuleHit(lexicon.id, lexicon.category, lexicon.weight, start, end))
        if self.spam_blocks and ("|" in text or "丨" in text):
            if self._seo_automaton is not None:
                for index, start, end in self._seo_automaton.find_matches_as_indexes(
                    lowered, overlapping=True
                ):
                    lex_hits.extend((ref, start, end) for _, ref in self._seo_values[index])
            hits.extend(self._spam_blocks(text, lex_hits))
        hits.extend(self._patterns(text, anchors, day))
        if claim_cues and self.claims is not None:
            # The unverified lexicon cues as evaluate() will weigh them (after context): the claim
            # rule tops them up to its weight instead of adding to them (see ClaimRules.hits).
            factor = self._context_factor(contexts, "unverified")
            cue_weights = {
                lex.id: lex.weight * factor for lex, _, _ in lex_hits if lex.category == "unverified"
            }
            hits.extend(
                RuleHit(h.rule_id, h.category, h.weight, h.start, h.end, structural=True, note=h.note)
                for h in self.claims.hits(lowered, claim_cues, cue_weights.values())
            )
        if leader_hits:
            hits.extend(self._leaders(lowered, leader_hits))
        if variant_hits:
            hits.extend(self._name_variants(lowered, leader_hits, variant_hits))
        years = PostYears(text, day) if (congress_at or dated_at) else None
        if congress_at and self.congresses is not None and years is not None:
            for found in self.congresses.check(text, congress_at, years.day_at, day):
                hits.append(
                    RuleHit(
                        "ex.congress_number",
                        "expression",
                        self.congresses.weight,
                        found.start,
                        found.end,
                        note=found.note,
                    )
                )
        if dated_at and self.dated is not None and years is not None:
            hits.extend(
                RuleHit("ex.dated_number", "expression", self.dated.weight, f.start, f.end, note=f.note)
                for f in self.dated.check(text, dated_at, years)
            )
        if len(enum_at) >= 2 and self.enumerations is not None:
            hits.extend(
                RuleHit("ex.enumeration", "expression", self.enumerations.weight, f.start, f.end, note=f.note)
                for f in self.enumerations.check(lowered, enum_at)
            )
        if officials and self.officials is not None:
            hits.extend(
                RuleHit("ex.official", "expression", self.officials.weight, f.start, f.end, note=f.note)
                for f in self.officials.check(lowered)
            )
        if links and self.links:
            hits.extend(self._link_hits(links))
        return hits, contexts

    def _name_variants(
        self,
        lowered: str,
        leader_hits: list[tuple[str, int, int]],
        variant_hits: list[tuple[str, str, int, int]],
    ) -> list[RuleHit]:
        """One leader's name written two ways in a post: flag the rarer spelling (the variant on a
        tie). A variant right next to one of that leader's titles (习近萍总书记), or listed with
        other leaders' names (李强、丁学祥、李希), is a misspelt name even where the post never
        writes it correctly."""
        correct = Counter(name for name, _, _ in set(leader_hits))
        hits: list[RuleHit] = []
        by_name: dict[str, list[tuple[str, int, int]]] = defaultdict(list)
        for name, variant, start, end in variant_hits:
            if correct[name]:
                by_name[name].append((variant, start, end))
            elif self._titled(lowered, name, start, end) or _in_name_list(leader_hits, start, end, lowered):
                weight = self.name_variant_weight
                hits.append(
                    RuleHit("ex.name_variant", "expression", weight, start, end, note=f"{variant}→{name}")
                )
        for name, found in by_name.items():
            if len(found) <= correct[name]:
                hits.extend(
                    RuleHit(
                        "ex.name_variant", "expression", self.name_variant_weight, s, e, note=f"{v}→{name}"
                    )
                    for v, s, e in found
                )
            else:
                variant = Counter(v for v, _, _ in found).most_common(1)[0][0]
                hits.extend(
                    RuleHit(
                        "ex.name_variant",
                        "expression",
                        self.name_variant_weight,
                        s,
                        e,
                        note=f"{name}→{variant}",
                    )
                    for n, s, e in set(leader_hits)
                    if n == name
                )
        return hits

    def _titled(self, lowered: str, name: str, start: int, end: int) -> bool:
        """Whether one of `name`'s titles stands right before or right after [start, end)."""
        return any(
            lowered.startswith(title, end) or lowered.endswith(title, 0, start)
            for title in self.leader_titles.get(name, ())
        )

    def _link_hits(self, links: Iterable[Mapping[str, Any]]) -> list[RuleHit]:
        hits: list[RuleHit] = []
        for index, link in enumerate(links):
            href = str(link.get("href") or "").strip()
            anchor = normalize(str(link.get("text") or "")).text if link.get("text") else ""
            for rule in self.links:
                if rule.href is not None and href and rule.href.search(href):
                    matched = href
                elif rule.text is not None and anchor and rule.text.search(anchor):
                    matched = anchor
                else:
                    continue
                hits.append(
                    RuleHit(
                        rule.id, rule.category, rule.weight, index, index + 1, note=matched, field="links"
                    )
                )
        return hits

    @staticmethod
    def _typo_applies(typo: _Typo, text: str, start: int, end: int) -> bool:
        if typo.followed_by is not None and not typo.followed_by.match(text, end):
            return False
        return not (
            typo.preceded_by is not None and not typo.preceded_by.search(text[max(0, start - 20) : start])
        )

    def _patterns(self, text: str, anchors: dict[int, list[int]], day: date | None = None) -> list[RuleHit]:
        hits: list[RuleHit] = []
        regions: dict[re.Pattern[str], list[tuple[int, int]]] = {}
        for index, pattern in enumerate(self.patterns):
            if pattern.anchors:
                positions = anchors.get(index)
                if not positions:
                    continue
                matches = _anchored_matches(pattern, text, positions)
            elif pattern.within is not None:
                if pattern.within not in regions:
                    regions[pattern.within] = [m.span() for m in pattern.within.finditer(text)]
                matches = [
                    m
                    for start, end in regions[pattern.within]
                    # One character of slack after the region lets a look-ahead see what follows.
                    for m in pattern.regex.finditer(text, start, min(end + 1, len(text)))
                ]
            else:
                matches = list(pattern.regex.finditer(text))
            for m in matches:
                if pattern.validate and not VALIDATORS[pattern.validate](m.group(), day):
                    continue
                weight = pattern.weight
                note = None
                window = text[max(0, m.start() - pattern.window) : m.start()]
                if pattern.office is not None and pattern.office.search(window):
                    weight = pattern.before_weight
                    note = "office contact"
                elif pattern.private is not None and pattern.private.search(
                    text, max(0, m.start() - pattern.private_window), m.end()
                ):
                    weight = pattern.private_weight
                    note = "private person"
                elif pattern.before is not None and pattern.before.search(window):
                    weight = pattern.before_weight
                    note = "context before"
                hits.append(RuleHit(pattern.id, pattern.category, weight, m.start(), m.end(), note=note))
        return hits

    def _spam_blocks(self, text: str, lex_hits: list[tuple[_Lexicon, int, int]]) -> list[RuleHit]:
        hits: list[RuleHit] = []
        for block in self.spam_blocks:
            for start, end, segments in _separated_runs(text, block):
                spam: set[int] = set()
                harmful: set[int] = set()
                for lexicon, s, e in lex_hits:
                    if s < start or e > end:
                        continue
                    seg = next((i for i, (a, b) in enumerate(segments) if a <= s and e <= b), None)
                    if seg is None:
                        continue
                    if lexicon.id in block.harmful_lexicons:
                        harmful.add(seg)
                        spam.add(seg)
                    elif lexicon.id in block.spam_lexicons:
                        spam.add(seg)
                if (
                    len(spam) / len(segments) >= block.min_spam_share
                    and len(harmful) >= block.min_harmful_segments
                ):
                    note = "compromised" if block.compromised else None
                    hits.append(
                        RuleHit(
                            block.id, block.category, block.weight, start, end, structural=True, note=note
                        )
                    )
        return hits

    def _title_is_predicate(self, text: str, title_start: int) -> bool:
        """Whether the titles ending at `title_start` are the object of a verb such as 当选 or 担任."""
        position = title_start
        while position > 0 and text[position - 1] in "、，, ":
            position -= 1
        chained = self._title_before.search(text, max(0, position - 12), position)
        while chained is not None and chained.end() == position:
            position = chained.start()
            while position > 0 and text[position - 1] in "、，, ":
                position -= 1
            chained = self._title_before.search(text, max(0, position - 12), position)
        return self.predicate_before_title.search(text, max(0, position - 4), position) is not None

    def _leaders(self, text: str, found: list[tuple[str, int, int]]) -> list[RuleHit]:
        hits: list[RuleHit] = []
        found = sorted(set(found), key=lambda f: f[1])
        for name, start, end in found:
            allowed = self.leader_titles.get(name, frozenset())
            match = self._title_before.search(text, max(0, start - 12), start)
            title = match.group() if match else None
            t_start, t_end = (start - len(title), start) if title else (0, 0)
            if title is not None and self._title_is_predicate(text, t_start):
                # 赵乐际当选委员长 / 习近平当选国家主席中央军委主席赵乐际…: without punctuation the
                # title a verb gave the previous person stands right before the next name.
                title = None
            if title is None:
                match = self._title_after.match(text, end)
                title = match.group() if match else None
                t_start, t_end = (end, end + len(title)) if title else (0, 0)
            if title is not None and title not in allowed:
                hits.append(
                    RuleHit(
                        "ex.leader_title",
                        "expression",
                        self.title_weight,
                        min(start, t_start),
                        max(end, t_end),
                        note=f"{name}: {title}",
                    )
                )
        # Runs of names listed together (习近平、李强、赵乐际…) must follow an order of precedence.
        runs: list[list[tuple[str, int, int]]] = []
        for item in found:
            if runs and self._enum_gap.fullmatch(text[runs[-1][-1][2] : item[1]]):
                runs[-1].append(item)
            else:
                runs.append([item])
        for run in runs:
            names = [n for n, _, _ in run]
            if len(set(names)) < 2:
                continue
            fitting = [order for _, order in self.orders if all(n in order for n in names)]
            if fitting and not any(_in_order(names, order) for order in fitting):
                hits.append(
                    RuleHit(
                        "ex.leader_order",
                        "expression",
                        self.order_weight,
                        run[0][1],
                        run[-1][2],
                        note="、".join(names),
                    )
                )
        return hits

    # --- scoring ------------------------------------------------------------------------------

    def evaluate(
        self,
        text: str,
        *,
        links: Iterable[Mapping[str, Any]] | None = None,
        published: date | datetime | str | None = None,
    ) -> RuleResult:
        """Rule evidence per category for normalised `text` (and its links), after context."""
        hits, present = self.match(text, links=links, published=published)
        if not hits:
            return RuleResult(categories={}, contexts=sorted(present))
        by_category: dict[str, list[RuleHit]] = {}
        for hit in hits:
            by_category.setdefault(hit.category, []).append(hit)
        categories: dict[str, CategoryEvidence] = {}
        for category, cat_hits in by_category.items():
            applied = sorted(c for c in present if category in self.contexts[c].categories)
            factor = self._context_factor(applied, category)
            best: dict[str, float] = {}
            denied = (
                self.denied_quote if self.denied_quote and category in self.denied_quote.categories else None
            )
            for hit in cat_hits:
                hit_factor = factor
                if hit.rule_id in self._not_lowered_by:
                    kept = self._not_lowered_by[hit.rule_id]
                    hit_factor = self._context_factor([c for c in applied if c not in kept], category)
                w = hit.weight if hit.structural else hit.weight * hit_factor
                if (
                    denied is not None
                    and not hit.structural
                    and hit.field == "text"
                    and denied.applies(text, hit)
                ):
                    w *= denied.factor
                if w > best.get(hit.rule_id, -1.0):
                    best[hit.rule_id] = w
            remaining = 1.0
            for w in best.values():
                remaining *= 1.0 - min(max(w, 0.0), 1.0)
            categories[category] = CategoryEvidence(
                category=category,
                score=1.0 - remaining,
                hits=cat_hits,
                contexts=applied,
                compromised=any(h.note == "compromised" for h in cat_hits),
            )
        return RuleResult(categories=categories, contexts=sorted(present))

    @classmethod
    def load(cls, directory: str | Path | None = None) -> RuleSet:
        return cls(Path(directory) if directory is not None else DEFAULT_RULES_DIR)


_ANCHOR_REACH = 40
_LIST_SEPARATORS = "、，, "


def _in_name_list(leader_hits: Iterable[tuple[str, int, int]], start: int, end: int, text: str) -> bool:
    """Whether [start, end) is separated from a leader's correctly written name by one list
    separator (、), on either side: a member of a list of leaders."""
    return any(
        (start - e == 1 and text[e] in _LIST_SEPARATORS) or (s - end == 1 and text[end] in _LIST_SEPARATORS)
        for _, s, e in leader_hits
    )


_REGEX_CACHE: dict[str, re.Pattern[str]] = {}


def _compiled(pattern: str) -> re.Pattern[str]:
    if pattern not in _REGEX_CACHE:
        _REGEX_CACHE[pattern] = re.compile(pattern)
    return _REGEX_CACHE[pattern]


def _anchored_matches(pattern: _Pattern, text: str, positions: list[int]) -> list[re.Match[str]]:
    """Matches of `pattern` within _ANCHOR_REACH characters of its anchors' positions."""
    positions.sort()
    found: dict[tuple[int, int], re.Match[str]] = {}
    lo = hi = -1
    for p in [*positions, len(text) + 10 * _ANCHOR_REACH]:
        start, end = max(0, p - _ANCHOR_REACH), p + _ANCHOR_REACH
        if start <= hi:
            hi = end
            continue
        if hi >= 0:
            for m in pattern.regex.finditer(text, lo, min(hi, len(text))):
                found.setdefault(m.span(), m)
        lo, hi = start, end
    return [found[k] for k in sorted(found)]


def _separated_runs(text: str, block: _SpamBlock) -> list[tuple[int, int, list[tuple[int, int]]]]:
    """Runs of at least `min_segments` short segments joined by a separator, line by line.

    Done by splitting rather than with one regular expression: a pattern of repeated bounded
    segments backtracks badly on long lines.
    """
    runs: list[tuple[int, int, list[tuple[int, int]]]] = []
    line_start = 0
    for line in text.split("\n"):
        if any(sep in line for sep in block.separators):
            segments: list[tuple[int, int]] = []
            pos = line_start
            current: list[tuple[int, int]] = []
            for i, ch in enumerate(line + block.separators[0]):
                if ch in block.separators:
                    seg = (pos, line_start + i)
                    raw = text[seg[0] : seg[1]]
                    stripped = raw.strip()
                    if 1 <= len(stripped) <= block.max_segment_length:
                        lead = len(raw) - len(raw.lstrip())
                        current.append((seg[0] + lead, seg[0] + lead + len(stripped)))
                    else:
                        if len(current) >= block.min_segments:
                            segments.extend(current)
                            runs.append((current[0][0], current[-1][1], current))
                        current = []
                    pos = line_start + i + 1
            if len(current) >= block.min_segments:
                runs.append((current[0][0], current[-1][1], current))
        line_start += len(line) + 1
    return runs


def _as_date(value: date | datetime | str | None) -> date | None:
    """The post's date from what a caller passes: a date, a datetime or an ISO string."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError as exc:
        raise ValueError(f"published: not a date: {value!r}") from exc


def _in_order(names: list[str], order: list[str]) -> bool:
    ranks = [order.index(n) for n in names]
    return all(a < b for a, b in itertools.pairwise(ranks))


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RuleError(f"{path.name}: {exc}") from exc
