"""The project's own labelled corpus: size, coverage, split, and the shipped model on its held-out part."""

from __future__ import annotations

import json
from collections import Counter

from classifier import Classifier
from classifier.data import CORPUS_DIR, load_corpus, split_of
from classifier.evaluate import evaluate_rows


def test_corpus_shape() -> None:
    rows = load_corpus()
    assert len(rows) >= 1500
    labels = Counter(r.label for r in rows)
    assert set(labels) == {"ok", "marketing", "unverified", "harmful", "privacy", "expression"}
    assert sum(1 for r in rows if r.kind == "hard_negative") >= len(rows) / 3
    assert len({r.id for r in rows}) == len(rows)
    assert len({r.text for r in rows}) == len(rows)
    assert all(40 <= len(r.text) <= 2000 for r in rows)


def test_every_row_says_why_and_positives_quote_their_evidence() -> None:
    for path in sorted(CORPUS_DIR.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            assert isinstance(row.get("why"), str) and row["why"].strip(), (path.name, row["id"])
            evidence = row.get("evidence")
            if evidence is not None:
                assert row["kind"] == "positive", row["id"]
                assert evidence in row["text"] or evidence in (row.get("title") or ""), row["id"]


def test_split_is_deterministic_and_covers_every_label() -> None:
    held = load_corpus("heldout")
    train = load_corpus("train")
    assert len(held) + len(train) == len(load_corpus())
    assert {r.id for r in held}.isdisjoint({r.id for r in train})
    assert all(r.id is not None and split_of(r.id) == "heldout" for r in held)
    assert {r.label for r in held} == {r.label for r in train}


FIRST_CORPUS = CORPUS_DIR / "posts.jsonl"


def _heldout(first: bool) -> list:
    ids = {json.loads(line)["id"] for line in FIRST_CORPUS.read_text(encoding="utf-8").splitlines()}
    return [r for r in load_corpus("heldout") if (r.id in ids) == first]


def _hard_negative_flag_rate(shipped: Classifier, rows: list) -> float:
    hard = [r for r in rows if r.kind == "hard_negative"]
    return sum(1 for f in shipped.classify_many([r.item() for r in hard]) if f) / len(hard)


def test_heldout_recall_and_hard_negatives(shipped: Classifier) -> None:
    # The first corpus (posts.jsonl: short posts, one violation each) is all but solved.
    held = _heldout(first=True)
    report = evaluate_rows(shipped, held)
    for label in ("marketing", "unverified", "harmful", "privacy", "expression"):
        assert report["per_label"][label]["recall"] >= 0.9, (label, report["per_label"][label])
    assert _hard_negative_flag_rate(shipped, load_corpus("heldout")) <= 0.02


def test_heldout_of_the_long_posts(shipped: Classifier) -> None:
    # The posts added in 2026-12 (long formal posts, violations in one passage, many hard
    # negatives) are far harder: the model card gives the per-category figures, which are below
    # the 0.9 of the first corpus (harmful and expression most). This holds what was reached.
    held = _heldout(first=False)
    report = evaluate_rows(shipped, held)
    assert report["macro_f1"] >= 0.82, report["per_label"]
    assert report["ok_flag_rate"] <= 0.02
