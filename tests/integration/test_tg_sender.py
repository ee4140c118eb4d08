"""The outbox's Telegram sender (DESIGN.md §10): PTB's Bot against the fake Bot API, driven by
the real drain on virtual time. One message a second per chat, 429 waits at least the
server's retry_after, 409/5xx are tried again, 400/403 are given up, nothing is sent twice."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import AsyncIterator
from itertools import pairwise

import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import Connection, select
from telegram import Bot

from bot.sender import GLOBAL_RATE, TelegramTransport
from core.messaging import outbox as core_outbox
from core.messaging.drain import Drain, DrainPolicy
from core.messaging.ratelimit import VirtualTimer
from core.messaging.send_rate import SharedRateLimiter
from core.messaging.transport import Accepted, OutboundMessage
from core.platform.clock import ManualClock, epoch
from core.platform.schema import outbox
from pointshall.bootstrap import Services
from tests.support.telegram_fake import FakeTelegram
from tests.support.tg import TOKEN

PASSWORD = re.compile(r"(?<![0-9])[0-9]{8}(?![0-9])")

A, B = 1001, 1002


class TimedTransport(TelegramTransport):
    """Notes the virtual moment each send reaches the Bot API."""

    def __init__(self, bot: Bot, timer: VirtualTimer) -> None:
        super().__init__(bot, timer)
        self.timer = timer
        self.moments: list[tuple[float, int]] = []

    async def _send(self, chat_id: int, message: OutboundMessage) -> Accepted:
        self.moments.append((self.timer.monotonic(), chat_id))
        return await super()._send(chat_id, message)


@pytest.fixture
async def api() -> AsyncIterator[tuple[FakeTelegram, Bot]]:
    fake = FakeTelegram(TOKEN)
    server = TestServer(fake.app())
    await server.start_server()
    bot = Bot(TOKEN, base_url=str(server.make_url("/bot")))
    await bot.initialize()
    try:
        yield fake, bot
    finally:
        await bot.shutdown()
        await server.close()


async def queue(services: Services, *messages: tuple[int, str, str | None]) -> None:
    now = epoch(services.clock.now())

    def unit(conn: Connection) -> None:
        for i, (chat, text, attachment) in enumerate(messages):
            core_outbox.enqueue(
                conn,
                key=f"t:{i}",
                recipient=str(chat),
                text=text,
                now=now,
                channel="telegram",
                attachment=attachment,
                secrets=PASSWORD.findall(text),
                keyring=services.keyring,
            )

    await services.db.write(unit)


async def drain_all(
    services: Services,
    transport: TelegramTransport,
    timer: VirtualTimer,
    limiter: SharedRateLimiter | None = None,
) -> None:
    policy = DrainPolicy(rate=GLOBAL_RATE, burst=int(GLOBAL_RATE), backoff=2.0, idle=0.5)
    drain = Drain(
        services.db,
        transport,
        services.clock,
        timer,
        policy,
        keyring=services.keyring,
        channel="telegram",
        limiter=limiter,
    )

    def busy(conn: Connection) -> int:
        due = outbox.c.status.in_(("pending", "sending"))
        return len(conn.execute(select(outbox.c.id).where(due)).all())

    task = asyncio.create_task(drain.run())
    try:
        while True:
            if not await services.db.read(busy):
                break
            await asyncio.sleep(0.02)
    finally:
        drain.stop()
        await task


async def outcomes(services: Services) -> dict[str, tuple[str, int, str | None]]:
    def q(conn: Connection) -> dict[str, tuple[str, int, str | None]]:
        found = conn.execute(
            select(outbox.c.text, outbox.c.status, outbox.c.attempts, outbox.c.last_error)
        ).all()
        return {r.text: (r.status, int(r.attempts), r.last_error) for r in found}

    return await services.db.read(q)


async def test_one_a_second_per_chat_and_429_waits_retry_after(
    services: Services, clock: ManualClock, api: tuple[FakeTelegram, Bot]
) -> None:
    fake, bot = api
    timer = VirtualTimer(clock)
    transport = TimedTransport(bot, timer)
    fake.failures.append((429, {"retry_after": 7}))
    await queue(services, *[(A, f"a{i}", None) for i in range(4)], (B, "b0", None), (B, "b1", None))
    await drain_all(services, transport, timer)
    shown = Counter(m.text for m in fake.messages.values())
    assert shown == Counter({"a0": 1, "a1": 1, "a2": 1, "a3": 1, "b0": 1, "b1": 1})
    for chat in (A, B):
        at = [t for t, c in transport.moments if c == chat]
        assert all(later - earlier >= 1.0 for earlier, later in pairwise(at))
    limited = [
        text for text, (_, attempts, _) in (await outcomes(services)).items() if attempts == 2
    ]
    assert len(limited) == 1
    first_try = transport.moments[0][0]
    retried = [t for t, _ in transport.moments[1:]]
    assert max(retried) - first_try >= 7.0  # the limited message came back after retry_after
    assert all(status == "sent" for status, _, _ in (await outcomes(services)).values())


async def test_409_and_5xx_are_retried_400_and_403_given_up(
    services: Services, clock: ManualClock, api: tuple[FakeTelegram, Bot]
) -> None:
    fake, bot = api
    timer = VirtualTimer(clock)
    fake.failures.extend([(409, {}), (502, {}), (500, {}), (403, {}), (400, {})])
    await queue(services, (A, "m0", None), (A, "m1", None), (A, "m2", None), (B, "x0", None))
    await drain_all(services, TelegramTransport(bot, timer), timer)
    done = await outcomes(services)
    statuses = Counter(status for status, _, _ in done.values())
    assert statuses == Counter({"sent": 2, "failed": 2}) or statuses == Counter(
        {"sent": 3, "failed": 1}
    )
    shown = Counter(m.text for m in fake.messages.values())
    assert all(n == 1 for n in shown.values())
    assert set(shown) == {text for text, (status, _, _) in done.items() if status == "sent"}


async def test_a_voucher_goes_as_a_photo_and_its_secret_is_not_kept(
    services: Services, clock: ManualClock, api: tuple[FakeTelegram, Bot]
) -> None:
    fake, bot = api
    timer = VirtualTimer(clock)
    await queue(services, (A, "order 1 password 12345678", "qr:opaque-token-0123456789abcdef"))
    await drain_all(services, TelegramTransport(bot, timer), timer)
    [photo] = fake.messages.values()
    assert photo.photo and photo.text == "order 1 password 12345678"
    assert fake.photos[photo.message_id].startswith(b"\x89PNG")
    [(text, (status, _, _))] = (await outcomes(services)).items()
    assert status == "sent" and "12345678" not in text
    kept = await services.db.read(
        lambda conn: conn.execute(select(outbox.c.attachment, outbox.c.sealed)).one()
    )
    assert tuple(kept) == (None, None)


async def test_a_recipient_that_is_not_a_chat_is_rejected(
    services: Services, clock: ManualClock, api: tuple[FakeTelegram, Bot]
) -> None:
    fake, bot = api
    timer = VirtualTimer(clock)
    now = epoch(clock.now())
    await services.db.write(
        lambda conn: core_outbox.enqueue(
            conn, key="bad", recipient="+8613800138000", text="x", now=now, channel="telegram"
        )
    )
    await drain_all(services, TelegramTransport(bot, timer), timer)
    assert [s for s, _, _ in (await outcomes(services)).values()] == ["failed"]
    assert fake.messages == {}


def max_in_any_window(times: list[float]) -> int:
    ordered = sorted(times)
    return max(sum(1 for u in ordered[i:] if u < t + 1.0) for i, t in enumerate(ordered))


async def test_a_chat_waiting_its_turn_never_pushes_a_send_past_the_bot_s_shared_slot(
    services: Services, clock: ManualClock, api: tuple[FakeTelegram, Bot]
) -> None:
    """Issue 15 §4: the bot's rate is shared by every replica (``send_rate``), and a chat's
    second message waits for the chat *before* it takes a slot of the bot's rate, so every
    send starts at its slot: never more than 30 in a second, never two to a chat in one."""
    _, bot = api
    timer = VirtualTimer(clock)
    transport = TimedTransport(bot, timer)
    chats = [A, B, *range(2001, 2019)]
    await queue(services, *[(chat, f"{chat}:{i}", None) for chat in chats for i in range(4)])
    limiter = SharedRateLimiter(services.db, "telegram:42", GLOBAL_RATE, timer)
    await drain_all(services, transport, timer, limiter)
    assert len(transport.moments) == 4 * len(chats)
    assert max_in_any_window([t for t, _ in transport.moments]) <= GLOBAL_RATE
    for chat in chats:
        at = [t for t, c in transport.moments if c == chat]
        assert len(at) == 4
        assert all(later - earlier >= 1.0 for earlier, later in pairwise(at))
