"""Evaluation: the report's arithmetic, and the shipped model on ../shared/data/dev.jsonl."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from classifier import Classifier
from classifier.data import read_jsonl
from classifier.evaluate import evaluate_rows, format_report, predicted_label, score_predictions


def test_scores_by_hand() -> None:
    report = score_predictions(
        ["ok", "ok", "marketing", "unverified"], ["ok", "marketing", "marketing", "ok"]
    )
    assert report["per_label"]["ok"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    assert report["per_label"]["marketing"]["precision"] == 0.5
    assert report["per_label"]["unverified"]["recall"] == 0.0
    assert report["macro_f1"] == round((0.5 + 2 / 3 + 0.0) / 3, 4)
    assert report["confusion"]["ok"]["marketing"] == 1
    assert predicted_label([]) == "ok"


@pytest.mark.parametrize("field", ["text", "text_norm"])
def test_dev_set(shipped: Classifier, shared: Path, field: str, capsys: pytest.CaptureFixture[str]) -> None:
    rows = list(read_jsonl(shared / "data" / "dev.jsonl", field=field))
    report = evaluate_rows(shipped, rows)
    with capsys.disabled():
        print(f"\ndev.jsonl [{field}]\n" + format_report(report))
        for stratum, s in report["per_stratum"].items():
            print(f"  {stratum:28s} n={s['n']:5d} accuracy={s['accuracy']:.4f} flagged={s['flag_rate']:.4f}")
    for label in ("ok", "marketing", "unverified", "harmful"):
        assert report["per_label"][label]["precision"] > 0.9 and report["per_label"][label]["recall"] > 0.85
    if field == "text":
        assert report["macro_f1"] >= 0.97
        assert report["ok_flag_rate"] <= 0.01
    else:
        assert report["macro_f1"] >= 0.96


def test_rumor_label_means_unverified(shared: Path) -> None:
    rows = list(read_jsonl(shared / "data" / "dev.jsonl"))
    assert {r.label for r in rows} == {"ok", "marketing", "unverified", "harmful"}
    assert replace(rows[0], label="x").label == "x"
