"""Pacing outbound traffic: a token bucket with burst, capped per sliding second.

A token bucket alone (rate ``r``, capacity ``b``) lets ``b + r`` messages through
in the first second after an idle spell, which is more than a provider allows
(Twilio queues or refuses what exceeds the number's rate). So the limiter keeps
both: the bucket (``acquire``) decides the long-run rate and how much may be
claimed at once, and a log of the last ``floor(r)`` send times (``admit``, called
right before each send) refuses any send that would put more than ``floor(r)``
inside one second, whichever second you look at.

One limiter belongs to one transport in one process; pass the same one to every
drain of that transport. It is the pacer of a single process (SQLite, or tests); on
PostgreSQL several replicas share one rate through the database instead
(``core.messaging.send_rate.SharedRateLimiter``). Both are ``Pacer``s to the drain.

Time comes from a ``Timer`` (monotonic seconds and a sleep), so tests and the
benchmark can run the same code in virtual time.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from datetime import timedelta
from typing import Protocol

from core.platform.clock import ManualClock

WINDOW = 1.0
MIN_SLEEP = 1e-6


class Timer(Protocol):
    def monotonic(self) -> float:
        """Seconds on a clock that never goes back."""
        ...

    async def sleep(self, seconds: float) -> None: ...


class WallTimer(Timer, Protocol):
    def time(self) -> float:
        """Seconds since the epoch, the same in every process of the deployment (NTP)."""
        ...


class Pacer(Protocol):
    """What the drain needs of a rate limiter: slots to claim for, then leave to send."""

    async def acquire(self, most: int = 1, least: int = 1) -> int:
        """Wait for ``least`` send slots (at most ``most``); return how many were taken."""
        ...

    async def admit(self) -> None:
        """Wait until one send may start now; call the transport straight after."""
        ...

    def refund(self, count: int) -> None:
        """Give back ``count`` slots taken by ``acquire`` that no message will use."""
        ...


class SystemTimer:
    def monotonic(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class VirtualTimer:
    """Time that passes only when someone sleeps; moves a ``ManualClock`` along with it."""

    def __init__(self, clock: ManualClock | None = None) -> None:
        self._now = 0.0
        self._clock = clock

    def monotonic(self) -> float:
        return self._now

    def time(self) -> float:
        """The same virtual seconds: every limiter of a test shares this one clock."""
        return self._now

    async def sleep(self, seconds: float) -> None:
        # Let every task that is ready run first, at the present moment, as it would
        # in real time where sleeping takes a while. Time moves to this sleeper's
        # wake-up moment, not by its duration: two tasks sleeping side by side wake
        # together rather than one after the other.
        target = self._now + max(seconds, 0.0)
        await asyncio.sleep(0)
        if target > self._now:
            step = target - self._now
            self._now = target
            if self._clock is not None:
                self._clock.advance(timedelta(seconds=step))


class RateLimiter:
    """Grant send slots at ``rate`` per second, at most ``burst`` at once."""

    def __init__(self, rate: float, burst: int, timer: Timer) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.per_window = max(1, math.floor(rate))
        self.capacity = float(max(1, min(burst, self.per_window)))
        self._timer = timer
        # A new limiter grants nothing in its first second, as if that second were
        # full: a drain restarted at once (a crash, another process) cannot add its
        # burst to what its predecessor sent just before.
        self._stamp = timer.monotonic()
        self._tokens = 0.0
        self._not_before = self._stamp + WINDOW
        self._granted: deque[float] = deque()
        self._lock = asyncio.Lock()
        self._admit_lock = asyncio.Lock()

    def _refill(self, now: float) -> None:
        self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    async def acquire(self, most: int = 1, least: int = 1) -> int:
        """Wait for ``least`` tokens (fewer if ``most`` is smaller); take up to ``most``.

        Returns how many were taken. Asking for a few at a time (``least``) lets a
        busy drain claim rows in small batches instead of one by one.
        """
        need = max(1, min(least, most, int(self.capacity)))
        async with self._lock:
            while True:
                now = self._timer.monotonic()
                if now < self._not_before:
                    await self._timer.sleep(self._not_before - now)
                    continue
                self._refill(now)
                take = min(most, math.floor(self._tokens), self.per_window)
                if take >= need:
                    self._tokens -= take
                    return take
                await self._timer.sleep(max((need - self._tokens) / self.rate, MIN_SLEEP))

    async def admit(self) -> None:
        """Wait, right before a send, until it keeps every one-second window within the rate.

        Tokens pace the claims; this check is made at the moment of sending, so a
        claim that took long cannot push its sends into the next batch's second.
        Call the transport straight after, with no ``await`` in between.
        """
        async with self._admit_lock:
            while True:
                now = self._timer.monotonic()
                while self._granted and self._granted[0] + WINDOW <= now:
                    self._granted.popleft()
                if len(self._granted) < self.per_window:
                    self._granted.append(now)
                    return
                await self._timer.sleep(max(self._granted[0] + WINDOW - now, MIN_SLEEP))

    def refund(self, count: int) -> None:
        """Give back tokens taken but not used (there was less work than tokens)."""
        self._tokens = min(self.capacity, self._tokens + count)
