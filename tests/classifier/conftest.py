"""Fixtures for classifier tests: the shipped classifier (loaded once), ../shared, a small model."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import classifier
from classifier.data import load_corpus
from classifier.model import TextModel
from classifier.rules import RuleSet
from classifier.train import TrainConfig, train_model
from govwatch.settings import get_settings
from tests.conftest import SHARED_DIR, unavailable


@pytest.fixture(scope="session")
def shipped() -> classifier.Classifier:
    """The packaged default model with the packaged rules, loaded once per session.

    GOVWATCH_ALLOW_RULES_MISMATCH=true (a rules change awaiting a retrained model) loads it anyway.
    """
    return classifier.load(allow_rules_mismatch=get_settings().allow_rules_mismatch)


@pytest.fixture(scope="session")
def rules() -> RuleSet:
    return RuleSet.load()


@pytest.fixture
def shared(request: pytest.FixtureRequest) -> Path:
    """../shared (labelled data and seeds): skips when absent, fails instead when CI=true."""
    request.node.add_marker(pytest.mark.shared)
    if not (SHARED_DIR / "data" / "dev.jsonl").exists() or not (SHARED_DIR / "seeds").is_dir():
        unavailable(f"../shared is absent ({SHARED_DIR}): the labelled data and seeds live there")
    return SHARED_DIR


def seed_path(shared: Path, number: str) -> Path:
    matches = sorted((shared / "seeds").glob(f"{number}_*.txt"))
    if not matches:
        unavailable(f"seed {number} is missing from {shared / 'seeds'}")
    return matches[0]


@pytest.fixture(scope="session")
def small_model() -> Iterator[TextModel]:
    """A model trained in a few seconds on the project's own corpus (no ../shared needed)."""
    rows = load_corpus("train")
    model, _, _ = train_model(rows, TrainConfig(top_k=20_000, cv=3), version="test-small")
    yield model
