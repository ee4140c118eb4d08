"""The command line's one error boundary (issue 14 item 6): an expected failure is one clear
line on stderr and a non-zero exit, never a traceback; ``--debug`` shows the traceback.

Every command runs inside ``Commands.invoke``, so the console script and an in-process run
answer alike. Exit codes: 1 a refusal or a failure of the outside world (the database, a
file), 2 a configuration or usage error (click's own usage errors keep their 2).
"""

from __future__ import annotations

import re
from typing import Any

import typer
from sqlalchemy.exc import DBAPIError, NoSuchTableError
from typer.core import TyperGroup

from core.platform.errors import ConfigurationError, DomainError

NOT_MIGRATED = re.compile(
    r"no such table|undefinedtable|relation \S+ does not exist|can't locate revision"
)
UNREACHABLE = (
    "unable to open database file",
    "file is not a database",
    "connection refused",
    "connect call failed",
    "invalidcatalogname",
    "could not connect",
    "name or service not known",
    "password authentication failed",
)


def describe(exc: BaseException) -> tuple[str, int]:
    """One line saying what went wrong and what to do, and the exit code."""
    text = f"{type(exc).__name__} {exc}".lower()
    if isinstance(exc, ConfigurationError):
        return f"configuration error: {exc}", 2
    if isinstance(exc, DomainError | ValueError):  # core refuses bad input with ValueError
        return f"refused: {exc}", 1
    if isinstance(exc, OSError | DBAPIError) and (
        any(m in text for m in UNREACHABLE) or ("database" in text and "does not exist" in text)
    ):
        return f"cannot open the database: {_first_line(exc)}", 1
    if isinstance(exc, NoSuchTableError) or (
        isinstance(exc, DBAPIError) and NOT_MIGRATED.search(text) is not None
    ):
        return "the database is not at this version's schema: run `pointshall db upgrade`", 1
    if isinstance(exc, FileNotFoundError):
        return f"no such file: {exc.filename}", 1
    if isinstance(exc, PermissionError):
        return f"not allowed: {exc.filename}", 1
    if isinstance(exc, OSError):
        return f"{type(exc).__name__}: {_first_line(exc)}", 1
    return (
        f"unexpected {type(exc).__name__}: {_first_line(exc)} "
        "(run again with --debug for the traceback)",
        1,
    )


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def report(exc: BaseException, *, debug: bool) -> None:
    """Print ``exc`` as one line and exit non-zero; with ``debug`` let it through."""
    if debug:
        raise exc
    from pointshall.cli_support import err  # the console is made on the command line's first use

    line, code = describe(exc)
    err.print(line, markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(code) from None


class Commands(TyperGroup):
    """The root of the command line: runs every command inside the error boundary."""

    def invoke(self, ctx: Any) -> Any:  # click's Context, which typer vendors
        try:
            return super().invoke(ctx)
        except (typer.TyperException, typer.Exit, typer.Abort):
            raise  # usage errors and deliberate exits keep click's own handling
        except Exception as exc:
            report(exc, debug=bool(ctx.params.get("debug")))
