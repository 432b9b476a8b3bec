"""The command line's one error handler: every failure becomes one line on stderr and an exit code.

Exit codes (docs/cli.md): 0 done, 2 bad input or usage, 1 a fault at run time, 130 interrupted
(Ctrl-C or SIGTERM). `--debug` or GOVWATCH_LOG_LEVEL=DEBUG adds the traceback.
"""

from __future__ import annotations

import errno
import logging
import signal
import sys
import traceback
from collections.abc import Callable, Sequence
from types import FrameType
from typing import Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

from govwatch.output import clean_text
from store.errors import GovwatchError

log = logging.getLogger(__name__)
EXIT_USAGE = 2
EXIT_FAULT = 1
EXIT_INTERRUPTED = 130

err_console = Console(stderr=True, highlight=False, soft_wrap=True)


class Terminated(KeyboardInterrupt):
    """SIGTERM, turned into an exception so that `finally` blocks stop worker processes and close runs."""


class SettingsError(GovwatchError):
    """A GOVWATCH_* environment variable has a value the service cannot use."""

    exit_code = EXIT_USAGE


def settings_message(error: ValidationError) -> str:
    """'GOVWATCH_CRAWL_DELAY=abc: not a number' rather than pydantic's field-name traceback."""
    from govwatch.settings import ENV_PREFIX, raw_setting

    parts = []
    for item in error.errors():
        location = [str(part) for part in item.get("loc", ()) if part]
        reason = str(item.get("msg", "invalid")).removeprefix("Value error, ")
        if location:
            name = f"{ENV_PREFIX}{location[0].upper()}"
            value = raw_setting(name)
            shown = f"{name}={value}" if value is not None else name
            parts.append(f"{shown}: {reason}")
        else:
            parts.append(reason)
    return "invalid settings: " + "; ".join(parts) + " (see docs/settings.md)"


def database_message(error: Exception) -> str:
    """One line for a database error, with what to check."""
    from sqlalchemy.exc import DBAPIError

    original = error.orig if isinstance(error, DBAPIError) and error.orig is not None else error
    text = str(original).strip().splitlines()[0] if str(original).strip() else type(original).__name__
    lowered = text.lower()
    if "database is locked" in lowered:
        hint = "another govwatch process holds the database; try again when it has finished"
    elif "readonly" in lowered or "read-only" in lowered:
        hint = "the database file or its folder is not writable by this user"
    elif "file is not a database" in lowered or "not a database" in lowered:
        hint = "GOVWATCH_DATABASE_URL / GOVWATCH_DATA_DIR points at a file that is not a govwatch database"
    elif "unable to open database" in lowered:
        hint = "the database folder does not exist or cannot be read"
    elif "connection refused" in lowered or "could not connect" in lowered or "timeout" in lowered:
        hint = "is the database server running, and is GOVWATCH_DATABASE_URL right?"
    elif "does not exist" in lowered and ("database" in lowered or "role" in lowered):
        hint = "create the role and database first (README: PostgreSQL), then run `govwatch db upgrade`"
    elif "password authentication failed" in lowered:
        hint = "check the user and password in GOVWATCH_DATABASE_URL"
    else:
        hint = "run with --debug for details"
    return f"database error: {text} ({hint})"


def describe(error: BaseException) -> tuple[str, int]:
    """The one line and exit code for an error that reached the top of the command line."""
    from sqlalchemy.exc import DBAPIError, SQLAlchemyError

    if isinstance(error, GovwatchError):
        return error.message, error.exit_code
    if isinstance(error, ValidationError):
        return settings_message(error), EXIT_USAGE
    if isinstance(error, DBAPIError):
        return database_message(error), EXIT_FAULT
    if isinstance(error, SQLAlchemyError):
        return f"database error: {str(error).splitlines()[0]} (run with --debug for details)", EXIT_FAULT
    if isinstance(error, PermissionError):
        return f"permission denied: {error.filename or error}", EXIT_FAULT
    if isinstance(error, FileNotFoundError):
        return f"no such file or directory: {error.filename or error}", EXIT_USAGE
    if isinstance(error, IsADirectoryError | NotADirectoryError):
        return f"{error.strerror}: {error.filename}", EXIT_USAGE
    if isinstance(error, OSError) and error.errno == errno.ENOSPC:
        return "no space left on the device", EXIT_FAULT
    if isinstance(error, OSError):
        return f"{error.strerror or error}: {error.filename or ''}".rstrip(": "), EXIT_FAULT
    if isinstance(error, MemoryError):
        return "out of memory", EXIT_FAULT
    return (
        f"unexpected error {type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''} "
        "(run with --debug for the traceback and report it)",
        EXIT_FAULT,
    )


_signalled: list[str] = []


def _raise_terminated(signum: int, _frame: FrameType | None) -> None:
    _signalled.append("terminated")
    raise Terminated()


def _usage_error_class() -> type[Exception]:
    # Typer >= 0.24 ships its own copy of Click; older ones use Click itself.
    try:
        from typer._click.exceptions import ClickException
    except ImportError:  # pragma: no cover - depends on the installed Typer
        from click import ClickException  # type: ignore[assignment]
    return ClickException


def run_cli(command: Callable[..., Any], argv: Sequence[str], *, debug: bool) -> int:
    """Runs the Typer/Click command for `argv` and returns the exit code; no traceback unless `debug`."""
    usage_error = _usage_error_class()
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    _signalled.clear()
    try:
        result = command.main(args=list(argv), prog_name="govwatch", standalone_mode=False)  # type: ignore[attr-defined]
        code = result if isinstance(result, int) else 0
        if code == EXIT_INTERRUPTED:  # Typer turns KeyboardInterrupt into Exit(130)
            _say_interrupted()
        return code
    except typer.Exit as done:
        return int(done.exit_code)
    except usage_error as usage:
        usage.show(file=sys.stderr)  # type: ignore[attr-defined]
        code = int(getattr(usage, "exit_code", EXIT_USAGE))
        return EXIT_USAGE if code in (0, 2) and type(usage).__name__ != "NoArgsIsHelpError" else code
    except (typer.Abort, KeyboardInterrupt):
        _say_interrupted()
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # `govwatch accounts list | head`: the reader left; say nothing more on a closed pipe.
        sys.stderr.close()
        return EXIT_FAULT
    except Exception as error:  # the boundary: nothing below this shows a user a traceback
        message, code = describe(error)
        log.debug("command failed", exc_info=error)
        if debug:
            err_console.print(escape("".join(traceback.format_exception(error))), markup=True)
        err_console.print(f"[red]error:[/red] {escape(clean_text(message))}")
        return code
    finally:
        signal.signal(signal.SIGTERM, previous)


def _say_interrupted() -> None:
    what = "terminated" if _signalled else "interrupted"
    err_console.print(f"[yellow]{what}[/yellow]: stopped before finishing; a rerun resumes")
