"""Passages of a post: the paragraphs (or sentence windows of a long paragraph) scored on their own.

A violation in an official account is usually one passage of an otherwise legitimate post (a
tutoring school's price list after an exam notice): scored as a whole, such a post looks
official. The pipeline scores each passage as well as the post and keeps the strongest, so the
evidence points at the passage. Training uses the same split, so both see the same units.
"""

from __future__ import annotations

import re

__all__ = ["MAX_PASSAGES", "MAX_PASSAGE_CHARS", "split_passages"]

# A paragraph longer than this is cut into windows of whole sentences of about this size: long
# enough to hold a claim and its sourcing, short enough that one sentence of spam is most of it.
MAX_PASSAGE_CHARS = 240
# Shorter pieces (a heading, a one-line greeting, a title) join the passage that follows.
MIN_PASSAGE_CHARS = 24
# A post is cut into at most this many passages; the rest of a very long text forms the last one.
MAX_PASSAGES = 24

_PARAGRAPH = re.compile(r"[^\n]+")
# What ends a sentence (full-width and, after NFKC, ASCII forms); claims.py splits on them too.
SENTENCE_ENDS = "。！？!?；;"
_SENTENCE = re.compile(rf"[^{SENTENCE_ENDS}]+[{SENTENCE_ENDS}”’」』）)]*")


def split_passages(text: str) -> list[tuple[int, int]]:
    """[start, end) offsets of the passages of `text`; empty when the text is one passage."""
    pieces: list[tuple[int, int]] = []
    for paragraph in _PARAGRAPH.finditer(text):
        start, end = _strip(text, *paragraph.span())
        if end <= start:
            continue
        if end - start <= MAX_PASSAGE_CHARS:
            pieces.append((start, end))
        else:
            pieces.extend(_windows(text, start, end))
    merged = _merge_short(pieces)
    if len(merged) > MAX_PASSAGES:
        merged = [*merged[: MAX_PASSAGES - 1], (merged[MAX_PASSAGES - 1][0], merged[-1][1])]
    return merged if len(merged) >= 2 else []


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _windows(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence windows of one long paragraph, each at most about MAX_PASSAGE_CHARS long."""
    windows: list[tuple[int, int]] = []
    window_start = window_end = start
    for sentence in _SENTENCE.finditer(text, start, end):
        s, e = sentence.span()
        if window_end > window_start and e - window_start > MAX_PASSAGE_CHARS:
            windows.append((window_start, window_end))
            window_start = s
        window_end = e
    if window_end > window_start:
        windows.append((window_start, window_end))
    if not windows or windows[-1][1] < end:
        # Text after the last sentence end (no closing punctuation) belongs to the last window.
        last_start = windows[-1][0] if windows else start
        windows[-1:] = [(last_start, end)]
    return [_strip(text, s, e) for s, e in windows]


def _merge_short(pieces: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    pending: int | None = None  # start of short pieces waiting for the next one
    for start, end in pieces:
        short = end - start < MIN_PASSAGE_CHARS
        if pending is not None:
            start, pending = pending, None
        if short:
            pending = start
            continue
        merged.append((start, end))
    if pending is not None:
        if merged:
            merged[-1] = (merged[-1][0], pieces[-1][1])
        else:
            merged.append((pending, pieces[-1][1]))
    return merged
