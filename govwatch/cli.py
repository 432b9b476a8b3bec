"""The `govwatch` command line: one Typer app, one sub-app per area."""

from __future__ import annotations

import typer

from govwatch.commands import db

app = typer.Typer(
    help="govwatch: compliance monitoring of government public accounts.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(db.app, name="db")


def main() -> None:
    app()
