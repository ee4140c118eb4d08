"""Small helpers shared by the benchmarks."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from core.platform import keys

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG_DSN = "postgresql://postgres@127.0.0.1:5432/test"


def ensure_root_key() -> None:
    """A throwaway root key for this run (and the processes it starts), unless one is set:
    nothing starts without a root key outside the database (issue 13 §2)."""
    if not os.environ.get("POINTSHALL_SECRET_KEY") and not os.environ.get(
        "POINTSHALL_SECRET_KEY_FILE"
    ):
        os.environ["POINTSHALL_SECRET_KEY"] = keys.render((keys.new_key(1),)).strip()


ensure_root_key()


def run_context() -> str:
    """CPUs, load and code revision: what a reader needs to compare two runs' figures."""
    try:
        rev = subprocess.run(
            ["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        rev = ""
    return (
        f"code {rev or 'at ' + str(ROOT) + ' (not a git checkout)'}; "
        f"{os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.2f} at start (other work on the machine skews the figures)"
    )


async def pg_admin(dsn: str, sql: str) -> None:
    """Run one statement (CREATE/DROP DATABASE) on ``dsn``'s server."""
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()
