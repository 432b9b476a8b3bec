"""The error handler's one-line messages for faults that are slow or need root to provoke for real."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy.exc import OperationalError

from govwatch.errors import EXIT_FAULT, EXIT_USAGE, describe
from store.errors import InvalidInput, SchemaOutdated


@pytest.mark.parametrize(
    ("orig", "fragment"),
    [
        (sqlite3.OperationalError("database is locked"), "another govwatch process holds the database"),
        (sqlite3.OperationalError("attempt to write a readonly database"), "not writable"),
        (sqlite3.OperationalError("unable to open database file"), "folder does not exist"),
    ],
)
def test_database_faults_are_one_line_with_a_hint(orig: Exception, fragment: str) -> None:
    message, code = describe(OperationalError("SELECT 1", {}, orig))
    assert code == EXIT_FAULT and "\n" not in message
    assert message.startswith("database error: ") and fragment in message
    assert "SELECT 1" not in message  # the statement (and its parameters, e.g. a hash) stay out


def test_project_errors_keep_their_exit_code_and_anything_else_is_a_fault() -> None:
    assert describe(InvalidInput("bad")) == ("bad", EXIT_USAGE)
    assert describe(SchemaOutdated("old"))[1] == EXIT_FAULT
    message, code = describe(RuntimeError("boom\nsecond line"))
    assert code == EXIT_FAULT and "\n" not in message and "--debug" in message
