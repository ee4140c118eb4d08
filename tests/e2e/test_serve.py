"""``pointshall serve`` as a real process of the installed console script: it upgrades the
database, listens, answers ``/healthz``, and on Ctrl-C (SIGINT) stops the outbox drain and
the scheduler, closes the database and exits 0."""

from __future__ import annotations

import asyncio
import json
import os
import pty
import re
import signal
from pathlib import Path

import aiohttp

from tests.support.cli import console_script, environment
from tests.support.kannel import free_port

WAIT = 60.0
"""Upper bound for the process to start or stop (a safety net, not an assertion)."""


async def test_serve_listens_answers_healthz_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    env = environment(
        f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}",
        {"POINTSHALL_HOST": "127.0.0.1", "POINTSHALL_PORT": str(port), "PYTHONUNBUFFERED": "1"},
    )
    proc = await asyncio.create_subprocess_exec(
        console_script(),
        "serve",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,  # a Ctrl-C in the terminal running the tests is not its own
    )
    assert proc.stdout is not None and proc.stderr is not None
    try:

        async def listening() -> str:
            while line := (await proc.stdout.readline()).decode():
                if "listening on" in line:
                    return line
            return ""

        line = await asyncio.wait_for(listening(), WAIT)
        assert line.strip() == f"pointshall listening on http://127.0.0.1:{port} (Ctrl-C to stop)"
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{port}/healthz") as resp,
        ):
            assert resp.status == 200
        proc.send_signal(signal.SIGINT)
        await asyncio.wait_for(proc.wait(), WAIT)
    finally:
        if proc.returncode is None:
            os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()
    errors = (await proc.stderr.read()).decode(errors="replace")
    assert proc.returncode == 0, errors[-2000:]
    assert "Traceback" not in errors
    logged = [json.loads(line) for line in errors.splitlines() if line.strip()]  # not a TTY
    assert any(e.get("path") == "/healthz" and e.get("status") == 200 for e in logged), logged
    assert any(str(e.get("message", "")).startswith("scheduler started") for e in logged)


async def test_serve_logs_readable_lines_on_a_terminal(tmp_path: Path) -> None:
    """Issue 16 §5: on a terminal ``serve`` prints readable lines, not JSON."""
    port = free_port()
    env = environment(
        f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}",
        {"POINTSHALL_HOST": "127.0.0.1", "POINTSHALL_PORT": str(port), "PYTHONUNBUFFERED": "1"},
    )
    master, slave = pty.openpty()
    proc = await asyncio.create_subprocess_exec(
        console_script(),
        "serve",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=slave,
        start_new_session=True,
    )
    os.close(slave)

    def read_until(needle: str) -> str:
        seen = ""
        while needle not in seen:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the process is gone
                return seen
            if not chunk:
                return seen
            seen += chunk.decode(errors="replace")
        return seen

    try:
        seen = await asyncio.wait_for(asyncio.to_thread(read_until, "scheduler started"), WAIT)
        proc.send_signal(signal.SIGINT)
        await asyncio.wait_for(proc.wait(), WAIT)
    finally:
        if proc.returncode is None:
            os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()
        os.close(master)
    line = next(x for x in seen.splitlines() if "scheduler started" in x)
    assert re.fullmatch(
        r"\d\d:\d\d:\d\d INFO    pointshall\.scheduling: scheduler started: .*recharge.*",
        line.strip(),
    ), line
    assert not line.lstrip().startswith("{")
