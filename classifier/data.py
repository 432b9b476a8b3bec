"""Labelled data: reading JSONL files, label names, the project's own corpus and its split."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "CORPUS_DIR",
    "EVAL_LABELS",
    "LabelledRow",
    "canonical_label",
    "file_sha256",
    "load_corpus",
    "read_jsonl",
    "split_of",
]

CORPUS_DIR = Path(__file__).resolve().parent / "corpus"
# Labels a data file may use; `rumor` (the public data's name) means `unverified`.
EVAL_LABELS = ("ok", "marketing", "unverified", "harmful", "privacy", "expression")
_ALIASES = {"rumor": "unverified", "rumour": "unverified"}
# Share of the own corpus held out from training, by a hash of each post's id.
HELDOUT_SHARE = 0.3


class DataError(ValueError):
    """A labelled file has a row without text or with an unknown label."""


@dataclass(frozen=True, slots=True)
class LabelledRow:
    text: str
    label: str
    title: str | None = None
    text_norm: str | None = None
    stratum: str | None = None
    source: str | None = None
    id: str | None = None
    kind: str | None = None
    # The violating passage, verbatim, where the file gives it: it tells training which passage
    # of a long post carries the label.
    evidence: str | None = None
    # Rows made from other rows (classifier/augment.py) share their origin's cross-validation
    # group, so no fold scores a text made from one it trained on. Never read from a file.
    group: str | None = None
    # The post's date (ISO) and outbound links, where the file gives them: the rules use both.
    published: str | None = None
    links: tuple[dict[str, str], ...] = ()

    def item(self) -> dict[str, Any]:
        """The row as the classifier's input (see Classifier.classify_many)."""
        return {"text": self.text, "title": self.title, "links": self.links, "published": self.published}


def canonical_label(label: str) -> str:
    label = _ALIASES.get(label.strip().lower(), label.strip().lower())
    if label not in EVAL_LABELS:
        raise DataError(f"unknown label {label!r}; expected one of {', '.join(EVAL_LABELS)} or rumor")
    return label


def read_jsonl(
    path: str | Path, *, field: str = "text", problems: list[DataError] | None = None
) -> Iterator[LabelledRow]:
    """Rows of a labelled JSONL file; `field` names the column used as the text.

    A bad line (not JSON, no text, an unknown label) raises DataError naming the file and line;
    with a `problems` list it is recorded there and skipped, so one bad line does not stop an
    evaluation. A byte-order mark (as Windows editors write) is ignored.
    """
    with Path(path).open(encoding="utf-8-sig") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                row = _parse_line(line, field)
            except DataError as exc:
                problem = DataError(f"{path}:{lineno}: {exc}")
                if problems is None:
                    raise problem from exc
                problems.append(problem)
                continue
            yield row


def _parse_line(line: str, field: str) -> LabelledRow:
    try:
        raw = json.loads(line)
    except json.JSONDecodeError as exc:
        raise DataError(f"not JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise DataError("not a JSON object")
    text = raw.get(field)
    if not isinstance(text, str):
        raise DataError(f"no {field!r} string")
    title = raw.get("title")
    return LabelledRow(
        text=text,
        label=canonical_label(str(raw.get("label", ""))),
        title=title if isinstance(title, str) and title else None,
        text_norm=raw.get("text_norm") if field == "text" else None,
        stratum=raw.get("stratum"),
        source=raw.get("source"),
        id=raw.get("id"),
        kind=raw.get("kind"),
        evidence=raw.get("evidence")
        if isinstance(raw.get("evidence"), str) and raw.get("evidence")
        else None,
    )


def split_of(key: str, heldout_share: float = HELDOUT_SHARE) -> str:
    """'train' or 'heldout', fixed by a hash of `key`, so the split never depends on file order."""
    value = int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big") / 2**64
    return "heldout" if value < heldout_share else "train"


def load_corpus(split: str | None = None, directory: Path = CORPUS_DIR) -> list[LabelledRow]:
    """The project's own labelled posts (every *.jsonl in classifier/corpus), optionally one split."""
    rows: list[LabelledRow] = []
    for path in sorted(directory.glob("*.jsonl")):
        for row in read_jsonl(path):
            if row.id is None:
                raise DataError(f"{path}: every corpus row needs an id")
            if split is None or split_of(row.id) == split:
                rows.append(row)
    return rows


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def rows_sha256(rows: Iterable[LabelledRow]) -> str:
    digest = hashlib.sha256()
    for row in rows:
        digest.update(json.dumps([row.id, row.title, row.text, row.label], ensure_ascii=False).encode())
    return digest.hexdigest()
