"""The billing feed picked up by itself (issue 16 §4, seed §1, DESIGN §9), both databases.

A file dropped into the inbox is imported once, for the period in its name, and moved
to ``processed/`` with a report, or to ``rejected/`` under the strict rules with the
operators told; it is claimed in the database, so two replicas (two schedulers, or two
runs racing without the job lock) import it exactly once. The scheduler is the real
APScheduler on a controllable clock (``tests/support/scheduler_clock.py``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import shutil
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, func, select

from core.platform.clock import ManualClock, epoch
from core.platform.db import Database
from core.platform.schema import entry, feed_file, feed_import, outbox
from core.points import doctor, feed_inbox
from core.points.feed_inbox import FeedInbox, period_in_name, process_inbox
from pointshall.bootstrap import Services, bootstrap
from pointshall.scheduling import job_context
from scheduler.jobs import JobContext
from scheduler.runner import run_job
from scheduler.service import build_scheduler
from tests.support.helpers import write_feed
from tests.support.scheduler_clock import Runs, on_clock
from tests.support.settings import make_settings

PERIOD = "2026-10"
OPERATOR = "+8613900001111"
GOOD = [
    ("13800138000", PERIOD, 100_000, 70, 100, "mobile", "张伟"),
    ("13900139000", PERIOD, 25_680, 14, 20, "mobile", "李娜"),
]
GOOD_POINTS = 2_000 + 100 + 308 + 20  # floor(1000 × 2.0) + 100, floor(256.80 × 1.2) + 20
BAD_ROW = ("not-a-phone", PERIOD, 100, 1, 0, "mobile", "")
MINUTE = timedelta(seconds=61)


def inbox_of(services: Services, folder: Path, **kw: Any) -> FeedInbox:
    fields: dict[str, Any] = {
        "folder": folder,
        "rules": services.rules,
        "worker": "test:1",
        "alert_phones": (OPERATOR,),
    }
    fields.update(kw)
    return FeedInbox(**fields)


def context(services: Services, inbox: FeedInbox) -> JobContext:
    return dataclasses.replace(job_context(services), feed=inbox)


def drop(folder: Path, name: str, rows: Sequence[Sequence[object]], marker: bool = True) -> Path:
    path = write_feed(folder / name, rows)
    if marker:
        (folder / f"{name}.done").touch()
    return path


async def ledger(db: Database) -> tuple[int, int, list[tuple[str, int]]]:
    """(entries, points, [(status, rows_ok) of each feed import])."""

    def q(conn: Connection) -> tuple[int, int, list[tuple[str, int]]]:
        n, points = conn.execute(
            select(func.count(), func.coalesce(func.sum(entry.c.amount), 0))
        ).one()
        imports = [
            (str(s), int(ok))
            for s, ok in conn.execute(
                select(feed_import.c.status, feed_import.c.rows_ok).order_by(feed_import.c.id)
            )
        ]
        return int(n), int(points), imports

    return await db.read(q)


async def claims(db: Database) -> list[tuple[str, str, str | None]]:
    def q(conn: Connection) -> list[tuple[str, str, str | None]]:
        return [
            (str(n), str(s), m)
            for n, s, m in conn.execute(
                select(feed_file.c.name, feed_file.c.status, feed_file.c.moved_to).order_by(
                    feed_file.c.id
                )
            )
        ]

    return await db.read(q)


async def alerts(db: Database) -> list[str]:
    def q(conn: Connection) -> list[str]:
        return list(
            conn.execute(
                select(outbox.c.text).where(outbox.c.recipient == OPERATOR).order_by(outbox.c.id)
            ).scalars()
        )

    return await db.read(q)


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


@pytest.fixture
def inbox_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir()
    return folder


# ------------------------------------------------------------------ the real scheduler


async def test_the_scheduler_imports_a_complete_file_once(
    services: Services, clock: ManualClock, inbox_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    on_clock(monkeypatch, clock)
    scheduler = build_scheduler(context(services, inbox_of(services, inbox_dir)))
    runs = Runs(scheduler, "feed-inbox")
    scheduler.start()
    try:
        assert scheduler.get_job("feed-inbox").next_run_time == clock.now() + timedelta(minutes=1)
        drop(inbox_dir, f"billing-{PERIOD}.csv", GOOD, marker=False)  # still being written
        clock.advance(MINUTE)
        scheduler.wakeup()
        await runs.wait(1)
        assert runs.results[0].changed == 0 and await ledger(services.db) == (0, 0, [])
        (inbox_dir / f"billing-{PERIOD}.csv.done").touch()  # the sender is done
        clock.advance(timedelta(seconds=30))
        scheduler.wakeup()
        await asyncio.sleep(0)  # the wake-up runs: not yet a minute since the last run
        assert runs.submitted.count("feed-inbox") == 1
        clock.advance(timedelta(seconds=31))
        scheduler.wakeup()
        await runs.wait(2)
        assert runs.results[1].changed == 1 and len(runs.events) == 2
        clock.advance(MINUTE)
        scheduler.wakeup()
        await runs.wait(3)
        assert runs.results[2].changed == 0 and runs.failures == []
    finally:
        scheduler.shutdown(wait=False)
        await asyncio.sleep(0)
    assert await ledger(services.db) == (2, GOOD_POINTS, [("done", 2)])
    assert names(inbox_dir) == ["processed"]
    assert names(inbox_dir / "processed") == [
        f"billing-{PERIOD}.csv",
        f"billing-{PERIOD}.csv.report.txt",
    ]
    report = (inbox_dir / "processed" / f"billing-{PERIOD}.csv.report.txt").read_text()
    assert f"period:    {PERIOD}" in report and "2 posted (2,428 points)" in report
    assert await claims(services.db) == [
        (f"billing-{PERIOD}.csv", "processed", f"processed/billing-{PERIOD}.csv")
    ]
    assert (await services.db.read(doctor.examine)).ok


async def test_two_schedulers_import_a_dropped_file_exactly_once(
    database_url: str, clock: ManualClock, inbox_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two replicas (each its own engine and scheduler) on one database and one inbox."""
    on_clock(monkeypatch, clock)
    replicas = [
        await bootstrap(make_settings(database_url), clock=clock, upgrade=False) for _ in range(2)
    ]
    schedulers = [
        build_scheduler(context(r, inbox_of(r, inbox_dir, worker=f"replica-{i}")))
        for i, r in enumerate(replicas)
    ]
    runs = [Runs(s, "feed-inbox") for s in schedulers]
    for s in schedulers:
        s.start()
    try:
        drop(inbox_dir, f"feed_{PERIOD.replace('-', '')}.csv", GOOD)
        clock.advance(MINUTE)
        for s in schedulers:
            s.wakeup()
        for r in runs:
            await r.wait(1)
        results = [r.results[0] for r in runs]
        assert sorted(res.changed for res in results) == [0, 1]
    finally:
        for s in schedulers:
            s.shutdown(wait=False)
        await asyncio.sleep(0)
        for r in replicas:
            await r.close()
    async with opened(database_url, clock) as services:
        assert await ledger(services.db) == (2, GOOD_POINTS, [("done", 2)])
        assert [c[1] for c in await claims(services.db)] == ["processed"]
    assert names(inbox_dir / "processed") == ["feed_202610.csv", "feed_202610.csv.report.txt"]


async def test_two_runs_racing_without_the_job_lock_import_once(
    database_url: str, clock: ManualClock, inbox_dir: Path
) -> None:
    """The claim alone decides: the job lock is bypassed, both runs see the same file."""
    replicas = [
        await bootstrap(make_settings(database_url), clock=clock, upgrade=False) for _ in range(2)
    ]
    try:
        drop(inbox_dir, f"billing-{PERIOD}.csv", GOOD)
        done = await asyncio.gather(
            *(
                process_inbox(r.db, inbox_of(r, inbox_dir, worker=f"replica-{i}"), clock)
                for i, r in enumerate(replicas)
            )
        )
        assert sorted(len(d) for d in done) == [0, 1]
        assert await ledger(replicas[0].db) == (2, GOOD_POINTS, [("done", 2)])
    finally:
        for r in replicas:
            await r.close()


# --------------------------------------------------------------- the rules of the inbox


async def test_strict_rules_reject_a_file_with_a_bad_row_and_tell_the_operators(
    services: Services, inbox_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ctx = context(services, inbox_of(services, inbox_dir))
    drop(inbox_dir, f"billing-{PERIOD}.csv", [*GOOD, BAD_ROW])
    assert (await run_job(ctx, "feed-inbox")).changed == 1
    entries, _, imports = await ledger(services.db)
    assert entries == 0 and imports == [("refused", 0)]
    assert names(inbox_dir) == ["rejected"]
    report = (inbox_dir / "rejected" / f"billing-{PERIOD}.csv.report.txt").read_text()
    assert "result:    rejected" in report
    assert "line 4: msisdn 'not-a-phone' is not a valid phone number" in report
    [told] = await alerts(services.db)
    assert f"billing-{PERIOD}.csv" in told and "rejected" in told
    assert any("rejected" in r.getMessage() for r in caplog.records if r.levelname == "WARNING")
    assert await claims(services.db) == [
        (f"billing-{PERIOD}.csv", "rejected", f"rejected/billing-{PERIOD}.csv")
    ]


async def test_lenient_rules_import_the_good_rows_and_report_the_bad(
    services: Services, inbox_dir: Path
) -> None:
    ctx = context(services, inbox_of(services, inbox_dir, strict=False))
    drop(inbox_dir, f"billing-{PERIOD}.csv", [BAD_ROW, *GOOD])
    assert (await run_job(ctx, "feed-inbox")).changed == 1
    assert await ledger(services.db) == (2, GOOD_POINTS, [("done", 2)])
    report = (inbox_dir / "processed" / f"billing-{PERIOD}.csv.report.txt").read_text()
    assert "2 posted" in report and "1 bad" in report and "line 2: msisdn" in report
    assert await alerts(services.db) == []


async def test_a_file_without_a_period_in_its_name_is_rejected(
    services: Services, inbox_dir: Path
) -> None:
    ctx = context(services, inbox_of(services, inbox_dir))
    drop(inbox_dir, "billing.csv", GOOD)
    assert (await run_job(ctx, "feed-inbox")).changed == 1
    assert await ledger(services.db) == (0, 0, [])
    assert "no billing period" in (inbox_dir / "rejected" / "billing.csv.report.txt").read_text()
    assert len(await alerts(services.db)) == 1


async def test_without_markers_a_file_counts_once_renamed_in(
    services: Services, inbox_dir: Path
) -> None:
    ctx = context(services, inbox_of(services, inbox_dir, marker=False))
    part = write_feed(inbox_dir / f"billing-{PERIOD}.csv.part", GOOD)
    hidden = write_feed(inbox_dir / f".billing-{PERIOD}.csv", GOOD)
    assert (await run_job(ctx, "feed-inbox")).changed == 0
    part.rename(inbox_dir / f"billing-{PERIOD}.csv")  # the atomic rename
    assert (await run_job(ctx, "feed-inbox")).changed == 1
    assert await ledger(services.db) == (2, GOOD_POINTS, [("done", 2)])
    assert hidden.exists()


async def test_the_same_file_dropped_again_is_not_imported_again(
    services: Services, inbox_dir: Path
) -> None:
    ctx = context(services, inbox_of(services, inbox_dir))
    name = f"billing-{PERIOD}.csv"
    drop(inbox_dir, name, GOOD)
    assert (await run_job(ctx, "feed-inbox")).changed == 1
    drop(inbox_dir, name, GOOD)
    assert (await run_job(ctx, "feed-inbox")).changed == 1
    assert await ledger(services.db) == (2, GOOD_POINTS, [("done", 2)])
    [again] = [n for n in names(inbox_dir / "rejected") if not n.endswith(".report.txt")]
    report = (inbox_dir / "rejected" / f"{again}.report.txt").read_text()
    assert "already processed as feed file 1" in report
    assert len(await alerts(services.db)) == 1
    # A corrected file of the same name is new content: imported, beside the first.
    drop(inbox_dir, name, [GOOD[0]])
    assert (await run_job(ctx, "feed-inbox")).changed == 1
    assert len(names(inbox_dir / "processed")) == 4
    assert [c[1] for c in await claims(services.db)] == ["processed", "processed"]


async def test_a_file_left_behind_by_a_crash_is_finished_not_imported_twice(
    services: Services, inbox_dir: Path
) -> None:
    ctx = context(services, inbox_of(services, inbox_dir))
    name = f"billing-{PERIOD}.csv"
    drop(inbox_dir, name, GOOD)
    assert (await run_job(ctx, "feed-inbox")).changed == 1
    # The process died after recording the outcome, before publishing the report and
    # moving the file:
    processed = inbox_dir / "processed"
    shutil.move(processed / name, inbox_dir / name)
    (processed / f"{name}.report.txt").rename(processed / f".{name}.report.txt.part")
    (inbox_dir / f"{name}.done").touch()
    assert (await run_job(ctx, "feed-inbox")).changed == 1
    assert names(inbox_dir) == ["processed"]
    assert names(processed) == [name, f"{name}.report.txt"]
    assert await ledger(services.db) == (2, GOOD_POINTS, [("done", 2)])
    assert await alerts(services.db) == []


async def test_a_claim_of_a_dead_process_is_taken_over_after_its_lease(
    services: Services, clock: ManualClock, inbox_dir: Path
) -> None:
    inbox = inbox_of(services, inbox_dir, lease_seconds=600)
    name = f"billing-{PERIOD}.csv"
    drop(inbox_dir, name, GOOD)

    def stuck(conn: Connection) -> None:  # what a process leaves when it dies mid-import
        data = (inbox_dir / name).read_bytes()
        conn.execute(
            feed_file.insert().values(
                name=name,
                sha256=hashlib.sha256(data).hexdigest(),
                size=len(data),
                period=PERIOD,
                status="importing",
                claimed_by="dead:9",
                claimed_at=epoch(clock.now()),
            )
        )

    await services.db.write(stuck)
    assert await process_inbox(services.db, inbox, clock) == []  # still within its lease
    clock.advance(timedelta(seconds=601))
    [done] = await process_inbox(services.db, inbox, clock)
    assert done.status == "processed"
    assert await ledger(services.db) == (2, GOOD_POINTS, [("done", 2)])


async def test_a_run_that_lost_its_claim_records_nothing(
    services: Services, clock: ManualClock, inbox_dir: Path
) -> None:
    slow = inbox_of(services, inbox_dir, worker="slow:1", lease_seconds=600)
    fast = inbox_of(services, inbox_dir, worker="fast:2", lease_seconds=600)
    now = epoch(clock.now())

    def take(inbox: FeedInbox, at: int) -> Any:
        return lambda conn: feed_inbox.claim(
            conn, name="billing-2026-10.csv", sha="ab" * 32, size=10, now=at, inbox=inbox
        )

    first = await services.db.write(take(slow, now))
    assert first.state == "mine"
    assert (await services.db.write(take(fast, now + 599))).state == "busy"
    assert await services.db.write(partial(feed_inbox.renew, found=first, now=now + 300))
    assert (await services.db.write(take(fast, now + 899))).state == "busy"  # renewed at +300
    second = await services.db.write(take(fast, now + 901))
    assert second.state == "mine" and second.id == first.id

    def outcome(found: Any, status: str) -> Any:
        return partial(
            feed_inbox.finish,
            found=found,
            status=status,
            moved_to=f"{status}/billing-2026-10.csv",
            import_id=None,
            detail="" if status == "processed" else "lost",
            now=now + 902,
            inbox=slow,
        )

    assert not await services.db.write(partial(feed_inbox.renew, found=first, now=now + 902))
    assert not await services.db.write(outcome(first, "rejected"))
    assert await services.db.write(outcome(second, "processed"))
    assert await claims(services.db) == [
        ("billing-2026-10.csv", "processed", "processed/billing-2026-10.csv")
    ]
    assert await alerts(services.db) == []  # the loser's rejection was never recorded
    assert (await services.db.write(take(slow, now + 903))).state == "done"


def test_the_period_comes_from_the_file_name() -> None:
    assert period_in_name("billing-2026-10.csv") == "2026-10"
    assert period_in_name("feed_202610.csv") == "2026-10"
    assert period_in_name("BILL_2026-10_v2.csv") == "2026-10"
    assert period_in_name("billing.csv") is None
    assert period_in_name("2026-10-to-2026-11.csv") is None  # two periods: ambiguous
    assert period_in_name("feed_20261005.csv") is None


@asynccontextmanager
async def opened(database_url: str, clock: ManualClock) -> AsyncIterator[Services]:
    """A fresh ``Services`` on ``database_url``, for the checks after the replicas closed."""
    services = await bootstrap(make_settings(database_url), clock=clock, upgrade=False)
    try:
        yield services
    finally:
        await services.close()
