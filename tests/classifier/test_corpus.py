"""The project's own labelled corpus: size, coverage, split, and the shipped model on its held-out part."""

from __future__ import annotations

from collections import Counter

from classifier import Classifier
from classifier.data import load_corpus, split_of
from classifier.evaluate import evaluate_rows


def test_corpus_shape() -> None:
    rows = load_corpus()
    assert len(rows) >= 400
    labels = Counter(r.label for r in rows)
    assert set(labels) == {"ok", "marketing", "unverified", "harmful", "privacy", "expression"}
    assert sum(1 for r in rows if r.kind == "hard_negative") >= 150
    assert len({r.id for r in rows}) == len(rows)
    assert len({r.text for r in rows}) == len(rows)
    assert all(80 <= len(r.text) <= 800 for r in rows)


def test_split_is_deterministic_and_covers_every_label() -> None:
    held = load_corpus("heldout")
    train = load_corpus("train")
    assert len(held) + len(train) == len(load_corpus())
    assert {r.id for r in held}.isdisjoint({r.id for r in train})
    assert all(r.id is not None and split_of(r.id) == "heldout" for r in held)
    assert {r.label for r in held} == {r.label for r in train}


def test_heldout_recall_and_hard_negatives(shipped: Classifier) -> None:
    held = load_corpus("heldout")
    report = evaluate_rows(shipped, held)
    for label in ("marketing", "unverified", "harmful", "privacy", "expression"):
        assert report["per_label"][label]["recall"] >= 0.9, (label, report["per_label"][label])
    hard = [r for r in held if r.kind == "hard_negative"]
    flagged = sum(1 for f in shipped.classify_many([(r.text, r.title) for r in hard]) if f)
    assert flagged / len(hard) <= 0.02
