"""The console transport: outbound SMS printed, for development and the demo.

The log shows each message with its secrets masked (issue 13 §1); the whole message,
codes and passwords included, goes only to the *handset* file when one is configured
(``POINTSHALL_CONSOLE_HANDSET``; ``serve --demo`` uses ``var/handset.txt``): the
simulated phone, readable by its owner only.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TextIO

from core.messaging import segments
from core.messaging.transport import Accepted, OutboundMessage


class ConsoleTransport:
    name = "console"

    def __init__(self, out: TextIO | None = None, handset: Path | None = None) -> None:
        self._out = out or sys.stdout
        self._handset = handset

    async def send(self, message: OutboundMessage) -> Accepted:
        parts = segments.count(message.text)
        line = f"[{message.id}] SMS → {message.recipient} ({parts} part(s)): "
        print(line + message.printable, file=self._out)
        self._out.flush()
        if self._handset is not None:
            _deliver(self._handset, line + message.text)
        return Accepted(provider_id=f"console-{message.id}", parts=parts)

    async def close(self) -> None:
        return None


def _deliver(handset: Path, line: str) -> None:
    handset.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(handset, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as phone:
        phone.write(line + "\n")
