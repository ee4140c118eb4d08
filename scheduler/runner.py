"""Running a job once, through the one gate every run passes: the job lock.

``run_job`` is a run by hand (``pointshall jobs run``): it runs whenever no other process
is running the same job. ``run_scheduled`` is what the scheduler inside each replica
calls: it also runs the job at most once per period (``core.platform.job_runs``), so N
replicas scheduling the same job run it once a period, not N times.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

from core.platform import job_runs, metrics
from core.platform.job_lock import job_lock
from scheduler.jobs import BY_NAME, Job, JobContext

log = logging.getLogger(__name__)


class UnknownJob(KeyError):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


@dataclass(frozen=True)
class JobResult:
    name: str
    ran: bool  # False when another replica held the lock, or already ran this period
    changed: int


def _job(name: str) -> Job:
    job = BY_NAME.get(name)
    if job is None:
        raise UnknownJob(name)
    return job


async def run_job(ctx: JobContext, name: str) -> JobResult:
    """Run job ``name`` once unless another process is running it right now."""
    job = _job(name)
    async with job_lock(ctx.db, name) as mine:
        if not mine:
            log.info("job %s: running elsewhere, skipped", name)
            return JobResult(name, False, 0)
        changed = await job.run(ctx)
    log.log(logging.INFO if changed else logging.DEBUG, "job %s: %d changed", name, changed)
    return JobResult(name, True, changed)


def _iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def run_scheduled(ctx: JobContext, name: str, *, runner: str) -> JobResult:
    """Run job ``name`` for the period the clock is in, unless some process already has.

    ``runner`` names this process in the record (``host:pid``). Logs one line per
    decision (ran, or skipped and why), with the period's start in UTC.
    """
    job = _job(name)
    now = ctx.now()
    start = job.schedule.period_start(now, ctx.timezone)
    async with job_lock(ctx.db, name) as mine:
        if not mine:
            log.info("job %s period %s: running elsewhere, skipped", name, _iso(start))
            metrics.JOB_RUNS.labels(name, "busy").inc()
            return JobResult(name, False, 0)
        claim = partial(job_runs.begin, job=name, period_start=start, now=now, runner=runner)
        if not await ctx.db.write(claim):
            log.info("job %s period %s: already run, skipped", name, _iso(start))
            metrics.JOB_RUNS.labels(name, "done_this_period").inc()
            return JobResult(name, False, 0)
        changed = await job.run(ctx)
        await ctx.db.write(
            partial(job_runs.finish, job=name, period_start=start, now=ctx.now(), changed=changed)
        )
    metrics.JOB_RUNS.labels(name, "ran").inc()
    log.info("job %s period %s: ran by %s, %d changed", name, _iso(start), runner, changed)
    return JobResult(name, True, changed)
