"""A redelivery gets the first reply, and only its own sender does (DESIGN §6, issue 14).

Providers redeliver a message under the same id; the hall answers it with what it said
the first time and does nothing twice. A message under a known id from another number
(a provider bug, or ids replayed on an unsigned channel) must not be handed the first
sender's answer, which may carry their balance or codes.
"""

from __future__ import annotations

from pathlib import Path

from core.platform.schema import inbound
from pointshall.bootstrap import Services
from tests.support.helpers import count, fund, send

ALICE = "+8613800138000"
BOB = "+8613900139000"


async def test_the_first_reply_goes_back_only_to_its_own_sender(
    services: Services, tmp_path: Path
) -> None:
    await fund(services, tmp_path, {ALICE: 12_345})
    first = await send(services, ALICE, "JF", sid="SM-1")
    assert "12,345" in first.reply
    again = await send(services, ALICE, "JF", sid="SM-1")
    assert again.duplicate and again.reply == first.reply
    other = await send(services, BOB, "JF", sid="SM-1")
    assert other.duplicate and "12,345" not in other.reply
    assert await count(services, inbound) == 1
