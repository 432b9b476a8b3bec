"""`python -m govwatch.sample_site --port 8800`: serve the sample site in the foreground."""

from __future__ import annotations

import argparse

from govwatch.sample_site.server import SampleSite


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve govwatch's synthetic sample site.")
    parser.add_argument("--port", type=int, default=8800, help="port to listen on (0: any free port)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds to add to every page")
    args = parser.parse_args()
    site = SampleSite(args.host, args.port)
    site.config.latency = args.latency
    print(
        f"sample site at {site.url}  (POST {site.url}/_control/tick adds, edits and deletes posts)",
        flush=True,
    )
    try:
        site.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        site.server.server_close()


if __name__ == "__main__":
    main()
