"""``pointshall serve`` as a real process of the installed console script: it upgrades the
database, listens, answers ``/healthz``, and on Ctrl-C (SIGINT) stops the outbox drain and
the scheduler, closes the database and exits 0."""

from __future__ import annotations

import asyncio
import os
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
