"""Wiring the scheduler into the web app's lifecycle (started by ``serve``)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from zoneinfo import ZoneInfo

from aiohttp import web

from pointshall.bootstrap import Services
from scheduler.jobs import JobContext
from scheduler.service import build_scheduler

log = logging.getLogger(__name__)


def job_context(services: Services) -> JobContext:
    return JobContext(
        db=services.db,
        clock=services.clock,
        timezone=ZoneInfo(services.settings.timezone),
        expiry_notice_days=services.settings.expiry_notice_days,
    )


def attach_scheduler(app: web.Application, services: Services) -> None:
    """Run the jobs while ``app`` runs: started on startup, shut down on cleanup."""

    async def lifecycle(_app: web.Application) -> AsyncIterator[None]:
        scheduler = build_scheduler(job_context(services))
        scheduler.start()
        log.info("scheduler started: %s", ", ".join(j.id for j in scheduler.get_jobs()))
        try:
            yield
        finally:
            scheduler.shutdown(wait=False)

    app.cleanup_ctx.append(lifecycle)
