"""`govwatch db`: create and migrate the database (the only command that migrates)."""

from __future__ import annotations

import typer

from govwatch.context import check_reachable, engine_for, sqlite_path, upgrade_store
from govwatch.settings import get_settings
from store.errors import InvalidInput, StoreUnavailable
from store.migrate import current_revision, head_revision

app = typer.Typer(help="Create and migrate the database.", no_args_is_help=True)


@app.command("upgrade")
def upgrade(revision: str = typer.Argument("head", help="Target Alembic revision.")) -> None:
    """Create the database if needed and apply migrations up to REVISION (default: the latest)."""
    from alembic.util.exc import CommandError

    settings = get_settings()
    try:
        session_factory = upgrade_store(settings, revision)
    except CommandError as error:
        raise InvalidInput(f"cannot upgrade to {revision!r}: {error}") from error
    engine = session_factory.kw["bind"]
    typer.echo(f"database {engine.url.render_as_string()} at revision {current_revision(engine)}")


@app.command("current")
def current() -> None:
    """Print the database's current revision (creates nothing)."""
    url = get_settings().resolved_database_url
    path = sqlite_path(url)
    if path is not None and not path.is_file():
        raise StoreUnavailable(f"no database at {path} (run `govwatch db upgrade` to create it)")
    engine = engine_for(url)
    check_reachable(engine)
    revision = current_revision(engine)
    head = head_revision()
    if revision is None:
        typer.echo(f"(empty database; this govwatch needs {head})")
    elif revision == head:
        typer.echo(f"{revision} (latest)")
    else:
        typer.echo(f"{revision} (this govwatch needs {head}: run `govwatch db upgrade`)")
