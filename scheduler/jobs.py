"""The scheduled jobs: stable names, each a thin loop over a ``core`` service.

Every job reads the time once from the clock it is given, works in batches
(one unit of work each) and is idempotent: a second run finds nothing to do.
A job returns how many things it changed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from zoneinfo import ZoneInfo

from core import orders
from core.clock import Clock, epoch
from core.db import Database
from core.expiry import expire_lots_batch
from core.expiry_notices import queue_expiry_notices

DEFAULT_BATCH = 500


@dataclass(frozen=True)
class JobContext:
    """What the jobs need, built once by the composition root."""

    db: Database
    clock: Clock
    timezone: ZoneInfo
    expiry_notice_days: int = 30
    batch: int = DEFAULT_BATCH

    def now(self) -> int:
        return epoch(self.clock.now())


JobFn = Callable[[JobContext], Awaitable[int]]


async def orders_timeout(ctx: JobContext) -> int:
    """Expire unpaid orders past their time: holds released, stock returned."""
    now, done = ctx.now(), 0
    while True:
        n = await ctx.db.write(partial(orders.expire_unpaid, now=now, limit=ctx.batch))
        done += n
        if n < ctx.batch:
            return done


async def lots_expiry(ctx: JobContext) -> int:
    """Expire what is left of lots past their expiry; return the points expired."""
    now, after, points = ctx.now(), 0, 0
    while True:
        batch = await ctx.db.write(
            partial(expire_lots_batch, now=now, after=after, limit=ctx.batch)
        )
        points += batch.points
        if batch.last_account_id is None:
            return points
        after = batch.last_account_id


async def vouchers_expiry(ctx: JobContext) -> int:
    """Mark issued vouchers past their date as expired."""
    return await ctx.db.write(partial(orders.expire_vouchers, now=ctx.now()))


async def expiry_notices(ctx: JobContext) -> int:
    """Queue one SMS per lot whose points expire within ``expiry_notice_days``."""
    now, done = ctx.now(), 0
    while True:
        n = await ctx.db.write(
            partial(
                queue_expiry_notices,
                now=now,
                days=ctx.expiry_notice_days,
                tz=ctx.timezone,
                limit=ctx.batch,
            )
        )
        done += n
        if n < ctx.batch:
            return done


@dataclass(frozen=True)
class Job:
    name: str
    summary: str
    run: JobFn
    schedule: str  # human-readable; the trigger itself is built in scheduler.service


JOBS: tuple[Job, ...] = (
    Job(
        "orders-timeout",
        "expire unpaid orders, release holds and stock",
        orders_timeout,
        "every minute",
    ),
    Job("lots-expiry", "expire points whose lots have run out", lots_expiry, "hourly"),
    Job(
        "vouchers-expiry", "mark unused vouchers past their date expired", vouchers_expiry, "hourly"
    ),
    Job(
        "expiry-notices",
        "SMS each lot's owner N days before it expires",
        expiry_notices,
        "daily at 10:00 local time",
    ),
)
BY_NAME: dict[str, Job] = {job.name: job for job in JOBS}
