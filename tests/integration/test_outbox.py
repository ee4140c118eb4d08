"""The outbox drain (DESIGN.md §10) on SQLite and PostgreSQL, in virtual time.

The drain's rate limiter and the database timestamps both run on a
``VirtualTimer`` driving the test's ``ManualClock``: time passes only when the
drain sleeps, so 10,000 messages at 50/s take 200 virtual seconds and a few real
ones, and no assertion depends on the wall clock.
"""

from __future__ import annotations

import asyncio
import bisect
import random
from collections import Counter
from datetime import timedelta
from functools import partial

import pytest
from sqlalchemy import Connection, func, insert, select

from core.messaging import outbox
from core.messaging.drain import Drain, DrainPolicy
from core.messaging.ratelimit import RateLimiter, VirtualTimer
from core.messaging.transport import (
    OutboundMessage,
    RejectedSendError,
    RetryableSendError,
    UnknownOutcome,
)
from core.platform.clock import ManualClock, epoch
from core.platform.schema import outbox as outbox_table
from core.platform.schema import subscriber
from pointshall.bootstrap import Services
from tests.support.fakes.timers import HeldTimer
from tests.support.fakes.transports import Crash, RecordingTransport

WAIT = 30.0
"""Upper bound for a stopped drain to return (a safety net, not an assertion)."""


def max_in_any_window(times: list[float], window: float = 1.0) -> int:
    """The most sends inside any half-open window ``[t, t + window)``."""
    ordered = sorted(times)
    return max(
        (bisect.bisect_left(ordered, t + window) - i for i, t in enumerate(ordered)), default=0
    )


async def queue(
    services: Services, count: int, *, kind: str = "service", prefix: str = "m"
) -> None:
    now = epoch(services.clock.now())
    rows = [
        {
            "idempotency_key": f"{prefix}:{i}",
            "channel": "sms",
            "recipient": f"+86138{i:08d}",
            "kind": kind,
            "text": f"voucher {i}",
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for i in range(count)
    ]

    def fill(conn: Connection) -> None:
        for start in range(0, len(rows), 1000):
            conn.execute(insert(outbox_table), rows[start : start + 1000])

    await services.db.write(fill)


async def statuses(services: Services) -> Counter[str]:
    def q(conn: Connection) -> Counter[str]:
        return Counter(r[0] for r in conn.execute(select(outbox_table.c.status)))

    return await services.db.read(q)


async def unfinished(services: Services) -> int:
    def q(conn: Connection) -> int:
        return int(
            conn.execute(
                select(func.count())
                .select_from(outbox_table)
                .where(outbox_table.c.status.in_(("pending", "sending")))
            ).scalar_one()
        )

    return await services.db.read(q)


def drain_for(
    services: Services,
    transport: RecordingTransport,
    timer: VirtualTimer | HeldTimer,
    **policy: object,
) -> Drain:
    values: dict[str, object] = {"rate": 50.0, "burst": 10, "idle": 0.5}
    values.update(policy)
    return Drain(
        services.db,
        transport,
        services.clock,
        timer,
        DrainPolicy(**values),  # type: ignore[arg-type]
        keyring=services.keyring,
    )


async def drain_until_done(drain: Drain, services: Services, total: int) -> None:
    task = asyncio.create_task(drain.run())
    try:
        while True:
            if await unfinished(services) == 0:
                break
            await asyncio.sleep(0.05)
    finally:
        drain.stop()
        await task


@pytest.mark.slow
async def test_ten_thousand_at_fifty_per_second_never_faster_none_twice_none_lost(
    services: Services, clock: ManualClock
) -> None:
    total = 10_000
    await queue(services, total)
    timer = VirtualTimer(clock)
    transport = RecordingTransport(timer)
    rng = random.Random(7)
    drained = 0
    # Kill the drain (cancel its task) at random moments, restart a fresh one each time.
    for _ in range(5):
        drain = drain_for(services, transport, timer)
        task = asyncio.create_task(drain.run())
        await asyncio.sleep(rng.uniform(0.05, 0.4))
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        drained = len(transport.sent)
        counts = await statuses(services)
        assert counts["sending"] == 0, "a cancelled drain leaves nothing claimed"
    await drain_until_done(drain_for(services, transport, timer), services, total)
    assert drained < total
    last_run = [t for t, _, _ in transport.sent[drained:]]

    ids = [sid for _, sid, _ in transport.sent]
    assert len(ids) == total
    assert len(set(ids)) == total, "no message sent twice"
    assert await statuses(services) == Counter({"sent": total})
    times = [t for t, _, _ in transport.sent]
    assert max_in_any_window(times) <= 50
    # The uninterrupted last run keeps up with the rate (restarts each wait out a second).
    assert len(last_run) / (max(last_run) - min(last_run) + 1 / 50) >= 0.95 * 50


async def test_retryable_errors_back_off_then_dead_letter(
    services: Services, clock: ManualClock
) -> None:
    await queue(services, 2)
    timer = VirtualTimer(clock)
    tries: Counter[int] = Counter()
    attempt_times: dict[int, list[int]] = {}

    def flaky(message: OutboundMessage) -> None:
        tries[message.id] += 1
        attempt_times.setdefault(message.id, []).append(epoch(clock.now()))
        if message.id == 1 and tries[1] < 3:
            raise RetryableSendError("HTTP 503", code="503")
        if message.id == 2:
            raise RetryableSendError("HTTP 429", code="429")

    transport = RecordingTransport(timer, fail=flaky)
    drain = drain_for(services, transport, timer, max_attempts=4, backoff=10.0)
    await drain_until_done(drain, services, 2)

    assert [sid for _, sid, _ in transport.sent] == [1]
    assert tries == Counter({1: 3, 2: 4})
    gaps = [b - a for a, b in zip(attempt_times[2], attempt_times[2][1:], strict=False)]
    assert gaps == [10, 20, 40]

    def rows(conn: Connection) -> dict[int, tuple[str, int, str | None]]:
        q = select(
            outbox_table.c.id,
            outbox_table.c.status,
            outbox_table.c.attempts,
            outbox_table.c.last_error,
        )
        return {r.id: (r.status, r.attempts, r.last_error) for r in conn.execute(q)}

    assert await services.db.read(rows) == {1: ("sent", 3, None), 2: ("dead", 4, "HTTP 429")}


async def test_rejection_fails_and_carrier_opt_out_marks_the_subscriber(
    services: Services, clock: ManualClock
) -> None:
    now = epoch(clock.now())

    def setup(conn: Connection) -> None:
        conn.execute(
            insert(subscriber).values(
                msisdn="+8613800000000", lang="zh", opted_out=False, created_at=now
            )
        )
        outbox.enqueue(conn, key="a", recipient="+8613800000000", text="hi", now=now)

    await services.db.write(setup)
    timer = VirtualTimer(clock)

    def refuse(message: OutboundMessage) -> None:
        raise RejectedSendError("21610 unsubscribed", code="21610", opted_out=True)

    transport = RecordingTransport(timer, fail=refuse)
    await drain_until_done(drain_for(services, transport, timer), services, 1)

    def state(conn: Connection) -> tuple[bool, list[str]]:
        opted = conn.execute(select(subscriber.c.opted_out)).scalar_one()
        st = [r[0] for r in conn.execute(select(outbox_table.c.status).order_by(outbox_table.c.id))]
        return bool(opted), st

    assert await services.db.read(state) == (True, ["failed"])

    def queued_before_the_opt_out(conn: Connection) -> None:
        conn.execute(
            insert(outbox_table).values(
                idempotency_key="b",
                channel="sms",
                recipient="+8613800000000",
                kind="marketing",
                text="sale",
                status="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )

    await services.db.write(queued_before_the_opt_out)
    await drain_until_done(drain_for(services, transport, timer), services, 1)
    assert await services.db.read(state) == (True, ["failed", "suppressed"])


async def test_unknown_outcome_and_a_crash_are_never_resent(
    services: Services, clock: ManualClock
) -> None:
    await queue(services, 3)
    timer = VirtualTimer(clock)

    def trouble(message: OutboundMessage) -> None:
        if message.id == 1:
            raise UnknownOutcome("read timed out")
        if message.id == 2:
            raise Crash

    transport = RecordingTransport(timer, fail=trouble)
    drain = drain_for(services, transport, timer, rate=1.0, burst=1)
    task = asyncio.create_task(drain.run())
    for _ in range(500):
        if await statuses(services) == Counter({"sent": 1, "dead": 1, "sending": 1}):
            break
        await asyncio.sleep(0.02)
    drain.stop()
    await task
    # The "crash" killed the send of message 2 after the provider had it: still claimed.
    assert (await statuses(services))["sending"] == 1

    # A new process before the lease runs out leaves it alone; after, it is dead.
    restarted = drain_for(services, RecordingTransport(timer), timer, lease=300)
    assert await restarted.recover() == 0
    clock.advance(timedelta(seconds=301))
    assert await restarted.recover() == 1

    second = RecordingTransport(timer)
    await drain_until_done(drain_for(services, second, timer), services, 3)
    assert second.sent == []  # neither the unknown outcome nor the crashed send goes again
    assert await statuses(services) == Counter({"dead": 2, "sent": 1})

    count = await services.db.write(partial(outbox.requeue, now=epoch(clock.now()), status="dead"))
    assert count == 2
    third = RecordingTransport(timer)
    await drain_until_done(drain_for(services, third, timer), services, 3)
    assert sorted(sid for _, sid, _ in third.sent) == [1, 2]


async def test_delivery_reports_only_move_forward_and_duplicates_count_once(
    services: Services, clock: ManualClock
) -> None:
    await queue(services, 1)
    now = epoch(clock.now())

    async def rec(state: str, code: str, part: int = 0, parts: int = 1) -> str | None:
        r = outbox.Report(provider="kannel", code=code, state=state, part=part, parts=parts)
        return await services.db.write(
            partial(outbox.record_report, message_id=1, report=r, now=now)
        )

    # A report before the drain recorded the send (Kannel is fast) still counts.
    assert await rec("delivered", "1", 0, 2) == "sent"
    assert await rec("delivered", "1", 0, 2) == "sent"  # duplicate
    assert await rec("sent", "8", 1, 2) == "sent"
    assert await rec("delivered", "1", 1, 2) == "delivered"
    assert await rec("sent", "8", 0, 2) == "delivered"  # late and out of order: no step back
    await services.db.write(partial(outbox.mark_sent, message_id=1, provider_id=None, now=now))
    assert (await statuses(services)) == Counter({"delivered": 1})


async def test_rate_limiter_burst_then_rate() -> None:
    timer = VirtualTimer()
    limiter = RateLimiter(5.0, 3, timer)
    times: list[float] = []
    for _ in range(23):
        await limiter.acquire(1)
        await limiter.admit()
        times.append(timer.monotonic())
    assert times[:3] == [1.0, 1.0, 1.0]  # a new limiter waits out the second before it
    assert max_in_any_window(times) <= 5
    assert times[-1] == pytest.approx(5.0, abs=0.25)


async def test_two_drains_share_one_outbox_and_send_each_message_once(
    services: Services, clock: ManualClock
) -> None:
    await queue(services, 600)
    timer = VirtualTimer(clock)
    transport = RecordingTransport(timer)
    first = drain_for(services, transport, timer, rate=100.0, burst=20)
    second = drain_for(services, transport, timer, rate=100.0, burst=20)
    tasks = [asyncio.create_task(first.run()), asyncio.create_task(second.run())]
    try:
        for _ in range(2000):
            if await unfinished(services) == 0:
                break
            await asyncio.sleep(0.02)
    finally:
        first.stop()
        second.stop()
        await asyncio.gather(*tasks)
    ids = [sid for _, sid, _ in transport.sent]
    assert sorted(ids) == list(range(1, 601))


async def test_service_messages_still_go_to_an_opted_out_number(
    services: Services, clock: ManualClock
) -> None:
    now = epoch(clock.now())

    def setup(conn: Connection) -> None:
        conn.execute(
            insert(subscriber).values(
                msisdn="+8613800000009", lang="zh", opted_out=True, created_at=now
            )
        )
        outbox.enqueue(conn, key="otp", recipient="+8613800000009", text="OTP 123456", now=now)
        outbox.enqueue(
            conn, key="ad", recipient="+8613800000009", text="sale", now=now, kind="marketing"
        )

    await services.db.write(setup)
    timer = VirtualTimer(clock)
    transport = RecordingTransport(timer)
    await drain_until_done(drain_for(services, transport, timer), services, 1)
    assert [key for _, _, key in transport.sent] == ["otp"]
    assert await statuses(services) == Counter({"sent": 1, "suppressed": 1})


async def test_stop_interrupts_an_hour_long_pacing_wait_and_loses_nothing(
    services: Services, clock: ManualClock
) -> None:
    """At one message an hour the drain sends the first, then waits an hour of (held) virtual
    time for a token; ``stop()`` ends that wait at once instead of waiting it out."""
    await queue(services, 2)
    timer = HeldTimer()
    transport = RecordingTransport(timer)
    drain = drain_for(services, transport, timer, rate=1 / 3600, burst=1)
    task = asyncio.create_task(drain.run())
    try:
        for _ in range(1000):  # let each wait end until the first message is sent
            if not transport.sent:
                if timer.waits():
                    timer.wake_next()
            elif await statuses(services) == Counter({"sent": 1, "pending": 1}) and any(
                wait >= 3599 for wait in timer.waits()
            ):
                break
            await asyncio.sleep(0.01)
        [hour_wait] = timer.waits()
        assert hour_wait >= 3599, "the drain waits about an hour for its next token"
        stopped_at = timer.monotonic()
        drain.stop()
        await asyncio.wait_for(task, WAIT)  # a safety net, not an assertion
    finally:
        task.cancel()
    assert timer.monotonic() == stopped_at, "no virtual time passed: the wait was cut short"
    assert timer.waits() == []
    # The message waiting for its token was never claimed: still pending, nothing in sending.
    assert [sid for _, sid, _ in transport.sent] == [1]
    assert await statuses(services) == Counter({"sent": 1, "pending": 1})

    clock.advance(timedelta(seconds=1))
    after = RecordingTransport(VirtualTimer(clock))
    await drain_until_done(drain_for(services, after, VirtualTimer(clock)), services, 2)
    assert [sid for _, sid, _ in after.sent] == [2]
    assert await statuses(services) == Counter({"sent": 2})
