"""The console transport: outbound SMS printed, for development and the demo."""

from __future__ import annotations

import sys
from typing import TextIO

from core.messaging import segments
from core.messaging.transport import Accepted, OutboundMessage


class ConsoleTransport:
    name = "console"

    def __init__(self, out: TextIO | None = None) -> None:
        self._out = out or sys.stdout

    async def send(self, message: OutboundMessage) -> Accepted:
        parts = segments.count(message.text)
        print(f"SMS → {message.recipient} ({parts} part(s)): {message.text}", file=self._out)
        self._out.flush()
        return Accepted(provider_id=f"console-{message.id}", parts=parts)

    async def close(self) -> None:
        return None
