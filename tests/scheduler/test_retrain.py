"""The weekly retrain: reviews + training data, scored on fixed held-out sets, promoted only if not worse."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from classifier import registry
from classifier.data import CORPUS_DIR
from scheduler.jobs import retrain_job
from store.job_runs import list_job_runs
from tests.scheduler.conftest import FixedClock, make_context
from tests.scheduler.helpers import add_account, add_finding, add_post

CATEGORIES = {"marketing", "unverified", "harmful", "privacy", "expression"}


def corpus_rows() -> list[dict[str, str]]:
    return [json.loads(line) for line in (CORPUS_DIR / "posts.jsonl").open(encoding="utf-8")]


def write_jsonl(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps({"text": row["text"], "label": row["label"]}, ensure_ascii=False) + "\n")
    return path


def reviewed_posts(factory: sessionmaker[Session], rows: list[dict[str, str]], when: datetime) -> int:
    """Posts a reviewer decided on: a confirmed finding of the true category, or a dismissed false flag."""
    account = add_account(factory, "审核样本账号")
    for number, row in enumerate(rows):
        post = add_post(factory, account, f"r{number}", when, row["text"])
        if row["label"] in CATEGORIES:
            add_finding(factory, account, post, row["label"], when=when, state="confirmed")
        else:
            add_finding(factory, account, post, "marketing", when=when, state="dismissed")
    return len(rows)


@pytest.mark.slow
def test_retrain_scores_both_models_on_every_held_out_set_and_promotes_only_if_not_worse(
    sqlite_session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    rows = corpus_rows()
    clock = FixedClock(datetime(2026, 10, 11, 19, 0, tzinfo=UTC))  # Monday 03:00 in Shanghai, ISO week 42
    reviewed_posts(sqlite_session_factory, rows[1::4], clock())
    train = write_jsonl(tmp_path / "train.jsonl", rows[::5])
    dev = write_jsonl(tmp_path / "dev.jsonl", rows[2::7])
    context = make_context(
        sqlite_session_factory,
        clock,
        tmp_path,
        train_data=[train],
        eval_data=[dev],
        retrain_min_reviewed=10,
        retrain_reviewed_holdout=0.3,
    )
    model_dir = context.settings.resolved_model_dir
    before = registry.current_version(model_dir)

    outcome = retrain_job(context=context)
    assert outcome.status == "ok", outcome.error
    assert outcome.period == "2026-W42"
    counts = outcome.counts
    assert set(counts["scores"]) == {"eval:dev.jsonl", "corpus_heldout", "reviewed_heldout"}
    for scores in counts["scores"].values():
        assert {"current", "candidate", "n"} <= set(scores) and scores["n"] > 0
    worse = sorted(name for name, s in counts["scores"].items() if s["candidate"] < s["current"])
    assert counts["worse_on"] == worse
    assert counts["decision"] == ("kept" if worse else "promoted")
    assert counts["current"] == before and counts["candidate"] == "r2026W42"
    assert (model_dir / "r2026W42" / "metadata.json").is_file()
    expected_current = before if worse else "r2026W42"
    assert registry.current_version(model_dir) == expected_current
    assert counts["reviewed"]["heldout"] > 0 and counts["reviewed"]["train"] > 0

    # The history keeps the scores and the decision; the week is not retrained twice.
    with sqlite_session_factory() as session:
        (run,) = list_job_runs(session=session, job="retrain", status="ok")
        assert run.counts["decision"] == counts["decision"] and run.counts["scores"] == counts["scores"]
    assert retrain_job(context=context).status == "skipped"


def test_retrain_waits_for_enough_reviews(
    sqlite_session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    clock = FixedClock(datetime(2026, 10, 11, 19, 0, tzinfo=UTC))
    reviewed_posts(sqlite_session_factory, corpus_rows()[:3], clock())
    context = make_context(sqlite_session_factory, clock, tmp_path, retrain_min_reviewed=20)
    outcome = retrain_job(context=context)
    assert outcome.status == "ok" and outcome.counts["decision"] == "skipped"
    assert "3 reviewed posts" in outcome.counts["reason"]
    assert not context.settings.resolved_model_dir.exists()
