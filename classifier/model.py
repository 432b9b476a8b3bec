"""The text model: hashed word and character features, a linear model and per-class calibration.

A trained model is plain arrays (bucket ids, IDF, coefficients, calibration), so inference needs
numpy and scipy only. On disk a version is a directory `<version>/model.npz` + `metadata.json`:
the npz holds numeric and unicode arrays only and is read with `allow_pickle=False`, so loading a
model never runs code from the file. `load_model` checks the artefact's hash and the versions that
shape its features before it reads the arrays, and refuses a mismatch rather than guessing.
"""

from __future__ import annotations

import hashlib
import json
import platform
import zipfile
from dataclasses import dataclass, field
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from classifier.features import FEATURE_FORMAT, HashingFeaturizer

__all__ = [
    "ARTEFACT_FORMAT",
    "CLASSES",
    "ModelError",
    "ModelVersionError",
    "RulesMismatchError",
    "TextModel",
    "check_rules_version",
    "library_versions",
    "load_model",
    "save_model",
    "write_artefact",
]

# What the model predicts. `unverified` is the data's `rumor`; privacy and expression are left to
# rules, which find them exactly (check digits, typo lists), so the model never learns them.
CLASSES = ("ok", "marketing", "unverified", "harmful")
# 1: a joblib pickle (model.joblib); 2: plain arrays in model.npz, loaded without pickle.
ARTEFACT_FORMAT = 2
MODEL_FILE = "model.npz"
LEGACY_MODEL_FILE = "model.joblib"
METADATA_FILE = "metadata.json"

# Libraries whose version changes what a text turns into (normalisation, segmentation) and so
# must match the training run exactly; numpy must match on its major version. scikit-learn is
# only used for training: the artefact holds plain arrays, so it is recorded but not enforced.
_EXACT = ("rjieba", "opencc")
_MAJOR = ("numpy",)
_RECORDED = ("numpy", "scipy", "scikit-learn", "rjieba", "jieba", "opencc", "ahocorasick-rs")


class ModelError(RuntimeError):
    """A model directory is missing, incomplete or corrupt."""


class ModelVersionError(ModelError):
    """A model was built with library or format versions this installation does not have."""


class RulesMismatchError(ModelVersionError):
    """A model was trained with another rules version than the rules it is being loaded with."""


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
    # The model for long posts (those with passages, see classifier/passages.py) and for the
    # passages themselves, where the version has one; short posts are this model's. One linear
    # model for both gave up accuracy on short messages to learn long formal posts.
    long: TextModel | None = field(default=None, repr=False, compare=False)
    _featurizer: HashingFeaturizer | None = field(default=None, repr=False, compare=False)

    @property
    def for_long_posts(self) -> TextModel:
        return self.long if self.long is not None else self

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

    def to_payload(self) -> dict[str, np.ndarray]:
        """The artefact's arrays: numbers, or unicode strings (never objects, so no pickle).

        Stored compactly: coefficients and IDF as float16 (the model was evaluated with these
        rounded values, see `quantized`), bucket ids as int32 deltas, which compress well.
        """
        names = list(self.thresholds)
        payload = {
            "format": np.asarray(ARTEFACT_FORMAT, dtype=np.int64),
            "version": np.asarray(self.version, dtype=np.str_),
            "classes": np.asarray(list(self.classes), dtype=np.str_),
            "word_bits": np.asarray(self.word_bits, dtype=np.int64),
            "char_bits": np.asarray(self.char_bits, dtype=np.int64),
            "char_ngrams": np.asarray(list(self.char_ngrams), dtype=np.int64),
            "bucket_deltas": np.diff(self.buckets, prepend=0).astype(np.int32),
            "idf": self.idf.astype(np.float16),
            "coef": self.coef.astype(np.float16),
            "intercept": self.intercept.astype(np.float64),
            "calibration_a": self.calibration_a.astype(np.float64),
            "calibration_b": self.calibration_b.astype(np.float64),
            # An empty list still needs a dtype, or numpy makes it float64.
            "threshold_names": np.asarray(names, dtype=np.str_),
            "threshold_values": np.asarray([self.thresholds[n] for n in names], dtype=np.float64),
        }
        if self.long is not None:
            payload.update({LONG_PREFIX + k: v for k, v in self.long.to_payload().items()})
        return payload

    @classmethod
    def from_payload(cls, payload: Any, metadata: dict[str, Any] | None = None) -> TextModel:
        """The model from `to_payload`'s arrays (a dict, or the mapping numpy.load returns)."""
        missing = [key for key in _PAYLOAD_KEYS if key not in payload]
        if "format" in payload and int(payload["format"]) != ARTEFACT_FORMAT:
            raise ModelVersionError(
                f"model artefact format {int(payload['format'])} is not {ARTEFACT_FORMAT}; retrain the model"
            )
        if missing:
            raise ModelError(f"model artefact lacks {', '.join(missing)}")
        names = [str(n) for n in np.asarray(payload["threshold_names"]).tolist()]
        values = [float(v) for v in np.asarray(payload["threshold_values"]).tolist()]
        ngrams = np.asarray(payload["char_ngrams"]).tolist()
        long = None
        if LONG_PREFIX + "format" in payload:
            long = cls.from_payload(
                {k[len(LONG_PREFIX) :]: payload[k] for k in payload if k.startswith(LONG_PREFIX)}, metadata
            )
        return cls(
            version=str(np.asarray(payload["version"]).item()),
            classes=tuple(str(c) for c in np.asarray(payload["classes"]).tolist()),
            word_bits=int(payload["word_bits"]),
            char_bits=int(payload["char_bits"]),
            char_ngrams=(int(ngrams[0]), int(ngrams[1])),
            buckets=np.cumsum(np.asarray(payload["bucket_deltas"]).astype(np.int64)),
            idf=np.asarray(payload["idf"]).astype(np.float32),
            coef=np.ascontiguousarray(np.asarray(payload["coef"]).astype(np.float32)),
            intercept=np.asarray(payload["intercept"]).astype(np.float64),
            calibration_a=np.asarray(payload["calibration_a"]).astype(np.float64),
            calibration_b=np.asarray(payload["calibration_b"]).astype(np.float64),
            thresholds=dict(zip(names, values, strict=True)),
            metadata=metadata or {},
            long=long,
        )

    def quantized(self) -> TextModel:
        """The same model with the rounding a save/load applies, so evaluation sees what ships."""
        return TextModel.from_payload(self.to_payload(), self.metadata)


# The long-post model's arrays sit in the same file under this prefix (one hash covers both).
LONG_PREFIX = "long__"
_PAYLOAD_KEYS = (
    "format", "version", "classes", "word_bits", "char_bits", "char_ngrams", "bucket_deltas", "idf",
    "coef", "intercept", "calibration_a", "calibration_b", "threshold_names", "threshold_values",
)  # fmt: skip


def save_model(model: TextModel, directory: Path, metadata: dict[str, Any]) -> Path:
    """Write `<directory>/<version>/model.npz` + `metadata.json`; returns the version path."""
    target = directory / model.version
    if target.exists():
        raise ModelError(f"{target} already exists; versions are immutable")
    target.mkdir(parents=True)
    path = target / MODEL_FILE
    write_artefact(model, path)
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


def write_artefact(model: TextModel, path: Path) -> None:
    """The model's arrays as a compressed npz (written to `path` exactly, not `path` + ".npz")."""
    with path.open("wb") as fh:
        np.savez_compressed(fh, **model.to_payload())  # type: ignore[arg-type]


def load_model(directory: str | Path) -> TextModel:
    """Load one model version directory after checking its metadata.

    The recorded SHA-256 of model.npz must match before its arrays are read, and they are read
    with `allow_pickle=False`: a tampered or foreign file is refused, never executed.
    """
    target = Path(directory)
    meta_path, model_path = target / METADATA_FILE, target / MODEL_FILE
    if not model_path.is_file() and (target / LEGACY_MODEL_FILE).is_file():
        raise ModelVersionError(
            f"{target} holds a {LEGACY_MODEL_FILE} (artefact format 1, a pickle), which this version "
            f"no longer loads; retrain the model with `govwatch model train`"
        )
    if not meta_path.is_file() or not model_path.is_file():
        raise ModelError(
            f"{target} is not a model version directory (needs {MODEL_FILE} and {METADATA_FILE})"
        )
    metadata = json.loads(meta_path.read_text(encoding="utf-8"))
    check_compatible(metadata)
    if _sha256(model_path) != metadata.get("artefact_sha256"):
        raise ModelError(f"{model_path} does not match the hash in {METADATA_FILE}; refusing to load it")
    try:
        with np.load(model_path, allow_pickle=False) as payload:
            model = TextModel.from_payload(payload, metadata)
    except (ValueError, zipfile.BadZipFile) as error:  # not an npz, or one with object arrays
        raise ModelError(f"{model_path} is not a readable model artefact ({error})") from error
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


def check_rules_version(
    metadata: dict[str, Any], rules_version: str, *, allow_mismatch: bool = False
) -> None:
    """Raise RulesMismatchError unless the model was trained with `rules_version`.

    Training records the rules version because the model learns alongside the rules (rule hits
    shape the thresholds and which labels the model is left to find); with other rules its
    thresholds no longer mean what the model card says.
    """
    trained_with = metadata.get("rules_version")
    if allow_mismatch or trained_with == rules_version:
        return
    raise RulesMismatchError(
        f"model {metadata.get('version')} was trained with rules {trained_with or '(not recorded)'}, "
        f"but the loaded rules are {rules_version}. Retrain the model with these rules, or allow the "
        "mismatch explicitly (--allow-rules-mismatch, GOVWATCH_ALLOW_RULES_MISMATCH=true)."
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
