"""`govwatch users`: add and list the people who log in."""

from __future__ import annotations

import sys
from typing import Any

import typer

from govwatch.context import open_store
from govwatch.output import print_json, print_table
from govwatch.settings import new_user_password
from store.audit import record_audit
from store.errors import InvalidInput
from store.models import ROLES
from store.users import create_user, list_users

app = typer.Typer(help="Add and list users (admins, reviewers, operators).", no_args_is_help=True)


def _read_password(from_stdin: bool) -> str:
    # Never a command-line option: arguments show in `ps` and in shell history.
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            raise InvalidInput("--password-stdin: nothing on standard input")
        return line.rstrip("\r\n")
    from_env = new_user_password()
    if from_env is not None:
        return from_env
    if not sys.stdin.isatty():
        line = sys.stdin.readline()  # a script piping "pass\npass\n", as the prompt would read it
        again = sys.stdin.readline()
        if not line:
            raise InvalidInput("no password: pipe it with --password-stdin or set GOVWATCH_NEW_USER_PASSWORD")
        if again and again.rstrip("\r\n") != line.rstrip("\r\n"):
            raise InvalidInput("the two passwords differ")
        return line.rstrip("\r\n")
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


@app.command("add")
def add(
    username: str = typer.Argument(..., help="Login name (case-insensitive: stored in lower case)."),
    role: str = typer.Option(..., "--role", help=f"One of {', '.join(ROLES)}."),
    region: str = typer.Option(
        None, "--region", help="Region code a reviewer may see (reviewers only, required for them)."
    ),
    account: list[int] = typer.Option(
        [], "--account", help="Account id an operator runs (operators only; repeat; required for them)."
    ),
    display_name: str = typer.Option(None, "--display-name", help="Name shown in the web pages."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from the first line of standard input."
    ),
) -> None:
    """Add a user with a role and a scope; the password is stored as an Argon2 hash.

    The password is asked for twice; scripts pipe it with --password-stdin or set
    GOVWATCH_NEW_USER_PASSWORD.
    """
    session_factory = open_store()
    password = _read_password(password_stdin)
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
    typer.echo(f"user {user.username!r} added as {role}")


@app.command("list")
def list_command(
    as_json: bool = typer.Option(False, "--json", help="Print the users as a JSON list."),
) -> None:
    """List users with their role and scope (full values when the output is not a terminal)."""
    session_factory = open_store()
    with session_factory() as session:
        data: list[dict[str, Any]] = [
            {
                "id": user.id,
                "username": user.username,
                "role": user.role,
                "region_code": user.region_code,
                "account_ids": sorted(a.id for a in user.accounts),
                "display_name": user.display_name,
                "active": user.is_active,
            }
            for user in list_users(session=session)
        ]
    if as_json:
        print_json(data)
        return
    rows: list[dict[str, Any]] = data
    print_table(
        ("username", "role", "region", "accounts", "active"),
        [
            [row["username"], row["role"], row["region_code"] or "-",
             ",".join(map(str, row["account_ids"])) or "-", "yes" if row["active"] else "no"]
            for row in rows
        ],
    )  # fmt: skip
