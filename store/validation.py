"""Checks on text before it reaches the database, identical on SQLite and PostgreSQL.

SQLite stores a 5,000-character name in a VARCHAR(200) and a NUL in TEXT; PostgreSQL refuses
both with a DataError. Checking lengths and characters here, at the edge, gives the same answer
on both databases and names the field (and the row) instead of failing a whole transaction.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import String

from store.errors import InvalidInput

# NUL and the other C0/C1 controls, which no name, handle or code needs (tab and newline are
# allowed only in free text), plus the bidi overrides that can disguise what a name says.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_CONTROL_OR_NEWLINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def column_length(model: Any, name: str) -> int | None:
    """The VARCHAR length of `model.name`, or None for unbounded text."""
    column_type = model.__table__.c[name].type
    return column_type.length if isinstance(column_type, String) else None


def text_problem(value: str, *, label: str, max_length: int | None, multiline: bool = False) -> str | None:
    """Why `value` cannot be stored in a field called `label`, or None when it can."""
    if max_length is not None and len(value) > max_length:
        return f"{label} is {len(value)} characters long; at most {max_length} fit"
    match = (_CONTROL if multiline else _CONTROL_OR_NEWLINE).search(value)
    if match:
        code = f"U+{ord(match.group()):04X}"
        return f"{label} contains the control character {code} at position {match.start() + 1}"
    return None


def json_problem(value: Any, *, label: str) -> str | None:
    """NUL inside JSON text is refused by PostgreSQL's JSON type: check every string in it."""
    if isinstance(value, str):
        return f"{label} contains the character U+0000" if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            problem = json_problem(key, label=label) or json_problem(item, label=label)
            if problem:
                return problem
    if isinstance(value, list | tuple):
        for item in value:
            problem = json_problem(item, label=label)
            if problem:
                return problem
    return None


def check_text(value: str | None, *, label: str, max_length: int | None, multiline: bool = False) -> None:
    """Raise InvalidInput when `value` cannot be stored (None passes)."""
    if value is None:
        return
    problem = text_problem(value, label=label, max_length=max_length, multiline=multiline)
    if problem:
        raise InvalidInput(problem)


# A cell starting with one of these is run as a formula by Excel and LibreOffice (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """A value to write into an XLSX or CSV cell: text that a spreadsheet would run as a formula
    gets a leading single quote, so it is shown, never evaluated.

    Stored values keep their text (a name may well start with "-"); this is applied when the
    service writes a spreadsheet or CSV (reports, exports). Numbers pass unchanged.
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value
