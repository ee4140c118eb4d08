"""A Telegram user buying through the real app and PTB Application against the fake Bot API
(the buying side, §2.2.10–20): log in, press signed buttons, type, read what the chat shows."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import Connection, select

from bot.callbacks import CallbackCodec
from core.platform.clock import ManualClock
from core.platform.schema import account, outbox, subscriber
from core.points import doctor
from pointshall.app import build_app
from pointshall.bootstrap import Services, bootstrap
from tests.support.settings import make_settings
from tests.support.telegram_fake import (
    FakeTelegram,
    Shown,
    callback_update,
    contact_update,
    text_update,
)

TOKEN = "123456:TEST-token_for-the-fake"
SECRET = "tg-webhook-secret_1"
CHAT = 515151
PHONE = "+8613800138000"
WAIT = 30.0
"""Upper bound for the background drain to show a message (a safety net, not an assertion)."""


@dataclass
class ShopChat:
    client: TestClient
    fake: FakeTelegram
    services: Services
    codec: CallbackCodec
    chat_id: int = CHAT
    next_update: int = 5000
    last: Shown | None = field(default=None)

    def uid(self) -> int:
        self.next_update += 1
        return self.next_update

    async def post(self, update: dict[str, Any]) -> list[Shown]:
        before = len(self.fake.shown_to(self.chat_id))
        resp = await self.client.post(
            f"/tg/{SECRET}", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
        )
        assert resp.status == 200
        shown = self.fake.shown_to(self.chat_id)[before:]
        if shown:
            self.last = shown[-1]
        return shown

    async def say(self, text: str) -> list[Shown]:
        return await self.post(text_update(self.uid(), self.chat_id, text))

    async def tap(self, payload: str, on: Shown | None = None) -> Shown:
        """Press a button carrying ``payload`` (as a screen of ours or tg-browse's would
        show it) on ``on`` (default: the last message); return what the chat shows then:
        the edited message, or the new one."""
        message = on or self.last
        assert message is not None
        before = len(self.fake.shown_to(self.chat_id))
        data = self.codec.encode(payload)
        await self.post(callback_update(self.uid(), self.chat_id, message, data))
        after = self.fake.shown_to(self.chat_id)
        shown = after[-1] if len(after) > before else self.fake.messages[message.message_id]
        self.last = shown
        return shown

    async def log_in(self, phone: str = PHONE) -> None:
        await self.post(contact_update(self.uid(), self.chat_id, phone))
        shown = await self.say(await last_sms_code(self.services, phone))
        assert "登录成功" in shown[0].text

    async def wait_for(self, predicate: Any) -> Shown:
        """The first message shown to this chat that satisfies ``predicate``."""

        async def poll() -> Shown:
            while True:
                for m in self.fake.shown_to(self.chat_id):
                    if predicate(m):
                        return m
                self.fake.shown.clear()
                await self.fake.shown.wait()

        return await asyncio.wait_for(poll(), WAIT)


def labels(shown: Shown) -> list[str]:
    markup = shown.reply_markup or {}
    return [b["text"] for row in markup.get("inline_keyboard", []) for b in row]


async def last_sms(services: Services, phone: str) -> str:
    def q(conn: Connection) -> str:
        return str(
            conn.execute(
                select(outbox.c.text)
                .where(outbox.c.recipient == phone, outbox.c.channel == "sms")
                .order_by(outbox.c.id.desc())
                .limit(1)
            ).scalar_one()
        )

    return await services.db.read(q)


async def last_sms_code(services: Services, phone: str) -> str:
    found = re.search(r"[0-9]{6}", await last_sms(services, phone))
    assert found is not None
    return found.group(0)


@asynccontextmanager
async def shop_chat(
    database_url: str, clock: ManualClock, *, drain: bool = True
) -> AsyncIterator[ShopChat]:
    """The whole app (webhook and, with ``drain``, the outbox drains) against a fake Bot API."""
    telegram = FakeTelegram(TOKEN)
    server = TestServer(telegram.app())
    await server.start_server()
    try:
        settings = make_settings(
            database_url,
            telegram_token=TOKEN,
            telegram_secret=SECRET,
            telegram_api_url=str(server.make_url("/bot")),
            telegram_file_url=str(server.make_url("/file/bot")),
        )
        services = await bootstrap(settings, clock=clock, upgrade=False)
        try:
            app = build_app(services, drain=drain)
            async with TestClient(TestServer(app)) as client:
                codec = CallbackCodec(services.keyring, clock)
                yield ShopChat(client, telegram, services, codec)
        finally:
            await services.close()
    finally:
        await server.close()


async def balance_held(services: Services, msisdn: str = PHONE) -> tuple[int, int]:
    def q(conn: Connection) -> tuple[int, int]:
        row = conn.execute(
            select(account.c.balance, account.c.held)
            .join(subscriber, subscriber.c.id == account.c.subscriber_id)
            .where(subscriber.c.msisdn == msisdn)
        ).one()
        return int(row.balance), int(row.held)

    return await services.db.read(q)


async def ledger_ok(services: Services) -> None:
    report = await services.db.read(doctor.examine)
    assert report.ok, [str(d) for d in report.discrepancies]


async def rows(services: Services, query: Any) -> list[Any]:
    return await services.db.read(lambda conn: list(conn.execute(query).all()))


async def settled(services: Services, channel: str = "telegram") -> None:
    """Wait until the drain has recorded every send of ``channel`` (nothing pending or sending)."""

    def busy(conn: Connection) -> int:
        return len(
            conn.execute(
                select(outbox.c.id).where(
                    outbox.c.channel == channel, outbox.c.status.in_(("pending", "sending"))
                )
            ).all()
        )

    async def poll() -> None:
        while True:
            if not await services.db.read(busy):
                return
            await asyncio.sleep(0.05)  # the drain writes its outcome in its own transaction

    await asyncio.wait_for(poll(), WAIT)
