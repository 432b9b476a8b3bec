"""The source documents in ../shared/seeds."""

from __future__ import annotations

from pathlib import Path

import pytest

from classifier import Classifier
from tests.classifier.conftest import seed_path


def test_seed_004_spam_header_is_harmful_and_nothing_else(shipped: Classifier, shared: Path) -> None:
    text = seed_path(shared, "004").read_text(encoding="utf-8")
    first_line_end = text.index("\n")
    findings = shipped.classify(text)
    assert [f.category for f in findings] == ["harmful"], [f.to_dict() for f in findings]
    harmful = findings[0]
    assert harmful.spans
    assert all(span.end <= first_line_end for span in harmful.spans), harmful.spans
    assert "hm.seo_block" in harmful.source
    assert harmful.detail.get("compromised") is True


@pytest.mark.parametrize("number", ["000", "001", "002", "003"])
def test_seeds_000_to_003_are_not_flagged_as_violations(
    shipped: Classifier, shared: Path, number: str
) -> None:
    text = seed_path(shared, number).read_text(encoding="utf-8")
    findings = shipped.classify(text)
    assert not [f for f in findings if f.category in ("marketing", "unverified", "harmful")], [
        f.to_dict() for f in findings
    ]
