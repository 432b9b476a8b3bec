"""Training: labelled rows → a calibrated, pruned linear model (TextModel) and its metadata.

Steps: normalise and canonicalise every text; hash words and character n-grams; fit a linear SVM
on all buckets; keep the `top_k` buckets with the largest weights (smaller artefact, and on the
public data no worse); refit on those with per-class sigmoid calibration on cross-validated
scores (scikit-learn's CalibratedClassifierCV, ensemble=False, so one linear model ships).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from classifier.data import LabelledRow, split_of
from classifier.features import HashingFeaturizer, canonicalize_many, tokenize
from classifier.model import CLASSES, TextModel
from classifier.normalize import normalize
from classifier.pipeline import DEFAULT_THRESHOLDS

__all__ = ["TrainConfig", "model_label", "prepare_texts", "train_model"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainConfig:
    C: float = 1.0
    top_k: int = 150_000
    cv: int = 3
    word_bits: int = 18
    char_bits: int = 20
    char_ngrams: tuple[int, int] = (1, 4)
    min_df: int = 2
    # Also train on each row's `text_norm` (digits masked, no punctuation) where a file has it:
    # the model must not learn that masked or unpunctuated text means spam.
    augment_norm: bool = True
    # In-domain rows (the project's corpus) count this many times a public-data row.
    corpus_weight: float = 3.0
    thresholds: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_THRESHOLDS))


def model_label(label: str) -> str:
    """The class a row teaches the model: privacy and expression are rule-only, so `ok`."""
    return label if label in CLASSES else "ok"


def document_text(text: str, title: str | None) -> str:
    """Title and text the way the classifier reads them (see pipeline._prepare)."""
    body = normalize(text).text
    if title and title.strip():
        return normalize(title).text + "\n" + body
    return body


def prepare_texts(texts: Sequence[str], batch: int = 2048) -> tuple[list[str], list[list[str]]]:
    canonical: list[str] = []
    for i in range(0, len(texts), batch):
        canonical.extend(canonicalize_many(list(texts[i : i + batch])))
    return canonical, [tokenize(c) for c in canonical]


def train_model(
    rows: Sequence[LabelledRow],
    config: TrainConfig | None = None,
    *,
    corpus_ids: frozenset[str] = frozenset(),
    version: str | None = None,
) -> tuple[TextModel, dict[str, Any]]:
    """Fit a model on `rows`; returns it (already rounded as saved) and training facts."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.svm import LinearSVC

    config = config or TrainConfig()
    started = time.perf_counter()
    texts: list[str] = []
    labels: list[str] = []
    weights: list[float] = []
    for row in rows:
        weight = config.corpus_weight if (row.id is not None and row.id in corpus_ids) else 1.0
        texts.append(document_text(row.text, row.title))
        labels.append(model_label(row.label))
        weights.append(weight)
        if config.augment_norm and row.text_norm:
            texts.append(normalize(row.text_norm).text)
            labels.append(model_label(row.label))
            weights.append(weight)
    missing = [c for c in CLASSES if c not in labels]
    if missing:
        raise ValueError(f"training data has no rows for {', '.join(missing)}")
    y = np.array(labels)
    w = np.array(weights)
    canonical, words = prepare_texts(texts)
    log.info("prepared %d texts in %.1fs", len(texts), time.perf_counter() - started)

    featurizer = HashingFeaturizer(
        word_bits=config.word_bits,
        char_bits=config.char_bits,
        char_ngrams=config.char_ngrams,
        min_df=config.min_df,
    )
    x_all = featurizer.fit_transform(canonical, words=words)
    svm = LinearSVC(C=config.C).fit(x_all, y, sample_weight=w)
    strength = np.abs(svm.coef_).max(axis=0)
    k = min(config.top_k, int((strength > 0).sum()))
    keep = np.sort(featurizer.buckets_[np.argsort(-strength)[:k]])
    featurizer.set_buckets(keep, featurizer.idf_[np.searchsorted(featurizer.buckets_, keep)])
    x = featurizer.transform(canonical, words)
    log.info("kept %d of %d features", k, x_all.shape[1])

    calibrated = CalibratedClassifierCV(LinearSVC(C=config.C), method="sigmoid", cv=config.cv, ensemble=False)
    calibrated.fit(x, y, sample_weight=w)
    fitted = calibrated.calibrated_classifiers_[0]
    estimator = fitted.estimator
    order = [list(estimator.classes_).index(c) for c in CLASSES]
    coef = estimator.coef_[order].T.astype(np.float32)
    intercept = estimator.intercept_[order].astype(np.float64)
    calibrators = [fitted.calibrators[i] for i in order]

    counts = Counter(labels)
    if version is None:
        digest = hashlib.sha256(
            repr((sorted(counts.items()), asdict(config), len(texts))).encode()
        ).hexdigest()
        version = f"m{datetime.now(UTC):%Y%m%d%H%M}-{digest[:6]}"
    model = TextModel(
        version=version,
        classes=CLASSES,
        word_bits=config.word_bits,
        char_bits=config.char_bits,
        char_ngrams=config.char_ngrams,
        buckets=keep.astype(np.int64),
        idf=featurizer.idf_.astype(np.float32),
        coef=coef,
        intercept=intercept,
        calibration_a=np.array([c.a_ for c in calibrators], dtype=np.float64),
        calibration_b=np.array([c.b_ for c in calibrators], dtype=np.float64),
        thresholds=dict(config.thresholds),
    ).quantized()
    facts = {
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "train_seconds": round(time.perf_counter() - started, 1),
        "config": {**asdict(config), "char_ngrams": list(config.char_ngrams)},
        "model_label_counts": dict(sorted(counts.items())),
        "n_training_texts": len(texts),
        "n_features": int(k),
    }
    return model, facts


def holdout_split(rows: Sequence[LabelledRow], share: float) -> tuple[list[LabelledRow], list[LabelledRow]]:
    """Deterministic split of public-data rows by a hash of their text (ids where present)."""
    train: list[LabelledRow] = []
    held: list[LabelledRow] = []
    for row in rows:
        key = row.id or row.text
        (held if share > 0 and split_of("holdout:" + key, share) == "heldout" else train).append(row)
    return train, held
