"""Training: labelled rows → a calibrated, pruned linear model (TextModel) and its metadata.

Steps: normalise and canonicalise every text; hash words and character n-grams; fit a linear SVM
on all buckets; keep the `top_k` buckets with the largest weights (smaller artefact, and on the
public data no worse); refit on those with per-class sigmoid calibration on cross-validated
scores (scikit-learn's CalibratedClassifierCV, ensemble=False, so one linear model ships).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from classifier.data import LabelledRow, file_sha256, split_of
from classifier.features import FEATURE_FORMAT, HashingFeaturizer, canonicalize_many, tokenize
from classifier.model import CLASSES, TextModel
from classifier.normalize import normalize
from classifier.pipeline import DEFAULT_THRESHOLDS

__all__ = [
    "TrainConfig",
    "build_model",
    "decide",
    "model_label",
    "prepare_texts",
    "train_model",
    "tune_thresholds",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainConfig:
    C: float = 1.0
    # "svm" (LinearSVC, hinge loss) or "logreg" (LogisticRegression); both are calibrated.
    estimator: str = "svm"
    class_weight: dict[str, float] | None = None
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
    """Title and text the way the classifier reads them (see pipeline._prepare_many)."""
    body = normalize(text).text
    if title and title.strip():
        return normalize(title).text + "\n" + body
    return body


def prepare_texts(texts: Sequence[str], batch: int = 2048) -> tuple[list[str], list[list[str]]]:
    canonical: list[str] = []
    for i in range(0, len(texts), batch):
        canonical.extend(canonicalize_many(list(texts[i : i + batch])))
    return canonical, [tokenize(c) for c in canonical]


@dataclass
class OutOfFold:
    """Cross-validated probabilities for every training text, for tuning decision thresholds."""

    texts: list[str]
    labels: list[str]  # the rows' own labels (privacy and expression included)
    is_norm: np.ndarray  # True where the text is a row's `text_norm` variant
    proba: np.ndarray


def train_model(
    rows: Sequence[LabelledRow],
    config: TrainConfig | None = None,
    *,
    corpus_ids: frozenset[str] = frozenset(),
    version: str | None = None,
    out_of_fold: bool = False,
) -> tuple[TextModel, dict[str, Any], OutOfFold | None]:
    """Fit a model on `rows`; returns it (already rounded as saved), training facts and, if
    asked, out-of-fold probabilities from the same cross-validation folds the calibration used."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold, cross_val_predict
    from sklearn.svm import LinearSVC

    config = config or TrainConfig()

    def make_estimator() -> Any:
        if config.estimator == "logreg":
            return LogisticRegression(C=config.C, max_iter=2000)
        # Fixed seed: liblinear shuffles; a training run must be reproducible.
        return LinearSVC(C=config.C, random_state=0)

    started = time.perf_counter()
    texts: list[str] = []
    labels: list[str] = []
    weights: list[float] = []
    groups: list[int] = []
    row_labels: list[str] = []
    is_norm: list[bool] = []
    for i, row in enumerate(rows):
        weight = config.corpus_weight if (row.id is not None and row.id in corpus_ids) else 1.0
        variants = [(document_text(row.text, row.title), False)]
        if config.augment_norm and row.text_norm:
            variants.append((normalize(row.text_norm).text, True))
        for text, norm in variants:
            texts.append(text)
            labels.append(model_label(row.label))
            weights.append(weight)
            # A row and its text_norm variant always fall in the same fold.
            groups.append(i)
            row_labels.append(row.label)
            is_norm.append(norm)
    missing = [c for c in CLASSES if c not in labels]
    if missing:
        raise ValueError(f"training data has no rows for {', '.join(missing)}")
    y = np.array(labels)
    # Class weights go in as sample weights: CalibratedClassifierCV re-encodes the labels, so an
    # estimator's own class_weight would not find them.
    per_class = config.class_weight or {}
    w = np.array(weights) * np.array([per_class.get(label, 1.0) for label in labels])
    canonical, words = prepare_texts(texts)
    log.info("prepared %d texts in %.1fs", len(texts), time.perf_counter() - started)

    featurizer = HashingFeaturizer(
        word_bits=config.word_bits,
        char_bits=config.char_bits,
        char_ngrams=config.char_ngrams,
        min_df=config.min_df,
    )
    x_all = featurizer.fit_transform(canonical, words=words)
    first = make_estimator().fit(x_all, y, sample_weight=w)
    strength = np.abs(first.coef_).max(axis=0)
    k = min(config.top_k, int((strength > 0).sum()))
    keep = np.sort(featurizer.buckets_[np.argsort(-strength)[:k]])
    featurizer.set_buckets(keep, featurizer.idf_[np.searchsorted(featurizer.buckets_, keep)])
    x = featurizer.transform(canonical, words)
    log.info("kept %d of %d features", k, x_all.shape[1])

    splits = list(GroupKFold(n_splits=config.cv).split(x, y, groups))
    calibrated = CalibratedClassifierCV(make_estimator(), method="sigmoid", cv=splits, ensemble=False)
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
    oof: OutOfFold | None = None
    if out_of_fold:
        # The same folds as the calibration: these are the decision values its sigmoids were
        # fitted on, so calibrating them gives honest probabilities for every training text.
        scores = cross_val_predict(
            make_estimator(), x, y, cv=splits, method="decision_function", params={"sample_weight": w}
        )
        classes_sorted = sorted(set(labels))
        scores = scores[:, [classes_sorted.index(c) for c in CLASSES]]
        oof = OutOfFold(texts, row_labels, np.array(is_norm), model.calibrate(scores))
    facts = {
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "train_seconds": round(time.perf_counter() - started, 1),
        "config": {**asdict(config), "char_ngrams": list(config.char_ngrams)},
        "model_label_counts": dict(sorted(counts.items())),
        "n_training_texts": len(texts),
        "n_features": int(k),
    }
    return model, facts, oof


def holdout_split(rows: Sequence[LabelledRow], share: float) -> tuple[list[LabelledRow], list[LabelledRow]]:
    """Deterministic split of public-data rows by a hash of their text (ids where present)."""
    train: list[LabelledRow] = []
    held: list[LabelledRow] = []
    for row in rows:
        key = row.id or row.text
        (held if share > 0 and split_of("holdout:" + key, share) == "heldout" else train).append(row)
    return train, held


# --- threshold tuning and the full training run ------------------------------------------------

_RULE_CATS = ("marketing", "unverified", "harmful", "privacy", "expression")


def _rule_scores(rules: Any, docs: Sequence[str]) -> np.ndarray:
    scores = np.zeros((len(docs), len(_RULE_CATS)))
    for i, doc in enumerate(docs):
        for category, evidence in rules.evaluate(doc).categories.items():
            scores[i, _RULE_CATS.index(category)] = evidence.score
    return scores


def score_rows(classifier: Any, rows: Sequence[LabelledRow]) -> tuple[np.ndarray, np.ndarray]:
    """Rule scores (n × 5 categories) and model probabilities (n × 4 classes) for rows."""
    docs = [document_text(row.text, row.title) for row in rows]
    rule_scores = _rule_scores(classifier.rules, docs)
    proba = np.vstack(
        [classifier._probabilities(docs[i : i + 512])[0] for i in range(0, len(docs), 512)]
        or [np.zeros((0, len(CLASSES)))]
    )
    return rule_scores, proba


def decide(
    rule_scores: np.ndarray, proba: np.ndarray, thresholds: dict[str, float], flag_threshold: float
) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised pipeline decision: predicted label per row and whether anything was flagged.

    Mirrors Classifier._combine (a test checks they agree), so thresholds can be searched fast.
    """
    n = len(rule_scores)
    scores = np.full((n, len(_RULE_CATS)), -1.0)
    for j, category in enumerate(_RULE_CATS):
        r = rule_scores[:, j]
        if category in CLASSES:
            p = proba[:, CLASSES.index(category)]
            combined = 1.0 - (1.0 - r) * (1.0 - p)
            fired = (
                (r >= flag_threshold)
                | (p >= thresholds[category])
                | ((r > 0) & (combined >= thresholds["joint"]))
            )
            scores[:, j] = np.where(fired, combined, -1.0)
        else:
            scores[:, j] = np.where(r >= flag_threshold, r, -1.0)
    flagged = scores.max(axis=1) >= 0
    labels = np.array(_RULE_CATS)[scores.argmax(axis=1)]
    return np.where(flagged, labels, "ok"), flagged


def tune_thresholds(
    rule_scores: np.ndarray,
    proba: np.ndarray,
    gold: Sequence[str],
    flag_threshold: float,
    *,
    is_norm: np.ndarray | None = None,
    ok_flag_budget: float = 0.008,
) -> dict[str, float]:
    """Model thresholds (per category) and the joint threshold for the pipeline's decision.

    Chosen on out-of-fold predictions: the best macro-F1 on punctuated text (plus half the
    macro-F1 on the `text_norm` variants, so masked text is not given up) among settings that
    flag at most `ok_flag_budget` of the `ok` texts, punctuated and unpunctuated alike (many
    Weibo posts carry no punctuation). A false flag costs a reviewer's time and an office's
    trust, so that budget binds before F1 does.
    """
    gold_arr = np.array(gold)
    norm = np.zeros(len(gold_arr), dtype=bool) if is_norm is None else np.asarray(is_norm, dtype=bool)
    text_ok = (gold_arr == "ok") & ~norm
    norm_ok = (gold_arr == "ok") & norm

    def macro_f1(pred: np.ndarray, mask: np.ndarray) -> float:
        g, p = gold_arr[mask], pred[mask]
        labels = sorted(set(g))
        total = 0.0
        for label in labels:
            is_gold, is_pred = g == label, p == label
            denominator = float(is_pred.sum() + is_gold.sum())
            total += 2.0 * float((is_pred & is_gold).sum()) / denominator if denominator else 0.0
        return total / len(labels) if labels else 0.0

    grid = [round(float(x), 2) for x in np.arange(0.40, 0.86, 0.05)]
    best: tuple[float, dict[str, float]] | None = None
    for joint in (0.6, 0.7, 0.8):
        for t_m, t_u, t_h in itertools.product(grid, grid, grid):
            th = {"marketing": t_m, "unverified": t_u, "harmful": t_h, "joint": joint}
            pred, flagged = decide(rule_scores, proba, th, flag_threshold)
            if any(ok.any() and flagged[ok].mean() > ok_flag_budget for ok in (text_ok, norm_ok)):
                continue
            objective = macro_f1(pred, ~norm) + (0.5 * macro_f1(pred, norm) if norm.any() else 0.0)
            # On ties prefer higher thresholds: fewer flags for the same quality.
            key = objective + 1e-6 * (t_m + t_u + t_h + joint)
            if best is None or key > best[0]:
                best = (key, th)
    if best is None:
        log.warning("no thresholds meet the ok-flag budget %.3f; using the defaults", ok_flag_budget)
        return dict(DEFAULT_THRESHOLDS)
    return best[1]


def _trainer_digest() -> str:
    """Hash of the code that turns data into a model, so a changed trainer makes a new version name."""
    package = Path(__file__).parent
    digest = hashlib.sha256()
    for name in ("train.py", "features.py", "model.py", "normalize.py"):
        digest.update((package / name).read_bytes())
    return digest.hexdigest()[:16]


def _with_norm_variants(rows: Sequence[LabelledRow]) -> list[LabelledRow]:
    """Rows plus, where a row has one, its `text_norm` form (what the public data's tests use)."""
    out = list(rows)
    out.extend(replace(row, text=row.text_norm, text_norm=None) for row in rows if row.text_norm)
    return out


def build_model(
    data_paths: Sequence[str | Path],
    *,
    use_corpus: bool = True,
    config: TrainConfig | None = None,
    holdout: float = 0.1,
    rules_dir: str | Path | None = None,
    version: str | None = None,
    tune: bool = True,
) -> tuple[TextModel, dict[str, Any]]:
    """The whole training run behind `govwatch model train`.

    Public rows are split deterministically: `holdout` of them never train the model and give
    the scores recorded in the metadata. The decision thresholds are tuned on out-of-fold
    predictions of the training texts (see tune_thresholds). The project's own corpus
    contributes its train split; its held-out split is scored too.
    """
    from classifier.data import load_corpus, read_jsonl, rows_sha256
    from classifier.evaluate import evaluate_rows
    from classifier.pipeline import Classifier
    from classifier.rules import RuleSet

    config = config or TrainConfig()
    public: list[LabelledRow] = []
    sources: list[dict[str, Any]] = []
    for path in data_paths:
        rows = list(read_jsonl(path))
        sources.append(
            {
                "path": str(path),
                "sha256": file_sha256(path),
                "rows": len(rows),
                "labels": dict(sorted(Counter(r.label for r in rows).items())),
            }
        )
        public.extend(rows)
    corpus_train = load_corpus("train") if use_corpus else []
    corpus_held = load_corpus("heldout") if use_corpus else []
    if use_corpus:
        sources.append(
            {
                "path": "classifier/corpus (train split)",
                "sha256": rows_sha256(corpus_train),
                "rows": len(corpus_train),
                "labels": dict(sorted(Counter(r.label for r in corpus_train).items())),
            }
        )
    fit_rows, held = holdout_split(public, holdout)
    if version is None:
        digest = hashlib.sha256(
            json.dumps(
                [sources, asdict(config), holdout, FEATURE_FORMAT, _trainer_digest()],
                sort_keys=True,
                default=str,
            ).encode()
        ).hexdigest()
        version = f"m{datetime.now(UTC):%Y%m%d}-{digest[:8]}"
    model, facts, oof = train_model(
        fit_rows + corpus_train,
        config,
        corpus_ids=frozenset(r.id for r in corpus_train if r.id),
        version=version,
        out_of_fold=tune,
    )
    rules = RuleSet.load(rules_dir)
    if oof is not None:
        rule_scores = _rule_scores(rules, oof.texts)
        model.thresholds = tune_thresholds(
            rule_scores, oof.proba, oof.labels, rules.flag_threshold, is_norm=oof.is_norm
        )
        log.info("tuned thresholds on %d out-of-fold texts: %s", len(oof.texts), model.thresholds)
    report_rows = held
    classifier = Classifier(model, rules)
    scores: dict[str, Any] = {}
    if report_rows:
        scores["public_holdout_text"] = _summary(evaluate_rows(classifier, report_rows))
        normed = [replace(r, text=r.text_norm, text_norm=None) for r in report_rows if r.text_norm]
        if normed:
            scores["public_holdout_text_norm"] = _summary(evaluate_rows(classifier, normed))
    if corpus_held:
        report = evaluate_rows(classifier, corpus_held)
        hard = [r for r in corpus_held if r.kind == "hard_negative"]
        flagged = sum(1 for f in classifier.classify_many([(r.text, r.title) for r in hard]) if f)
        scores["corpus_heldout"] = _summary(report)
        scores["corpus_heldout"]["hard_negative_flag_rate"] = round(flagged / len(hard), 4) if hard else None
    metadata = {
        "sources": sources,
        "holdout": {"share": holdout, "rows": len(report_rows)},
        "label_counts": dict(sorted(Counter(r.label for r in fit_rows + corpus_train).items())),
        "thresholds": model.thresholds,
        "rules_version": rules.version,
        "scores": scores,
        **facts,
    }
    return model, metadata


def _summary(report: dict[str, Any]) -> dict[str, Any]:
    keys = ("n", "macro_f1", "ok_flag_rate", "per_label", "per_stratum", "posts_per_second")
    return {k: report[k] for k in keys if k in report}
