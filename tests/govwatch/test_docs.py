"""Every CLI command is documented in docs/cli.md (a command nobody can find does not exist)."""

from pathlib import Path
from typing import Any

import typer.main

from govwatch.cli import app

DOCS = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


def command_paths(command: Any, prefix: str = "govwatch") -> list[str]:
    if getattr(command, "commands", None):
        return [
            path for name, sub in command.commands.items() for path in command_paths(sub, f"{prefix} {name}")
        ]
    return [prefix]


def test_every_command_is_documented() -> None:
    text = DOCS.read_text(encoding="utf-8")
    commands = command_paths(typer.main.get_command(app))
    assert len(commands) >= 6
    assert [c for c in commands if f"`{c}" not in text] == [], "document these commands in docs/cli.md"
