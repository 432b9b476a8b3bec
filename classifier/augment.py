"""Training posts made by inserting violating passages into other legitimate official posts.

In an official account a violation is usually one passage of a long, formal post. The own
corpus's positives quote their violating passage (`evidence`); inserted into its long legitimate
posts, each passage is seen in many settings, so the model learns the passage, not the post
around it. Only the own corpus is used: messages from the public data (SMS ads, 2012–2016 Weibo
rumours) inserted into news and work reports made the model flag that news (measured on dev:
legitimate posts flagged 0.7% → 1.7%). Made from training rows only, so nothing inserted
ever reaches an evaluation split.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence

from classifier.data import LabelledRow
from classifier.passages import split_passages

__all__ = ["augmented_rows"]

MODEL_CATEGORIES = ("marketing", "unverified", "harmful")
# An inserted message longer than this is not one passage any more.
MAX_INSERT_CHARS = 200


def augmented_rows(
    rows: Sequence[LabelledRow], *, per_category: int = 800, seed: int = 0
) -> list[LabelledRow]:
    """`per_category` posts per model category with one inserted violating passage, and as many
    legitimate multi-paragraph posts with nothing inserted (so that length and paragraphs alone
    never look like a violation)."""
    rng = random.Random(seed)
    long_hosts = [r for r in rows if r.label == "ok" and split_passages(r.text)]
    if not long_hosts:
        return []

    def host() -> tuple[list[str], str | None, str]:
        chosen = rng.choice(long_hosts)
        return [p for p in chosen.text.split("\n") if p.strip()], chosen.title, _key(chosen)

    inserts: dict[str, list[tuple[str, LabelledRow]]] = defaultdict(list)
    for row in rows:
        category = "unverified" if row.label == "unverified" else row.label
        if category not in MODEL_CATEGORIES:
            continue
        piece = row.evidence
        if piece and piece.strip() and len(piece) <= MAX_INSERT_CHARS:
            inserts[category].append((piece.strip(), row))

    out: list[LabelledRow] = []
    for category in MODEL_CATEGORIES:
        pool = inserts.get(category, [])
        if not pool:
            continue
        picks = (
            rng.sample(pool, per_category) if len(pool) >= per_category else rng.choices(pool, k=per_category)
        )
        for n, (piece, origin) in enumerate(picks):
            paragraphs, title, _ = host()
            if rng.random() < 0.7:
                paragraphs.insert(rng.randint(1, len(paragraphs)), piece)
            else:
                at = rng.randrange(len(paragraphs))
                paragraphs[at] = paragraphs[at] + piece
            out.append(
                LabelledRow(
                    text="\n".join(paragraphs),
                    label=origin.label,
                    title=title,
                    stratum="augmented",
                    id=f"aug:{category}:{n}",
                    evidence=piece,
                    group=_key(origin),
                )
            )
    for n in range(per_category):
        paragraphs, title, key = host()
        out.append(
            LabelledRow(
                text="\n".join(paragraphs),
                label="ok",
                title=title,
                stratum="augmented",
                id=f"aug:ok:{n}",
                group=key,
            )
        )
    return out


def _key(row: LabelledRow) -> str:
    return row.group or row.id or row.text
