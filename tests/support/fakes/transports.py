"""Recording fake transports for the drain tests (stateful fakes, not mocks)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from core.messaging.ratelimit import Timer
from core.messaging.transport import Accepted, OutboundMessage


class Crash(BaseException):
    """The process dying mid-send: nothing after it runs (not an ``Exception``)."""


@dataclass
class RecordingTransport:
    """Accepts everything and remembers when (on the timer) each message was taken."""

    timer: Timer
    name: str = "fake"
    sent: list[tuple[float, int, str]] = field(default_factory=list)
    fail: Callable[[OutboundMessage], None] | None = None

    async def send(self, message: OutboundMessage) -> Accepted:
        if self.fail is not None:
            self.fail(message)
        self.sent.append((self.timer.monotonic(), message.id, message.key))
        return Accepted(provider_id=f"fake-{message.id}")

    async def close(self) -> None:
        return None
