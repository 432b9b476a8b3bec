"""`govwatch model …` and `govwatch classify` as a user runs them (subprocesses, real files)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from classifier.data import CORPUS_DIR


def run_cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GOVWATCH_DATA_DIR": str(tmp_path / "var"), "COLUMNS": "200"}
    env.pop("GOVWATCH_DATABASE_URL", None)
    env.pop("GOVWATCH_MODEL_DIR", None)
    return subprocess.run(
        [sys.executable, "-m", "govwatch", *args],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300,
    )  # fmt: skip


def small_labelled_file(tmp_path: Path) -> Path:
    rows = [json.loads(line) for line in (CORPUS_DIR / "posts.jsonl").open(encoding="utf-8")]
    path = tmp_path / "small.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for row in rows[::3]:
            label = "rumor" if row["label"] == "unverified" else row["label"]
            fh.write(json.dumps({"text": row["text"], "label": label, "stratum": row["stratum"]}) + "\n")
    return path


def test_eval_json(tmp_path: Path) -> None:
    data = small_labelled_file(tmp_path)
    result = run_cli(tmp_path, "model", "eval", "--data", str(data), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert {"n", "macro_f1", "ok_flag_rate", "per_label", "posts_per_second"} <= set(report)
    assert set(report["per_label"]["unverified"]) == {"precision", "recall", "f1", "support"}
    assert report["n"] == sum(1 for _ in data.open())


def test_eval_reports_bad_lines_and_scores_the_rest(tmp_path: Path) -> None:
    data = small_labelled_file(tmp_path)
    good = data.read_text(encoding="utf-8")
    # A byte-order mark, a line that is not JSON, an unknown label, a row without text.
    bad = '\ufeff{"text": "网传明天停水，转发给家人", "label": "rumor"}\nnot json\n'
    bad += '{"text": "正文", "label": "spam"}\n{"label": "ok"}\n'
    data.write_text(bad + good, encoding="utf-8")
    result = run_cli(tmp_path, "model", "eval", "--data", str(data), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)  # warnings went to stderr, not into the JSON
    assert report["n"] == 1 + good.count("\n") and report["skipped_lines"] == 3
    for line, reason in ((2, "not JSON"), (3, "unknown label 'spam'"), (4, "no 'text' string")):
        assert f"{data.name}:{line}: {reason}" in " ".join(result.stderr.split())

    data.write_text("not json\n", encoding="utf-8")
    refused = run_cli(tmp_path, "model", "eval", "--data", str(data))
    assert refused.returncode == 2 and "no usable rows" in refused.stdout


def test_training_refuses_a_bad_line(tmp_path: Path) -> None:
    data = small_labelled_file(tmp_path)
    bad_line = '{"text": "正文", "label": "spam"}\n'
    data.write_text(data.read_text(encoding="utf-8") + bad_line, encoding="utf-8")
    result = run_cli(tmp_path, "model", "train", "--data", str(data), "--no-corpus")
    assert result.returncode == 2
    assert "unknown label 'spam'" in " ".join(result.stderr.split())
    assert not (tmp_path / "var" / "models").exists()


def test_training_refuses_before_it_trains(tmp_path: Path) -> None:
    data = small_labelled_file(tmp_path)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    gbk = tmp_path / "gbk.jsonl"
    gbk.write_bytes('{"text": "正文", "label": "ok"}\n'.encode("gbk"))
    (tmp_path / "a-file").write_text("x")
    cases = [
        (["--data", str(empty)], "no labelled rows"),
        (["--data", str(gbk)], "not UTF-8 text"),
        (["--data", str(data), "--version", "../../escape"], "no path separators"),
        (["--data", str(data), "--out-dir", str(tmp_path / "a-file")], "is a file, not a folder"),
    ]
    for args, message in cases:
        result = run_cli(tmp_path, "model", "train", "--no-corpus", *args)
        assert result.returncode == 2, result.stderr
        assert message in result.stderr and "Traceback" not in result.stderr
        assert "training on" not in result.stdout  # refused before any training
    assert not (tmp_path / "escape").exists() and not (tmp_path / "var" / "models").exists()


def test_broken_models_are_one_line_and_do_not_spoil_the_list(tmp_path: Path) -> None:
    models = tmp_path / "var" / "models"
    (models / "broken").mkdir(parents=True)
    (models / "broken" / "metadata.json").write_text("{not json", encoding="utf-8")
    listed = run_cli(tmp_path, "model", "list")
    assert listed.returncode == 0 and "packaged" in listed.stdout and "broken" in listed.stdout
    assert "metadata.json unreadable" in listed.stderr
    (models / "CURRENT").write_text("broken\n", encoding="utf-8")
    assert run_cli(tmp_path, "db", "upgrade").returncode == 0
    classified = run_cli(tmp_path, "classify")
    assert classified.returncode == 1 and "Traceback" not in classified.stderr
    assert "the promoted model 'broken'" in classified.stderr
    evaluated = run_cli(tmp_path, "model", "eval", "--corpus", "heldout", "--model", str(tmp_path / "nope"))
    assert evaluated.returncode == 2 and "no such model folder" in evaluated.stderr


def test_eval_tables_on_the_corpus(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "model", "eval", "--corpus", "heldout")
    assert result.returncode == 0, result.stderr
    for heading in ("per label", "confusion matrix", "per stratum", "macro-F1", "posts/s"):
        assert heading in result.stdout


def test_train_list_promote_and_classify(tmp_path: Path) -> None:
    data = small_labelled_file(tmp_path)
    trained = run_cli(tmp_path, "model", "train", "--data", str(data), "--no-corpus", "--version", "t1")
    assert trained.returncode == 0, trained.stderr + trained.stdout
    version_dir = tmp_path / "var" / "models" / "t1"
    meta = json.loads((version_dir / "metadata.json").read_text(encoding="utf-8"))
    assert meta["sources"][0]["sha256"] and meta["label_counts"] and meta["libraries"]["scikit-learn"]
    assert "public_holdout_text" in meta["scores"]

    listed = run_cli(tmp_path, "model", "list")
    assert "t1" in listed.stdout and "packaged" in listed.stdout and "current (default)" in listed.stdout

    assert run_cli(tmp_path, "model", "promote", "nope").returncode == 2  # not found: bad input
    promoted = run_cli(tmp_path, "model", "promote", "t1")
    assert promoted.returncode == 0, promoted.stderr
    assert (tmp_path / "var" / "models" / "CURRENT").read_text().strip() == "t1"

    assert run_cli(tmp_path, "db", "upgrade").returncode == 0  # classify needs a migrated database
    classified = run_cli(tmp_path, "classify")
    assert classified.returncode == 0, classified.stderr
    assert "model t1" in classified.stdout and "classified 0 posts" in classified.stdout
