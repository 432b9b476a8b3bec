"""Training on a small labelled set, the save/load round trip, and refusing foreign artefacts."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

import classifier
from classifier.data import load_corpus
from classifier.model import (
    CLASSES,
    ModelError,
    ModelVersionError,
    TextModel,
    load_model,
    save_model,
)
from classifier.pipeline import Classifier
from classifier.rules import RuleSet
from classifier.train import decide, document_text, prepare_texts, score_rows

TEXTS = [
    "加微信下单，全场包邮，原价199现价99",
    "网传明天停水，紧急扩散转发给家人",
    "市政府召开常务会议研究部署安全生产工作",
    "百家乐真人赌场注册送彩金",
    "",
    "English only text about the weather.",
]


def test_round_trip_predicts_identically(tmp_path: Path, small_model: TextModel) -> None:
    path = save_model(small_model, tmp_path, {"note": "test"})
    loaded = load_model(path)
    canonical, words = prepare_texts(TEXTS)
    before = small_model.predict_proba(small_model.transform(canonical, words))
    after = loaded.predict_proba(loaded.transform(canonical, words))
    assert np.array_equal(before, after)
    assert np.allclose(after.sum(axis=1), 1.0)
    rules = RuleSet.load()
    original = Classifier(small_model, rules).classify_many(TEXTS)
    again = Classifier(loaded, rules).classify_many(TEXTS)
    assert [[f.to_dict() for f in r] for r in original] == [[f.to_dict() for f in r] for r in again]
    meta = json.loads((path / "metadata.json").read_text(encoding="utf-8"))
    assert meta["note"] == "test"
    assert {"numpy", "scikit-learn", "rjieba", "opencc"} <= set(meta["libraries"])
    assert meta["classes"] == list(CLASSES)


def test_a_long_post_model_travels_in_the_same_artefact(tmp_path: Path, small_model: TextModel) -> None:
    # The long-post model here is the small model with other weights: enough to tell them apart.
    long = dataclasses.replace(small_model, coef=-small_model.coef, version=small_model.version)
    pair = dataclasses.replace(small_model, version="pair", long=dataclasses.replace(long, version="pair"))
    loaded = load_model(save_model(pair, tmp_path, {}))
    assert loaded.long is not None and loaded.for_long_posts is loaded.long
    assert np.array_equal(loaded.long.coef, pair.long.quantized().coef)
    assert small_model.for_long_posts is small_model
    notice = "关于做好冬季安全生产工作的通知。各乡镇、各部门要认真落实安全责任，开展隐患排查。\n" * 3
    rules = RuleSet.load()
    classifier_pair = Classifier(loaded, rules)
    # A long post is scored by the long-post model, a short one by the short-post model.
    canonical, abstain = classifier_pair._model_input([notice, TEXTS[0]])
    scores = classifier_pair._model_scores(
        canonical, abstain, [], np.array([], dtype=np.int64), [True, False]
    )
    expected_long = loaded.long.predict_proba(loaded.long.transform(canonical[:1]))
    expected_short = loaded.predict_proba(loaded.transform(canonical[1:]))
    assert np.allclose(scores.proba[0], expected_long[0]) and np.allclose(scores.proba[1], expected_short[0])


def test_small_model_learns_the_corpus(small_model: TextModel) -> None:
    rows = [r for r in load_corpus("heldout") if r.label in ("marketing", "harmful")]
    canonical, words = prepare_texts([document_text(r.text, r.title) for r in rows])
    proba = small_model.predict_proba(small_model.transform(canonical, words))
    predicted = [CLASSES[i] for i in proba.argmax(axis=1)]
    assert np.mean([p == r.label for p, r in zip(predicted, rows, strict=True)]) > 0.7


def test_versions_are_immutable(tmp_path: Path, small_model: TextModel) -> None:
    save_model(small_model, tmp_path, {})
    with pytest.raises(ModelError, match="immutable"):
        save_model(small_model, tmp_path, {})


def test_load_refuses_a_library_mismatch(tmp_path: Path, small_model: TextModel) -> None:
    path = save_model(small_model, tmp_path, {})
    meta_path = path / "metadata.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["libraries"]["rjieba"] = "0.0.1"
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(ModelVersionError, match=r"rjieba 0\.0\.1"):
        load_model(path)


def test_load_refuses_a_feature_format_mismatch(tmp_path: Path, small_model: TextModel) -> None:
    path = save_model(small_model, tmp_path, {})
    meta_path = path / "metadata.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["feature_format"] = 999
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(ModelVersionError, match="feature format"):
        load_model(path)


def test_load_refuses_a_changed_artefact(tmp_path: Path, small_model: TextModel) -> None:
    path = save_model(small_model, tmp_path, {})
    with (path / "model.npz").open("ab") as fh:
        fh.write(b"tampered")
    with pytest.raises(ModelError, match="hash"):
        load_model(path)


def test_resolve_model_dir(tmp_path: Path, small_model: TextModel) -> None:
    path = save_model(small_model, tmp_path, {})
    assert classifier.resolve_model_dir(path) == path
    (tmp_path / "CURRENT").write_text(path.name + "\n", encoding="utf-8")
    assert classifier.resolve_model_dir(tmp_path) == path
    with pytest.raises(ModelError):
        classifier.resolve_model_dir(tmp_path / "nowhere")


def test_calibration_gives_probabilities(small_model: TextModel) -> None:
    scores = np.array([[2.0, -1.0, -1.0, -1.0], [-1.0, 3.0, -2.0, -2.0], [0.0, 0.0, 0.0, 0.0]])
    proba = small_model.calibrate(scores)
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert proba[0].argmax() == 0 and proba[1].argmax() == 1


def test_vectorised_decision_matches_the_pipeline(shipped: Classifier) -> None:
    heldout = load_corpus("heldout")
    # Short posts and the longest ones, whose passages are scored on their own too.
    rows = heldout[:60] + sorted(heldout, key=lambda r: -len(r.text))[:40]
    rule_scores, proba, passage_proba = score_rows(shipped, rows)
    predicted, flagged = decide(
        rule_scores, proba, shipped.thresholds, shipped.rules.flag_threshold, passage_proba
    )
    findings = shipped.classify_many([(r.text, r.title) for r in rows])
    assert list(flagged) == [bool(f) for f in findings]
    tops = [max(f, key=lambda x: x.score).category if f else "ok" for f in findings]
    assert list(predicted) == tops


def test_packaged_model_is_small() -> None:
    version_dir = classifier.resolve_model_dir()
    assert (version_dir / "model.npz").stat().st_size < 5_000_000


def test_artefact_is_plain_arrays_loaded_without_pickle(tmp_path: Path, small_model: TextModel) -> None:
    path = save_model(small_model, tmp_path, {"rules_version": RuleSet.load().version})
    with np.load(path / "model.npz", allow_pickle=False) as arrays:
        assert all(arrays[name].dtype != object for name in arrays.files)
        assert [str(c) for c in arrays["classes"].tolist()] == list(CLASSES)
    assert json.loads((path / "metadata.json").read_text(encoding="utf-8"))["format"] == 2


def test_an_old_joblib_model_directory_is_refused_with_retrain(tmp_path: Path) -> None:
    old = tmp_path / "m-old"
    old.mkdir()
    (old / "model.joblib").write_bytes(b"not loaded")
    (old / "metadata.json").write_text(json.dumps({"version": "m-old", "format": 1}), encoding="utf-8")
    with pytest.raises(ModelVersionError, match="retrain"):
        load_model(old)


def test_load_refuses_a_model_trained_with_other_rules(tmp_path: Path, small_model: TextModel) -> None:
    rules_version = RuleSet.load().version
    save_model(small_model, tmp_path / "same", {"rules_version": rules_version})
    other = save_model(small_model, tmp_path / "other", {"rules_version": "1999.1+deadbeef"})
    assert classifier.load(tmp_path / "same" / small_model.version).rules_version == rules_version
    with pytest.raises(classifier.RulesMismatchError) as caught:
        classifier.load(other)
    assert "1999.1+deadbeef" in str(caught.value) and rules_version in str(caught.value)
    assert classifier.load(other, allow_rules_mismatch=True).model_version == small_model.version


def test_packaged_default_loads_with_the_packaged_rules() -> None:
    assert classifier.load().rules_version == RuleSet.load().version
