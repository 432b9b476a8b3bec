"""CLI command groups; each module defines a Typer `app` registered in govwatch.cli."""
