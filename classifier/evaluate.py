"""Evaluation of a classifier on labelled rows: per-label scores, confusion, strata, throughput.

A row's predicted label is the category of its highest-scoring finding, or `ok` when it has none.
Macro-F1 averages over the labels present in the gold data, so a category the file does not cover
(privacy in the public data) neither helps nor counts as zero.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

from classifier.data import EVAL_LABELS, LabelledRow
from classifier.pipeline import Classifier

__all__ = ["evaluate_rows", "format_report", "predicted_label"]


def predicted_label(findings: Sequence[Any]) -> str:
    if not findings:
        return "ok"
    return max(findings, key=lambda f: f.score).category


def evaluate_rows(classifier: Classifier, rows: Sequence[LabelledRow]) -> dict[str, Any]:
    started = time.perf_counter()
    results = classifier.classify_many([row.item() for row in rows])
    elapsed = time.perf_counter() - started
    gold = [row.label for row in rows]
    pred = [predicted_label(f) for f in results]
    flagged = [bool(f) for f in results]
    report = score_predictions(gold, pred)
    ok_rows = [flag for g, flag in zip(gold, flagged, strict=True) if g == "ok"]
    report["ok_flag_rate"] = round(sum(ok_rows) / len(ok_rows), 4) if ok_rows else None
    report["posts_per_second"] = round(len(rows) / elapsed, 1) if elapsed > 0 else None
    report["seconds"] = round(elapsed, 2)
    report["per_stratum"] = _per_stratum(rows, pred, flagged)
    return report


def score_predictions(gold: Sequence[str], pred: Sequence[str]) -> dict[str, Any]:
    labels = [label for label in EVAL_LABELS if label in set(gold) | set(pred)]
    present = [label for label in EVAL_LABELS if label in set(gold)]
    confusion: dict[str, Counter[str]] = {label: Counter() for label in labels}
    for g, p in zip(gold, pred, strict=True):
        confusion[g][p] += 1
    per_label: dict[str, dict[str, float | int]] = {}
    for label in labels:
        tp = confusion[label][label]
        fp = sum(confusion[g][label] for g in labels if g != label)
        fn = sum(n for p, n in confusion[label].items() if p != label)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_label[label] = {
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(f1, 4),
            "support": tp + fn,
        }
    macro = sum(float(per_label[label]["f1"]) for label in present) / len(present) if present else 0.0
    return {
        "n": len(gold),
        "macro_f1": round(macro, 4),
        "labels": labels,
        "per_label": per_label,
        "confusion": {g: {p: confusion[g][p] for p in labels} for g in labels},
    }


def _per_stratum(rows: Sequence[LabelledRow], pred: Sequence[str], flagged: Sequence[bool]) -> dict[str, Any]:
    groups: dict[str, list[int]] = defaultdict(list)
    for i, row in enumerate(rows):
        if row.stratum:
            groups[row.stratum].append(i)
    out: dict[str, Any] = {}
    for stratum, idx in sorted(groups.items()):
        labels = Counter(rows[i].label for i in idx)
        correct = sum(1 for i in idx if pred[i] == rows[i].label)
        out[stratum] = {
            "n": len(idx),
            "labels": dict(labels),
            "accuracy": round(correct / len(idx), 4),
            "flag_rate": round(sum(flagged[i] for i in idx) / len(idx), 4),
            "predicted": dict(Counter(pred[i] for i in idx)),
        }
    return out


def format_report(report: dict[str, Any]) -> str:
    """Plain-text rendering (the CLI uses Rich tables; this is for logs and docs)."""
    lines = [f"n={report['n']}  macro-F1={report['macro_f1']:.4f}  ok_flag_rate={report['ok_flag_rate']}"]
    lines.append(f"{'label':12s} {'precision':>9s} {'recall':>7s} {'f1':>7s} {'support':>7s}")
    for label, s in report["per_label"].items():
        lines.append(f"{label:12s} {s['precision']:9.4f} {s['recall']:7.4f} {s['f1']:7.4f} {s['support']:7d}")
    return "\n".join(lines)
