"""Each scheduled job runs once per period however many replicas schedule it (issue 15 §4),
on SQLite and PostgreSQL: ``scheduler.runner.run_scheduled`` and ``core.platform.job_runs``.

The job used is ``orders-timeout`` (every minute) on an empty database: what is checked is
whether it ran, not what it changed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

import pytest

from core.platform import job_runs
from core.platform.clock import ManualClock, epoch
from core.platform.db import Database, open_database
from pointshall.bootstrap import Services
from pointshall.scheduling import job_context
from scheduler.jobs import BY_NAME, JobContext, Schedule
from scheduler.runner import run_job, run_scheduled
from tests.support import pg

SHANGHAI = ZoneInfo("Asia/Shanghai")
JOB = "orders-timeout"


def at(text: str) -> int:
    return epoch(datetime.fromisoformat(text))


def test_a_minute_job_s_period_is_its_minute_and_a_daily_job_s_its_day_from_the_hour() -> None:
    minute, hourly, daily = Schedule(minutes=1), Schedule(minutes=60), Schedule(daily_hour=3)
    assert minute.period_start(at("2026-11-20T02:07:59.9+00:00"), SHANGHAI) == at(
        "2026-11-20T02:07:00+00:00"
    )
    assert hourly.period_start(at("2026-11-20T02:07:00+00:00"), SHANGHAI) == at(
        "2026-11-20T02:00:00+00:00"
    )
    # 03:00 in Shanghai is 19:00 UTC the day before.
    assert daily.period_start(at("2026-11-20T02:59:59+08:00"), SHANGHAI) == at(
        "2026-11-19T03:00:00+08:00"
    )
    assert daily.period_start(at("2026-11-20T03:00:00+08:00"), SHANGHAI) == at(
        "2026-11-20T03:00:00+08:00"
    )
    assert BY_NAME["settlement"].schedule == daily


async def test_a_second_run_in_the_same_period_is_skipped_and_the_next_period_runs(
    services: Services, clock: ManualClock
) -> None:
    ctx = job_context(services)
    first = await run_scheduled(ctx, JOB, runner="a:1")
    assert first.ran
    clock.advance(timedelta(seconds=40))  # 02:00:40, still the same minute
    assert not (await run_scheduled(ctx, JOB, runner="b:2")).ran
    assert (await run_job(ctx, JOB)).ran  # by hand it runs whenever asked
    clock.advance(timedelta(seconds=20))
    assert (await run_scheduled(ctx, JOB, runner="b:2")).ran

    runs = await services.db.read(partial(job_runs.history, job=JOB))
    start = epoch(datetime(2026, 11, 20, 2, 0, tzinfo=UTC))
    assert [(r.period_start, r.runner, r.changed) for r in runs] == [
        (start, "a:1", 0),
        (start + 60, "b:2", 0),
    ]
    assert all(r.finished_at is not None for r in runs)


async def test_a_run_that_died_unfinished_is_taken_over_in_the_same_period(
    services: Services, clock: ManualClock
) -> None:
    ctx = job_context(services)
    now = epoch(clock.now())
    period = BY_NAME[JOB].schedule.period_start(now, ctx.timezone)
    claim = partial(job_runs.begin, job=JOB, period_start=period, now=now, runner="dead:9")
    assert await services.db.write(claim)  # ... and the process was killed here
    assert (await run_scheduled(ctx, JOB, runner="live:1")).ran
    [run] = await services.db.read(partial(job_runs.history, job=JOB))
    assert (run.runner, run.finished_at) == ("live:1", now)


@pytest.fixture
async def pg_replicas(pg_database: str, clock: ManualClock) -> AsyncIterator[list[JobContext]]:
    """Three replicas' job contexts on PostgreSQL, each with its own connections.

    PostgreSQL only: SQLite is one process, whose job lock is always had
    (``core.platform.job_lock``); the tests above cover its record of periods."""
    await pg.reset(pg.dsn(pg_database))
    dbs: list[Database] = [open_database(pg_database, pool_size=3) for _ in range(3)]
    try:
        yield [JobContext(db, clock, SHANGHAI) for db in dbs]
    finally:
        for db in dbs:
            await db.dispose()


async def test_replicas_firing_together_run_the_job_once(pg_replicas: list[JobContext]) -> None:
    results = await asyncio.gather(
        *(run_scheduled(ctx, JOB, runner=f"r:{i}") for i, ctx in enumerate(pg_replicas))
    )
    assert sum(r.ran for r in results) == 1
    assert len(await pg_replicas[0].db.read(partial(job_runs.history, job=JOB))) == 1
