"""The whole buying story in Telegram (issue 5, §2.2.8–2.2.15, §3.6): log in by SMS code, add
to the cart from the detail screen, check out with an address and a note, pay with the code
texted to the bound number, get the voucher's QR photo, the merchant's staff verifies it in
their own chat by sending a photo of that QR code, and "my orders" shows it used. The ledger
balances and the points went once."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from sqlalchemy import select

from core.platform.clock import ManualClock
from core.platform.schema import entry, orders
from tests.support.merchant_helpers import STAFF_A, merchant_mall
from tests.support.telegram_fake import photo_update
from tests.support.tg import (
    PHONE,
    balance_held,
    labels,
    last_sms,
    last_sms_code,
    ledger_ok,
    open_chat,
    rows,
    settled,
)

ADDRESS = "王五 13800138000 北京市朝阳区建国路88号"


async def test_bind_buy_pay_receive_verify_and_see_it(
    database_url: str, clock: ManualClock, tmp_path: Path
) -> None:
    async with open_chat(database_url, clock) as chat:
        await merchant_mall(chat.services, tmp_path)  # 50,000 points, STAFF_A verifies M1
        await chat.log_in()
        home = await chat.say("/start")
        assert "🛒 购物车" in labels(home[-1])
        detail = await chat.tap("x 3001", on=home[-1])  # the item's detail (today's screen)
        assert "咖啡券" in detail.text
        added = await chat.tap("a 3001", on=detail)  # the detail screen's add-to-cart button
        assert "已加入购物车" in added.text
        await chat.tap("a 2001", on=added)
        cart = await chat.tap("k")
        assert "合计:3,800分" in cart.text
        pick = await chat.tap("co", on=cart)
        await chat.tap("z c", on=pick)
        await chat.say(ADDRESS)
        assert chat.last is not None
        await chat.tap("co n", on=chat.last)
        await chat.say("下午送")
        assert chat.last is not None and "备注:下午送" in chat.last.text
        placed = await chat.tap("co s", on=chat.last)
        assert "冻结3,800积分" in placed.text
        sms = await last_sms(chat.services, PHONE)
        assert "支付验证码" in sms and "3,800积分" in sms
        await chat.say(await last_sms_code(chat.services, PHONE))
        paid = await chat.wait_for(lambda m: "支付成功" in m.text)
        assert "3,800积分" in paid.text
        photo = await chat.wait_for(lambda m: m.photo)
        no = re.search(r"订单号:(\d+)", photo.text)
        password = re.search(r"验证密码:(\d{8})", photo.text)
        assert no and password and chat.fake.photos[photo.message_id].startswith(b"\x89PNG")
        await settled(chat.services)

        # The shop's verifier, in their own chat, sends a photo of the customer's QR code.
        staff = replace(chat, chat_id=chat.chat_id + 1, next_update=90_000, last=None)
        await staff.log_in(STAFF_A)
        shot = chat.fake.upload(chat.fake.photos[photo.message_id])
        [verified] = await staff.send(photo_update(staff.uid(), staff.chat_id, shot))
        assert verified.text.startswith("核销成功") and no.group(1) in verified.text

        listed = await chat.tap("o 1")
        assert any(no.group(1) in label and "券已使用" in label for label in labels(listed))
        detail = await chat.tap(f"o d {no.group(1)}", on=listed)
        assert "状态:券已使用" in detail.text and "⭐ 评价" in labels(detail)
        found = await rows(
            chat.services, select(orders.c.status, orders.c.note).order_by(orders.c.id)
        )
        assert sorted(r.status for r in found) == ["paid", "verified"]
        assert {r.note for r in found} == {"下午送"}
        assert await balance_held(chat.services) == (50_000 - 3_800, 0)
        pays = await rows(
            chat.services, select(entry.c.amount).where(entry.c.idempotency_key.like("order:%:pay"))
        )
        assert sorted(r.amount for r in pays) == [-3_000, -800]
        await ledger_ok(chat.services)
