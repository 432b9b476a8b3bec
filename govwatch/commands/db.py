"""`govwatch db`: create and migrate the database."""

from __future__ import annotations

import typer

from govwatch.context import engine_for
from govwatch.settings import get_settings
from store.migrate import current_revision, upgrade_database

app = typer.Typer(help="Create and migrate the database.", no_args_is_help=True)


@app.command("upgrade")
def upgrade(revision: str = typer.Argument("head", help="Target Alembic revision.")) -> None:
    """Apply migrations up to REVISION (default: the latest)."""
    settings = get_settings()
    engine = engine_for(settings.resolved_database_url)
    upgrade_database(engine, revision)
    typer.echo(f"database {engine.url.render_as_string()} at revision {current_revision(engine)}")


@app.command("current")
def current() -> None:
    """Print the database's current revision."""
    engine = engine_for(get_settings().resolved_database_url)
    typer.echo(current_revision(engine) or "(empty database)")
