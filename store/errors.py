"""The service's error types, each with the HTTP status the web app answers and the CLI's exit code."""

from __future__ import annotations


class GovwatchError(Exception):
    """An error a user can act on; `message` is one line that says what went wrong and what to do."""

    status_code = 500
    exit_code = 1  # the CLI's: 2 bad input or usage, 1 a fault at run time

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(GovwatchError):
    status_code = 404
    exit_code = 2


class Conflict(GovwatchError):
    status_code = 409
    exit_code = 1


class PermissionDenied(GovwatchError):
    status_code = 403
    exit_code = 2


class InvalidInput(GovwatchError):
    status_code = 422
    exit_code = 2


class StoreUnavailable(GovwatchError):
    """The database cannot be reached or used (closed port, missing file, locked, read-only)."""

    status_code = 503
    exit_code = 1


class SchemaOutdated(StoreUnavailable):
    """The database is not at the schema revision this version of the code needs."""
