"""How commands print: escaped control characters, full values when not on a terminal, JSON on demand."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

# C0 and C1 controls (ESC, BEL, NUL, CSI, ...) and the bidi overrides, all of which a registry
# cell could use to rewrite what an operator's terminal shows.
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def clean_text(value: Any) -> str:
    """`value` as text with control characters shown as \\x1b-style escapes, never sent raw."""
    text = "" if value is None else str(value)
    return _UNSAFE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def is_terminal(console: Console | None = None) -> bool:
    return console.is_terminal if console is not None else sys.stdout.isatty()


def make_table(console: Console, *columns: str, title: str | None = None) -> Table:
    """A table that folds long values on a terminal and prints them whole into a pipe or a file."""
    table = Table(*columns, title=title)
    if not console.is_terminal:
        for column in table.columns:
            column.overflow = "fold"
            column.no_wrap = False
    return table


def wide_console(stderr: bool = False) -> Console:
    """A console for tables: as wide as the terminal, or wide enough that nothing is cut in a pipe."""
    probe = Console(stderr=stderr)
    if probe.is_terminal:
        return probe
    return Console(stderr=stderr, width=100_000, soft_wrap=True, highlight=False)


def print_json(data: Any) -> None:
    """Machine output: one JSON document on stdout, nothing else there."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def add_row(table: Table, values: Sequence[Any]) -> None:
    """A row of plain text (escaped controls, no Rich markup read from stored values)."""
    table.add_row(*(v if isinstance(v, Text) else Text(clean_text(v)) for v in values))


def tsv_cell(value: Any) -> str:
    text = value.plain if isinstance(value, Text) else clean_text(value)
    return text.replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def print_table(columns: Sequence[str], rows: Sequence[Sequence[Any]], *, title: str | None = None) -> None:
    """A Rich table on a terminal; into a pipe or a file, tab-separated lines with every value whole.

    Scripts and cron mails get full values they can cut and grep, and 50,000 rows print in a
    fraction of the time a Rich table takes.
    """
    console = Console(highlight=False)
    if console.is_terminal:
        table = make_table(console, *columns, title=title)
        for row in rows:
            add_row(table, row)
        console.print(table)
        return
    lines = ["\t".join(columns)]
    lines.extend("\t".join(tsv_cell(value) for value in row) for row in rows)
    sys.stdout.write("\n".join(lines) + "\n")
