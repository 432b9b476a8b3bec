"""A synthetic government-accounts site on 127.0.0.1 for tests, the demo and the benchmark.

It serves pages shaped like the real ones (WeChat articles and notices, Weibo's mobile JSON, TRS
and UCAP government sites in GBK, RSS/Atom/JSON feeds), the faults real sites have, and a control
endpoint (`POST /_control/tick`) that adds, edits and deletes posts between crawls.
"""

from __future__ import annotations

from govwatch.sample_site.server import SampleSite

__all__ = ["SampleSite", "start_sample_site"]

_running: list[SampleSite] = []


def start_sample_site(port: int = 0, host: str = "127.0.0.1") -> str:
    """Starts the site in a background (daemon) thread on a free port; returns its base URL."""
    site = SampleSite(host, port).start()
    _running.append(site)  # keep a reference so the server is not collected while in use
    return site.url
