"""`govwatch crawl`: check a source URL, crawl accounts, see how their last crawls went."""

from __future__ import annotations

import json
import re
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from govwatch.context import crawl_config, open_store
from govwatch.output import clean_text, is_terminal, print_json, print_table
from govwatch.settings import get_settings
from store.errors import GovwatchError, InvalidInput

app = typer.Typer(
    help="Crawl accounts' sources: inspect one URL, run crawls, list their status.", no_args_is_help=True
)
console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)
KIND_CHOICES = ("auto", "feed", "wechat", "weibo", "govsite")


@app.command("inspect")
def inspect(
    url: str = typer.Argument(
        ..., help="The page to fetch: a feed, a WeChat article, a Weibo API page, a news list."
    ),
    kind: str = typer.Option(
        "auto", "--kind", help="auto|feed|wechat|weibo|govsite (auto: from the URL/content)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    options: str | None = typer.Option(
        None, "--options", help='Source options as JSON, e.g. \'{"list_selector": "ul.list li"}\'.'
    ),
    cookie: str | None = typer.Option(
        None, "--cookie", help="A Cookie header to send (Weibo needs a login)."
    ),
    timeout: float | None = typer.Option(
        None,
        "--timeout",
        min=0.1,
        max=600,
        help="Seconds the whole fetch may take, retries included, 0.1 to 600 (default: the crawl's).",
    ),
) -> None:
    """Fetch URL once and print what the adapter reads from it; nothing is stored.

    Only http(s) URLs are fetched; spaces, Chinese characters and IDN hosts are percent-encoded
    as the crawler does.
    """
    from crawler.inspect import inspect_url

    url = _fetchable_url(url)
    if kind not in KIND_CHOICES:
        raise typer.BadParameter(f"expected one of {', '.join(KIND_CHOICES)}", param_hint="--kind")
    parsed_options: dict[str, Any] = {}
    if options:
        try:
            parsed_options = json.loads(options)
        except json.JSONDecodeError as error:
            raise typer.BadParameter(f"not JSON: {error.msg}", param_hint="--options") from None
        if not isinstance(parsed_options, dict):
            raise typer.BadParameter("must be a JSON object", param_hint="--options")
    config = crawl_config(get_settings())
    try:
        result = inspect_url(
            url, kind=kind, options=parsed_options, cookie=cookie, config=config, timeout=timeout
        ).to_json()
    except (ValueError, TypeError, KeyError, LookupError, SyntaxError, re.error) as error:
        # A selector or pattern in --options that does not parse, or a page of another kind.
        raise InvalidInput(f"cannot read {url} as {kind}: {type(error).__name__}: {error}") from None
    if as_json:
        print_json(result)
        return
    colour = "green" if result["status"] == "ok" else "yellow" if result["status"] != "error" else "red"
    console.print(
        f"kind [bold]{result['kind']}[/]  status [bold {colour}]{result['status']}[/]  "
        f"posts {len(result['posts'])}"
    )
    # Everything below comes from the fetched page: hostile text, so no markup and no raw controls.
    if result["error"]:
        console.print(Text(clean_text(result["error"]), style=colour))
    for post in result["posts"]:
        heading = Text("\n")
        heading.append(clean_text(post["title"] or "(no title)"), style="bold")
        heading.append(
            f"  {clean_text(post['published_at'] or 'no date')}  key={clean_text(post['key'])}", style="dim"
        )
        console.print(heading)
        byline = " / ".join(filter(None, [post["account"], post["author"]]))
        if byline:
            console.print(Text(clean_text(byline), style="dim"))
        if post["metrics"]:
            console.print(Text(clean_text(post["metrics"]), style="dim"))
        text = clean_text(post["text"])
        console.print(Text(text[:300] + ("…" if len(text) > 300 else "")))
    if result["next"]:
        console.print(Text(f"\nnext page: {clean_text(result['next'])}"))


def _fetchable_url(url: str) -> str:
    """`url` percent-encoded like the crawler's requests; anything but http(s) is refused unread."""
    from urllib.parse import urlsplit

    from w3lib.url import safe_url_string

    text = url.strip()
    scheme = urlsplit(text).scheme.lower()
    if scheme not in ("http", "https"):
        shown = f"{scheme}: URLs" if scheme else "a URL without http:// or https://"
        raise InvalidInput(f"crawl inspect fetches only http(s) URLs, not {shown}")
    try:
        safe = safe_url_string(text)
    except (ValueError, UnicodeError) as error:
        raise InvalidInput(f"not a usable URL {url!r}: {error}") from None
    if not urlsplit(safe).hostname:
        raise InvalidInput(f"no host in the URL {url!r}")
    return safe


@app.command("run")
def run(
    account: list[int] = typer.Option(None, "--account", help="An account id; repeat for several."),
    region: str | None = typer.Option(
        None, "--region", help="Active accounts of a region and its sub-regions."
    ),
    all_accounts: bool = typer.Option(False, "--all", help="Every active account."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON instead of a table."),
) -> None:
    """Crawl accounts (each in a crawl run with counts and errors) and print a summary.

    An unknown account id or region is refused (exit 2) before anything is crawled. SIGTERM or
    Ctrl-C stops the crawl processes too; their runs are recorded as interrupted (exit 130).
    """
    from crawler.run import crawl_accounts
    from store.accounts import count_accounts

    chosen = sum([bool(account), region is not None, all_accounts])
    if chosen != 1:
        raise typer.BadParameter("give exactly one of --account ID (repeatable), --region CODE or --all")
    settings = get_settings()
    session_factory = open_store(settings)  # refuses a database that is not at the latest schema
    if region is not None:
        with session_factory() as session:  # an unknown or empty region is an error, not 0 accounts
            count_accounts(session=session, region_code=region)
    names: dict[int, str] = {}
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=as_json,
    ) as progress:
        task = progress.add_task("starting the crawl", total=None)
        stored = 0

        def on_event(event: dict[str, Any]) -> None:
            nonlocal stored
            if event["event"] == "accounts":
                names.update({int(k): v for k, v in event.get("names", {}).items()})
                progress.update(task, total=len(event["account_ids"]), description="crawling")
            elif event["event"] == "progress":
                stored += sum(v for k, v in event["counts"].items() if k in ("new", "updated", "deleted"))
                progress.update(task, description=f"crawling ({stored} posts new, edited or deleted)")
            elif event["event"] == "run":
                progress.advance(task)

        summary = crawl_accounts(
            crawl_config(settings),
            account or None,
            region_code=region,
            all_accounts=all_accounts,
            on_event=on_event,
        )
    failure = None
    if not summary.ok:
        last = [line for line in summary.log_tail.strip().splitlines() if line.strip()]
        failure = f"the crawl process ended with status {summary.returncode}: {last[-1] if last else ''}"
    if as_json:
        print_json(
            {
                "returncode": summary.returncode,
                "seconds": round(summary.seconds, 1),
                "totals": summary.totals,
                "runs": [run.__dict__ for run in summary.runs],
                "error": failure,
            }
        )
    else:
        _print_runs(summary.runs)
        totals = summary.totals
        statuses = ", ".join(f"{n} {s}" for s, n in sorted(summary.statuses.items())) or "no accounts"
        console.print(
            f"{len(summary.runs)} accounts in {summary.seconds:.1f} s ({statuses}); "
            f"{totals.get('pages', 0)} pages, {totals.get('new', 0)} new, {totals.get('updated', 0)} "
            f"edited, {totals.get('deleted', 0)} deleted posts"
        )
    if failure is not None:
        # Diagnostics go to stderr, so `--json` output stays one valid JSON document.
        err_console.print(clean_text(summary.log_tail.strip()[-4000:]), markup=False)
        raise Fault(failure + " (its log is above, on stderr)")


class Fault(GovwatchError):
    exit_code = 1


def _print_runs(runs: list[Any]) -> None:
    order = {"failed": 0, "blocked": 1, "interrupted": 2, "partial": 3, "ok": 4}
    terminal = is_terminal()
    print_table(
        ("account", "status", "pages", "new", "edited", "deleted", "errors", "error"),
        [
            [
                f"{run.account_id} {run.name or ''}",
                _status(run.status),
                run.counts.get("pages", 0),
                run.counts.get("new", 0),
                run.counts.get("updated", 0),
                run.counts.get("deleted", 0),
                run.counts.get("errors", 0),
                _first_line(run.error, terminal),
            ]
            for run in sorted(runs, key=lambda r: (order.get(r.status, 0), r.account_id))
        ],
    )


def _first_line(error: str | None, terminal: bool) -> str:
    """The error's first line, cut to 80 characters on a terminal; the whole error into a pipe."""
    if not terminal:
        return error or ""
    return (error or "").split("\n", 1)[0][:80]


def _status(status: str) -> Text:
    colour = {"ok": "green", "partial": "yellow", "running": "cyan", "never": "dim"}.get(status, "red")
    return Text(status, style=colour)


@app.command("status")
def status(
    region: str | None = typer.Option(
        None, "--region", help="Only accounts of this region and its sub-regions."
    ),
    failures: bool = typer.Option(
        False, "--failures", help="Only accounts whose last crawl did not end ok (interrupted included)."
    ),
    limit: int = typer.Option(0, "--limit", min=0, help="Show at most this many accounts (0: all)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """The last crawl run of every account, failures first (full values when not a terminal).

    A run left 'running' by a crawl process that no longer exists shows as interrupted.
    """
    from crawler.liveness import is_abandoned
    from store.crawl_runs import crawl_status_page

    session_factory = open_store(get_settings())
    with session_factory() as session:
        rows, total = crawl_status_page(
            session=session,
            region_code=region,
            failures=failures,
            limit=limit or None,
            is_abandoned=is_abandoned,
        )
    data: list[dict[str, Any]] = [
        {
            "account_id": r.account_id,
            "name": r.name,
            "platform": r.platform,
            "region_code": r.region_code,
            "status": r.status,
            "started_at": r.started_at.isoformat() if r.started_at else None,
            "finished_at": r.finished_at.isoformat() if r.finished_at else None,
            "counts": r.counts,
            "error": r.error,
        }
        for r in rows
    ]
    if as_json:
        print_json(data)
        return
    terminal = is_terminal()
    print_table(
        ("account", "platform", "status", "started (UTC)", "new", "edited", "deleted", "errors", "error"),
        [
            [
                f"{row['account_id']} {row['name']}",
                row["platform"],
                _status(row["status"]),
                (row["started_at"] or "")[:16].replace("T", " "),
                row["counts"].get("new", 0),
                row["counts"].get("updated", 0),
                row["counts"].get("deleted", 0),
                row["counts"].get("errors", 0),
                _first_line(row["error"], terminal),
            ]
            for row in data
        ],
    )
    shown = f", {len(data)} shown" if len(data) < total else ""
    console.print(f"{total} accounts{shown}", markup=False)
