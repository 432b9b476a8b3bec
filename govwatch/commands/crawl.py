"""`govwatch crawl`: check a source URL, crawl accounts, see how their last crawls went."""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from govwatch.context import crawl_config, open_store
from govwatch.settings import get_settings

app = typer.Typer(
    help="Crawl accounts' sources: inspect one URL, run crawls, list their status.", no_args_is_help=True
)
console = Console()
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
        None, "--timeout", help="Seconds the whole fetch may take, retries included (default: the crawl's)."
    ),
) -> None:
    """Fetch URL once and print what the adapter reads from it; nothing is stored."""
    from crawler.inspect import inspect_url

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
    if timeout is not None and timeout <= 0:
        raise typer.BadParameter("must be more than 0", param_hint="--timeout")
    config = crawl_config(get_settings())
    result = inspect_url(
        url, kind=kind, options=parsed_options, cookie=cookie, config=config, timeout=timeout
    ).to_json()
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    colour = "green" if result["status"] == "ok" else "yellow" if result["status"] != "error" else "red"
    console.print(
        f"kind [bold]{result['kind']}[/]  status [bold {colour}]{result['status']}[/]  "
        f"posts {len(result['posts'])}"
    )
    if result["error"]:
        console.print(f"[{colour}]{result['error']}[/]")
    for post in result["posts"]:
        console.print(
            f"\n[bold]{post['title'] or '(no title)'}[/]  [dim]{post['published_at'] or 'no date'}  "
            f"key={post['key']}[/]"
        )
        byline = " / ".join(filter(None, [post["account"], post["author"]]))
        if byline:
            console.print(f"[dim]{byline}[/]")
        if post["metrics"]:
            console.print(f"[dim]{post['metrics']}[/]")
        text = post["text"]
        console.print(text[:300] + ("…" if len(text) > 300 else ""), markup=False)
    if result["next"]:
        console.print(f"\nnext page: {result['next']}")


@app.command("run")
def run(
    account: list[int] = typer.Option(None, "--account", help="An account id; repeat for several."),
    region: str | None = typer.Option(
        None, "--region", help="Active accounts of a region and its sub-regions."
    ),
    all_accounts: bool = typer.Option(False, "--all", help="Every active account."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON instead of a table."),
) -> None:
    """Crawl accounts (each in a crawl run with counts and errors) and print a summary."""
    from crawler.run import crawl_accounts

    chosen = sum([bool(account), region is not None, all_accounts])
    if chosen != 1:
        raise typer.BadParameter("give exactly one of --account ID (repeatable), --region CODE or --all")
    settings = get_settings()
    open_store(settings)  # the crawl processes expect the latest schema
    names: dict[int, str] = {}
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
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
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "returncode": summary.returncode,
                    "seconds": round(summary.seconds, 1),
                    "totals": summary.totals,
                    "runs": [run.__dict__ for run in summary.runs],
                },
                ensure_ascii=False,
                indent=2,
            )
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
    if not summary.ok:
        console.print(
            f"[red]the crawl process ended with status {summary.returncode}[/]\n{summary.log_tail}",
            markup=False,
        )
        raise typer.Exit(1)


def _print_runs(runs: list[Any]) -> None:
    order = {"failed": 0, "blocked": 1, "partial": 2, "ok": 3}
    table = Table("account", "status", "pages", "new", "edited", "deleted", "errors", "error")
    for run in sorted(runs, key=lambda r: (order.get(r.status, 0), r.account_id)):
        counts = run.counts
        table.add_row(
            f"{run.account_id} {run.name or ''}",
            _status(run.status),
            str(counts.get("pages", 0)),
            str(counts.get("new", 0)),
            str(counts.get("updated", 0)),
            str(counts.get("deleted", 0)),
            str(counts.get("errors", 0)),
            (run.error or "").split("\n", 1)[0][:80],
        )
    console.print(table)


def _status(status: str) -> str:
    colour = {"ok": "green", "partial": "yellow", "running": "cyan"}.get(status, "red")
    return f"[{colour}]{status}[/]"


@app.command("status")
def status(
    region: str | None = typer.Option(
        None, "--region", help="Only accounts of this region and its sub-regions."
    ),
    failures: bool = typer.Option(False, "--failures", help="Only accounts whose last crawl did not end ok."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """The last crawl run of every account, failures first."""
    from store.accounts import list_accounts
    from store.crawl_runs import list_account_crawl_status

    session_factory = open_store(get_settings())
    with session_factory() as session:
        account_ids = [a.id for a in list_accounts(session=session, region_code=region)] if region else None
        rows = list_account_crawl_status(session=session, account_ids=account_ids)
        if failures:
            rows = [(a, r) for a, r in rows if r is None or r.status not in ("ok", "running")]
        data: list[dict[str, Any]] = [
            {
                "account_id": a.id,
                "name": a.name,
                "platform": a.platform,
                "region_code": a.region_code,
                "status": r.status if r else "never",
                "started_at": r.started_at.isoformat() if r else None,
                "finished_at": r.finished_at.isoformat() if r and r.finished_at else None,
                "counts": r.counts if r else {},
                "error": r.error if r else None,
            }
            for a, r in rows
        ]
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    table = Table(
        "account", "platform", "status", "started (UTC)", "new", "edited", "deleted", "errors", "error"
    )
    for row in data:
        counts = row["counts"]
        table.add_row(
            f"{row['account_id']} {row['name']}",
            row["platform"],
            _status(row["status"]) if row["status"] != "never" else "[dim]never[/]",
            (row["started_at"] or "")[:16].replace("T", " "),
            str(counts.get("new", 0)),
            str(counts.get("updated", 0)),
            str(counts.get("deleted", 0)),
            str(counts.get("errors", 0)),
            (row["error"] or "").split("\n", 1)[0][:80],
        )
    console.print(table)
    console.print(f"{len(data)} accounts")
