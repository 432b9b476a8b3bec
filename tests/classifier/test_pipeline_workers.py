"""Classification in worker processes: the same findings, in order, and clear errors."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from classifier import Classifier, RuleSet
from classifier.data import load_corpus
from classifier.pipeline import PROCESSES_ENV, ClassifierWorkerError, Item, default_processes


def _items() -> list[Item]:
    """Posts of every input shape: plain texts, (text, title) pairs, mappings with links and dates."""
    rows = load_corpus()[:60]
    items: list[Item] = []
    for n, row in enumerate(rows):
        if n % 3 == 0:
            items.append(row.text)
        elif n % 3 == 1:
            items.append((row.text, "关于开展专项整治的通知"))
        else:
            links = [{"href": "https://u.example.cn/abc", "text": "点击领取"}]
            items.append({"text": row.text, "links": links, "published": date(2026, 11, 2)})
    return items


def test_worker_processes_give_the_findings_of_one_process_in_order(shipped: Classifier) -> None:
    items = _items()
    in_process = Classifier(shipped.model, shipped.rules, batch_size=8, processes=1)
    expected = in_process.classify_many(items)
    assert in_process._pool is None
    with Classifier(shipped.model, shipped.rules, batch_size=8, processes=2) as workers:
        # A generator: the input is streamed to the workers, not read whole first.
        got = list(workers.iter_classify(item for item in items))
        assert workers._pool is not None, "more than one batch should go to the worker processes"
    assert len(got) == len(items)
    assert got == expected
    assert any(got), "the sample should have findings to compare"


def test_a_single_batch_stays_in_the_calling_process(shipped: Classifier) -> None:
    clf = Classifier(shipped.model, shipped.rules, batch_size=64, processes=2)
    assert clf.classify_many(_items()[:10]) == shipped.classify_many(_items()[:10])
    assert clf._pool is None


def test_a_worker_that_cannot_start_is_a_clear_error(shipped: Classifier, tmp_path: Path) -> None:
    # The rule files change on disk after this classifier loaded them: a worker would load other
    # rules than the model was checked against, so it refuses to start.
    directory = tmp_path / "rules"
    shutil.copytree(shipped.rules.directory, directory)
    rules = RuleSet.load(directory)
    with (directory / "marketing.tsv").open("a", encoding="utf-8") as handle:
        handle.write("mk.added_later\t0.3\t一个新加的词\n")
    clf = Classifier(shipped.model, rules, batch_size=4, processes=2)
    with pytest.raises(ClassifierWorkerError, match=PROCESSES_ENV):
        clf.classify_many(_items()[:12])
    assert clf._pool is None, "a broken pool is closed so that the next call starts afresh"
    clf.close()


def test_the_number_of_processes_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PROCESSES_ENV, "1")
    assert default_processes() == 1
    monkeypatch.setenv(PROCESSES_ENV, "0")
    assert default_processes() == 1
    monkeypatch.setenv(PROCESSES_ENV, "three")
    with pytest.raises(ValueError, match=PROCESSES_ENV):
        default_processes()
    monkeypatch.delenv(PROCESSES_ENV)
    assert default_processes() >= 1
