"""A timer for the drain tests whose time moves only when the test moves it."""

from __future__ import annotations

import asyncio


class HeldTimer:
    """Virtual time that stands still: a sleeper stays asleep until ``wake_next()``.

    Unlike ``VirtualTimer`` (which jumps to each sleeper's wake-up moment at once),
    a wait on this timer lasts until the test lets it end, so a test can catch the
    drain inside a long wait and see what ``stop()`` does there.
    """

    def __init__(self) -> None:
        self._now = 0.0
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def monotonic(self) -> float:
        return self._now

    async def sleep(self, seconds: float) -> None:
        wake: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (self._now + max(seconds, 0.0), wake)
        self._sleepers.append(entry)
        try:
            await wake
        finally:
            if entry in self._sleepers:
                self._sleepers.remove(entry)

    def waits(self) -> list[float]:
        """How long each sleeper still has to sleep."""
        return [at - self._now for at, _ in self._sleepers]

    def wake_next(self) -> None:
        """Move time to the earliest sleeper's wake-up moment and wake everyone due then."""
        at = min(at for at, _ in self._sleepers)
        self._now = max(self._now, at)
        for due, wake in list(self._sleepers):
            if due <= self._now and not wake.done():
                wake.set_result(None)
