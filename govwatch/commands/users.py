"""`govwatch users`: add and list the people who log in."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from govwatch.context import open_store
from store.audit import record_audit
from store.errors import GovwatchError
from store.models import ROLES
from store.users import create_user, list_users

app = typer.Typer(help="Add and list users (admins, reviewers, operators).", no_args_is_help=True)
console = Console()


@app.command("add")
def add(
    username: str = typer.Argument(..., help="Login name."),
    role: str = typer.Option(..., "--role", help=f"One of {', '.join(ROLES)}."),
    region: str = typer.Option(
        None, "--region", help="Region code a reviewer may see (required for reviewers)."
    ),
    account: list[int] = typer.Option(
        [], "--account", help="Account id an operator runs (repeat; required for operators)."
    ),
    display_name: str = typer.Option(None, "--display-name", help="Name shown in the web pages."),
    password: str = typer.Option(
        ...,
        prompt=True,
        hide_input=True,
        confirmation_prompt=True,
        envvar="GOVWATCH_NEW_USER_PASSWORD",
        help="Asked for when not given; can also come from GOVWATCH_NEW_USER_PASSWORD.",
    ),
) -> None:
    """Add a user with a role and a scope; the password is stored as an Argon2 hash."""
    session_factory = open_store()
    try:
        with session_factory.begin() as session:
            user = create_user(
                session=session,
                username=username,
                password=password,
                role=role,
                region_code=region,
                account_ids=account,
                display_name=display_name,
            )
            record_audit(
                session=session,
                actor="cli",
                action="user.create",
                entity_type="user",
                entity_id=user.id,
                after={
                    "username": user.username,
                    "role": role,
                    "region_code": user.region_code,
                    "account_ids": sorted(account),
                },
            )
    except GovwatchError as error:
        console.print(f"[red]error:[/red] {error.message}")
        raise typer.Exit(2) from None
    console.print(f"user {username!r} added as {role}")


@app.command("list")
def list_command() -> None:
    """List users with their role and scope."""
    session_factory = open_store()
    with session_factory() as session:
        table = Table("username", "role", "region", "accounts", "active")
        for user in list_users(session=session):
            table.add_row(
                user.username,
                user.role,
                user.region_code or "-",
                ",".join(str(a.id) for a in user.accounts) or "-",
                "yes" if user.is_active else "no",
            )
    console.print(table)
