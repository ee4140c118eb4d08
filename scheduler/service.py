"""The APScheduler ``AsyncIOScheduler`` that runs the jobs inside ``serve``.

Each job is added under its stable name with ``replace_existing``, so adding the
jobs again replaces them instead of running them twice; ``max_instances=1`` and
``coalesce`` keep a slow run from piling up behind itself.
"""

from __future__ import annotations

from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from scheduler.jobs import JOBS, JobContext
from scheduler.runner import run_job

NOTICE_HOUR = 10  # expiry notices go out mid-morning, operator time
MISFIRE_GRACE_SECONDS = 300


def _trigger(name: str, ctx: JobContext) -> Any:
    if name == "orders-timeout":
        return IntervalTrigger(minutes=1, timezone=ctx.timezone)
    if name == "expiry-notices":
        return CronTrigger(hour=NOTICE_HOUR, minute=0, timezone=ctx.timezone)
    return IntervalTrigger(hours=1, timezone=ctx.timezone)


def schedule_jobs(scheduler: Any, ctx: JobContext) -> None:
    for job in JOBS:
        scheduler.add_job(
            run_job,
            _trigger(job.name, ctx),
            args=(ctx, job.name),
            id=job.name,
            name=job.name,
            replace_existing=True,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=MISFIRE_GRACE_SECONDS,
        )


def build_scheduler(ctx: JobContext) -> Any:
    """An unstarted scheduler with every job; start it from inside the running loop."""
    scheduler = AsyncIOScheduler(timezone=ctx.timezone)
    schedule_jobs(scheduler, ctx)
    return scheduler
