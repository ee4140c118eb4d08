"""A Telegram chat driven through the real webhook and python-telegram-bot Application, against
the fake Bot API (with its file server), for the browsing and verification tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import Connection

from core.catalogue import editing as admin
from core.catalogue import photos
from core.platform.clock import ManualClock, epoch
from core.platform.schema import item
from pointshall.app import build_app
from pointshall.bootstrap import bootstrap
from pointshall.demo_pictures import card
from tests.integration.test_telegram_bot import SECRET, TOKEN, Chat, button, buttons
from tests.support.helpers import seed_catalog
from tests.support.settings import make_settings
from tests.support.telegram_fake import FakeTelegram, Shown, photo_update

__all__ = ["Chat", "button", "buttons", "labels", "payloads"]


@pytest.fixture
async def tg() -> AsyncIterator[tuple[FakeTelegram, str, str]]:
    telegram = FakeTelegram(TOKEN)
    server = TestServer(telegram.app())
    await server.start_server()
    try:
        yield telegram, str(server.make_url("/bot")), str(server.make_url("/file/bot"))
    finally:
        await server.close()


@pytest.fixture
async def chat(
    database_url: str, clock: ManualClock, tg: tuple[FakeTelegram, str, str]
) -> AsyncIterator[Chat]:
    telegram, api_url, file_url = tg
    settings = make_settings(
        database_url,
        telegram_token=TOKEN,
        telegram_secret=SECRET,
        telegram_api_url=api_url,
        telegram_file_url=file_url,
    )
    services = await bootstrap(settings, clock=clock, upgrade=False)
    try:
        async with TestClient(TestServer(build_app(services))) as client:
            yield Chat(client, telegram, services)
    finally:
        await services.close()


def _all(shown: Shown) -> list[dict[str, Any]]:
    markup = shown.reply_markup or {}
    return [b for row in markup.get("inline_keyboard", []) for b in row]


def labels(shown: Shown) -> list[str]:
    """Every button's label, links included."""
    return [str(b["text"]) for b in _all(shown)]


def payloads(shown: Shown) -> list[str]:
    """Every button's callback data (links have none)."""
    return [str(b["callback_data"]) for b in _all(shown) if "callback_data" in b]


async def send_photo(chat: Chat, data: bytes) -> list[Shown]:
    before = len(chat.fake.shown_to(chat.chat_id))
    file_id = chat.fake.upload(data)
    assert await chat.post(photo_update(chat._uid(), chat.chat_id, file_id)) == 200
    return chat.fake.shown_to(chat.chat_id)[before:]


def item_id(conn: Connection, code: str) -> int:
    from sqlalchemy import select

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
