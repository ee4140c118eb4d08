"""Wiring the scheduler into the web app's lifecycle (started by ``serve``)."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import AsyncIterator
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from core.points.feed_inbox import FeedInbox
from pointshall.bootstrap import Services
from scheduler.jobs import JobContext
from scheduler.service import build_scheduler

log = logging.getLogger(__name__)
SCHEDULER_KEY = web.AppKey("scheduler", Any)


def feed_inbox(services: Services) -> FeedInbox | None:
    """The billing feed inbox of ``POINTSHALL_FEED_INBOX``, or None when it is not set."""
    settings = services.settings
    if settings.feed_inbox is None:
        return None
    return FeedInbox(
        folder=settings.feed_inbox,
        rules=services.rules,
        worker=f"{socket.gethostname()}:{os.getpid()}",
        strict=settings.feed_strict,
        marker=settings.feed_marker,
        alert_phones=settings.feed_alert_numbers(),
        lease_seconds=settings.feed_lease_seconds,
        region=settings.default_region,
        home_lang=settings.default_lang,
    )


def job_context(services: Services) -> JobContext:
    return JobContext(
        db=services.db,
        clock=services.clock,
        timezone=ZoneInfo(services.settings.timezone),
        expiry_notice_days=services.settings.expiry_notice_days,
        payments=services.payments,
        feed=feed_inbox(services),
        recharge=services.recharge,
    )


def attach_scheduler(app: web.Application, services: Services) -> None:
    """Run the jobs while ``app`` runs: started on startup, shut down on cleanup."""

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        logging.getLogger("apscheduler").setLevel(logging.WARNING)  # one line per run is noise
        scheduler = build_scheduler(job_context(services))
        scheduler.start()
        app[SCHEDULER_KEY] = scheduler
        log.info("scheduler started: %s", ", ".join(j.id for j in scheduler.get_jobs()))
        try:
            yield
        finally:
            scheduler.shutdown(wait=False)
            await asyncio.sleep(0)  # AsyncIOScheduler shuts down on the loop's next turn

    app.cleanup_ctx.append(lifecycle)
