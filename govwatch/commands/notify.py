"""`govwatch notify`: choose where a user is told things, and look at the outbox."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from govwatch.context import open_store
from govwatch.settings import get_settings

app = typer.Typer(help="Notification channels (e-mail, webhook) and the outbox.", no_args_is_help=True)
console = Console()


@app.command("channel")
def channel(
    username: str = typer.Argument(..., help="The user to notify."),
    email: str | None = typer.Option(None, "--email", help="Send this user e-mail at this address."),
    webhook: str | None = typer.Option(
        None, "--webhook", help="Post to this 企业微信 or 钉钉 group-robot webhook URL."
    ),
    event: list[str] = typer.Option(
        [], "--event", help="Also send this event beyond the user's role (e.g. report_ready); repeat."
    ),
    off: bool = typer.Option(False, "--off", help="Turn the given channel off instead."),
) -> None:
    """Set a user's e-mail address or webhook URL (one of each); --off turns one off."""
    from store.errors import GovwatchError
    from store.notifications import set_channel
    from store.users import get_user_by_name

    if (email is None) == (webhook is None):
        raise typer.BadParameter("give exactly one of --email ADDRESS or --webhook URL")
    kind, address = ("email", email) if email is not None else ("webhook", webhook)
    assert address is not None
    session_factory = open_store(get_settings())
    try:
        with session_factory.begin() as session:
            user = get_user_by_name(session=session, username=username)
            if user is None:
                console.print(f"[red]error:[/red] no user {escape(username)!r}")
                raise typer.Exit(1)
            set_channel(
                session=session, user_id=user.id, channel=kind, address=address, events=event, enabled=not off
            )
    except GovwatchError as error:
        console.print(f"[red]error:[/red] {escape(str(error))}")
        raise typer.Exit(1) from None
    console.print(f"{username}: {kind} {'off' if off else 'on'} → {escape(address)}")


@app.command("list")
def list_outbox(
    status: str | None = typer.Option(None, "--status", help="pending, sent or failed."),
    limit: int = typer.Option(50, "--limit", min=1, help="At most this many, oldest first."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """The notification outbox: what was sent, what waits for a retry, what was given up."""
    from store.notifications import describe, list_notifications

    session_factory = open_store(get_settings())
    with session_factory() as session:
        rows = [
            {**describe(n), "last_error": n.last_error}
            for n in list_notifications(session=session, status=status, limit=limit)
        ]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table("id", "event", "channel", "address", "status", "attempts", "subject", "last error")
    for row in rows:
        table.add_row(
            str(row["id"]),
            row["event"],
            row["channel"],
            escape(row["address"]),
            row["status"],
            str(row["attempts"]),
            escape(row["subject"]),
            escape(row["last_error"] or ""),
        )
    console.print(table)
