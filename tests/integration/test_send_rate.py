"""One outbound rate shared by every replica (issue 15 §4): ``core.messaging.send_rate`` on
SQLite and PostgreSQL.

Replicas are played by several ``Database`` objects on the same database (each its own
pool, or its own SQLite writer), as separate processes would be. The reservations are
checked with explicit times; the drains run on the real clock, and what is asserted about
them holds by construction whatever the machine's load (a send starts within ``late`` of
its own slot, and the transport records the moment it is called), so nothing here depends
on how fast the machine is: a slow machine only sends later.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from functools import partial

import pytest
from sqlalchemy import Connection, insert, select

from core.messaging.drain import Drain, DrainPolicy
from core.messaging.ratelimit import RateLimiter, SystemTimer, VirtualTimer
from core.messaging.send_rate import US, Reservation, SharedRateLimiter, reserve, spacing
from core.platform import metrics
from core.platform.clock import ManualClock, epoch
from core.platform.codes import Keyring
from core.platform.db import Database, open_database
from core.platform.schema import outbox, send_rate
from pointshall.bootstrap import Services
from pointshall.transports import drain_policy, pacer, sms_rate_name
from tests.support.fakes.transports import RecordingTransport
from tests.support.settings import make_settings

RATE = "sms:twilio:+10000000000"
WAIT = 60.0
"""Upper bound for the drains to finish (a safety net, not an assertion)."""


def max_in_any_window(times: list[float], window: float = 1.0) -> int:
    """The most sends inside any half-open window ``[t, t + window)``."""
    ordered = sorted(times)
    return max(
        (sum(1 for u in ordered[i:] if u < t + window) for i, t in enumerate(ordered)), default=0
    )


@pytest.fixture
async def replicas(database_url: str) -> AsyncIterator[list[Database]]:
    """Three more connections to the test's database, as three replicas would hold."""
    opened = [open_database(database_url, pool_size=4) for _ in range(3)]
    try:
        yield opened
    finally:
        for db in opened:
            await db.dispose()


async def test_slots_follow_on_from_the_next_free_one_and_idle_time_is_not_banked(
    db: Database,
) -> None:
    sec = US
    args = {"spacing_us": 50_000, "lead_us": 100_000, "horizon_us": 500_000}
    first = await db.write(partial(reserve, name=RATE, count=4, now_us=10 * sec, **args))
    assert first == Reservation(10 * sec + 100_000, 4, 50_000)
    assert first.slots() == [10.1, 10.15, 10.2, 10.25]
    # At once again: the next four follow the first four, wherever "now" is.
    second = await db.write(partial(reserve, name=RATE, count=4, now_us=10 * sec, **args))
    assert second.first_us == 10 * sec + 300_000
    # Booked up to 10.5 s: more than the horizon ahead of 9.9 s, so nothing, ask at 10.0 s.
    refused = await db.write(partial(reserve, name=RATE, count=1, now_us=9_900_000, **args))
    assert (refused.count, refused.retry_at_us) == (0, 10 * sec)
    # An hour idle earns no burst: the next slot is "now + lead", then the spacing again.
    later = await db.write(partial(reserve, name=RATE, count=2, now_us=3600 * sec, **args))
    assert later.slots() == [3600.1, 3600.15]

    def row(conn: Connection) -> int:
        return int(conn.execute(select(send_rate.c.next_slot_us)).scalar_one())

    assert await db.read(row) == 3600 * sec + 200_000


async def test_concurrent_replicas_never_get_the_same_slot_or_two_closer_than_the_spacing(
    replicas: list[Database],
) -> None:
    gap = 37_000
    values = {"spacing_us": gap, "lead_us": 0, "horizon_us": 10**12, "now_us": US}

    async def replica(db: Database) -> list[float]:
        slots: list[float] = []
        for count in (1, 3, 2, 5, 1, 4, 2, 2):
            got = await db.write(partial(reserve, name=RATE, count=count, **values))
            slots.extend(got.slots())
        return slots

    # The row is made by whoever comes first, also concurrently.
    every = [s for slots in await asyncio.gather(*(replica(db) for db in replicas)) for s in slots]
    assert len(every) == 3 * 20
    ordered = sorted(round(s * US) for s in every)
    assert len(set(ordered)) == len(ordered)
    assert ordered == [US + i * gap for i in range(60)]  # one gapless sequence, nothing lost


def test_spacing_leaves_the_slack_inside_each_second() -> None:
    assert spacing(100, 0.03) == pytest.approx(0.0103)
    assert spacing(30, 0.0) == pytest.approx(1 / 30)
    assert spacing(1.5, 0.03) == pytest.approx(1.03)  # one a second, never two
    assert spacing(0.5, 0.03) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="positive"):
        spacing(0, 0.03)


async def test_one_limiter_sends_evenly_and_gives_up_a_slot_it_woke_too_late_for(
    db: Database,
) -> None:
    timer = VirtualTimer()
    limiter = SharedRateLimiter(db, RATE, 20.0, timer, slack=0.03, lead=0.1)
    times: list[float] = []
    assert await limiter.acquire(41, 41) == 41  # a drain books ahead, one batch at a time
    for _ in range(41):
        await limiter.admit()
        times.append(timer.time())
    assert times[0] == pytest.approx(0.1)
    assert times[-1] - times[0] == pytest.approx(40 * 1.03 / 20)
    assert max_in_any_window(times) == 20

    missed = metrics.SEND_SLOTS_MISSED.labels(RATE)._value.get()  # noqa: SLF001
    assert await limiter.acquire(1) == 1
    await timer.sleep(5.0)  # the event loop was busy: the reserved slot passed
    started = timer.time()
    await limiter.admit()
    assert timer.time() == pytest.approx(started + 0.1)  # a fresh slot, not the stale one
    assert metrics.SEND_SLOTS_MISSED.labels(RATE)._value.get() == missed + 1  # noqa: SLF001


async def test_postgresql_shares_the_rate_sqlite_paces_itself(services: Services) -> None:
    settings = make_settings("sqlite+aiosqlite:///unused.db")
    chosen = pacer(services.db, RATE, drain_policy(settings), SystemTimer(), settings)
    expected = SharedRateLimiter if services.db.dialect == "postgresql" else RateLimiter
    assert type(chosen) is expected
    twilio = make_settings("sqlite+aiosqlite:///x", sms_transport="twilio", twilio_from="+1555")
    assert sms_rate_name(twilio) == "sms:twilio:+1555"
    assert sms_rate_name(settings) == "sms:console:-"


async def queue(db: Database, count: int, now: int) -> None:
    rows = [
        {
            "idempotency_key": f"shared:{i}",
            "channel": "sms",
            "recipient": f"+86138{i:08d}",
            "kind": "service",
            "text": f"voucher {i}",
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for i in range(count)
    ]

    def fill(conn: Connection) -> None:
        conn.execute(insert(outbox), rows)

    await db.write(fill)


class WallRecorder(SystemTimer):
    """The real timer, except that the transport stamps sends with wall-clock time."""

    def monotonic(self) -> float:
        return time.time()


@pytest.mark.slow
async def test_three_replicas_draining_one_outbox_stay_within_the_rate_together(
    db: Database, replicas: list[Database], clock: ManualClock
) -> None:
    rate, total = 20.0, 70
    await queue(db, total, epoch(clock.now()))
    timer = WallRecorder()
    transports = [RecordingTransport(timer) for _ in replicas]
    drains = [
        Drain(
            replica,
            transport,
            clock,
            timer,
            DrainPolicy(rate=rate, burst=20, idle=0.05),
            keyring=Keyring.single(b"send-rate-test-key-0123456789abc"),
            limiter=SharedRateLimiter(replica, RATE, rate, timer),
        )
        for replica, transport in zip(replicas, transports, strict=True)
    ]
    tasks = [asyncio.create_task(d.run()) for d in drains]
    try:
        async with asyncio.timeout(WAIT):
            while sum(len(t.sent) for t in transports) < total:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
    finally:
        for drain in drains:
            drain.stop()
        await asyncio.gather(*tasks)
    sent = [(at, mid) for t in transports for at, mid, _ in t.sent]
    assert sorted(Counter(mid for _, mid in sent).items()) == [(i, 1) for i in range(1, total + 1)]
    assert max_in_any_window([at for at, _ in sent]) <= rate
