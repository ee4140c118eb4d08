"""What the admin API needs from the composition root."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from core.accrual import AccrualRules
from core.clock import Clock
from core.codes import Keyring
from core.db import Database


@dataclass(frozen=True)
class AdminDeps:
    db: Database
    clock: Clock
    keyring: Keyring
    rules: AccrualRules
    timezone: ZoneInfo
    region: str = "CN"
