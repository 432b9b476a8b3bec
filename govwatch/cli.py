"""The `govwatch` command line: one Typer app, one sub-app per area."""

from __future__ import annotations

import typer

from govwatch.commands import accounts, crawl, db, users

app = typer.Typer(
    help="govwatch: compliance monitoring of government public accounts.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(db.app, name="db")
app.add_typer(accounts.app, name="accounts")
app.add_typer(users.app, name="users")
app.add_typer(crawl.app, name="crawl")


def main() -> None:
    app()
