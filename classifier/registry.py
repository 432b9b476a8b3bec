"""The model registry: which trained versions exist, which one is current, and promoting one.

Read in one place by `govwatch classify`, `govwatch model`, the scheduler's classify and retrain
jobs. A promoted version is named in the CURRENT file inside the model folder; without it the
packaged default (classifier/models/DEFAULT.txt) is used. Imports nothing of ours outside the
classifier, so it takes the model folder as an argument.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CURRENT_FILE = "CURRENT"
DEFAULT_FILE = "DEFAULT.txt"


class RegistryError(ValueError):
    """A version that does not exist or cannot be promoted."""


@dataclass(frozen=True)
class ModelVersion:
    name: str
    path: Path
    where: str  # "trained" (in the model folder) or "packaged"


def read_pointer(path: Path) -> str | None:
    return path.read_text(encoding="utf-8").strip() if path.is_file() else None


def packaged_models() -> Path:
    import classifier

    return classifier.PACKAGED_MODELS


def default_version() -> str | None:
    return read_pointer(packaged_models() / DEFAULT_FILE)


def current_version(model_dir: Path) -> str:
    """The name of the version in use: the promoted one, else the packaged default."""
    return read_pointer(model_dir / CURRENT_FILE) or default_version() or ""


def list_versions(model_dir: Path) -> list[ModelVersion]:
    """Trained versions in the model folder, then the packaged ones."""
    found: list[ModelVersion] = []
    if model_dir.is_dir():
        for path in sorted(model_dir.iterdir()):
            if (path / "metadata.json").is_file():
                found.append(ModelVersion(path.name, path, "trained"))
    packaged = packaged_models()
    if packaged.is_dir():
        for path in sorted(packaged.iterdir()):
            if (path / "metadata.json").is_file():
                found.append(ModelVersion(path.name, path, "packaged"))
    return found


def current_model_path(model_dir: Path) -> Path:
    """The directory of the version in use."""
    import classifier

    if (model_dir / CURRENT_FILE).is_file():
        return classifier.resolve_model_dir(model_dir)
    return classifier.resolve_model_dir()


def load_current(model_dir: Path, *, allow_rules_mismatch: bool = False) -> Any:
    """The classifier in use: the promoted version, else the packaged default."""
    import classifier

    if (model_dir / CURRENT_FILE).is_file():
        return classifier.load(model_dir, allow_rules_mismatch=allow_rules_mismatch)
    return classifier.load(allow_rules_mismatch=allow_rules_mismatch)


def promote(model_dir: Path, version: str) -> str:
    """Make `version` current; returns a sentence saying what happened.

    Refuses a version this installation cannot load. The packaged default's name removes the
    pointer, which restores the default.
    """
    from classifier.model import ModelError, load_model

    known = {v.name: v for v in list_versions(model_dir)}
    if version not in known:
        raise RegistryError(f"no model version {version!r}; see `govwatch model list`")
    found = known[version]
    try:
        load_model(found.path)  # refuse to promote what this installation cannot load
    except ModelError as error:
        raise RegistryError(str(error)) from None
    pointer = model_dir / CURRENT_FILE
    if found.where == "packaged" and version == default_version():
        pointer.unlink(missing_ok=True)
        return f"using the packaged default {version}"
    if found.where == "packaged":
        raise RegistryError("only the packaged DEFAULT can be used from the package")
    model_dir.mkdir(parents=True, exist_ok=True)
    temporary = pointer.with_suffix(".tmp")
    temporary.write_text(version + "\n", encoding="utf-8")
    os.replace(temporary, pointer)  # atomic: a classify job never reads half a name
    return f"current model: {version}"
