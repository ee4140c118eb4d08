"""The scheduled jobs: stable names, each a thin loop over a ``core`` service.

Every job reads the time once from the clock it is given, works in batches
(one unit of work each) and is idempotent: a second run finds nothing to do.
A job returns how many things it changed.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from core.orders import cancellation
from core.payments import saga as payments
from core.payments.saga import PaymentContext
from core.platform.clock import Clock, epoch
from core.platform.db import Database
from core.points import feed_inbox as feed_files
from core.points.expiry import expire_lots_batch
from core.points.expiry_notices import queue_expiry_notices
from core.points.feed_inbox import FeedInbox
from core.recharge import delivery
from core.recharge.delivery import RechargeContext
from core.settlement import runs, settlement
from core.vouchers import vouchers

log = logging.getLogger(__name__)
DEFAULT_BATCH = 500
HOUR = 60


@dataclass(frozen=True)
class JobContext:
    """What the jobs need, built once by the composition root."""

    db: Database
    clock: Clock
    timezone: ZoneInfo
    expiry_notice_days: int = 30
    batch: int = DEFAULT_BATCH
    payments: PaymentContext | None = None
    feed: FeedInbox | None = None
    recharge: RechargeContext | None = None

    def now(self) -> int:
        return epoch(self.clock.now())


JobFn = Callable[[JobContext], Awaitable[int]]


async def orders_timeout(ctx: JobContext) -> int:
    """Expire unpaid orders past their time: holds released, stock returned."""
    now, done = ctx.now(), 0
    while True:
        n = await ctx.db.write(partial(cancellation.expire_unpaid, now=now, limit=ctx.batch))
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
    return await ctx.db.write(partial(vouchers.expire, now=ctx.now()))


async def expiry_notices(ctx: JobContext) -> int:
    """Queue one SMS per account and expiry date within ``expiry_notice_days`` (lots summed)."""
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


async def monthly_settlement(ctx: JobContext) -> int:
    """Turn last month's unsettled lines into statements, or into its draft when it was
    settled early (a month already settled and agreed: nothing)."""
    now = ctx.now()
    run = await runs.settle_due(
        ctx.db,
        period=settlement.previous_period(now, ctx.timezone),
        now=now,
        tz=ctx.timezone,
        by="scheduler",
    )
    for left in run.waiting:
        if left.numbered_after is not None:
            log.info(
                "settlement: %s has %d line(s) (ids %d to %d) for the next statement"
                " (numbered after the watermark %d)",
                left.merchant_code,
                left.lines,
                left.first_id,
                left.last_id,
                left.numbered_after,
            )
            continue
        log.info(
            "settlement: %s has %d line(s) (ids %d to %d) for the %s statement (%s is %s)",
            left.merchant_code,
            left.lines,
            left.first_id,
            left.last_id,
            left.next_period,
            left.period,
            left.statement_status,
        )
    return run.changed


async def payments_reconcile(ctx: JobContext) -> int:
    """Finish or compensate payment sagas unfinished past the grace period (DESIGN §5)."""
    if ctx.payments is None:
        return 0
    return await payments.reconcile(ctx.payments, ctx.now())


async def feed_inbox(ctx: JobContext) -> int:
    """Import each complete billing file dropped into the inbox, once across replicas."""
    if ctx.feed is None:
        return 0
    return len(await feed_files.process_inbox(ctx.db, ctx.feed, ctx.clock))


async def recharge(ctx: JobContext) -> int:
    """Submit requested phone top-ups; ask the provider about unanswered ones (issue 16 §2)."""
    if ctx.recharge is None:
        return 0
    return await delivery.deliver_due(ctx.recharge, ctx.now())


@dataclass(frozen=True)
class Schedule:
    """Every ``minutes``, or once a day at ``daily_hour`` (operator time)."""

    minutes: int | None = None
    daily_hour: int | None = None

    def period_start(self, now: int, tz: ZoneInfo) -> int:
        """The start of the period ``now`` (UTC epoch seconds) falls in, as epoch seconds.

        Every ``minutes``: periods are aligned on the epoch (a minute job's period starts
        at second 0 of the minute). Daily: the last ``daily_hour``:00 local time at or
        before ``now``. A scheduled run happens once per period (``run_scheduled``).
        """
        if self.daily_hour is None:
            assert self.minutes is not None
            length = self.minutes * 60
            return now - now % length
        local = datetime.fromtimestamp(now, tz)
        start = datetime.combine(local.date(), time(self.daily_hour), tzinfo=tz)
        if start > local:
            start = datetime.combine(local.date() - timedelta(days=1), time(self.daily_hour), tz)
        return epoch(start)

    def __str__(self) -> str:
        if self.daily_hour is not None:
            return f"daily at {self.daily_hour:02d}:00 local time"
        if self.minutes == 1:
            return "every minute"
        if self.minutes == HOUR:
            return "hourly"
        return f"every {self.minutes} minutes"


@dataclass(frozen=True)
class Job:
    name: str
    summary: str
    run: JobFn
    schedule: Schedule


NOTICE_HOUR = 10  # expiry notices go out mid-morning, operator time
SETTLEMENT_HOUR = 3  # daily; only the first run after a month ends finds work
JOBS: tuple[Job, ...] = (
    Job(
        "orders-timeout",
        "expire unpaid orders, release holds and stock",
        orders_timeout,
        Schedule(minutes=1),
    ),
    Job(
        "lots-expiry",
        "expire points whose lots have run out",
        lots_expiry,
        Schedule(minutes=HOUR),
    ),
    Job(
        "vouchers-expiry",
        "mark unused vouchers past their date expired",
        vouchers_expiry,
        Schedule(minutes=HOUR),
    ),
    Job(
        "expiry-notices",
        "SMS each subscriber once per expiry date, N days before",
        expiry_notices,
        Schedule(daily_hour=NOTICE_HOUR),
    ),
    Job(
        "settlement",
        "make last month's merchant statements (once per merchant and month)",
        monthly_settlement,
        Schedule(daily_hour=SETTLEMENT_HOUR),
    ),
    Job(
        "feed-inbox",
        "import billing files dropped into POINTSHALL_FEED_INBOX (once across replicas)",
        feed_inbox,
        Schedule(minutes=1),
    ),
    Job(
        "payments-reconcile",
        "ask the gateway about unfinished payments; finish them or refund",
        payments_reconcile,
        Schedule(minutes=1),
    ),
    Job(
        "recharge",
        "send requested phone top-ups to the provider; ask about unanswered ones",
        recharge,
        Schedule(minutes=1),
    ),
)
BY_NAME: dict[str, Job] = {job.name: job for job in JOBS}
