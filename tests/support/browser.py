"""What the browser tests share: Debian's chromium, and how its absence is reported."""

from __future__ import annotations

import os

import pytest

CHROMIUM = "/usr/bin/chromium"


def unavailable(reason: str) -> None:
    """Skip on a developer machine; fail under ``CI=true``, where ``.ci/run`` installs it."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} under CI=true (.ci/run installs Debian's chromium)")
    pytest.skip(reason)
