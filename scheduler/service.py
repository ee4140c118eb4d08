"""The APScheduler ``AsyncIOScheduler`` that runs the jobs inside ``serve``.

Each job is added under its stable name with ``replace_existing``, so adding the
jobs again replaces them instead of running them twice; ``max_instances=1`` and
``coalesce`` keep a slow run from piling up behind itself. Every replica runs one; each
run goes through ``run_scheduled``, so a job runs once per period across all of them.
"""

from __future__ import annotations

import os
import socket
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from scheduler.jobs import JOBS, JobContext, Schedule
from scheduler.runner import run_scheduled

MISFIRE_GRACE_SECONDS = 300


def _trigger(schedule: Schedule, ctx: JobContext) -> Any:
    if schedule.daily_hour is not None:
        return CronTrigger(hour=schedule.daily_hour, minute=0, timezone=ctx.timezone)
    assert schedule.minutes is not None
    return IntervalTrigger(minutes=schedule.minutes, timezone=ctx.timezone)


def runner_name() -> str:
    """This process as the job record names it: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def schedule_jobs(scheduler: Any, ctx: JobContext) -> None:
    runner = runner_name()
    for job in JOBS:
        scheduler.add_job(
            run_scheduled,
            _trigger(job.schedule, ctx),
            args=(ctx, job.name),
            kwargs={"runner": runner},
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
