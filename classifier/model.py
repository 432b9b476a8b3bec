"""The text model: hashed word and character features, a linear model and per-class calibration.

A trained model is plain arrays (bucket ids, IDF, coefficients, calibration), so inference needs
numpy and scipy only and the artefact does not depend on scikit-learn's pickles. On disk a
version is a directory `<version>/model.joblib` + `metadata.json`; `load_model` checks the
artefact's hash and the versions that shape its features before it unpickles anything, and
refuses a mismatch rather than guessing.
"""

from __future__ import annotations

import hashlib
import json
import platform
from dataclasses import dataclass, field
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import scipy.sparse as sp

from classifier.features import FEATURE_FORMAT, HashingFeaturizer

__all__ = [
    "ARTEFACT_FORMAT",
    "CLASSES",
    "ModelError",
    "ModelVersionError",
    "TextModel",
    "library_versions",
    "load_model",
    "save_model",
]

# What the model predicts. `unverified` is the data's `rumor`; privacy and expression are left to
# rules, which find them exactly (check digits, typo lists), so the model never learns them.
CLASSES = ("ok", "marketing", "unverified", "harmful")
ARTEFACT_FORMAT = 1
MODEL_FILE = "model.joblib"
METADATA_FILE = "metadata.json"

# Libraries whose version changes what a text turns into (normalisation, segmentation) and so
# must match the training run exactly; numpy must match on its major version. scikit-learn is
# only used for training: the artefact holds plain arrays, so it is recorded but not enforced.
_EXACT = ("rjieba", "opencc")
_MAJOR = ("numpy",)
_RECORDED = ("numpy", "scipy", "scikit-learn", "joblib", "rjieba", "jieba", "opencc", "ahocorasick-rs")


class ModelError(RuntimeError):
    """A model directory is missing, incomplete or corrupt."""


class ModelVersionError(ModelError):
    """A model was built with library or format versions this installation does not have."""


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in _RECORDED:
        try:
            versions[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            versions[name] = "absent"
    return versions


@dataclass
class TextModel:
    """A fitted text model. Probabilities are per-class sigmoid-calibrated, then normalised."""

    version: str
    classes: tuple[str, ...]
    word_bits: int
    char_bits: int
    char_ngrams: tuple[int, int]
    buckets: np.ndarray  # sorted bucket ids the model uses (int64)
    idf: np.ndarray  # (n_features,) float32
    coef: np.ndarray  # (n_features, n_classes) float32
    intercept: np.ndarray  # (n_classes,) float64
    calibration_a: np.ndarray  # (n_classes,) float64: p = 1 / (1 + exp(a * score + b))
    calibration_b: np.ndarray
    thresholds: dict[str, float] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    _featurizer: HashingFeaturizer | None = field(default=None, repr=False, compare=False)

    @property
    def featurizer(self) -> HashingFeaturizer:
        if self._featurizer is None:
            fz = HashingFeaturizer(
                word_bits=self.word_bits, char_bits=self.char_bits, char_ngrams=self.char_ngrams
            )
            fz.set_buckets(self.buckets, self.idf)
            self._featurizer = fz
        return self._featurizer

    def transform(self, canonical: list[str], words: list[list[str]] | None = None) -> sp.csr_matrix:
        return self.featurizer.transform(canonical, words)

    def decision_function(self, x: sp.csr_matrix) -> np.ndarray:
        return np.asarray(x @ self.coef, dtype=np.float64) + self.intercept

    def predict_proba(self, x: sp.csr_matrix) -> np.ndarray:
        return self.calibrate(self.decision_function(x))

    def calibrate(self, scores: np.ndarray) -> np.ndarray:
        """Decision values → probabilities, as scikit-learn's sigmoid calibration computes them."""
        with np.errstate(over="ignore"):
            proba = 1.0 / (1.0 + np.exp(self.calibration_a * scores + self.calibration_b))
        total = proba.sum(axis=1, keepdims=True)
        uniform = np.full_like(proba, 1.0 / len(self.classes))
        return np.divide(proba, total, out=uniform, where=total > 0)

    def class_index(self, name: str) -> int:
        return self.classes.index(name)

    # --- persistence --------------------------------------------------------------------------

    def to_payload(self) -> dict[str, Any]:
        # Stored compactly: coefficients and IDF as float16 (the model was evaluated with these
        # rounded values, see `quantized`), bucket ids as int32 deltas, which compress well.
        return {
            "format": ARTEFACT_FORMAT,
            "version": self.version,
            "classes": list(self.classes),
            "word_bits": self.word_bits,
            "char_bits": self.char_bits,
            "char_ngrams": list(self.char_ngrams),
            "bucket_deltas": np.diff(self.buckets, prepend=0).astype(np.int32),
            "idf": self.idf.astype(np.float16),
            "coef": self.coef.astype(np.float16),
            "intercept": self.intercept.astype(np.float64),
            "calibration_a": self.calibration_a.astype(np.float64),
            "calibration_b": self.calibration_b.astype(np.float64),
            "thresholds": dict(self.thresholds),
        }

    @classmethod
    def from_payload(cls, payload: dict[str, Any], metadata: dict[str, Any] | None = None) -> TextModel:
        if payload.get("format") != ARTEFACT_FORMAT:
            raise ModelVersionError(
                f"model artefact format {payload.get('format')} is not {ARTEFACT_FORMAT}; retrain the model"
            )
        return cls(
            version=str(payload["version"]),
            classes=tuple(payload["classes"]),
            word_bits=int(payload["word_bits"]),
            char_bits=int(payload["char_bits"]),
            char_ngrams=(int(payload["char_ngrams"][0]), int(payload["char_ngrams"][1])),
            buckets=np.cumsum(payload["bucket_deltas"].astype(np.int64)),
            idf=payload["idf"].astype(np.float32),
            coef=np.ascontiguousarray(payload["coef"].astype(np.float32)),
            intercept=payload["intercept"].astype(np.float64),
            calibration_a=payload["calibration_a"].astype(np.float64),
            calibration_b=payload["calibration_b"].astype(np.float64),
            thresholds={str(k): float(v) for k, v in payload["thresholds"].items()},
            metadata=metadata or {},
        )

    def quantized(self) -> TextModel:
        """The same model with the rounding a save/load applies, so evaluation sees what ships."""
        return TextModel.from_payload(self.to_payload(), self.metadata)


def save_model(model: TextModel, directory: Path, metadata: dict[str, Any]) -> Path:
    """Write `<directory>/<version>/model.joblib` + `metadata.json`; returns the version path."""
    target = directory / model.version
    if target.exists():
        raise ModelError(f"{target} already exists; versions are immutable")
    target.mkdir(parents=True)
    path = target / MODEL_FILE
    joblib.dump(model.to_payload(), path, compress=("zlib", 9))
    meta = dict(metadata)
    meta.update(
        {
            "version": model.version,
            "format": ARTEFACT_FORMAT,
            "feature_format": FEATURE_FORMAT,
            "classes": list(model.classes),
            "libraries": library_versions(),
            "artefact_sha256": _sha256(path),
            "n_features": len(model.buckets),
        }
    )
    (target / METADATA_FILE).write_text(
        json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return target


def load_model(directory: str | Path) -> TextModel:
    """Load one model version directory after checking its metadata.

    Only load directories you control (the packaged default or the configured model folder):
    model.joblib is a pickle. The recorded SHA-256 must match before it is unpickled.
    """
    target = Path(directory)
    meta_path, model_path = target / METADATA_FILE, target / MODEL_FILE
    if not meta_path.is_file() or not model_path.is_file():
        raise ModelError(
            f"{target} is not a model version directory (needs {MODEL_FILE} and {METADATA_FILE})"
        )
    metadata = json.loads(meta_path.read_text(encoding="utf-8"))
    check_compatible(metadata)
    if _sha256(model_path) != metadata.get("artefact_sha256"):
        raise ModelError(f"{model_path} does not match the hash in {METADATA_FILE}; refusing to load it")
    payload = joblib.load(model_path)
    model = TextModel.from_payload(payload, metadata)
    if model.version != metadata.get("version"):
        raise ModelError(f"{target}: artefact version {model.version} != metadata {metadata.get('version')}")
    return model


def check_compatible(metadata: dict[str, Any]) -> None:
    """Raise ModelVersionError unless this installation computes the same features."""
    problems: list[str] = []
    if metadata.get("format") != ARTEFACT_FORMAT:
        problems.append(f"artefact format {metadata.get('format')} (this code reads {ARTEFACT_FORMAT})")
    if metadata.get("feature_format") != FEATURE_FORMAT:
        problems.append(f"feature format {metadata.get('feature_format')} (this code makes {FEATURE_FORMAT})")
    recorded = metadata.get("libraries", {})
    current = library_versions()
    for name in _EXACT:
        if recorded.get(name) != current.get(name):
            problems.append(f"{name} {recorded.get(name)} (installed {current.get(name)})")
    for name in _MAJOR:
        if str(recorded.get(name, "")).split(".")[0] != str(current.get(name, "")).split(".")[0]:
            problems.append(f"{name} {recorded.get(name)} (installed {current.get(name)})")
    if problems:
        raise ModelVersionError(
            f"model {metadata.get('version')} was built with "
            + "; ".join(problems)
            + ". Retrain it here with `govwatch model train` instead of loading it."
        )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
