"""Model features: a canonical form of the normalised text, words (jieba via rjieba) and characters.

The canonical form removes what identifies a data *source* rather than what a post says, so the
model cannot learn shortcuts (see ../shared/data/README.md): digits and the `x` masks of the SMS
sets become one `0` per run, URLs become one token, whitespace, symbols and emoji go, and letters
are lower-cased. Punctuation stays: a post's `！！！` is style, not source.

Features are hashed (no vocabulary to store): word unigrams and character 1–4-grams, each
sub-linear TF × IDF and L2-normalised per block. Hashing is vectorised over a whole batch with a
polynomial hash over code points, so the Python cost per post is the tokenizer call and a join.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import rjieba
import scipy.sparse as sp

from classifier.normalize import codepoints, from_codepoints

__all__ = [
    "FEATURE_FORMAT",
    "HashingFeaturizer",
    "canonicalize",
    "canonicalize_many",
    "canonicalize_with_scripts",
    "reference_tokenize",
    "script_profile",
    "tokenize",
]

# Bump when anything below changes what a text turns into; a saved model records it and `load`
# refuses a model whose features were computed differently.
FEATURE_FORMAT = 2

# URLs (and the masked `httpxxxx` of the public data). Applied to lower-cased text, and written
# to start with a literal so the regex engine can jump between candidates: an alternation or
# IGNORECASE at the front makes it try every position, ten times slower on a batch.
_URL_CHARS = r"[a-z0-9./?=&%#:~+\-@_]*"  # ASCII only: a Chinese word right after a link is not part of it
_URL = re.compile(rf"(?:http|www\.)(?:s?://{_URL_CHARS}|s?x{{2,}}|(?<=www\.){_URL_CHARS})")
_URL_TOKEN = "httpurl"
_ZERO = 48
_NINE = 57
_X = ord("x")


class _CharTables:
    """Per-code-point lookup tables for canonical text, built on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ready = False
        self.keep = np.zeros(0, dtype=bool)
        self.digit = np.zeros(0, dtype=bool)
        self.joiner = np.zeros(0, dtype=bool)
        self.latin = np.zeros(0, dtype=bool)
        self.letter = np.zeros(0, dtype=bool)
        self.han = np.zeros(0, dtype=bool)

    def get(self) -> _CharTables:
        if self._ready:
            return self
        with self._lock:
            if not self._ready:
                size = 0x110000
                keep = np.zeros(size, dtype=bool)
                letter = np.zeros(size, dtype=bool)
                # Letters, numbers and punctuation stay; symbols, emoji, spaces and controls go.
                for cp in range(0x30000):
                    category = unicodedata.category(chr(cp))[0]
                    if category in "LNP":
                        keep[cp] = True
                        letter[cp] = category == "L"
                keep[0x30000:0x40000] = True  # CJK extensions G and later: ideographs
                letter[0x30000:0x40000] = True
                han = np.zeros(size, dtype=bool)
                for lo, hi in ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x3FFFF)):
                    han[lo : hi + 1] = True
                keep[ord("_")] = False
                digit = np.zeros(size, dtype=bool)
                digit[_ZERO : _NINE + 1] = True
                joiner = np.zeros(size, dtype=bool)
                joiner[[ord(c) for c in ".,:/-"]] = True
                latin = np.zeros(size, dtype=bool)
                latin[ord("a") : ord("z") + 1] = True
                self.keep, self.digit, self.joiner, self.latin = keep, digit, joiner, latin
                self.letter, self.han = letter, han
                self._ready = True
        return self


_TABLES = _CharTables()


def canonicalize(normalized_text: str) -> str:
    """The form of already-normalised text that features are computed from."""
    return canonicalize_many([normalized_text])[0]


def canonicalize_many(normalized_texts: Sequence[str]) -> list[str]:
    """`canonicalize` for a batch at once: numpy's per-call overhead is paid once per batch."""
    return canonicalize_with_scripts(normalized_texts)[0]


def canonicalize_with_scripts(normalized_texts: Sequence[str]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Canonical texts, and per text its Chinese characters and other letters (see script_profile)."""
    n = len(normalized_texts)
    if not n:
        empty = np.zeros(0, dtype=np.int64)
        return [], empty, empty
    # NUL never occurs in normalised text worth keeping, so it can separate documents; any NUL
    # inside a text is dropped first so the split below stays aligned.
    text = "\0".join(t.replace("\0", "") for t in normalized_texts).lower()
    if "http" in text or "www." in text:
        text = _URL.sub(_URL_TOKEN, text)
    cps = codepoints(text)
    tables = _TABLES.get()
    keep = tables.keep[cps]
    separator = cps == 0
    keep |= separator
    digit = tables.digit[cps]
    if "x" in text:
        digit |= _x_masks(cps, digit, tables.latin[cps])
    if digit.any():
        # A number becomes one "0": exact values and their lengths identify sources (masked SMS
        # numbers, dated news) more than they say what a post is about. Separators between
        # digits (32.4, 10:30, 2024-05-01) belong to the number, as the masked texts have none.
        before = np.zeros_like(digit)
        before[1:] = digit[:-1]
        after = np.zeros_like(digit)
        after[:-1] = digit[1:]
        digit |= tables.joiner[cps] & before & after
        follows_digit = np.zeros_like(digit)
        follows_digit[1:] = digit[:-1]
        keep &= ~(digit & follows_digit)
        cps = np.where(digit, _ZERO, cps)
    kept = cps[keep]
    # Script counts come almost free here: the model abstains on texts in other scripts. The URL
    # token's seven Latin letters are not the post's own.
    owner = np.cumsum(kept == 0)
    han = np.bincount(owner, weights=tables.han[kept], minlength=n).astype(np.int64)
    letters = np.bincount(owner, weights=tables.letter[kept], minlength=n).astype(np.int64)
    canonical = from_codepoints(kept).split("\0")
    if "httpurl" in text:
        letters -= np.fromiter((7 * c.count(_URL_TOKEN) for c in canonical), dtype=np.int64, count=n)
    return canonical, han, letters - han


def script_profile(canonical: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Per canonical text: (Chinese characters, other letters), not counting the URL token.

    The model learnt Chinese; a text written mostly in another script (English, Mongolian,
    Tibetan) gives it nothing to go on, and the pipeline lets only rules judge it.
    """
    n = len(canonical)
    if not n:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    cleaned = [t.replace(_URL_TOKEN, "").replace("\0", "") for t in canonical]
    cps = codepoints("\0".join(cleaned))
    tables = _TABLES.get()
    owner = np.repeat(np.arange(n), np.fromiter((len(t) + 1 for t in cleaned), dtype=np.int64, count=n))
    owner = owner[: len(cps)]
    han = np.bincount(owner, weights=tables.han[cps], minlength=n).astype(np.int64)
    letters = np.bincount(owner, weights=tables.letter[cps], minlength=n).astype(np.int64)
    return han, letters - han


def _x_masks(cps: np.ndarray, digit: np.ndarray, latin: np.ndarray) -> np.ndarray:
    """Runs of digits and `x` that contain an `x` and touch no other Latin letter: SMS masks."""
    is_x = cps == _X
    run = digit | is_x
    n = len(cps)
    starts = np.flatnonzero(run & ~np.concatenate(([False], run[:-1])))
    stops = np.flatnonzero(run & ~np.concatenate((run[1:], [False]))) + 1
    has_x = np.add.reduceat(is_x, starts) > 0 if len(starts) else np.zeros(0, dtype=bool)
    other = latin & ~is_x
    left_ok = (starts == 0) | ~other[np.maximum(starts - 1, 0)]
    right_ok = (stops == n) | ~other[np.minimum(stops, n - 1)]
    chosen = has_x & left_ok & right_ok
    mask = np.zeros(n, dtype=bool)
    if chosen.any():
        marks = np.zeros(n + 1, dtype=np.int64)
        np.add.at(marks, starts[chosen], 1)
        np.add.at(marks, stops[chosen], -1)
        mask = np.cumsum(marks[:n]) > 0
    return mask & is_x


def tokenize(canonical_text: str) -> list[str]:
    """Words of canonical text (module-level so that estimators holding it can be pickled)."""
    return rjieba.cut(canonical_text)


def segment_batch(canonical: Sequence[str]) -> list[str]:
    """Words of a whole batch in one segmenter call: documents joined by newlines (which canonical
    text never contains, and which jieba always cuts as a token of their own)."""
    return rjieba.cut("\n".join(canonical))


def reference_tokenize(canonical_text: str) -> list[str]:
    """The same cut through the reference jieba (slow; for checks and the naive benchmark)."""
    import jieba

    return jieba.lcut(canonical_text)


_BASE = np.uint64(0x100000001B3)  # FNV prime: odd, so invertible modulo 2**64
_BASE_INV = np.uint64(pow(0x100000001B3, -1, 1 << 64))
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: spreads polynomial hashes evenly over the buckets (in place)."""
    h ^= h >> np.uint64(30)
    h *= np.uint64(0xBF58476D1CE4E5B9)
    h ^= h >> np.uint64(27)
    h *= np.uint64(0x94D049BB133111EB)
    h ^= h >> np.uint64(31)
    return h


class _Powers:
    """BASE**k and BASE**-k modulo 2**64 for k < n, grown on demand and shared."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # One tuple, replaced whole: a thread reading it never sees a grown `up` with the old `down`.
        self._tables = (np.ones(1, dtype=np.uint64), np.ones(1, dtype=np.uint64))

    def get(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        tables = self._tables
        if len(tables[0]) >= n:
            return tables
        with self._lock:
            if len(self._tables[0]) >= n:
                return self._tables
            size = max(n, 2 * len(self._tables[0]), 1 << 16)
            with np.errstate(over="ignore"):
                up = np.empty(size, dtype=np.uint64)
                up[0] = 1
                up[1:] = np.cumprod(np.full(size - 1, _BASE, dtype=np.uint64), dtype=np.uint64)
                down = np.empty(size, dtype=np.uint64)
                down[0] = 1
                down[1:] = np.cumprod(np.full(size - 1, _BASE_INV, dtype=np.uint64), dtype=np.uint64)
            self._tables = (up, down)
        return up, down


_POWERS = _Powers()


_NEWLINE = ord("\n")


def _token_bounds(cps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end of each NUL-separated token in the code points."""
    ends = np.append(np.flatnonzero(cps == 0), len(cps))
    starts = np.empty_like(ends)
    starts[0] = 0
    starts[1:] = ends[:-1] + 1
    return starts, ends


def _span_hashes(cps: np.ndarray, starts: np.ndarray, ends: np.ndarray, salt: int) -> np.ndarray:
    """Hash of every substring [start, end) of the code points, O(1) each, position-independent."""
    n = len(cps)
    up, down = _POWERS.get(n + 1)
    with np.errstate(over="ignore"):
        prefix = np.zeros(n + 1, dtype=np.uint64)
        np.cumsum((cps.astype(np.uint64) + np.uint64(1)) * up[:n], dtype=np.uint64, out=prefix[1:])
        h = (prefix[ends] - prefix[starts]) * down[starts]
        h += (ends - starts).astype(np.uint64) * _GOLDEN
        h ^= np.uint64(salt)
        return _mix(h)


# 1 + log(count) for the counts a post has; a table lookup is cheaper than the logarithm.
_SUBLINEAR = np.concatenate(([0.0], 1.0 + np.log(np.arange(1, 1 << 16, dtype=np.float64))))


class HashingFeaturizer:
    """Canonical texts → sparse TF-IDF rows over hashed words (first block) and character n-grams.

    Follows scikit-learn conventions: `__init__` only stores parameters, `fit` learns the IDF and
    returns self, fitted attributes end in `_`. `fit` may also be given `keep` (the buckets a
    pruned model uses); then columns are renumbered to those buckets only, which is what a saved
    model stores.
    """

    def __init__(
        self,
        word_bits: int = 18,
        char_bits: int = 20,
        char_ngrams: tuple[int, int] = (1, 4),
        min_df: int = 2,
    ) -> None:
        self.word_bits = word_bits
        self.char_bits = char_bits
        self.char_ngrams = char_ngrams
        self.min_df = min_df

    @property
    def n_buckets(self) -> int:
        return (1 << self.word_bits) + (1 << self.char_bits)

    @property
    def word_buckets(self) -> int:
        return 1 << self.word_bits

    def occurrences(
        self,
        canonical: Sequence[str],
        words: Sequence[Sequence[str]] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """(document, bucket) of every word and character n-gram occurrence in the batch.

        Words come from `words` (per document), else from cutting the whole batch here.
        """
        rows, cols, _ = self._occurrences(canonical, words)
        return rows, cols

    def _occurrences(
        self,
        canonical: Sequence[str],
        words: Sequence[Sequence[str]] | None,
        part_at: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray] | None]:
        """`occurrences`, and given `part_at` (the part of every position of the documents joined
        by one separator, -1 outside parts; words must be cut here) also (part, bucket) of the
        occurrences that lie wholly inside one part, with a mask of which document occurrences
        those are. That is None where the segmenter's words did not cover the text exactly, so
        their positions cannot be trusted."""
        n_docs = len(canonical)
        word_mask = np.uint64((1 << self.word_bits) - 1)
        char_mask = np.uint64((1 << self.char_bits) - 1)
        rows: list[np.ndarray] = []
        cols: list[np.ndarray] = []
        part_rows: list[np.ndarray] = []
        part_cols: list[np.ndarray] = []
        in_parts: list[np.ndarray] = []
        parts_ok = part_at is not None and words is None

        # Words: every token of the batch joined by NUL (canonical text never contains NUL).
        if words is None:
            flat = segment_batch(canonical)
            if flat:
                cps = codepoints("\0".join(flat))
                starts, ends = _token_bounds(cps)
                separator = (ends - starts == 1) & (cps[starts] == _NEWLINE)
                owners = np.cumsum(separator, dtype=np.int32)
                real = ~separator
                h = _span_hashes(cps, starts[real], ends[real], salt=0x5EED0001)
                rows.append(owners[real])
                cols.append((h & word_mask).astype(np.int64))
                if part_at is not None:
                    # Where each token sits in the newline-joined batch: the segmenter returns
                    # every character once, in order, which is checked rather than assumed.
                    stop = np.cumsum(ends - starts)
                    parts_ok = parts_ok and len(part_at) == int(stop[-1]) + 1
                    if parts_ok:
                        stop = stop[real]
                        begin = stop - (ends - starts)[real]
                        first = part_at[begin]
                        within = (first >= 0) & (first == part_at[stop - 1])
                        inside = np.flatnonzero(within)
                        part_rows.append(first[inside])
                        part_cols.append(cols[-1][inside])
                        in_parts.append(within)
        else:
            counts = np.fromiter((len(ws) for ws in words), dtype=np.int64, count=n_docs)
            if counts.sum():
                cps = codepoints("\0".join(["\0".join(ws) for ws in words if ws]))
                starts, ends = _token_bounds(cps)
                h = _span_hashes(cps, starts, ends, salt=0x5EED0001)
                rows.append(np.repeat(np.arange(n_docs, dtype=np.int32), counts))
                cols.append((h & word_mask).astype(np.int64))

        # Character n-grams over all documents joined by NUL, hashed incrementally (an n-gram's
        # hash extends its (n-1)-gram's); n-grams that would cross a document are dropped.
        doc_lengths = np.fromiter((len(t) for t in canonical), dtype=np.int64, count=n_docs)
        if doc_lengths.sum():
            cps = codepoints("\0".join(canonical)).astype(np.uint64) + np.uint64(1)
            total = len(cps)
            owner = np.repeat(np.arange(n_docs, dtype=np.int32), doc_lengths + 1)[:total]
            # Distance from each position to the end of its document.
            doc_stop = np.cumsum(doc_lengths + 1) - 1
            room = doc_stop[owner] - np.arange(total, dtype=np.int64)
            lo, hi = self.char_ngrams
            rolling = np.zeros(total, dtype=np.uint64)
            word_buckets = np.int64(1 << self.word_bits)
            sentinel = self.n_buckets
            in_part = part_at[:total] >= 0 if parts_ok and part_at is not None else None
            with np.errstate(over="ignore"):
                for n in range(1, hi + 1):
                    valid = total - n + 1
                    if valid <= 0:
                        break
                    rolling = rolling[:valid] * _BASE + cps[n - 1 : n - 1 + valid]
                    if n < lo:
                        continue
                    h = _mix(rolling ^ np.uint64(0x5EED0100 + n))
                    bucket = (h & char_mask).astype(np.int64)
                    bucket += word_buckets
                    # n-grams that cross into the next document go to the never-used bucket.
                    bucket[room[:valid] < n] = sentinel
                    rows.append(owner[:valid])
                    cols.append(bucket)
                    if in_part is not None and part_at is not None:
                        # Inside one part: it starts and ends in the same one (parts are runs).
                        within = (part_at[:valid] == part_at[n - 1 : n - 1 + valid]) & in_part[:valid]
                        inside = np.flatnonzero(within)
                        part_rows.append(part_at[inside])
                        part_cols.append(bucket[inside])
                        in_parts.append(within)

        located = None
        if parts_ok:
            empty = np.zeros(0, dtype=np.int64)
            located = (
                np.concatenate(part_rows) if part_rows else empty,
                np.concatenate(part_cols) if part_cols else empty,
                np.concatenate(in_parts) if in_parts else np.zeros(0, dtype=bool),
            )
        if not rows:
            return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int64), located
        return np.concatenate(rows), np.concatenate(cols), located

    def counts(self, canonical: Sequence[str], words: Sequence[Sequence[str]] | None = None) -> sp.csr_matrix:
        """Raw counts over all buckets (n_docs × n_buckets)."""
        rows, cols = self.occurrences(canonical, words)
        real = cols < self.n_buckets
        return _unique_csr(rows[real], cols[real], len(canonical), self.n_buckets)

    def fit(
        self,
        canonical: Sequence[str],
        y: Any = None,
        words: Sequence[Sequence[str]] | None = None,
        keep: np.ndarray | None = None,
    ) -> HashingFeaturizer:
        counts = self.counts(canonical, words)
        df = np.bincount(counts.indices, minlength=self.n_buckets).astype(np.float64)
        idf = np.log((1.0 + counts.shape[0]) / (1.0 + df)) + 1.0
        # Buckets seen in fewer than min_df documents carry no weight: one-off strings are noise
        # and would only make the stored model bigger.
        idf[df < self.min_df] = 0.0
        self.set_buckets(np.flatnonzero(idf > 0) if keep is None else np.asarray(keep), idf)
        return self

    def set_buckets(self, buckets: np.ndarray, idf_all_or_kept: np.ndarray) -> None:
        """Use only `buckets` (sorted bucket ids) as columns, with their IDF."""
        buckets = np.asarray(buckets, dtype=np.int64)
        idf_kept = idf_all_or_kept[buckets] if len(idf_all_or_kept) == self.n_buckets else idf_all_or_kept
        self.buckets_ = buckets
        self.idf_ = np.asarray(idf_kept, dtype=np.float32)
        # Buckets outside the model map to len(buckets): a sentinel column transform drops. The
        # extra last slot is the bucket of n-grams that would cross two documents.
        lookup = np.full(self.n_buckets + 1, len(buckets), dtype=np.int32)
        lookup[buckets] = np.arange(len(buckets), dtype=np.int32)
        self.column_of_bucket_ = lookup
        self.n_word_columns_ = int(np.searchsorted(buckets, self.word_buckets))

    @property
    def n_features(self) -> int:
        return len(self.buckets_)

    def transform(
        self,
        canonical: Sequence[str],
        words: Sequence[Sequence[str]] | None = None,
    ) -> sp.csr_matrix:
        rows, cols = self.occurrences(canonical, words)
        return self._weigh(rows, self.column_of_bucket_[cols], len(canonical))

    def transform_with_parts(
        self, canonical: Sequence[str], parts: Sequence[Sequence[str]]
    ) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """`transform` of the documents and of their parts (the canonical texts of each
        document's passages, in order; empty for a document without), sharing the work.

        A document whose parts join up to exactly its own canonical text (nearly all: canonical
        text drops the whitespace between passages) has its parts' occurrences taken from its own,
        those that lie wholly inside one part: the batch is cut and hashed once. A word the
        segmenter ran across two parts counts for the document but for neither part. Other
        documents' parts are featurised on their own. Rows of the second matrix follow the
        parts in order.
        """
        n_docs = len(canonical)
        counts = np.fromiter((len(p) for p in parts), dtype=np.int64, count=n_docs)
        first_part = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)
        n_parts = int(counts.sum())
        shared = [bool(counts[i]) and "".join(parts[i]) == canonical[i] for i in range(n_docs)]
        # The part of every position of the documents joined by one separator: runs of part
        # numbers for shared documents, -1 for separators and the other documents.
        ids: list[int] = []
        lengths: list[int] = []
        for i, text in enumerate(canonical):
            if shared[i]:
                ids.extend(range(first_part[i], first_part[i] + counts[i]))
                lengths.extend(len(p) for p in parts[i])
            else:
                ids.append(-1)
                lengths.append(len(text))
            ids.append(-1)
            lengths.append(1)
        part_at = np.repeat(np.asarray(ids, dtype=np.int64), lengths)
        rows, cols, located = self._occurrences(canonical, None, part_at)
        lookup = self.column_of_bucket_
        part_rows: list[np.ndarray] = []
        part_buckets: list[np.ndarray] = []
        if located is None:
            shared = [False] * n_docs  # positions untrustworthy: featurise every part alone
        else:
            part_rows.append(located[0])
            part_buckets.append(located[1])
        alone = [i for i in range(n_docs) if counts[i] and not shared[i]]
        if alone:
            texts = [p for i in alone for p in parts[i]]
            r, c = self.occurrences(texts)
            global_row = np.concatenate([np.arange(first_part[i], first_part[i] + counts[i]) for i in alone])
            part_rows.append(global_row[r])
            part_buckets.append(c)
        empty = np.zeros(0, dtype=np.int64)
        part_counts = self._count(
            np.concatenate(part_rows) if part_rows else empty,
            lookup[np.concatenate(part_buckets)] if part_buckets else empty.astype(np.int32),
            n_parts,
        )
        if located is None:
            doc_counts = self._count(rows, lookup[cols], n_docs)
        else:
            # A shared document's counts are the sum of its parts' counts (a sparse product,
            # which needs no sort) plus the few occurrences that lie in no single part: words and
            # n-grams across a part boundary, and every occurrence of the other documents.
            shared_docs = [i for i in range(n_docs) if shared[i]]
            owner = np.repeat(np.asarray(shared_docs, dtype=np.int64), counts[shared_docs])
            part = (
                np.concatenate([np.arange(first_part[i], first_part[i] + counts[i]) for i in shared_docs])
                if shared_docs
                else empty
            )
            of_doc = sp.csr_matrix(
                (np.ones(len(owner), dtype=np.float32), (owner, part)), shape=(n_docs, n_parts)
            )
            summed = of_doc @ part_counts
            summed.sort_indices()
            outside = ~located[2]
            doc_counts = summed + self._count(rows[outside], lookup[cols[outside]], n_docs)
        return self._weigh_counts(doc_counts), self._weigh_counts(part_counts)

    def _weigh(self, rows: np.ndarray, columns: np.ndarray, n_docs: int) -> sp.csr_matrix:
        """Sub-linear TF × IDF rows, L2-normalised per block, from (document, column) occurrences."""
        return self._weigh_counts(self._count(rows, columns, n_docs))

    def _count(self, rows: np.ndarray, columns: np.ndarray, n_docs: int) -> sp.csr_matrix:
        """How often each document has each column, as a canonical CSR matrix (float32 counts).

        Columns the model does not use (the sentinel n_features) are dropped first: about half
        of all occurrences, and sorting is what counting costs. (document, column) pairs are
        counted by sorting one integer key, much faster than letting scipy sort each row (int32
        when it fits: it sorts twice as fast). The column takes the key's low bits, so splitting
        a key is a mask and a shift; word columns all precede character columns, so the sorted
        keys are already in CSR order.
        """
        n_cols = self.n_features
        used = columns < n_cols
        rows, columns = rows[used], columns[used]
        shift = max(n_cols - 1, 1).bit_length()  # 2**shift > every column used
        if n_docs << shift < 2**31:
            key = (rows.astype(np.int32) << np.int32(shift)) | columns.astype(np.int32, copy=False)
        else:
            key = (rows.astype(np.int64) << np.int64(shift)) | columns.astype(np.int64)
        key.sort()
        if len(key):
            flag = np.empty(len(key), dtype=bool)
            flag[0] = True
            np.not_equal(key[1:], key[:-1], out=flag[1:])
            starts = np.flatnonzero(flag)
            unique = key[starts]
            count = np.diff(starts, append=len(key))
        else:
            unique = key
            count = np.zeros(0, dtype=np.int64)
        col = (unique & ((1 << shift) - 1)).astype(np.int32, copy=False)
        indptr = np.zeros(n_docs + 1, dtype=np.int64)
        np.cumsum(np.bincount(unique >> shift, minlength=n_docs), out=indptr[1:])
        return sp.csr_matrix((count.astype(np.float32), col, indptr), shape=(n_docs, n_cols))

    def _weigh_counts(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        """Sub-linear TF × IDF of canonical counts, L2-normalised per document and block."""
        n_docs = counts.shape[0]
        col = counts.indices
        row = np.repeat(np.arange(n_docs, dtype=np.int64), np.diff(counts.indptr))
        count = counts.data.astype(np.int64)
        data = _SUBLINEAR[np.minimum(count, len(_SUBLINEAR) - 1)] * self.idf_[col]
        # L2 norm per document and block (words, characters), so neither block drowns the other.
        row_block = row * 2 + (col >= self.n_word_columns_)
        norms = np.sqrt(np.bincount(row_block, weights=data * data, minlength=2 * n_docs))
        norms[norms == 0] = 1.0
        data = (data / norms[row_block]).astype(np.float32)
        indptr = counts.indptr.copy()
        return sp.csr_matrix((data, col.astype(np.int32, copy=False), indptr), shape=counts.shape)

    def fit_transform(
        self,
        canonical: Sequence[str],
        y: Any = None,
        words: Sequence[Sequence[str]] | None = None,
    ) -> sp.csr_matrix:
        return self.fit(canonical, words=words).transform(canonical, words)


def _unique_csr(rows: np.ndarray, cols: np.ndarray, n_rows: int, n_cols: int) -> sp.csr_matrix:
    matrix = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(n_rows, n_cols))
    matrix.sum_duplicates()
    return matrix


def iter_batches(items: Iterable[Any], size: int) -> Iterable[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
