"""What a crawl needs to know, handed down by its caller: the crawler reads no settings of its own."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class CrawlConfig:
    """The database to store into, the optional shared Redis, and the politeness limits."""

    database_url: str
    redis_url: str | None = None
    delay: float = 1.0  # seconds between two requests to one site
    concurrency_per_site: int = 1
    timeout: float = 30.0
    max_bytes: int = 10 * 1024 * 1024
    processes: int = 1

    def __post_init__(self) -> None:
        # A relative SQLite path would be read against whatever directory a worker starts in.
        from sqlalchemy.engine import make_url

        url = make_url(self.database_url)
        database = url.database or ""
        relative = not database.startswith("/") and ":" not in database[:3]
        if url.get_backend_name() == "sqlite" and database not in ("", ":memory:") and relative:
            raise ValueError(f"the crawl needs an absolute SQLite path, not {database!r}")

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> CrawlConfig:
        return cls(**json.loads(text))
