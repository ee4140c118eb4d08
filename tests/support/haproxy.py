"""A real HAProxy for the e2e tests: Debian's ``haproxy`` running ``deploy/haproxy.cfg``.

The documented config is the one tested: ``render`` keeps its ``defaults``, ``frontend``
and backends as they are and changes only what belongs to the machine it runs on: the
address it listens on and the stats page (the test's free ports), the ``server`` lines
(the test's replicas, same names and options) and the ``global`` lines that need a system
install (user, group, chroot, daemon, syslog, the stats socket).
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
import re
import shutil
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

import aiohttp

HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
CONFIG = Path(__file__).resolve().parents[2] / "deploy" / "haproxy.cfg"
START_TIMEOUT = 20.0
_SYSTEM_ONLY = re.compile(r"^\s+(log|chroot|user|group|daemon|stats socket)\b")
_SERVER = re.compile(r"^(\s+server\s+)(\S+)\s+\S+(.*)$")


def installed() -> bool:
    return os.access(HAPROXY, os.X_OK)


def render(port: int, stats_port: int, servers: dict[str, int], source: Path = CONFIG) -> str:
    """``deploy/haproxy.cfg`` listening on ``port``, its replicas at ``servers`` (name → port)."""
    lines: list[str] = []
    section = ""
    for line in source.read_text().splitlines():
        if line and not line[0].isspace() and not line.startswith("#"):
            section = line.split()[0]
        if section == "global" and _SYSTEM_ONLY.match(line):
            continue
        if section == "defaults" and line.strip() == "log global":
            continue
        if line.strip().startswith("bind "):
            target = stats_port if section == "listen" else port
            line = f"    bind 127.0.0.1:{target}"
        found = _SERVER.match(line)
        if found:
            name = found.group(2)
            if name not in servers:
                raise KeyError(f"deploy/haproxy.cfg names replica {name}; give it a port")
            line = f"{found.group(1)}{name} 127.0.0.1:{servers[name]}{found.group(3)}"
        lines.append(line)
    return "\n".join(lines) + "\n"


@dataclass
class Haproxy:
    proc: subprocess.Popen[bytes]
    port: int
    stats_port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def stats(self) -> list[dict[str, str]]:
        """HAProxy's statistics, one row per frontend, backend and server (its CSV)."""
        url = f"http://127.0.0.1:{self.stats_port}/stats;csv"
        async with aiohttp.ClientSession() as session, session.get(url) as resp:
            body = await resp.text()
        return list(csv.DictReader(io.StringIO(body.lstrip("# "))))

    async def states(self, backend: str = "replicas") -> dict[str, str]:
        """Each server of ``backend`` and its state as HAProxy sees it (``UP``, ``DOWN``…)."""
        return {
            row["svname"]: row["status"].split()[0]
            for row in await self.stats()
            if row["pxname"] == backend and row["svname"] not in ("FRONTEND", "BACKEND")
        }

    async def replays(self, backend: str = "replayable") -> tuple[int, int]:
        """How many requests ``backend`` sent again (retries) and to another server."""
        for row in await self.stats():
            if row["pxname"] == backend and row["svname"] == "BACKEND":
                return int(row["wretr"] or 0), int(row["wredis"] or 0)
        raise KeyError(backend)

    async def wait_for(self, server: str, state: str) -> None:
        """Wait until ``server`` is ``state`` (health checks run every second); the caller
        bounds the wait (``asyncio.timeout``)."""
        while (await self.states()).get(server) != state:  # noqa: ASYNC110
            await asyncio.sleep(0.2)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start(workdir: Path, port: int, stats_port: int, servers: dict[str, int]) -> Haproxy:
    """Check and start HAProxy in the foreground with the rendered config."""
    config = workdir / "haproxy.cfg"
    config.write_text(render(port, stats_port, servers))
    checked = subprocess.run(
        [HAPROXY, "-c", "-f", str(config)], capture_output=True, text=True, check=False
    )
    if checked.returncode != 0:
        raise RuntimeError(f"haproxy -c refused the config: {checked.stdout}{checked.stderr}")
    log = workdir / "haproxy.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [HAPROXY, "-db", "-f", str(config)],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Haproxy(proc, port, stats_port, log)
