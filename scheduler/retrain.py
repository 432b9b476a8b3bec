"""The weekly retrain: reviewers' decisions plus the training data make a candidate model, which
replaces the current one only if it is not worse on any of the fixed held-out sets.

Held-out sets: the configured evaluation files (the shared dev data), the project corpus's
held-out split, and a fixed share of the reviewed findings (chosen by a hash of the post id, so
the same posts stay held out week after week). Both models' scores and the decision go to the
job history.
"""

from __future__ import annotations

import json
import logging
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import select

from scheduler.context import JobContext
from store.models import Finding, Post

log = logging.getLogger(__name__)
POST_CATEGORIES = ("marketing", "unverified", "harmful", "privacy", "expression")


def reviewed_rows(ctx: JobContext) -> list[Any]:
    """One labelled row per reviewed post: its confirmed category (highest score), else `ok`
    when every finding on it was dismissed."""
    from classifier.data import LabelledRow

    by_post: dict[int, list[Finding]] = {}
    texts: dict[int, tuple[str, str | None]] = {}
    with ctx.session_factory() as session:
        query = (
            select(Finding, Post.text, Post.title)
            .join(Post, Finding.post_id == Post.id)
            .where(Finding.state.in_(("confirmed", "dismissed")), Finding.category.in_(POST_CATEGORIES))
            .order_by(Finding.post_id, Finding.id)
        )
        for finding, text, title in session.execute(query):
            assert finding.post_id is not None
            by_post.setdefault(finding.post_id, []).append(finding)
            texts[finding.post_id] = (text or "", title)
    rows = []
    for post_id, findings in sorted(by_post.items()):
        confirmed = [f for f in findings if f.state == "confirmed"]
        label = max(confirmed, key=lambda f: f.score).category if confirmed else "ok"
        text, title = texts[post_id]
        if text.strip():
            rows.append(
                LabelledRow(text=text, title=title, label=label, id=f"post-{post_id}", source="reviewed")
            )
    return rows


def retrain(ctx: JobContext, week: str) -> dict[str, Any]:
    from classifier import registry
    from classifier.data import load_corpus, read_jsonl, split_of
    from classifier.evaluate import evaluate_rows
    from classifier.model import load_model, save_model
    from classifier.pipeline import Classifier
    from classifier.rules import RuleSet
    from classifier.train import build_model

    settings = ctx.settings
    model_dir = settings.resolved_model_dir
    reviewed = reviewed_rows(ctx)
    if len(reviewed) < settings.retrain_min_reviewed:
        return {
            "decision": "skipped",
            "reason": f"{len(reviewed)} reviewed posts, need {settings.retrain_min_reviewed}",
        }
    share = settings.retrain_reviewed_holdout
    reviewed_held = [r for r in reviewed if split_of(str(r.id), share) == "heldout"]
    reviewed_train = [r for r in reviewed if split_of(str(r.id), share) == "train"]

    held_out: dict[str, list[Any]] = {}
    for path in settings.eval_data:
        held_out[f"eval:{Path(path).name}"] = list(read_jsonl(path))
    held_out["corpus_heldout"] = load_corpus("heldout")
    if reviewed_held:
        held_out["reviewed_heldout"] = reviewed_held

    version = f"r{week.replace('-', '')}"
    existing = model_dir / version
    with ctx.session_factory.begin() as session:
        ctx.check_fence(session)
    if (existing / "metadata.json").is_file():  # a rerun after an interruption: keep what was trained
        candidate_path = existing
    else:
        with tempfile.TemporaryDirectory() as tmp:
            reviewed_file = Path(tmp) / "reviewed.jsonl"
            with reviewed_file.open("w", encoding="utf-8") as out:
                for row in reviewed_train:
                    out.write(
                        json.dumps(
                            {"id": row.id, "title": row.title, "text": row.text, "label": row.label},
                            ensure_ascii=False,
                        )
                        + "\n"
                    )
            paths = [*settings.train_data, reviewed_file] if reviewed_train else list(settings.train_data)
            model, metadata = build_model(paths, use_corpus=True, version=version)
            metadata["reviewed"] = {"train": len(reviewed_train), "heldout": len(reviewed_held)}
        with ctx.session_factory.begin() as session:
            ctx.check_fence(session)
        candidate_path = save_model(model, model_dir, metadata)

    current = registry.load_current(model_dir)
    candidate = Classifier(load_model(candidate_path), RuleSet.load())
    scores: dict[str, dict[str, float]] = {}
    worse: list[str] = []
    for name, rows in held_out.items():
        if not rows:
            continue
        before = float(evaluate_rows(current, rows)["macro_f1"])
        after = float(evaluate_rows(candidate, rows)["macro_f1"])
        scores[name] = {"current": round(before, 4), "candidate": round(after, 4), "n": len(rows)}
        if after < before:
            worse.append(name)
    decision = "kept"
    with ctx.session_factory.begin() as session:
        ctx.check_fence(session)
        if not worse:
            registry.promote(model_dir, version)
            decision = "promoted"
    log.info(
        "retrain %s: candidate %s %s (worse on: %s)", week, version, decision, ", ".join(worse) or "none"
    )
    return {
        "decision": decision,
        "candidate": version,
        "current": current.model_version,
        "worse_on": worse,
        "scores": scores,
        "reviewed": {"train": len(reviewed_train), "heldout": len(reviewed_held)},
    }


__all__ = ["retrain", "reviewed_rows"]
