"""The real APScheduler on a controllable clock.

APScheduler 3 reads the time with ``datetime.now`` in the scheduler (which jobs are
due, the next wake-up), the interval trigger (its first run) and the executor (the
misfire check). ``on_clock`` points those three at a ``ManualClock``; everything else
(the triggers' arithmetic, the job store, coalescing, ``max_instances``, the asyncio
executor) is APScheduler's own. ``Runs`` waits for the runs of one job (and
whatever ran beside it): ``clock.advance(…)``, ``scheduler.wakeup()``, then
``await runs.wait(n)``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, tzinfo
from typing import Any

import pytest
from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    EVENT_JOB_SUBMITTED,
    JobEvent,
)

from core.platform.clock import ManualClock

MODULES = (
    "apscheduler.schedulers.base",
    "apscheduler.executors.base",
    "apscheduler.triggers.interval",
)
SAFETY_SECONDS = 60  # a wait that never ends fails the test instead of hanging it


def on_clock(monkeypatch: pytest.MonkeyPatch, clock: ManualClock) -> None:
    """Make APScheduler read ``clock`` wherever it asks for the time."""

    class ClockTime(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> Any:
            moment = clock.now()
            return moment.astimezone(tz) if tz is not None else moment.replace(tzinfo=None)

    for module in MODULES:
        monkeypatch.setattr(f"{module}.datetime", ClockTime)


class Runs:
    """The runs APScheduler reports for one scheduler: submitted, finished, and how."""

    def __init__(self, scheduler: Any, job_id: str) -> None:
        self.job_id = job_id
        self.submitted: list[str] = []
        """The ids of the jobs submitted, in order."""
        self.finished: list[JobEvent] = []
        self._changed = asyncio.Event()
        done = EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES
        scheduler.add_listener(self._seen, done | EVENT_JOB_SUBMITTED)

    def _seen(self, event: JobEvent) -> None:
        if event.code == EVENT_JOB_SUBMITTED:
            self.submitted.append(event.job_id)
        else:
            self.finished.append(event)
        self._changed.set()

    @property
    def events(self) -> list[JobEvent]:
        """How each run of ``job_id`` ended."""
        return [e for e in self.finished if e.job_id == self.job_id]

    @property
    def results(self) -> list[Any]:
        """What each finished run of ``job_id`` returned (``scheduler.runner.JobResult``)."""
        return [e.retval for e in self.events if e.code == EVENT_JOB_EXECUTED]

    @property
    def failures(self) -> list[JobEvent]:
        """Runs of any job that did not end well."""
        return [e for e in self.finished if e.code != EVENT_JOB_EXECUTED]

    async def _until(self, done: Callable[[], bool]) -> None:
        async def waiting() -> None:
            while not done():
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(waiting(), SAFETY_SECONDS)

    async def wait(self, count: int) -> None:
        """Until ``count`` runs of ``job_id`` have ended, and every other run submitted with
        them too (so nothing is cut off when the scheduler shuts down)."""
        await self._until(
            lambda: len(self.events) >= count and len(self.finished) >= len(self.submitted)
        )
