"""The `govwatch` command line: one Typer app, one sub-app per area, one error handler (govwatch.errors)."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from govwatch.commands import accounts, assess, classify, crawl, db, model, notify, scheduler, serve, users

app = typer.Typer(
    help="govwatch: compliance monitoring of government public accounts.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(db.app, name="db")
app.add_typer(accounts.app, name="accounts")
app.add_typer(users.app, name="users")
app.add_typer(crawl.app, name="crawl")
app.add_typer(model.app, name="model")
app.command("classify")(classify.classify)
app.command("assess")(assess.assess)
app.command("report")(assess.report)
app.add_typer(scheduler.app, name="scheduler")
app.add_typer(notify.app, name="notify")
app.command("status")(scheduler.status)
app.command("run")(scheduler.run_all)

app.command("serve")(serve.serve)


@app.callback()
def root(
    debug: bool = typer.Option(
        False, "--debug", help="Print the traceback when a command fails (also GOVWATCH_LOG_LEVEL=DEBUG)."
    ),
) -> None:
    """govwatch: compliance monitoring of government public accounts."""
    from govwatch.context import configure_logging

    configure_logging(debug=debug)


@app.command("demo")
def demo(
    data_dir: Path = typer.Option(
        Path("var/demo"),
        "--data-dir",
        help="Where the fresh demo database goes; refused if it holds a database the demo did not make.",
    ),
) -> None:
    """Run the main job end to end on a fresh SQLite database and the bundled sample site."""
    from govwatch.demo import run_demo

    run_demo(data_dir)


def main(argv: list[str] | None = None) -> int:
    """Entry point: runs the command and exits with the documented code, never with a traceback."""
    from govwatch.errors import run_cli
    from govwatch.settings import debug_requested

    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args or debug_requested()
    code = run_cli(typer.main.get_command(app), args, debug=debug)
    if argv is None:
        sys.exit(code)
    return code
