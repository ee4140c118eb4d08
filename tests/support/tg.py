"""One Telegram user talking to the hall: the whole app (the ``/tg/{secret}`` webhook, the real
python-telegram-bot Application, the outbox drains) against the fake Bot API and its file server.

Every Telegram test drives a ``Chat``: type (``say``), share a contact, press a button by its
label (``press``) or by the payload a screen signs into it (``tap``), send a photo, wait for
what the drain shows later, and read what the chat shows and what the database holds. The
``chat`` fixture (``tests/conftest.py``) is a fresh one from ``open_chat``.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import Connection, select

from bot.callbacks import CallbackCodec
from core.catalogue import editing as admin
from core.catalogue import photos
from core.platform.clock import ManualClock, epoch
from core.platform.schema import account, item, outbox, subscriber
from core.points import doctor
from pointshall.app import build_app
from pointshall.bootstrap import Services, bootstrap
from pointshall.demo_pictures import card
from tests.support.helpers import received, seed_catalog, texts_of
from tests.support.settings import forget_handset, make_settings
from tests.support.telegram_fake import (
    FakeTelegram,
    Shown,
    callback_update,
    contact_update,
    photo_update,
    text_update,
)

TOKEN = "123456:TEST-token_for-the-fake"
SECRET = "tg-webhook-secret_1"
CHAT = 424242
PHONE = "+8613800138000"
WAIT = 30.0
"""Upper bound for the background drain to show a message (a safety net, not an assertion)."""


@dataclass
class Chat:
    """One Telegram user talking to the hall through the webhook."""

    client: TestClient
    fake: FakeTelegram
    services: Services
    chat_id: int = CHAT
    next_update: int = 1000
    last: Shown | None = field(default=None)
    """The last message this chat was shown (sent or edited) by what the test did."""

    @property
    def codec(self) -> CallbackCodec:
        """Signs button payloads as the app's screens do."""
        return CallbackCodec(self.services.keyring, self.services.clock)

    def uid(self) -> int:
        self.next_update += 1
        return self.next_update

    async def post(self, update: dict[str, Any], secret: str = SECRET) -> int:
        """Deliver ``update`` as Telegram does (with ``secret`` in the header); the status."""
        resp = await self.client.post(
            f"/tg/{SECRET}",
            json=update,
            headers={"X-Telegram-Bot-Api-Secret-Token": secret},
        )
        return resp.status

    async def send(self, update: dict[str, Any]) -> list[Shown]:
        """Deliver ``update``, which must be taken (200); what the chat was newly sent."""
        before = len(self.fake.shown_to(self.chat_id))
        assert await self.post(update) == 200
        shown = self.fake.shown_to(self.chat_id)[before:]
        if shown:
            self.last = shown[-1]
        return shown

    async def say(self, text: str) -> list[Shown]:
        return await self.send(text_update(self.uid(), self.chat_id, text))

    async def share_contact(self, phone: str) -> list[Shown]:
        return await self.send(contact_update(self.uid(), self.chat_id, phone))

    async def send_photo(self, data: bytes) -> list[Shown]:
        file_id = self.fake.upload(data)
        return await self.send(photo_update(self.uid(), self.chat_id, file_id))

    async def press(self, shown: Shown, label: str) -> list[Shown]:
        """Press the button labelled ``label`` on ``shown`` (see ``find``); what was newly
        sent (an edited message is read from ``fake.messages``)."""
        return await self.send(callback_update(self.uid(), self.chat_id, shown, find(shown, label)))

    async def tap(self, payload: str, on: Shown | None = None) -> Shown:
        """Press a button carrying ``payload`` (as a screen would sign it) on ``on`` (default:
        the last message); what the chat shows then: the edited message, or the new one."""
        message = on or self.last
        assert message is not None
        before = len(self.fake.shown_to(self.chat_id))
        data = self.codec.encode(payload)
        await self.send(callback_update(self.uid(), self.chat_id, message, data))
        after = self.fake.shown_to(self.chat_id)
        shown = after[-1] if len(after) > before else self.fake.messages[message.message_id]
        self.last = shown
        return shown

    async def log_in(self, phone: str = PHONE) -> None:
        await self.share_contact(phone)
        shown = await self.say(await last_sms_code(self.services, phone))
        assert "登录成功" in shown[0].text

    async def wait_for(self, predicate: Callable[[Shown], object]) -> Shown:
        """The first message shown to this chat that satisfies ``predicate``."""

        async def poll() -> Shown:
            while True:
                for m in self.fake.shown_to(self.chat_id):
                    if predicate(m):
                        return m
                self.fake.shown.clear()
                await self.fake.shown.wait()

        return await asyncio.wait_for(poll(), WAIT)


@asynccontextmanager
async def open_chat(
    database_url: str, clock: ManualClock, *, drain: bool | None = None, **overrides: object
) -> AsyncIterator[Chat]:
    """The whole app (webhook and, unless ``drain`` is false, the outbox drains) against a
    fake Bot API, with a chat ready to talk to it; ``overrides`` are more settings."""
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
            **overrides,
        )
        services = await bootstrap(settings, clock=clock, upgrade=False)
        try:
            async with TestClient(TestServer(build_app(services, drain=drain))) as client:
                yield Chat(client, telegram, services)
        finally:
            await services.close()
            forget_handset(services)
    finally:
        await server.close()


# ----------------------------------------------------------------------------- buttons


def _all(shown: Shown) -> list[dict[str, Any]]:
    markup = shown.reply_markup or {}
    return [b for row in markup.get("inline_keyboard", []) for b in row]


def buttons(shown: Shown) -> list[tuple[str, str]]:
    """Every button as (label, callback data); every one must carry callback data."""
    markup = shown.reply_markup or {}
    return [(b["text"], b["callback_data"]) for row in markup["inline_keyboard"] for b in row]


def button(shown: Shown, label_part: str) -> str:
    """The callback data of the first button whose label contains ``label_part``."""
    return next(data for text, data in buttons(shown) if label_part in text)


def find(shown: Shown, label: str) -> str:
    """The callback data of the button labelled ``label`` (exactly, else the first with it)."""
    found = [b for b in _all(shown) if "callback_data" in b]
    for b in found:
        if b["text"] == label:
            return str(b["callback_data"])
    return next(str(b["callback_data"]) for b in found if label in b["text"])


def labels(shown: Shown) -> list[str]:
    """Every button's label, links included."""
    return [str(b["text"]) for b in _all(shown)]


def payloads(shown: Shown) -> list[str]:
    """Every button's callback data (links have none)."""
    return [str(b["callback_data"]) for b in _all(shown) if "callback_data" in b]


async def home(chat: Chat) -> Shown:
    """The home screen ``/start`` shows."""
    shown = await chat.say("/start")
    return shown[-1]


# ------------------------------------------------------------------- what the hall holds


async def last_sms(services: Services, phone: str) -> str:
    """The newest SMS to ``phone`` as the phone reads it (codes in clear)."""
    query = texts_of(outbox.c.recipient == phone, outbox.c.channel == "sms")
    return (await services.db.read(received(services, query)))[-1]


async def last_sms_code(services: Services, phone: str) -> str:
    found = re.search(r"[0-9]{6}", await last_sms(services, phone))
    assert found is not None
    return found.group(0)


def item_id(conn: Connection, code: str) -> int:
    return int(conn.execute(select(item.c.id).where(item.c.code == code)).scalar_one())


async def mall(chat: Chat) -> dict[str, Any]:
    """The test catalogue plus content for the home screen: a banner with a picture, two
    announcements, ads to each kind of target, a picture of the flask (2001)."""
    services = chat.services
    await seed_catalog(services)
    now = epoch(services.clock.now())

    def unit(conn: Connection) -> dict[str, Any]:
        banner_id = admin.add_banner(conn, "A1")
        photos.put(conn, photos.banner_subject(banner_id), card("Singles Day", "banner"), now)
        photos.put(conn, photos.item_subject(item_id(conn, "2001")), card("Flask", "2001"), now)
        news = admin.add_announcement(
            conn, "春节安排", "Spring holiday", "春节期间正常兑换,物流顺延。", "Open as usual.", now
        )
        admin.add_announcement(conn, "积分规则", "Points rules", "每消费1元得1分。", "1/yuan.", now)
        admin.add_ad(conn, "咖啡特惠", "Coffee deal", "item", "3001", sort=1)
        admin.add_ad(conn, "礼品专区", "Gift corner", "category", "LP", sort=2)
        admin.add_ad(conn, "官网", "Website", "url", "https://example.com/mall", sort=3)
        admin.add_ad(conn, "双十一来了", "Singles Day is here", "activity", "A1", sort=4)
        admin.add_ad(conn, "看公告", "Read the news", "announcement", str(news), sort=5)
        return {"banner": banner_id, "news": news}

    return await services.db.write(unit)


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
