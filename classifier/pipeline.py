"""Rules and model together: text in, findings out.

How they combine, per category the model knows (marketing, unverified, harmful):
- rule evidence at or above the rule set's flag threshold flags on its own (an SEO spam block,
  an order-by-WeChat line, a valid ID number need no model);
- a model probability at or above the category's threshold flags on its own (what no rule names);
  the model scores the whole post and each of its passages (classifier/passages.py), and a
  passage at or above the category's passage threshold flags too, with that passage as evidence;
- weaker rule cues flag together with a moderately confident model (noisy-OR at or above `joint`).
The score is the noisy-OR of both. Privacy and expression come from rules only.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import threading
import weakref
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import chain
from typing import Any

import numpy as np

from classifier.features import canonicalize_many, canonicalize_with_scripts, iter_batches
from classifier.findings import Finding, Span
from classifier.model import TextModel
from classifier.normalize import Normalized, normalize_many
from classifier.passages import split_passages
from classifier.rules import RuleError, RuleResult, RuleSet

__all__ = ["DEFAULT_THRESHOLDS", "Classifier", "ClassifierWorkerError", "Item", "default_processes"]

Item = str | tuple[str, str | None] | Mapping[str, Any]

MODEL_CATEGORIES = ("marketing", "unverified", "harmful")
DEFAULT_THRESHOLDS = {
    "marketing": 0.5,
    "unverified": 0.5,
    "harmful": 0.5,
    "joint": 0.6,
    # Posts with passages (classifier/passages.py) may have their own `long_<category>` and
    # `long_joint` thresholds; where a model has none, the ones above apply. A model without
    # tuned passage thresholds does not score passages alone.
    "passage_marketing": 1.01,
    "passage_unverified": 1.01,
    "passage_harmful": 1.01,
}
# The model reads at most this many (normalised) characters of a post: enough for any real
# post, and it bounds the time a pasted 1 MB page takes. Rules always read everything.
MODEL_CHAR_LIMIT = 20_000
# A passage judged alone has lost its post's framing: the anti-fraud warning that quotes a scam
# script, the debunking post that quotes the rumour. Where the rules find such a framing in the
# post (a context whose factor is at most this), passage probabilities are lowered by its factor.
# Milder contexts (an official notice) do not: a tutoring advert at the end of an exam notice is
# exactly what passages are scored to find.
FRAMING_CONTEXT_FACTOR = 0.25
MAX_SPANS = 20
# Model threads: the model costs about twice the rules per post, so two threads keep two cores
# busy while this thread runs the rules (measured by `make bench`). Used where classification
# stays in one process (one CPU, or a call of a single batch).
MODEL_WORKERS = 2
# Where a call brings more than one batch and the machine has more than one CPU, batches go to
# worker processes instead: the rules are pure Python, so threads share one interpreter lock and
# two cores reach about 1.5 cores of work; processes reach nearly two (`make bench`).
PROCESSES_ENV = "GOVWATCH_CLASSIFIER_PROCESSES"
# Batches handed to the workers ahead of the one being read back, per worker: enough to keep
# them busy, few enough that a long stream of posts is never all in memory.
AHEAD_PER_PROCESS = 2
MAX_SENTENCES = 64
MIN_CHINESE = 20
SOURCE_LIMIT = 100
_SENTENCE = re.compile(r"[^\n。！？!?；;]+[\n。！？!?；;]*")


@lru_cache(maxsize=1)
def _model_workers() -> ThreadPoolExecutor:
    """Threads that run the model on the batches ahead while the calling thread runs the rules."""
    return ThreadPoolExecutor(max_workers=MODEL_WORKERS, thread_name_prefix="classifier-model")


def default_processes() -> int:
    """Worker processes for multi-batch calls: $GOVWATCH_CLASSIFIER_PROCESSES, else the CPUs this
    process may run on. 1 keeps everything in the calling process."""
    value = os.environ.get(PROCESSES_ENV, "").strip()
    if value:
        try:
            return max(1, int(value))
        except ValueError:
            raise ValueError(f"{PROCESSES_ENV} must be a whole number, not {value!r}") from None
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class ClassifierWorkerError(RuntimeError):
    """A classifier worker process could not start or died; the batch it held has no result."""


@dataclass(slots=True)
class _Doc:
    text: Normalized
    title: Normalized | None
    combined: str
    text_offset: int  # where the text starts in `combined` (after the title and a newline)
    # The post's outbound links ({"href", "text"}) and date: evidence and context for the rules.
    links: Sequence[Mapping[str, Any]] = ()
    published: Any = None
    # Passage offsets in `combined`; empty for a one-passage post.
    passages: list[tuple[int, int]] = field(default_factory=list)


@dataclass(slots=True)
class _Scores:
    """The model's view of one batch: post probabilities and, per post, its best passages."""

    proba: np.ndarray  # (posts, classes)
    passage_proba: np.ndarray  # (posts, classes): each class's highest passage probability
    passage_best: np.ndarray  # (posts, classes): index of that passage in the post (-1: none)


class Classifier:
    """Classifies texts with one model version and one rule set; safe to share between threads."""

    def __init__(
        self, model: TextModel, rules: RuleSet, *, batch_size: int = 256, processes: int | None = None
    ) -> None:
        self.model = model
        self.rules = rules
        self.batch_size = batch_size
        # Worker processes for calls of more than one batch (see default_processes); started on
        # the first such call and kept until this classifier is closed or collected.
        self.processes = default_processes() if processes is None else max(1, processes)
        self.thresholds = {**DEFAULT_THRESHOLDS, **model.thresholds}
        self._class_index = {c: model.class_index(c) for c in MODEL_CATEGORIES if c in model.classes}
        self._pool: ProcessPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    @property
    def model_version(self) -> str:
        return self.model.version

    @property
    def rules_version(self) -> str:
        return self.rules.version

    def classify(
        self,
        text: str,
        title: str | None = None,
        *,
        links: Sequence[Mapping[str, Any]] | None = None,
        published: Any = None,
    ) -> list[Finding]:
        """Findings for one text, highest score first; an empty list when nothing is flagged.

        `links` are the post's outbound links ({"href": ..., "text": anchor text}); `published`
        its date (a date, datetime or ISO string), which date-dependent rules judge against.
        """
        return self.classify_many([{"text": text, "title": title, "links": links, "published": published}])[0]

    def classify_many(self, items: Iterable[Item]) -> list[list[Finding]]:
        """Findings for each item: a text, a (text, title) pair, or a mapping with text, title,
        links and published (see classify)."""
        return list(self.iter_classify(items))

    def iter_classify(self, items: Iterable[Item]) -> Iterator[list[Finding]]:
        batches = iter(iter_batches(items, self.batch_size))
        first = next(batches, None)
        if first is None:
            return
        second = next(batches, None)
        if second is None:
            yield from self._iter_in_process([first])
        elif self.processes > 1:
            yield from self._iter_in_workers(chain([first, second], batches))
        else:
            yield from self._iter_in_process(chain([first, second], batches))

    def close(self) -> None:
        """Stop the worker processes, if any were started (a later call starts new ones)."""
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> Classifier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __getstate__(self) -> dict[str, Any]:
        raise TypeError("a Classifier is not pickled: worker processes load the rules themselves")

    def _iter_in_workers(self, batches: Iterable[list[Item]]) -> Iterator[list[Finding]]:
        """Batches classified by the worker processes, results in the order of the input."""
        pool = self._worker_pool()
        ahead: deque[Future[list[list[Finding]]]] = deque()
        try:
            for batch in batches:
                ahead.append(pool.submit(_classify_in_worker, [self._coerce(item) for item in batch]))
                if len(ahead) > AHEAD_PER_PROCESS * self.processes:
                    yield from ahead.popleft().result()
            while ahead:
                yield from ahead.popleft().result()
        except BrokenProcessPool as error:
            self.close()  # the next call starts a fresh pool
            raise ClassifierWorkerError(
                f"a classifier worker process died or could not start ({error}); "
                f"set {PROCESSES_ENV}=1 to classify in one process"
            ) from error
        finally:
            for future in ahead:
                future.cancel()

    def _worker_pool(self) -> ProcessPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                # forkserver, not fork: the caller may have threads (the scheduler, the model
                # threads), and a child forked while one of them holds a lock inherits it locked.
                context = multiprocessing.get_context("forkserver")
                context.set_forkserver_preload(["classifier"])
                self._pool = ProcessPoolExecutor(
                    max_workers=self.processes,
                    mp_context=context,
                    initializer=_start_worker,
                    initargs=(self.model, str(self.rules.directory), self.rules.version, self.batch_size),
                )
                weakref.finalize(self, self._pool.shutdown, wait=False, cancel_futures=True)
            return self._pool

    def _iter_in_process(self, batches: Iterable[list[Item]]) -> Iterator[list[Finding]]:
        # Stages overlap: while worker threads run the model on the batches ahead (segmentation
        # in rjieba and feature hashing in numpy, both of which release the GIL), this thread
        # runs the rules, which are pure Python, and builds the findings of the oldest batch.
        ahead: deque[tuple[list[_Doc], np.ndarray, Future[_Scores]]] = deque()
        for batch in batches:
            docs = self._prepare_many(batch)
            work = self._model_work(docs)
            scores = _model_workers().submit(self._model_scores, *work)
            ahead.append((docs, work[1], scores))
            if len(ahead) > MODEL_WORKERS:
                yield from self._finish_ahead(ahead.popleft())
        while ahead:
            yield from self._finish_ahead(ahead.popleft())

    def _classify_batch(self, batch: Sequence[Item]) -> list[list[Finding]]:
        """One batch start to end in this thread: what a worker process does."""
        docs = self._prepare_many(batch)
        work = self._model_work(docs)
        return self._finish_batch(docs, work[1], self._model_scores(*work), self._rule_results(docs))

    def _model_work(
        self, docs: list[_Doc]
    ) -> tuple[list[str], np.ndarray, list[str], np.ndarray, list[bool]]:
        """The arguments of _model_scores for a batch: canonical texts, which the model abstains
        on, the passages' texts, the post each passage belongs to, which posts are long."""
        canonical, abstain = self._model_input([d.combined for d in docs])
        passages = [d.combined[s:e] for d in docs for s, e in d.passages]
        owners = np.repeat(np.arange(len(docs)), [len(d.passages) for d in docs])
        return canonical, abstain, passages, owners, [bool(d.passages) for d in docs]

    # --- internals ----------------------------------------------------------------------------

    @staticmethod
    def _coerce(item: Item) -> tuple[str, str | None, Sequence[Mapping[str, Any]], Any]:
        """(text, title, links, published) of an item."""
        if isinstance(item, str):
            return item, None, (), None
        if isinstance(item, tuple):
            return item[0] or "", item[1], (), None
        return item.get("text") or "", item.get("title"), item.get("links") or (), item.get("published")

    def _prepare_many(self, items: Sequence[Item]) -> list[_Doc]:
        pairs = [self._coerce(item) for item in items]
        titles = [(i, title) for i, (_, title, _, _) in enumerate(pairs) if title and title.strip()]
        normalized = normalize_many([text for text, _, _, _ in pairs] + [title for _, title in titles])
        texts = normalized[: len(pairs)]
        docs = [
            _Doc(norm, None, norm.text, 0, links, published)
            for norm, (_, _, links, published) in zip(texts, pairs, strict=True)
        ]
        for (i, _), norm_title in zip(titles, normalized[len(pairs) :], strict=True):
            combined = norm_title.text + "\n" + texts[i].text
            docs[i] = _Doc(texts[i], norm_title, combined, len(norm_title.text) + 1, pairs[i][2], pairs[i][3])
        for doc in docs:
            doc.passages = split_passages(doc.combined[:MODEL_CHAR_LIMIT])
        return docs

    def _finish_ahead(self, batch: tuple[list[_Doc], np.ndarray, Future[_Scores]]) -> list[list[Finding]]:
        """Rules and findings of a batch whose model scores a model thread computes."""
        docs, abstain, model_result = batch
        rule_results = self._rule_results(docs)
        return self._finish_batch(docs, abstain, model_result.result(), rule_results)

    def _rule_results(self, docs: list[_Doc]) -> list[RuleResult]:
        return [self.rules.evaluate(d.combined, links=d.links or None, published=d.published) for d in docs]

    def _finish_batch(
        self,
        docs: list[_Doc],
        abstain: np.ndarray,
        scores: _Scores,
        rule_results: list[RuleResult],
    ) -> list[list[Finding]]:
        pending: list[tuple[int, str]] = []
        partial: list[list[tuple[str, float, dict[str, Any], list[Span]]]] = []
        for i, (doc, rules) in enumerate(zip(docs, rule_results, strict=True)):
            found = self._combine(
                doc, rules, scores.proba[i], bool(abstain[i]), scores.passage_proba[i], scores.passage_best[i]
            )
            partial.append(found)
            # Model findings without rule evidence get the sentence the model leans on most;
            # where rules already point at the evidence, that extra pass is not needed.
            pending.extend(
                (i, category)
                for category, _, detail, spans in found
                if detail.get("model_fired") and not spans
            )
        if pending:
            self._add_model_evidence(docs, partial, pending)
        results: list[list[Finding]] = []
        for found in partial:
            findings = [
                Finding(
                    category=category,
                    score=round(float(score), 4),
                    spans=tuple(spans),
                    source=_source(detail),
                    model_version=self.model_version,
                    rules_version=self.rules_version,
                    detail=detail,
                )
                for category, score, detail, spans in found
            ]
            findings.sort(key=lambda f: -f.score)
            results.append(findings)
        return results

    @staticmethod
    def _model_input(texts: list[str]) -> tuple[list[str], np.ndarray]:
        """Canonical texts for the model, and which of them it abstains on."""
        canonical, han, other = canonicalize_with_scripts(
            [t if len(t) <= MODEL_CHAR_LIMIT else t[:MODEL_CHAR_LIMIT] for t in texts]
        )
        # Other letters outnumber Chinese characters two to one in a short text: English,
        # Mongolian or Tibetan, which the model never learnt. Its guess would be noise.
        return canonical, (other > 2 * han) & (han < MIN_CHINESE)

    def _model_probabilities(
        self, canonical: list[str], abstain: np.ndarray, model: TextModel | None = None
    ) -> np.ndarray:
        model = model or self.model
        return self._abstained(model.predict_proba(model.transform(canonical)), abstain, model)

    @staticmethod
    def _abstained(proba: np.ndarray, abstain: np.ndarray, model: TextModel) -> np.ndarray:
        """`proba` with the rows the model abstains on set to certainly legitimate."""
        if abstain.any():
            proba[abstain] = 0.0
            proba[abstain, model.class_index("ok")] = 1.0
        return proba

    def _model_scores(
        self,
        canonical: list[str],
        abstain: np.ndarray,
        passages: list[str],
        owners: np.ndarray,
        is_long: Sequence[bool],
    ) -> _Scores:
        """Post probabilities (short posts by the model, long ones, which are those with passages,
        by its long-post model) and each post's strongest passage per class."""
        long_model = self.model.for_long_posts
        proba = np.zeros((len(canonical), len(self.model.classes)))
        long_rows = np.asarray(is_long, dtype=bool)
        short_rows = ~long_rows
        if short_rows.any():
            picked = [canonical[i] for i in np.flatnonzero(short_rows)]
            proba[short_rows] = self._model_probabilities(picked, abstain[short_rows])
        passage_proba = np.zeros_like(proba)
        passage_best = np.full(proba.shape, -1, dtype=np.int64)
        if long_rows.any():
            # A long post and its passages are featurised together: passages are its parts, so
            # the post's text is cut into words and hashed once for both (see transform_with_parts).
            p_canonical, p_abstain = self._model_input(passages)
            long_index = np.flatnonzero(long_rows)
            bounds = np.concatenate(([0], np.cumsum(np.bincount(owners, minlength=len(canonical)))))
            x_posts, x_passages = long_model.featurizer.transform_with_parts(
                [canonical[i] for i in long_index],
                [p_canonical[bounds[i] : bounds[i + 1]] for i in long_index],
            )
            post_proba = long_model.predict_proba(x_posts)
            proba[long_rows] = self._abstained(post_proba, abstain[long_rows], long_model)
            if passages:
                p_proba = long_model.predict_proba(x_passages)
                p_proba = self._abstained(p_proba, p_abstain | abstain[owners], long_model)
                passage_proba, passage_best = best_passages(p_proba, owners, len(canonical))
        return _Scores(proba, passage_proba, passage_best)

    def _combine(
        self,
        doc: _Doc,
        rules: RuleResult,
        proba: np.ndarray,
        abstained: bool = False,
        passage_proba: np.ndarray | None = None,
        passage_best: np.ndarray | None = None,
    ) -> list[tuple[str, float, dict[str, Any], list[Span]]]:
        found: list[tuple[str, float, dict[str, Any], list[Span]]] = []
        flag = self.rules.flag_threshold
        # Long posts (with passages) have thresholds of their own: a formal multi-paragraph post
        # and a one-line message differ in how much a probability means.
        prefix = "long_" if doc.passages else ""
        joint = self.thresholds.get(prefix + "joint", self.thresholds["joint"])
        for category in ("marketing", "unverified", "harmful", "privacy", "expression"):
            evidence = rules.categories.get(category)
            r = evidence.score if evidence else 0.0
            index = self._class_index.get(category)
            p = float(proba[index]) if index is not None else 0.0
            q = float(passage_proba[index]) if index is not None and passage_proba is not None else 0.0
            q *= framing_factor(self.rules, rules.contexts, category)
            rule_fired = r >= flag
            passage_fired = index is not None and q >= self.thresholds[f"passage_{category}"]
            if passage_fired:
                p = max(p, q)
            model_fired = index is not None and (
                p >= self.thresholds.get(prefix + category, self.thresholds[category]) or passage_fired
            )
            combined = 1.0 - (1.0 - r) * (1.0 - p)
            joint_fired = index is not None and r > 0 and combined >= joint
            if not (rule_fired or model_fired or joint_fired):
                continue
            detail: dict[str, Any] = {}
            spans: list[Span] = []
            if evidence is not None:
                detail["rules"] = evidence.rule_ids
                detail["rule_score"] = round(r, 4)
                if evidence.contexts:
                    detail["contexts"] = evidence.contexts
                if evidence.compromised:
                    detail["compromised"] = True
                notes = sorted({h.note for h in evidence.hits if h.note and h.note != "compromised"})
                if notes:
                    detail["notes"] = notes
                spans = self._rule_spans(doc, evidence.hits)
            if index is not None:
                detail["model_probability"] = round(p, 4)
                detail["model_fired"] = bool(model_fired or (joint_fired and not rule_fired))
                if passage_fired and passage_best is not None:
                    start, end = doc.passages[int(passage_best[index])]
                    detail["passage_probability"] = round(q, 4)
                    span = self._span(doc, start, end, "model")
                    if span is not None:
                        spans = [*spans, span][: MAX_SPANS + 1]
                if abstained:
                    detail["model_abstained"] = "text is not mainly Chinese"
            found.append((category, combined if index is not None else r, detail, spans))
        return found

    def _rule_spans(self, doc: _Doc, hits: Iterable[Any]) -> list[Span]:
        seen: dict[tuple[int, int, str], Span] = {}
        for hit in sorted(hits, key=lambda h: (h.field, h.start, -h.weight)):
            span: Span | None
            if hit.field == "links":
                # Link evidence: [start, end) index the post's links; the text is what matched.
                span = Span(hit.start, hit.end, hit.note or "", hit.rule_id, "links")
            else:
                span = self._span(doc, hit.start, hit.end, hit.rule_id)
            if span is not None:
                seen.setdefault((span.start, span.end, span.field), span)
            if len(seen) >= MAX_SPANS:
                break
        return list(seen.values())

    @staticmethod
    def _span(doc: _Doc, start: int, end: int, source: str) -> Span | None:
        """Map [start, end) in the combined normalised text to the original title or text."""
        if doc.title is not None and start < doc.text_offset:
            title_len = len(doc.title.text)
            s, e = doc.title.to_original(start, min(end, title_len))
            return Span(s, e, doc.title.original[s:e], source, "title") if e > s else None
        s, e = doc.text.to_original(start - doc.text_offset, end - doc.text_offset)
        return Span(s, e, doc.text.original[s:e], source) if e > s else None

    def _add_model_evidence(
        self,
        docs: list[_Doc],
        partial: list[list[tuple[str, float, dict[str, Any], list[Span]]]],
        pending: list[tuple[int, str]],
    ) -> None:
        """For model findings, point at the sentence that pushes the model furthest that way.

        Sentences are ranked by the model's decision value computed from their character
        n-grams alone: the same weights, without running the word segmenter again on every
        sentence (which would cost as much as classifying the post a second time).
        """
        sentences: dict[int, list[tuple[int, int]]] = {}
        flat: list[str] = []
        for i in sorted({i for i, _ in pending}):
            spans: list[tuple[int, int]] = []
            for n, m in enumerate(_SENTENCE.finditer(docs[i].combined)):
                if n >= MAX_SENTENCES:
                    break
                if len(m.group().strip()) >= 2:
                    spans.append((m.start(), m.end()))
                    flat.append(m.group())
            sentences[i] = spans
        if not flat:
            return
        canonical = canonicalize_many(flat)
        chars_only = self.model.transform(canonical, [[] for _ in canonical])
        scores = self.model.decision_function(chars_only)
        if self.model.long is not None and any(docs[i].passages for i in sentences):
            # Sentences of long posts are ranked by the model that scored those posts.
            long_scores = self.model.long.decision_function(
                self.model.long.transform(canonical, [[] for _ in canonical])
            )
            owner_long = np.repeat(
                [bool(docs[i].passages) for i in sentences], [len(v) for v in sentences.values()]
            )
            scores[owner_long] = long_scores[owner_long]
        offsets: dict[int, int] = {}
        position = 0
        for i, spans in sentences.items():
            offsets[i] = position
            position += len(spans)
        for i, category in pending:
            spans_i = sentences.get(i) or []
            if not spans_i:
                continue
            column = self._class_index[category]
            first = offsets[i]
            best = int(np.argmax(scores[first : first + len(spans_i), column]))
            start, end = spans_i[best]
            text = docs[i].combined[start:end]
            end -= len(text) - len(text.rstrip())
            span = self._span(docs[i], start, end, "model")
            if span is None:
                continue
            key = (span.start, span.end, span.field)
            for k, (category_k, score, detail, found) in enumerate(partial[i]):
                if category_k == category and all((s.start, s.end, s.field) != key for s in found):
                    partial[i][k] = (category_k, score, detail, [*found, span][: MAX_SPANS + 1])


# --- worker processes ---------------------------------------------------------------------------

_worker_classifier: Classifier | None = None


def _start_worker(model: TextModel, rules_directory: str, rules_version: str, batch_size: int) -> None:
    """Worker initialiser: the parent's model (plain arrays, pickled) and the same rule files."""
    global _worker_classifier
    rules = RuleSet.load(rules_directory)
    if rules.version != rules_version:
        raise RuleError(
            f"the rules in {rules_directory} changed to {rules.version} while {rules_version} was in use"
        )
    _worker_classifier = Classifier(model, rules, batch_size=batch_size, processes=1)


def _classify_in_worker(
    batch: list[tuple[str, str | None, Sequence[Mapping[str, Any]], Any]],
) -> list[list[Finding]]:
    if _worker_classifier is None:
        raise ClassifierWorkerError("worker process was not initialised")
    return _worker_classifier._classify_batch(
        [
            {"text": text, "title": title, "links": links, "published": published}
            for text, title, links, published in batch
        ]
    )


def framing_factor(rules: RuleSet, present: Iterable[str], category: str) -> float:
    """The factor by which a post's framing contexts lower its passages' `category` probability."""
    factors = [
        rules.contexts[c].factor
        for c in present
        if c in rules.contexts
        and category in rules.contexts[c].categories
        and rules.contexts[c].factor <= FRAMING_CONTEXT_FACTOR
    ]
    return min(factors, default=1.0)


def best_passages(p_proba: np.ndarray, owners: np.ndarray, n_posts: int) -> tuple[np.ndarray, np.ndarray]:
    """Per post and class, the highest passage probability and that passage's index in the post.

    `p_proba` holds one row per passage, `owners` the post each belongs to (ascending)."""
    best = np.zeros((n_posts, p_proba.shape[1]))
    where = np.full((n_posts, p_proba.shape[1]), -1, dtype=np.int64)
    counts = np.bincount(owners, minlength=n_posts)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    for post in np.flatnonzero(counts):
        block = p_proba[starts[post] : starts[post] + counts[post]]
        where[post] = block.argmax(axis=0)
        best[post] = block.max(axis=0)
    return best, where


def _source(detail: dict[str, Any]) -> str:
    rules = list(detail.get("rules", []))
    parts = ",".join(rules)
    if detail.get("model_fired"):
        parts = f"{parts}+model" if parts else "model"
    if len(parts) > SOURCE_LIMIT:
        parts = parts[: SOURCE_LIMIT - 1] + "…"
    return parts
