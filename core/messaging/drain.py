"""The outbox drain (DESIGN.md §10): claim → send → mark, paced per transport.

One ``Drain`` serves one transport. Each cycle it waits for send slots from its
``Pacer`` (a ``RateLimiter`` in one process, or a ``SharedRateLimiter`` whose slots
every replica draws from one database row), claims no more rows than it got slots
for (so only what is really about to be sent sits in ``sending``), and starts one
send per row, at most ``max_in_flight`` at a time. Each answer is written back at once:

* accepted → ``sent`` (delivery reports move it on to delivered or failed);
* ``RetryableSendError`` → ``pending`` again after an exponential back-off
  (``backoff · 2^(attempt-1)``, capped, at least the provider's Retry-After),
  or ``dead`` after ``max_attempts`` tries;
* ``RejectedSendError`` → ``failed`` (an opt-out at the carrier also marks the
  subscriber opted out);
* ``UnknownOutcome`` or anything unexpected → ``dead`` with "outcome unknown":
  the provider may have the message, so it is never sent again on a guess.

Every ``lease`` seconds (and when it starts) the drain moves rows that a dead process
left in ``sending`` past their lease to ``dead`` (``recover``), so a replica killed in
the middle of sending leaves nothing pending for ever.

Stopping (``stop()`` or cancelling ``run()``) interrupts the cycle's waits for
send slots and rate tokens at once, and lets sends already under way finish and
be recorded; nothing claimed is abandoned. What a crash can leave in
``sending`` is explained in ``core.messaging.outbox``.
"""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import Connection

from core.messaging import outbox
from core.messaging.ratelimit import Pacer, RateLimiter, Timer
from core.messaging.transport import (
    Accepted,
    OutboundMessage,
    RecipientTurns,
    RejectedSendError,
    RetryableSendError,
    Transport,
    UnknownOutcome,
)
from core.platform import metrics
from core.platform.clock import Clock, epoch
from core.platform.codes import Keyring
from core.platform.db import Database, UnitOfWork

log = logging.getLogger(__name__)
CLAIM_TICK = 0.1
T = TypeVar("T")


class _Recorder:
    """Write send outcomes as they come, all that queued up meanwhile in one transaction.

    The first outcome is written at once; outcomes arriving while that write runs
    go together in the next one (group commit, as the SQLite writer does). So an
    outcome waits at most for one write in progress: the window in which a crash
    forgets a send stays as short as one write, while PostgreSQL does one
    transaction per batch instead of one per message.
    """

    def __init__(self, db: Database) -> None:
        self._db = db
        self._queue: list[tuple[UnitOfWork[Any], asyncio.Future[Any]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def record(self, fn: UnitOfWork[T]) -> T:
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.append((fn, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        return await asyncio.shield(future)

    async def _flush(self) -> None:
        while self._queue:
            batch, self._queue = self._queue, []

            def unit(
                conn: Connection, batch: list[tuple[UnitOfWork[Any], Any]] = batch
            ) -> list[Any]:
                return [fn(conn) for fn, _ in batch]

            try:
                results = await self._db.write(unit)
            except Exception:
                for fn, future in batch:  # one bad unit must not lose the others
                    try:
                        result = await self._db.write(fn)
                    except Exception as exc:
                        if not future.done():
                            future.set_exception(exc)
                    else:
                        if not future.done():
                            future.set_result(result)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)


@dataclass(frozen=True)
class DrainPolicy:
    rate: float = 10.0
    burst: int = 5
    max_attempts: int = 8
    backoff: float = 30.0
    backoff_max: float = 3600.0
    max_in_flight: int = 16
    batch: int = 100
    lease: int = 300
    idle: float = 0.5

    def step(self, free: int) -> int:
        """Slots to wait for before claiming: about a tenth of a second's worth."""
        return max(1, min(free, math.floor(self.rate * CLAIM_TICK)))

    def delay(self, attempt: int, retry_after: float | None = None) -> int:
        """Seconds to wait before try ``attempt + 1``."""
        wait: float = min(self.backoff_max, self.backoff * 2.0 ** max(0, attempt - 1))
        if retry_after is not None:
            wait = max(wait, retry_after)
        return max(1, math.ceil(wait))


class Drain:
    def __init__(
        self,
        db: Database,
        transport: Transport,
        clock: Clock,
        timer: Timer,
        policy: DrainPolicy,
        *,
        keyring: Keyring,
        channel: str = "sms",
        limiter: Pacer | None = None,
    ) -> None:
        """``keyring`` opens the messages that carry sealed secrets (issue 13 §1)."""
        self._db = db
        self._keyring = keyring
        self._transport = transport
        self._clock = clock
        self._timer = timer
        self.policy = policy
        self._channel = channel
        self._limiter: Pacer = limiter or RateLimiter(policy.rate, policy.burst, timer)
        self._slots = asyncio.Semaphore(policy.max_in_flight)
        self._in_flight: set[asyncio.Task[None]] = set()
        self._stopping = asyncio.Event()
        self._recorder = _Recorder(db)
        self._recovered_at: float | None = None

    def _now(self) -> int:
        return epoch(self._clock.now())

    async def recover(self) -> int:
        """Move rows a dead process left in ``sending`` (lease over) to dead; return how many."""
        stale = await self._db.write(
            partial(outbox.recover_stale, channel=self._channel, now=self._now())
        )
        if stale:
            log.warning("%d outbox messages left in sending by a stopped drain: now dead", stale)
            metrics.OUTBOUND.labels(self._transport.name, "unknown").inc(stale)
        return int(stale)

    async def run_once(self) -> int:
        """Claim what the rate allows now and start sending it; return how many were claimed."""
        await self._slots.acquire()
        free = 1
        while free < self.policy.batch and not self._slots.locked():
            await self._slots.acquire()
            free += 1
        try:
            granted = await self._limiter.acquire(free, self.policy.step(free))
        except BaseException:
            for _ in range(free):
                self._slots.release()
            raise
        claiming = asyncio.ensure_future(
            self._db.write(
                partial(
                    outbox.claim,
                    channel=self._channel,
                    now=self._now(),
                    limit=granted,
                    lease=self.policy.lease,
                    keyring=self._keyring,
                )
            )
        )
        try:
            messages = await asyncio.shield(claiming)
        except asyncio.CancelledError:
            # Cancelled mid-claim: the claim still commits, so send what it took.
            self._dispatch(await claiming, free, granted)
            raise
        except BaseException:
            for _ in range(free):
                self._slots.release()
            raise
        self._dispatch(messages, free, granted)
        return len(messages)

    def _dispatch(self, messages: list[OutboundMessage], free: int, granted: int) -> None:
        self._limiter.refund(granted - len(messages))
        for _ in range(free - len(messages)):
            self._slots.release()
        for message in messages:
            task = asyncio.create_task(self._deliver(message))
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)

    async def _recover_when_due(self) -> None:
        """``recover`` at start and then once every ``lease`` seconds."""
        now = self._timer.monotonic()
        if self._recovered_at is not None and now - self._recovered_at < self.policy.lease:
            return
        self._recovered_at = now
        try:
            await self.recover()
        except Exception:
            log.exception("could not recover stale outbox messages; draining anyway")

    async def run(self) -> None:
        """Drain until ``stop()`` or cancellation; sends under way are finished first."""
        try:
            while not self._stopping.is_set():
                await self._recover_when_due()
                try:
                    claimed = await self._cycle()
                except Exception:  # the database is away: keep the drain alive, try again
                    log.exception("outbox drain cycle failed; trying again")
                    claimed = 0
                if claimed == 0:
                    await self._pause()
        finally:
            await self.settle()

    async def _cycle(self) -> int:
        """``run_once``, given up when ``stop()`` comes while it waits for slots or tokens.

        Giving it up is safe wherever it is: before its claim it has taken nothing
        (and hands its slots and tokens back); once the claim has started, the claim
        still commits and what it took is sent (see ``run_once``). So a stop never
        waits out a pacing wait, and still loses and repeats nothing.
        """
        cycle = asyncio.ensure_future(self.run_once())
        stopper = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait({cycle, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:  # stopped, or ``run()`` itself cancelled: the cycle cleans up first
            stopper.cancel()
            if not cycle.done():
                cycle.cancel()
                await asyncio.wait({cycle})
        if cycle.cancelled():
            return 0
        return cycle.result()

    async def _pause(self) -> None:
        """Sleep ``idle`` seconds when there is nothing to send, waking early on ``stop()``."""
        sleeper = asyncio.ensure_future(self._timer.sleep(self.policy.idle))
        stopper = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait({sleeper, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeper, stopper):
                task.cancel()

    def stop(self) -> None:
        self._stopping.set()

    async def settle(self) -> None:
        """Wait for every send under way to be recorded."""
        while self._in_flight:
            await asyncio.shield(asyncio.gather(*self._in_flight, return_exceptions=True))

    async def _deliver(self, message: OutboundMessage) -> None:
        try:
            await self._attempt(message)
        except Exception:
            log.exception("could not record the outcome of outbox message %d", message.id)
        finally:
            self._slots.release()

    async def _send(self, message: OutboundMessage) -> Accepted:
        """Wait for the recipient's turn (if the transport keeps one), then the send slot."""
        if isinstance(self._transport, RecipientTurns):
            async with self._transport.turn(message):
                await self._limiter.admit()
                return await self._transport.send(message)
        await self._limiter.admit()
        return await self._transport.send(message)

    async def _attempt(self, message: OutboundMessage) -> None:
        name = self._transport.name
        try:
            accepted = await self._send(message)
        except RetryableSendError as exc:
            delay = self.policy.delay(message.attempt, exc.retry_after)
            status = await self._recorder.record(
                partial(
                    outbox.mark_retry,
                    message_id=message.id,
                    now=self._now(),
                    delay=delay,
                    error=exc.reason,
                    max_attempts=self.policy.max_attempts,
                )
            )
            metrics.OUTBOUND.labels(name, "retry" if status == outbox.PENDING else status).inc()
            log.info(
                "outbox %d: %s (try %d); now %s", message.id, exc.reason, message.attempt, status
            )
            return
        except RejectedSendError as exc:
            await self._recorder.record(
                partial(
                    outbox.mark_rejected,
                    message_id=message.id,
                    error=exc.reason,
                    opted_out=exc.opted_out,
                )
            )
            metrics.OUTBOUND.labels(name, "failed").inc()
            log.info("outbox %d refused by %s: %s", message.id, name, exc.reason)
            return
        except (UnknownOutcome, Exception) as exc:
            reason = exc.reason if isinstance(exc, UnknownOutcome) else repr(exc)
            await self._recorder.record(
                partial(outbox.mark_unknown, message_id=message.id, error=reason)
            )
            metrics.OUTBOUND.labels(name, "unknown").inc()
            log.warning("outbox %d: outcome unknown (%s); not resent", message.id, reason)
            return
        await self._recorder.record(
            partial(
                outbox.mark_sent,
                message_id=message.id,
                provider_id=accepted.provider_id,
                now=self._now(),
            )
        )
        metrics.OUTBOUND.labels(name, "sent").inc()
