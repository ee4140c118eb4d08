"""§2.2.12 points payment in the Telegram chat: one code by SMS to the bound number, typed
in the chat; the voucher arrives as a QR photo through the outbox's Telegram sender."""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import select

from core.platform.clock import ManualClock
from core.platform.schema import entry, orders, outbox, voucher
from tests.support.helpers import fund, seed_catalog, send
from tests.support.telegram_fake import callback_update
from tests.support.tg import (
    PHONE,
    Chat,
    balance_held,
    last_sms_code,
    ledger_ok,
    open_chat,
    rows,
    settled,
)


@pytest.fixture
async def chat(database_url: str, clock: ManualClock, tmp_path: Path) -> AsyncIterator[Chat]:
    async with open_chat(database_url, clock) as opened:
        await seed_catalog(opened.services)
        await fund(opened.services, tmp_path, {PHONE: 20_000})
        await opened.log_in()
        yield opened


async def place(chat: Chat, *codes: str) -> str:
    """Put ``codes`` in the cart, check out (vouchers and credit need no address); the code."""
    for code in codes:
        await chat.tap(f"a {code}")
    summary = await chat.tap("co")
    placed = await chat.tap("co s", on=summary)
    assert "支付验证码已通过短信发送" in placed.text
    return await last_sms_code(chat.services, PHONE)


async def test_pay_with_the_sms_code_and_get_the_voucher_photo(chat: Chat) -> None:
    code = await place(chat, "3001", "1001")
    assert await balance_held(chat.services) == (20_000, 5_800)
    wrong = "000000" if code != "000000" else "111111"
    shown = await chat.say(wrong)
    assert "验证码错误,还可以再试4次" in shown[0].text
    shown = await chat.say(code)
    assert "支付成功" in shown[0].text and "5,800积分" in shown[0].text
    assert await balance_held(chat.services) == (14_200, 0)
    photo = await chat.wait_for(lambda m: m.photo)
    assert "电子券:咖啡券" in photo.text
    no = re.search(r"订单号:(\d+)", photo.text)
    password = re.search(r"验证密码:(\d{8})", photo.text)
    assert no and password
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(chat.fake.photos[photo.message_id])))
    assert len(decoded) == 1 and len(decoded[0].text) >= 22  # the opaque token, ≥128 bits
    statuses = await rows(chat.services, select(orders.c.status).order_by(orders.c.id))
    assert sorted(r.status for r in statuses) == ["paid", "voucher_issued"]
    await settled(chat.services)
    sent = await rows(
        chat.services,
        select(outbox.c.status, outbox.c.attachment, outbox.c.text).where(
            outbox.c.channel == "telegram"
        ),
    )
    assert len(sent) == 1 and sent[0].status == "sent"
    assert sent[0].attachment is None and password.group(1) not in sent[0].text
    await ledger_ok(chat.services)


async def test_code_typed_twice_at_once_pays_once(chat: Chat) -> None:
    code = await place(chat, "3001")
    await asyncio.gather(chat.say(code), chat.say(code))
    texts = [m.text for m in chat.fake.shown_to(chat.chat_id)]
    assert sum("支付成功" in t for t in texts) == 1
    assert sum("没有待确认" in t for t in texts) == 1
    assert await balance_held(chat.services) == (19_200, 0)
    paying = select(entry.c.id).where(entry.c.idempotency_key.like("%:pay"))
    pays = await rows(chat.services, paying)
    assert len(pays) == 1
    assert len(await rows(chat.services, select(voucher.c.id))) == 1
    await ledger_ok(chat.services)


async def test_five_wrong_codes_or_an_old_code_cancel_and_release(
    chat: Chat, clock: ManualClock
) -> None:
    code = await place(chat, "3001")
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(4):
        await chat.say(wrong)
    shown = await chat.say(wrong)
    assert "订单已取消" in shown[0].text
    assert await balance_held(chat.services) == (20_000, 0)
    late = await place(chat, "3001")
    clock.advance(timedelta(minutes=6))
    shown = await chat.say(late)
    assert "订单已取消" in shown[0].text
    statuses = await rows(chat.services, select(orders.c.status))
    assert [r.status for r in statuses] == ["cancelled", "cancelled"]
    assert await balance_held(chat.services) == (20_000, 0)
    await ledger_ok(chat.services)


async def test_place_order_pressed_twice_at_once_holds_once(chat: Chat) -> None:
    await chat.tap("a 3001")
    summary = await chat.tap("co")
    first, second = chat.codec.encode("co s"), chat.codec.encode("co s")
    await asyncio.gather(
        chat.send(callback_update(chat.uid(), chat.chat_id, summary, first)),
        chat.send(callback_update(chat.uid(), chat.chat_id, summary, second)),
    )
    texts = [m.text for m in chat.fake.shown_to(chat.chat_id)]
    assert sum("支付验证码已通过短信发送" in t for t in texts) == 1
    assert await balance_held(chat.services) == (20_000, 800)
    assert len(await rows(chat.services, select(orders.c.id))) == 1
    await ledger_ok(chat.services)


async def test_the_checkout_code_texted_back_by_sms_pays_every_order(chat: Chat) -> None:
    """The code of a chat checkout, sent back by SMS (``QR code``), pays the whole checkout,
    not only its newest order."""
    code = await place(chat, "3001", "1001")
    reply = (await send(chat.services, PHONE, f"QR {code}")).reply
    assert reply.startswith("支付成功!共5,800分,订单:")
    statuses = await rows(chat.services, select(orders.c.status).order_by(orders.c.id))
    assert sorted(r.status for r in statuses) == ["paid", "voucher_issued"]
    assert await balance_held(chat.services) == (14_200, 0)
    await ledger_ok(chat.services)
