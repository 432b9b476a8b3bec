"""Scoring rules as data: the versioned TOML files of this folder, loaded and checked."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from store.errors import InvalidInput

SCORING_DIR = Path(__file__).parent
DEFAULT_SCORING = SCORING_DIR / "default.toml"


class ScoringError(InvalidInput, ValueError):
    """A scoring file that cannot be used (missing keys, wrong types)."""


@dataclass(frozen=True)
class FindingRule:
    label: str
    points: float
    cap: float


@dataclass(frozen=True)
class Scoring:
    """One scoring file, read once; `raw` keeps the whole table for the report's texts."""

    version: str
    title: str
    base_points: float
    max_bonus: float
    pass_mark: float
    vetoed_score: float | None
    auto_confirm_threshold: float | None
    veto: dict[str, dict[str, Any]]
    update: dict[str, Any]
    findings: dict[str, FindingRule]
    service: dict[str, Any]
    influence: dict[str, Any]
    filing: dict[str, Any]
    report: dict[str, Any]
    path: Path
    raw: dict[str, Any] = field(repr=False, default_factory=dict)

    def veto_label(self, code: str) -> str:
        return str(self.veto.get(code, {}).get("label", code))

    def category_label(self, category: str) -> str:
        rule = self.findings.get(category)
        return rule.label if rule else category


def _number(table: dict[str, Any], key: str, where: str) -> float:
    value = table.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ScoringError(f"{where}: `{key}` must be a number")
    return float(value)


def load_scoring(path: Path | None = None) -> Scoring:
    """The scoring file at `path` (default: reports/scoring/default.toml), validated."""
    path = path or DEFAULT_SCORING
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScoringError(f"scoring file {path} does not exist") from None
    except tomllib.TOMLDecodeError as error:
        raise ScoringError(f"scoring file {path} is not valid TOML: {error}") from None
    where = str(path)
    version = raw.get("version")
    if not isinstance(version, str) or not version or len(version) > 64:
        raise ScoringError(f"{where}: `version` must be a non-empty string of at most 64 characters")
    for section in ("veto", "update", "findings", "service", "influence", "filing", "report"):
        if not isinstance(raw.get(section), dict):
            raise ScoringError(f"{where}: the [{section}] table is missing")
    for code in ("serious", "inactive", "interaction", "compromised"):
        if not isinstance(raw["veto"].get(code), dict):
            raise ScoringError(f"{where}: the [veto.{code}] table is missing")
    findings = {}
    for category, table in raw["findings"].items():
        findings[category] = FindingRule(
            label=str(table.get("label", category)),
            points=_number(table, "points", f"{where} [findings.{category}]"),
            cap=_number(table, "cap", f"{where} [findings.{category}]"),
        )
    for key in ("min_posts", "points_per_missing_post", "missing_posts_cap", "max_gap_days"):
        _number(raw["update"], key, f"{where} [update]")
    threshold = raw.get("auto_confirm_threshold")
    if threshold is not None:
        threshold = _number(raw, "auto_confirm_threshold", where)
    vetoed = raw.get("vetoed_score")
    return Scoring(
        version=version,
        title=str(raw.get("title", "")),
        base_points=_number(raw, "base_points", where),
        max_bonus=_number(raw, "max_bonus", where),
        pass_mark=_number(raw, "pass_mark", where),
        vetoed_score=None if vetoed is None else _number(raw, "vetoed_score", where),
        auto_confirm_threshold=threshold,
        veto=raw["veto"],
        update=raw["update"],
        findings=findings,
        service=raw["service"],
        influence=raw["influence"],
        filing=raw["filing"],
        report=raw["report"],
        path=path,
        raw=raw,
    )
