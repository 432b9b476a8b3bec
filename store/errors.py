"""The service's error types; each carries the HTTP status the web app answers with."""

from __future__ import annotations


class GovwatchError(Exception):
    status_code = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(GovwatchError):
    status_code = 404


class Conflict(GovwatchError):
    status_code = 409


class PermissionDenied(GovwatchError):
    status_code = 403


class InvalidInput(GovwatchError):
    status_code = 422
