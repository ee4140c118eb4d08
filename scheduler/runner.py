"""Running a job once, through the one gate every run passes: the job lock."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from core.platform.job_lock import job_lock
from scheduler.jobs import BY_NAME, JobContext

log = logging.getLogger(__name__)


class UnknownJob(KeyError):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


@dataclass(frozen=True)
class JobResult:
    name: str
    ran: bool  # False when another replica held the lock
    changed: int


async def run_job(ctx: JobContext, name: str) -> JobResult:
    """Run job ``name`` once unless another process is running it right now."""
    job = BY_NAME.get(name)
    if job is None:
        raise UnknownJob(name)
    async with job_lock(ctx.db, name) as mine:
        if not mine:
            log.info("job %s: running elsewhere, skipped", name)
            return JobResult(name, False, 0)
        changed = await job.run(ctx)
    log.log(logging.INFO if changed else logging.DEBUG, "job %s: %d changed", name, changed)
    return JobResult(name, True, changed)
