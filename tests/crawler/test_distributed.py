"""Two crawl processes sharing Redis crawl the sample site together: same result as one, nothing twice."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from pathlib import Path

import pytest
import redis
from sqlalchemy import select

from crawler.run import start_worker
from govwatch.context import crawl_config, upgrade_store
from govwatch.sample_site import SampleSite
from govwatch.settings import Settings
from store.crawl_runs import list_runs
from store.models import Account, Post
from tests.crawler.conftest import FAST, add_sample_accounts, crawl

pytestmark = pytest.mark.redis


def snapshot(store) -> set[tuple[str, str, str, str, int]]:
    with store() as session:
        rows = session.execute(
            select(Account.name, Post.source_key, Post.content_hash, Post.status, Post.version).join(
                Account, Account.id == Post.account_id
            )
        )
        return {tuple(row) for row in rows}


def test_two_processes_share_one_crawl(
    site: SampleSite, crawl_settings: Settings, store, redis_url: str, tmp_path: Path
) -> None:
    ids = add_sample_accounts(store, site)
    site.config.latency = 0.5  # a crawl long enough (~10 s) for both processes to take part
    prefix = f"govwatch-test:{uuid.uuid4().hex[:8]}"
    shared = crawl_settings.model_copy(update={"redis_url": redis_url})
    overrides = {**FAST, "CONCURRENT_REQUESTS_PER_DOMAIN": 1, "GOVWATCH_REDIS_PREFIX": prefix}
    logs = [(tmp_path / f"worker{i}.out", tmp_path / f"worker{i}.err") for i in range(2)]
    processes = []
    for out, err in logs:  # files, not pipes: a full pipe would stall a process that nobody reads yet
        with out.open("w") as stdout, err.open("w") as stderr:
            processes.append(
                start_worker(
                    crawl_config(shared),
                    list(ids.values()),
                    scrapy_settings=overrides,
                    stdout=stdout,
                    stderr=stderr,
                )
            )
    for process, (_, err) in zip(processes, logs, strict=True):
        assert process.wait(timeout=180) == 0, err.read_text()[-3000:]
    outputs = [(out.read_text(), err.read_text()) for out, err in logs]
    done = [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs]
    rounds = [
        next(json.loads(line)["round"] for line in out.splitlines() if '"round"' in line)
        for out, _ in outputs
    ]
    assert rounds[0] == rounds[1]  # both joined the same round
    pages = [event["pages"] for event in done]
    assert all(count > 0 for count in pages), pages  # both did part of the work
    distributed_requests = Counter({p: n for p, n in site.requests.items() if p != "/robots.txt"})
    together = snapshot(store)
    with store() as session:
        runs = list_runs(session=session, limit=100)
    assert len(runs) == len(ids) and {run.status for run in runs} == {"ok"}, [
        (r.status, r.error) for r in runs
    ]
    client = redis.Redis.from_url(redis_url)
    assert not list(client.scan_iter(f"{prefix}:active:*"))  # the round was retired

    # The same crawl by one process, into another database, against the same site state.
    site.requests.clear()
    site.config.latency = 0
    alone_settings = Settings(data_dir=tmp_path / "alone", database_url=f"sqlite:///{tmp_path / 'alone.db'}")
    alone_store = upgrade_store(alone_settings)
    alone_ids = add_sample_accounts(alone_store, site)
    crawl(alone_settings, list(alone_ids.values()))
    assert together == snapshot(alone_store)
    assert all(version == 1 for *_, version in together)
    standalone_requests = Counter({p: n for p, n in site.requests.items() if p != "/robots.txt"})
    # Every page was fetched once by one of the two processes: the shared dupefilter at work.
    assert distributed_requests == standalone_requests
    assert set(distributed_requests.values()) == {1}
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)
