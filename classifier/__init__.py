"""govwatch classifier: text in, findings out (rules + model). Imports nothing else of ours.

import classifier
clf = classifier.load()                  # the packaged default model and rules
for finding in clf.classify(text, title=title):
    print(finding.category, finding.score, finding.source, [s.text for s in finding.spans])
"""

from __future__ import annotations

from pathlib import Path

from classifier.findings import CATEGORIES, Finding, Span
from classifier.model import (
    ModelError,
    ModelVersionError,
    RulesMismatchError,
    TextModel,
    check_rules_version,
    load_model,
)
from classifier.pipeline import Classifier
from classifier.rules import RuleError, RuleSet

__all__ = [
    "CATEGORIES",
    "PACKAGED_MODELS",
    "Classifier",
    "Finding",
    "ModelError",
    "ModelVersionError",
    "RuleError",
    "RuleSet",
    "RulesMismatchError",
    "Span",
    "TextModel",
    "load",
    "resolve_model_dir",
]

# The default model ships inside the package so an installed govwatch finds it; DEFAULT.txt names
# it (with a suffix so that package data includes it). CURRENT names a promoted version.
PACKAGED_MODELS = Path(__file__).resolve().parent / "models"
POINTER_FILES = ("CURRENT", "DEFAULT.txt")


def resolve_model_dir(path: str | Path | None = None) -> Path:
    """The model version directory `path` designates.

    `path` may be a version directory (with metadata.json), or a folder of versions with a
    CURRENT (promoted) or DEFAULT.txt file naming one; None means the packaged default.
    """
    target = Path(path) if path is not None else PACKAGED_MODELS
    if (target / "metadata.json").is_file():
        return target
    for pointer in POINTER_FILES:
        if (target / pointer).is_file():
            version = (target / pointer).read_text(encoding="utf-8").strip()
            if not version or "/" in version or version.startswith("."):
                raise ModelError(f"{target / pointer} does not name a version")
            return target / version
    raise ModelError(f"no model in {target}: expected metadata.json, or a CURRENT or DEFAULT.txt file")


def load(
    path: str | Path | None = None,
    *,
    rules: str | Path | None = None,
    allow_rules_mismatch: bool = False,
) -> Classifier:
    """A classifier with the model at `path` (see resolve_model_dir) and the rules in `rules`.

    Raises ModelVersionError when the model was built with other library versions, and its
    subclass RulesMismatchError when it was trained with other rules than `rules`, unless
    `allow_rules_mismatch` (then the thresholds are used as they are, untuned for these rules).
    """
    model = load_model(resolve_model_dir(path))
    ruleset = RuleSet.load(rules)
    check_rules_version(model.metadata, ruleset.version, allow_mismatch=allow_rules_mismatch)
    return Classifier(model, ruleset)
