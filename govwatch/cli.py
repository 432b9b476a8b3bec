"""The `govwatch` command line: one Typer app, one sub-app per area."""

from __future__ import annotations

from pathlib import Path

import typer

from govwatch.commands import accounts, classify, crawl, db, model, serve, users

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
app.command("serve")(serve.serve)


@app.command("demo")
def demo(
    data_dir: Path = typer.Option(Path("var/demo"), "--data-dir", help="Where the fresh demo database goes."),
) -> None:
    """Run the main job end to end on a fresh SQLite database and the bundled sample site."""
    from govwatch.demo import run_demo

    run_demo(data_dir)


def main() -> None:
    app()
