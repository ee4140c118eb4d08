"""What the admin API needs from the composition root."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from core.backoffice.staffing import DEFAULT_ALONE_PER_DAY
from core.platform.clock import Clock
from core.platform.codes import Keyring
from core.platform.db import Database
from core.points.accrual import AccrualRules


@dataclass(frozen=True)
class AdminDeps:
    db: Database
    clock: Clock
    keyring: Keyring
    rules: AccrualRules
    timezone: ZoneInfo
    region: str = "CN"
    home_lang: str = "zh"
    """The language of a download when the request names none (``POINTSHALL_DEFAULT_LANG``)."""
    staff_changes_per_day: int = DEFAULT_ALONE_PER_DAY
    """Staff changes an admin makes alone in 24 hours; more need a second admin."""
