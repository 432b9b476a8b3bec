"""The parsers on real captured pages (../shared/pages): every field of expected.jsonl, per family.

The conventions are those of ../shared/pages/README.md: text compared with all whitespace removed,
`body_starts` a prefix of the post's text, `body_contains` somewhere in it, times within a minute
(date only when the expected value is a date), lists scored on their items.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from crawler.parsing import PageResult, parse_page

pytestmark = pytest.mark.shared

GOAL = 0.95
# Capture time of the newest page (2026): relative dates and the "not in the future" check use it.
FETCHED = datetime(2026, 7, 1, tzinfo=UTC)
_SPACE = re.compile(r"\s+")
_INVISIBLE = re.compile(r"[\u200b\u200c\u200d\u2060\ufeff]")


def ws(text: str | None) -> str:
    return _SPACE.sub("", _INVISIBLE.sub("", text or ""))


def same_time(got: str | None, want: str) -> bool:
    if not got:
        return False
    if len(want) <= 10:
        return got[:10] == want
    try:
        delta = datetime.fromisoformat(got) - datetime.fromisoformat(want)
    except ValueError:
        return False
    return abs(delta.total_seconds()) <= 60


def family(entry: dict[str, Any]) -> str:
    """The page family a row belongs to: its folder and, for WeChat, the template/share kind."""
    folder, name = entry["file"].split("/", 1)
    return f"{folder}/{name.split('-', 1)[0]}"


def score_page(entry: dict[str, Any], result: PageResult) -> dict[str, bool]:
    """Each expected field that applies, and whether the parser got it right."""
    data = result.to_json()
    posts = data["posts"]
    checks: dict[str, bool] = {}
    if entry["status"] == "list":
        # A list reads as "ok" with its entries; an error or a notice is a miss.
        checks["status"] = data["status"] == "ok" and not data["error"]
        first = posts[0] if posts else {}
        if entry.get("n_items") is not None:
            checks["n_items"] = len(posts) == entry["n_items"]
        if entry.get("title") is not None:
            checks["title"] = ws(data.get("title")) == ws(entry["title"])
        if entry.get("account") is not None:
            checks["account"] = ws(data.get("account") or first.get("account")) == ws(entry["account"])
        if entry.get("published") is not None:
            checks["published"] = same_time(first.get("published_at"), entry["published"])
        if entry.get("body_starts") is not None:
            lead = first.get("title") or first.get("text")
            checks["body_starts"] = ws(lead).startswith(ws(entry["body_starts"]))
        if entry.get("body_contains") is not None:
            checks["body_contains"] = any(
                ws(entry["body_contains"]) in ws(post.get("title")) + "\n" + ws(post.get("text"))
                for post in posts
            )
        return checks
    checks["status"] = data["status"] == entry["status"]
    if entry["status"] != "ok":
        return checks
    post = posts[0] if len(posts) == 1 else {}
    checks["one_post"] = len(posts) == 1
    checks["title"] = ws(post.get("title")) == ws(entry["title"]) if entry["title"] else not post.get("title")
    if entry.get("account") is not None:
        checks["account"] = ws(post.get("account")) == ws(entry["account"])
    if entry.get("published") is not None:
        checks["published"] = same_time(post.get("published_at"), entry["published"])
    if entry.get("body_starts") is not None:
        checks["body_starts"] = ws(post.get("text")).startswith(ws(entry["body_starts"]))
    if entry.get("body_contains") is not None:
        checks["body_contains"] = ws(entry["body_contains"]) in ws(post.get("text"))
    return checks


def run_all(pages_dir: Path) -> tuple[dict[str, list[int]], list[str]]:
    """Per family [right, total], and the misses as file:field."""
    scores: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    misses: list[str] = []
    for line in (pages_dir / "expected.jsonl").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        entry = json.loads(line)
        body = (pages_dir / entry["file"]).read_bytes()
        # A neutral URL: the page kind must come from the content, never from the address.
        url = f"http://127.0.0.1:8000/{entry['file']}"
        result = parse_page(entry["kind"], url, body, None, fetched_at=FETCHED)
        for name, ok in score_page(entry, result).items():
            scores[family(entry)][0] += ok
            scores[family(entry)][1] += 1
            if not ok:
                misses.append(f"{entry['file']}:{name}")
    return scores, misses


@pytest.fixture(scope="module")
def pages_dir(shared_dir: Path) -> Path:
    from tests.conftest import unavailable

    pages = shared_dir / "pages"
    if not (pages / "expected.jsonl").exists():
        unavailable(f"{pages}/expected.jsonl is absent: the captured real pages live there")
    return pages


def test_real_pages_reach_the_goal(pages_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scores, misses = run_all(pages_dir)
    right = sum(r for r, _ in scores.values())
    total = sum(t for _, t in scores.values())
    with capsys.disabled():
        print(f"\nreal pages: {right}/{total} fields right ({right / total:.1%}, goal {GOAL:.0%})")
        for name, (r, t) in sorted(scores.items()):
            print(f"  {name:<22} {r:>3}/{t:<3} {r / t:.0%}")
        if misses:
            print("  misses: " + ", ".join(misses))
    assert total > 100  # every row was read and scored
    assert right / total >= GOAL, misses
