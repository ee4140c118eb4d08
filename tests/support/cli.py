"""Running the ``pointshall`` command line as an operator does, with a test database.

``pointshall(...)`` runs a command in this process: the same typer application the console
script runs, with the environment a fresh process would get (no ``POINTSHALL_*`` variable but
the database and those given, 200 columns), its own event loop (in a thread of its own, as the
caller may be inside one) and its output captured. It answers what a process would: the exit
code, stdout and stderr (with the traceback of an exception nobody caught). Importing the
command line once instead of in every process saves about two seconds a command.

``pointshall_process(...)`` starts a real process of the console script, for the few tests
where the process itself is the point: starting up, listening, signals.
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import subprocess
import sys
import threading
import traceback
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from unittest import mock

import click
from click.testing import CliRunner

from core.platform.clock import SystemClock
from tests.support.settings import ROOT_KEY

TIMEOUT = 120
"""Seconds a real process may take (a safety net, not an assertion)."""
_lock = threading.Lock()  # the environment and sys.stdout/stderr are the process's own


@dataclass(frozen=True)
class Ran:
    """What a finished command left: as ``subprocess.CompletedProcess`` names it."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


def environment(database_url: str, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without ``POINTSHALL_*``, plus the database, the tests' root
    key and ``env`` (where an empty value unsets a variable)."""
    merged = (
        {k: v for k, v in os.environ.items() if not k.startswith("POINTSHALL_")}
        | {
            "POINTSHALL_DATABASE_URL": database_url,
            "POINTSHALL_SECRET_KEY": ROOT_KEY,
            "COLUMNS": "200",
        }
        | dict(env or {})
    )
    return {k: v for k, v in merged.items() if v != "" or not k.startswith("POINTSHALL_")}


@contextlib.contextmanager
def _environ(values: dict[str, str]) -> Iterator[None]:
    """``os.environ`` is ``values`` inside (pydantic-settings reads it), as it was after."""
    saved = dict(os.environ)

    def become(target: dict[str, str]) -> None:
        for key in set(os.environ) - set(target):
            del os.environ[key]
        os.environ.update(target)

    become(values)
    try:
        yield
    finally:
        become(saved)


@functools.cache
def _command() -> click.Command:
    """The click command behind ``pointshall``, imported on first use.

    The first import creates the command line's rich consoles; it happens here, with output
    going to a buffer and 200 columns, so they are set up as in a process writing to a pipe
    (no colours, no terminal width), whatever the test run's own terminal is.
    """
    import typer.main

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        from pointshall.cli import app

    return typer.main.get_command(app)


def _invoke(args: tuple[str, ...], values: dict[str, str], at: datetime | None = None) -> Ran:
    with _lock, _environ(values), _clock_at(at):
        command = _command()
        result = CliRunner().invoke(command, list(args), prog_name="pointshall")
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stderr += "".join(traceback.format_exception(*result.exc_info))
    return Ran(args, result.exit_code, result.stdout, stderr)


def pointshall(
    database_url: str,
    *args: str,
    env: Mapping[str, str] | None = None,
    at: datetime | None = None,
) -> Ran:
    """Run ``pointshall ARGS`` against ``database_url`` in this process; wait for it.

    ``at`` is the moment the command's clock reads (the test's ``ManualClock``): for a
    command whose answer depends on the month (``settle --now``), so that it does not
    change when the real date crosses a month in the operator's zone."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(_invoke, args, environment(database_url, env), at).result()


@contextlib.contextmanager
def _clock_at(at: datetime | None) -> Iterator[None]:
    if at is None:
        yield
        return
    with mock.patch.object(SystemClock, "now", lambda _self: at):
        yield


def console_script() -> str:
    """The ``pointshall`` console script installed next to this Python."""
    path = Path(sys.executable).parent / "pointshall"
    assert path.exists(), f"no console script at {path}: install the package (make test does)"
    return str(path)


def pointshall_process(
    database_url: str, *args: str, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``pointshall ARGS`` as a real process of the console script; wait for it."""
    return subprocess.run(
        [console_script(), *args],
        capture_output=True,
        text=True,
        env=environment(database_url, env),
        timeout=TIMEOUT,
        check=False,
    )
