"""Training posts made by inserting real violating messages into legitimate official posts.

In an official account a violation is usually one passage of a long, formal post. The public
data has violating messages (SMS ads, rumours, gambling spam) and formal legitimate texts (work
reports, news items), but no post that holds both; the own corpus has some. These rows teach
the model, and the threshold search, what such a post looks like. They are made from training
rows only, so nothing inserted ever reaches an evaluation split.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence

from classifier.data import LabelledRow
from classifier.passages import split_passages

__all__ = ["augmented_rows"]

# Public strata of formal, legitimate official text that stand in for a post's host paragraphs.
# Not the news posts collected beside the rumours (weibo_mm17_nonrumor): a rumour inserted into
# its own collection's news would teach the model that such news is a rumour.
FORMAL_STRATA = ("gov_work_report", "xinwenlianbo")
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
    formal: dict[str, list[LabelledRow]] = defaultdict(list)
    for row in rows:
        if row.label == "ok" and row.stratum in FORMAL_STRATA and len(row.text) <= 400:
            formal[row.stratum].append(row)
    strata = sorted(formal)
    if not long_hosts and not strata:
        return []

    def host() -> tuple[list[str], str | None, str]:
        if long_hosts and (not strata or rng.random() < 0.5):
            chosen = rng.choice(long_hosts)
            return [p for p in chosen.text.split("\n") if p.strip()], chosen.title, _key(chosen)
        pool = formal[rng.choice(strata)]
        parts = rng.sample(pool, min(len(pool), rng.randint(2, 4)))
        return [p.text for p in parts], None, "+".join(_key(p) for p in parts)

    inserts: dict[str, list[tuple[str, LabelledRow]]] = defaultdict(list)
    for row in rows:
        category = "unverified" if row.label == "unverified" else row.label
        if category not in MODEL_CATEGORIES:
            continue
        piece = row.evidence or (row.text if len(row.text) <= MAX_INSERT_CHARS else None)
        if piece and piece.strip():
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
