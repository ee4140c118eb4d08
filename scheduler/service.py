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

from scheduler.jobs import JOBS, JobContext, Schedule
from scheduler.runner import run_job

MISFIRE_GRACE_SECONDS = 300


def _trigger(schedule: Schedule, ctx: JobContext) -> Any:
    if schedule.daily_hour is not None:
        return CronTrigger(hour=schedule.daily_hour, minute=0, timezone=ctx.timezone)
    assert schedule.minutes is not None
    return IntervalTrigger(minutes=schedule.minutes, timezone=ctx.timezone)


def schedule_jobs(scheduler: Any, ctx: JobContext) -> None:
    for job in JOBS:
        scheduler.add_job(
            run_job,
            _trigger(job.schedule, ctx),
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
