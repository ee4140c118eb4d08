"""Running the ``pointshall`` command line as an operator does, with a test database."""

from __future__ import annotations

import os
import subprocess
import sys


def pointshall(
    database_url: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = (
        {k: v for k, v in os.environ.items() if not k.startswith("POINTSHALL_")}
        | {"POINTSHALL_DATABASE_URL": database_url, "COLUMNS": "200"}
        | (env or {})
    )
    return subprocess.run(
        [sys.executable, "-m", "pointshall", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=120,
        check=False,
    )
