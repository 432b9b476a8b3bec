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

from classifier.augment import augmented_rows
from classifier.data import LabelledRow, file_sha256, split_of
from classifier.features import FEATURE_FORMAT, HashingFeaturizer, canonicalize_many, tokenize
from classifier.model import CLASSES, TextModel
from classifier.normalize import normalize
from classifier.passages import split_passages
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
    # Passages of long posts (classifier/passages.py) are training texts too, at this weight.
    passages: bool = True
    passage_weight: float = 1.0
    # Posts per model category with one inserted violating passage (classifier/augment.py).
    augmented_per_category: int = 300
    thresholds: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_THRESHOLDS))
    # Out-of-fold shares of legitimate posts the tuned thresholds may flag (see tune_thresholds):
    # public texts, and the own corpus's legitimate posts (mostly hard negatives written to look
    # like violations). Below the targets (1% public, 3% in-domain) to leave room for posts
    # unlike the training data. A 2% corpus budget lowered the long-post thresholds from 0.90-0.95
    # to 0.85 and changed no figure of the model card but the held-out corpus's ok-flag rate
    # (1.7% -> 2.3%), so 1% stays.
    ok_flag_budget: float = 0.008
    in_domain_ok_budget: float = 0.01


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
    """Cross-validated probabilities for every training text, for tuning decision thresholds.

    Texts are posts (`owner` -1) and the passages of long posts (`owner`: the post's index).
    """

    texts: list[str]
    labels: list[str]  # the rows' own labels (privacy and expression included)
    is_norm: np.ndarray  # True where the text is a row's `text_norm` variant
    proba: np.ndarray
    owner: np.ndarray
    in_domain: np.ndarray  # True for the own corpus and augmented posts
    corpus: np.ndarray  # True for the own corpus only

    def posts(self) -> np.ndarray:
        return np.flatnonzero(self.owner < 0)

    def passage_proba(self) -> np.ndarray:
        """Per post (in `posts()` order), each class's highest passage probability (0: none)."""
        from classifier.pipeline import best_passages

        posts = self.posts()
        position = np.full(len(self.texts), -1, dtype=np.int64)
        position[posts] = np.arange(len(posts))
        passages = np.flatnonzero(self.owner >= 0)
        owners = position[self.owner[passages]]
        order = np.argsort(owners, kind="stable")
        best, _ = best_passages(self.proba[passages[order]], owners[order], len(posts))
        return best


@dataclass
class _Texts:
    """What training sees: one entry per post, `text_norm` variant and passage."""

    texts: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)  # the model's class
    row_labels: list[str] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)
    groups: list[int] = field(default_factory=list)
    is_norm: list[bool] = field(default_factory=list)
    owner: list[int] = field(default_factory=list)
    trains: list[bool] = field(default_factory=list)  # False: only scored out of fold
    in_domain: list[bool] = field(default_factory=list)
    corpus: list[bool] = field(default_factory=list)

    def add(self, text: str, label: str, row_label: str, weight: float, group: int, **flags: Any) -> int:
        self.texts.append(text)
        self.labels.append(label)
        self.row_labels.append(row_label)
        self.weights.append(weight)
        self.groups.append(group)
        self.is_norm.append(bool(flags.get("is_norm", False)))
        self.owner.append(int(flags.get("owner", -1)))
        self.trains.append(bool(flags.get("trains", True)))
        self.in_domain.append(bool(flags.get("in_domain", False)))
        self.corpus.append(bool(flags.get("corpus", False)))
        return len(self.texts) - 1


def _training_texts(rows: Sequence[LabelledRow], config: TrainConfig, corpus_ids: frozenset[str]) -> _Texts:
    out = _Texts()
    group_ids: dict[str, int] = {}
    for i, row in enumerate(rows):
        in_corpus = row.id is not None and row.id in corpus_ids
        augmented = row.stratum == "augmented"
        weight = config.corpus_weight if in_corpus else 1.0
        # A row and everything made from it (its text_norm variant, its passages, posts it was
        # inserted into) always fall in the same fold.
        group = group_ids.setdefault(row.group or row.id or f"#{i}", len(group_ids))
        label = model_label(row.label)
        doc = document_text(row.text, row.title)
        domain = in_corpus or augmented
        post = out.add(doc, label, row.label, weight, group, in_domain=domain, corpus=in_corpus)
        if config.augment_norm and row.text_norm:
            out.add(normalize(row.text_norm).text, label, row.label, weight, group, is_norm=True)
        if not config.passages:
            continue
        spans = split_passages(doc)
        if not spans:
            continue
        evidence = normalize(row.evidence).text if row.evidence else None
        at = doc.find(evidence) if evidence else -1
        # Passages teach only where they are real posts' paragraphs: the own corpus. A public
        # row's sentence windows (a long work-report paragraph) and an augmented post's
        # passages (the corpus's own again) are scored out of fold, for the thresholds.
        teach = in_corpus and not augmented
        for start, end in spans:
            if label == "ok":
                passage_label, trains = "ok", teach
            elif at >= 0:
                holds = start < at + len(evidence or "") and at < end
                passage_label, trains = (label if holds else "ok"), teach
            else:
                # Which passage of a long violating post carries the violation is unknown: such
                # passages are scored out of fold but never taught.
                passage_label, trains = label, False
            out.add(
                doc[start:end],
                passage_label,
                row.label if passage_label != "ok" else "ok",
                weight * config.passage_weight,
                group,
                owner=post,
                trains=trains,
                in_domain=domain,
            )
    return out


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
    from sklearn.model_selection import GroupKFold
    from sklearn.svm import LinearSVC

    config = config or TrainConfig()

    def make_estimator() -> Any:
        if config.estimator == "logreg":
            return LogisticRegression(C=config.C, max_iter=2000)
        # Fixed seed: liblinear shuffles; a training run must be reproducible.
        return LinearSVC(C=config.C, random_state=0)

    started = time.perf_counter()
    data = _training_texts(rows, config, corpus_ids)
    trains = np.array(data.trains)
    fit_idx = np.flatnonzero(trains)
    labels = [data.labels[i] for i in fit_idx]
    missing = [c for c in CLASSES if c not in labels]
    if missing:
        raise ValueError(f"training data has no rows for {', '.join(missing)}")
    y = np.array(labels)
    # Class weights go in as sample weights: CalibratedClassifierCV re-encodes the labels, so an
    # estimator's own class_weight would not find them.
    per_class = config.class_weight or {}
    w = np.array([data.weights[i] for i in fit_idx]) * np.array(
        [per_class.get(label, 1.0) for label in labels]
    )
    groups = np.array(data.groups)
    canonical, words = prepare_texts(data.texts)
    log.info("prepared %d texts in %.1fs", len(data.texts), time.perf_counter() - started)

    featurizer = HashingFeaturizer(
        word_bits=config.word_bits,
        char_bits=config.char_bits,
        char_ngrams=config.char_ngrams,
        min_df=config.min_df,
    )
    fit_canonical = [canonical[i] for i in fit_idx]
    fit_words = [words[i] for i in fit_idx]
    x_all = featurizer.fit_transform(fit_canonical, words=fit_words)
    first = make_estimator().fit(x_all, y, sample_weight=w)
    strength = np.abs(first.coef_).max(axis=0)
    k = min(config.top_k, int((strength > 0).sum()))
    keep = np.sort(featurizer.buckets_[np.argsort(-strength)[:k]])
    featurizer.set_buckets(keep, featurizer.idf_[np.searchsorted(featurizer.buckets_, keep)])
    x_every = featurizer.transform(canonical, words)
    x = x_every[fit_idx]
    log.info("kept %d of %d features", k, x_all.shape[1])

    splits = list(GroupKFold(n_splits=config.cv).split(x, y, groups[fit_idx]))
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
            repr((sorted(counts.items()), asdict(config), len(labels))).encode()
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
        # Texts that are only scored (passages of unknown label) go with their group's fold.
        scores = np.zeros((len(data.texts), len(CLASSES)))
        for train_part, test_part in splits:
            held_groups = np.unique(groups[fit_idx[test_part]])
            targets = np.flatnonzero(np.isin(groups, held_groups))
            fold = make_estimator().fit(x[train_part], y[train_part], sample_weight=w[train_part])
            fold_order = [list(fold.classes_).index(c) for c in CLASSES]
            scores[targets] = fold.decision_function(x_every[targets])[:, fold_order]
        oof = OutOfFold(
            data.texts,
            data.row_labels,
            np.array(data.is_norm),
            model.calibrate(scores),
            np.array(data.owner, dtype=np.int64),
            np.array(data.in_domain),
            np.array(data.corpus),
        )
    facts = {
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "train_seconds": round(time.perf_counter() - started, 1),
        "config": {**asdict(config), "char_ngrams": list(config.char_ngrams)},
        "model_label_counts": dict(sorted(counts.items())),
        "n_training_texts": len(labels),
        "n_passages": int(sum(1 for o, t in zip(data.owner, data.trains, strict=True) if o >= 0 and t)),
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
_MODEL_CATS = ("marketing", "unverified", "harmful")


def _rule_scores(rules: Any, docs: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Rule scores (n × 5 categories) and the framing factor of each post's passages (n × 4
    classes, see pipeline.framing_factor)."""
    from classifier.pipeline import framing_factor

    scores = np.zeros((len(docs), len(_RULE_CATS)))
    factors = np.ones((len(docs), len(CLASSES)))
    for i, doc in enumerate(docs):
        result = rules.evaluate(doc)
        for category, evidence in result.categories.items():
            scores[i, _RULE_CATS.index(category)] = evidence.score
        for category in _MODEL_CATS:
            factors[i, CLASSES.index(category)] = framing_factor(rules, result.contexts, category)
    return scores, factors


def score_rows(classifier: Any, rows: Sequence[LabelledRow]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rule scores (n × 5 categories), model probabilities (n × 4 classes) and each class's best
    passage probability (n × 4) for rows, as the pipeline computes them."""
    docs = [document_text(row.text, row.title) for row in rows]
    rule_scores, factors = _rule_scores(classifier.rules, docs)
    probas: list[np.ndarray] = []
    passage: list[np.ndarray] = []
    for i in range(0, len(docs), 512):
        batch = docs[i : i + 512]
        canonical, abstain = classifier._model_input(batch)
        spans = [split_passages(d) for d in batch]
        texts = [d[s:e] for d, doc_spans in zip(batch, spans, strict=True) for s, e in doc_spans]
        owners = np.repeat(np.arange(len(batch)), [len(x) for x in spans])
        scores = classifier._model_scores(canonical, abstain, texts, owners, [bool(x) for x in spans])
        probas.append(scores.proba)
        passage.append(scores.passage_proba)
    empty = np.zeros((0, len(CLASSES)))
    return rule_scores, np.vstack(probas or [empty]), np.vstack(passage or [empty]) * factors


def decide(
    rule_scores: np.ndarray,
    proba: np.ndarray,
    thresholds: dict[str, float],
    flag_threshold: float,
    passage_proba: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised pipeline decision: predicted label per row and whether anything was flagged.

    Mirrors Classifier._combine (a test checks they agree), so thresholds can be searched fast.
    """
    n = len(rule_scores)
    scores = np.full((n, len(_RULE_CATS)), -1.0)
    # Posts with passages (long ones) have thresholds of their own, as in the pipeline.
    is_long = passage_proba.sum(axis=1) > 0 if passage_proba is not None else np.zeros(n, dtype=bool)

    def threshold(name: str) -> np.ndarray:
        return np.where(is_long, thresholds.get(f"long_{name}", thresholds[name]), thresholds[name])

    joint = threshold("joint")
    for j, category in enumerate(_RULE_CATS):
        r = rule_scores[:, j]
        if category in CLASSES:
            p = proba[:, CLASSES.index(category)]
            passage_fired = np.zeros(n, dtype=bool)
            if passage_proba is not None:
                q = passage_proba[:, CLASSES.index(category)]
                passage_fired = q >= thresholds.get(f"passage_{category}", 2.0)
                p = np.where(passage_fired, np.maximum(p, q), p)
            combined = 1.0 - (1.0 - r) * (1.0 - p)
            fired = (
                (r >= flag_threshold)
                | (p >= threshold(category))
                | passage_fired
                | ((r > 0) & (combined >= joint))
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
    passage_proba: np.ndarray | None = None,
    in_domain: np.ndarray | None = None,
    corpus: np.ndarray | None = None,
    ok_flag_budget: float = 0.008,
    in_domain_ok_budget: float = 0.01,
) -> dict[str, float]:
    """Model thresholds (per category), the joint threshold and the passage thresholds.

    Chosen on out-of-fold predictions: the best macro-F1 on punctuated public text (plus half the
    macro-F1 on the `text_norm` variants, so masked text is not given up, plus the macro-F1 on
    the own corpus's posts) among settings that flag at most
    `ok_flag_budget` of the public `ok` texts, punctuated and unpunctuated alike (many Weibo posts
    carry no punctuation), and at most `in_domain_ok_budget` of the own corpus's legitimate
    posts, which include the hard negatives. A false flag costs a reviewer's time and an office's trust,
    so the budgets bind before F1 does; they sit below the targets (1% public, 3% in-domain) to
    leave room for posts unlike the training data. Post thresholds are searched
    first (passages off), then the passage thresholds with them fixed.
    """
    gold_arr = np.array(gold)
    n = len(gold_arr)
    norm = np.zeros(n, dtype=bool) if is_norm is None else np.asarray(is_norm, dtype=bool)
    domain = np.zeros(n, dtype=bool) if in_domain is None else np.asarray(in_domain, dtype=bool)
    own = domain if corpus is None else np.asarray(corpus, dtype=bool)
    public_text, public_norm = ~norm & ~domain, norm & ~domain
    # Augmented posts teach the model but do not choose thresholds: they are made, not written,
    # and thousands of them would outweigh the own corpus's few hundred real posts.
    budgets = [
        ((gold_arr == "ok") & public_text, ok_flag_budget),
        ((gold_arr == "ok") & public_norm, ok_flag_budget),
        ((gold_arr == "ok") & own, in_domain_ok_budget),
    ]
    # What the rules flag alone no threshold can undo: each budget comes on top of it.
    never = {name: 1.01 for name in DEFAULT_THRESHOLDS}
    never.update({f"long_{c}": 1.01 for c in (*_MODEL_CATS, "joint")})
    _, by_rules = decide(rule_scores, proba, never, flag_threshold, None)
    over: dict[int, float] = {}  # the lowest flag rate seen over each budget, for the log

    def macro_f1(pred: np.ndarray, mask: np.ndarray) -> float:
        g, p = gold_arr[mask], pred[mask]
        labels = sorted(set(g))
        total = 0.0
        for label in labels:
            is_gold, is_pred = g == label, p == label
            denominator = float(is_pred.sum() + is_gold.sum())
            total += 2.0 * float((is_pred & is_gold).sum()) / denominator if denominator else 0.0
        return total / len(labels) if labels else 0.0

    is_long = passage_proba.sum(axis=1) > 0 if passage_proba is not None else np.zeros(n, dtype=bool)

    def score(
        th: dict[str, float], passages: np.ndarray | None, rows: np.ndarray, own_weight: float
    ) -> float | None:
        pred, flagged = decide(rule_scores, proba, th, flag_threshold, passages)
        for k, (mask, budget) in enumerate(budgets):
            subset = mask & rows
            if subset.any() and flagged[subset].mean() > budget + by_rules[subset].mean():
                over[k] = min(over.get(k, 1.0), float(flagged[subset].mean()))
                return None
        objective = 0.0
        for mask, weight in ((public_text, 1.0), (public_norm, 0.5), (own, own_weight)):
            if (mask & rows).any():
                objective += weight * macro_f1(pred, mask & rows)
        # On ties prefer higher thresholds: fewer flags for the same quality.
        return objective + 1e-6 * sum(th.values())

    def search(
        base: dict[str, float],
        names: Sequence[str],
        grid: Sequence[float],
        rows: np.ndarray,
        joints: Sequence[tuple[str, float]] = (),
        own_weight: float = 1.0,
    ) -> tuple[float, dict[str, float]] | None:
        """The best thresholds for `rows`, trying every grid value for each of `names` (and
        each (name, value) of `joints`)."""
        best: tuple[float, dict[str, float]] | None = None
        for joint in joints or (None,):
            for values in itertools.product(grid, repeat=len(names)):
                th = {**base, **dict(zip(names, values, strict=True))}
                if joint is not None:
                    th[joint[0]] = joint[1]
                key = score(th, passage_proba, rows, own_weight)
                if key is not None and (best is None or key > best[0]):
                    best = (key, th)
        return best

    grid = [round(float(x), 2) for x in np.arange(0.40, 0.86, 0.05)]
    off = {f"passage_{c}": 1.01 for c in _MODEL_CATS}
    # Short posts (one passage: most Weibo posts, all of the public data's messages) first. The
    # public data's ~20,000 messages are most of the evidence on short texts; the own corpus's
    # few hundred short posts count half as much as they do for long posts.
    short = search(
        {**DEFAULT_THRESHOLDS, **off},
        _MODEL_CATS,
        grid,
        ~is_long,
        [("joint", j) for j in (0.6, 0.7, 0.8)],
        own_weight=0.5,
    )
    if short is None:
        log.warning("no thresholds meet the ok-flag budget %.3f; using the defaults", ok_flag_budget)
        return dict(DEFAULT_THRESHOLDS)
    chosen = {**short[1], **{f"long_{c}": short[1][c] for c in (*_MODEL_CATS, "joint")}}
    if is_long.any():
        # Long posts: their own post thresholds with passages off, then the passage thresholds.
        names = [f"long_{c}" for c in _MODEL_CATS]
        long_grid = [round(float(x), 2) for x in np.arange(0.40, 0.96, 0.05)]
        over.clear()
        found = search(chosen, names, long_grid, is_long, [("long_joint", j) for j in (0.6, 0.7, 0.8, 0.9)])
        if found is None:
            log.warning("no long-post thresholds meet the budgets (lowest rates over them: %s)", over)
        if found is not None:
            chosen = found[1]
        passage_grid = [round(float(x), 2) for x in np.arange(0.50, 0.99, 0.05)] + [1.01]
        found = search(chosen, [f"passage_{c}" for c in _MODEL_CATS], passage_grid, is_long)
        if found is not None:
            chosen = found[1]
    _, flagged = decide(rule_scores, proba, chosen, flag_threshold, passage_proba)
    log.info(
        "out-of-fold ok posts flagged: public %s, public text_norm %s, own corpus %s",
        *(f"{flagged[mask].mean():.4f}" if mask.any() else "-" for mask, _ in budgets),
    )
    return chosen


def _trainer_digest() -> str:
    """Hash of the code that turns data into a model, so a changed trainer makes a new version name."""
    package = Path(__file__).parent
    digest = hashlib.sha256()
    for name in ("train.py", "features.py", "model.py", "normalize.py", "passages.py", "augment.py"):
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
    rules = RuleSet.load(rules_dir)
    if version is None:
        # The rules version too: thresholds are tuned with the rules, so a model trained on the
        # same data with other rules is another model.
        digest = hashlib.sha256(
            json.dumps(
                [sources, asdict(config), holdout, FEATURE_FORMAT, _trainer_digest(), rules.version],
                sort_keys=True,
                default=str,
            ).encode()
        ).hexdigest()
        version = f"m{datetime.now(UTC):%Y%m%d}-{digest[:8]}"
    augmented = (
        augmented_rows(fit_rows + corpus_train, per_category=config.augmented_per_category)
        if config.augmented_per_category
        else []
    )
    corpus_ids = frozenset(r.id for r in corpus_train if r.id)
    # Two linear models: one for short posts (one passage: messages, most Weibo posts), trained
    # as before on the public rows and the corpus's short posts; one for long posts and their
    # passages, trained on everything plus passages and augmented posts.
    short_rows = [r for r in corpus_train if not split_passages(document_text(r.text, r.title))]
    short_config = replace(config, passages=False, augmented_per_category=0)
    model, short_facts, short_oof = train_model(
        fit_rows + short_rows, short_config, corpus_ids=corpus_ids, version=version, out_of_fold=tune
    )
    long_model, facts, oof = train_model(
        fit_rows + corpus_train + augmented,
        config,
        corpus_ids=corpus_ids,
        version=version,
        out_of_fold=tune,
    )
    model.long = long_model
    facts["short_model"] = {k: short_facts[k] for k in ("n_training_texts", "n_features", "train_seconds")}
    if oof is not None and short_oof is not None:
        posts = oof.posts()
        rule_scores, factors = _rule_scores(rules, [oof.texts[i] for i in posts])
        passage_proba = oof.passage_proba()
        # Short posts are scored by the short-post model: its out-of-fold probabilities.
        by_text = {short_oof.texts[i]: short_oof.proba[i] for i in short_oof.posts()}
        proba = oof.proba[posts].copy()
        for k, i in enumerate(posts):
            if passage_proba[k].sum() == 0 and oof.texts[i] in by_text:
                proba[k] = by_text[oof.texts[i]]
        model.thresholds = tune_thresholds(
            rule_scores,
            proba,
            [oof.labels[i] for i in posts],
            rules.flag_threshold,
            is_norm=oof.is_norm[posts],
            passage_proba=passage_proba * factors if config.passages else None,
            in_domain=oof.in_domain[posts],
            corpus=oof.corpus[posts],
            ok_flag_budget=config.ok_flag_budget,
            in_domain_ok_budget=config.in_domain_ok_budget,
        )
        long_model.thresholds = model.thresholds
        log.info("tuned thresholds on %d out-of-fold posts: %s", len(posts), model.thresholds)
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
        flagged = sum(1 for f in classifier.classify_many([r.item() for r in hard]) if f)
        scores["corpus_heldout"] = _summary(report)
        scores["corpus_heldout"]["hard_negative_flag_rate"] = round(flagged / len(hard), 4) if hard else None
    metadata = {
        "sources": sources,
        "holdout": {"share": holdout, "rows": len(report_rows)},
        "label_counts": dict(sorted(Counter(r.label for r in fit_rows + corpus_train).items())),
        "augmented_rows": len(augmented),
        "thresholds": model.thresholds,
        "rules_version": rules.version,
        "scores": scores,
        **facts,
    }
    return model, metadata


def _summary(report: dict[str, Any]) -> dict[str, Any]:
    keys = ("n", "macro_f1", "ok_flag_rate", "per_label", "per_stratum", "posts_per_second")
    return {k: report[k] for k in keys if k in report}
