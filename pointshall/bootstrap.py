"""Build everything once, from settings, and hand it in (cosmicpython's bootstrap)."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from core.accrual import AccrualRules
from core.clock import Clock, SystemClock
from core.db import Database, open_database
from handlers.context import HallPolicy
from handlers.hall import Hall
from pointshall import migrate
from pointshall.config import Settings


@dataclass
class Services:
    settings: Settings
    db: Database
    clock: Clock
    hall: Hall
    rules: AccrualRules

    async def close(self) -> None:
        await self.db.dispose()


def policy_from(settings: Settings) -> HallPolicy:
    return HallPolicy(
        segment_budget=settings.segment_budget,
        rate_limit_per_minute=settings.rate_limit_per_minute,
        home_lang=settings.default_lang,
        region=settings.default_region,
        timezone=ZoneInfo(settings.timezone),
    )


async def bootstrap(
    settings: Settings, *, clock: Clock | None = None, upgrade: bool = True
) -> Services:
    """Open the database (migrating it to head unless told not to) and wire the hall."""
    clock = clock or SystemClock()
    db = open_database(settings.database_url, pool_size=settings.db_pool_size)
    try:
        if upgrade:
            await migrate.upgrade(db)
    except BaseException:
        await db.dispose()
        raise
    hall = Hall(policy_from(settings), clock)
    return Services(settings, db, clock, hall, settings.accrual_rules())
