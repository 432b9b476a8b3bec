"""What the classifier returns: findings with their evidence spans."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["CATEGORIES", "Finding", "Span"]

CATEGORIES = ("marketing", "unverified", "harmful", "privacy", "expression")


@dataclass(frozen=True, slots=True)
class Span:
    """Evidence: [start, end) in the original text (or title) and the rule or model behind it.

    For link evidence (field "links"), [start, end) are indexes into the post's links and `text`
    is the href or anchor text that matched.
    """

    start: int
    end: int
    text: str
    source: str
    field: str = "text"

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "source": self.source,
        }
        # Spans point into the post's text; the rare one in its title says so.
        if self.field != "text":
            data["field"] = self.field
        return data


@dataclass(frozen=True, slots=True)
class Finding:
    """One category flagged on one text, with a 0–1 score and the evidence a reviewer needs."""

    category: str
    score: float
    spans: tuple[Span, ...]
    source: str  # rule ids, "model", or both ("mk.order_contact,mk.promo+model")
    model_version: str
    rules_version: str
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def rule_ids(self) -> list[str]:
        return list(self.detail.get("rules", []))

    @property
    def model_fired(self) -> bool:
        return bool(self.detail.get("model_fired"))

    def to_dict(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "score": self.score,
            "spans": [s.to_dict() for s in self.spans],
            "source": self.source,
            "model_version": self.model_version,
            "rules_version": self.rules_version,
            "detail": self.detail,
        }
