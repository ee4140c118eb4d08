"""Merchant staff verify vouchers in the Telegram chat (issue 5 item 5, §3.6.1–3.6.2): by
replying to the bot's prompt with ``order pwd``, by ``YZ order pwd``, or by sending a photo
of the voucher's QR code, decoded on the server; through the real webhook and Application
against the fake Bot API, on both databases."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

from PIL import Image
from sqlalchemy import Connection, func, select

from core.platform.schema import audit_log, voucher
from core.platform.schema import orders as orders_table
from core.vouchers import qr
from pointshall.demo_pictures import card
from tests.support.merchant_helpers import ALICE, STAFF_A, STAFF_B, Bought, buy, merchant_mall
from tests.support.telegram_fake import photo_update
from tests.support.tg import Chat


def camera_shot(png: bytes) -> bytes:
    """The QR code as a phone camera would send it: a JPEG, larger, on a grey desk."""
    code = Image.open(io.BytesIO(png)).convert("RGB")
    desk = Image.new("RGB", (code.width * 2, code.height * 2), (180, 180, 170))
    desk.paste(code.resize((code.width * 3 // 2, code.height * 3 // 2)), (40, 60))
    out = io.BytesIO()
    desk.save(out, format="JPEG", quality=85)
    return out.getvalue()


async def status_of(chat: Chat, no: str) -> str:
    def q(conn: Connection) -> str:
        return str(
            conn.execute(
                select(voucher.c.status)
                .join(orders_table, orders_table.c.id == voucher.c.order_id)
                .where(orders_table.c.no == no)
            ).scalar_one()
        )

    return await chat.services.db.read(q)


async def audited(chat: Chat, action: str) -> list[str]:
    def q(conn: Connection) -> list[str]:
        return list(
            conn.execute(select(audit_log.c.result).where(audit_log.c.action == action)).scalars()
        )

    return await chat.services.db.read(q)


async def bought(chat: Chat, tmp_path: Path, code: str = "3001") -> Bought:
    await merchant_mall(chat.services, tmp_path)
    return await buy(chat.services, code)


async def test_staff_reply_to_the_prompt_with_order_and_password(
    chat: Chat, tmp_path: Path
) -> None:
    ticket = await bought(chat, tmp_path)
    await chat.log_in(STAFF_A)
    [prompt] = await chat.say("YZ")
    assert "订单号和核销密码" in prompt.text
    assert chat.fake.called("sendMessage")[-1]["reply_markup"]["force_reply"] is True
    [done] = await chat.say(f"{ticket.no} {ticket.password}")
    assert done.text.startswith("核销成功") and ticket.no in done.text
    assert await status_of(chat, ticket.no) == "verified"
    [again] = await chat.say(f"YZ {ticket.no} {ticket.password}")
    assert "核销成功" not in again.text  # used once
    assert await audited(chat, "verify_password") == ["verified", "VoucherAlreadyUsed"]


async def test_staff_send_a_photo_of_the_qr_code(chat: Chat, tmp_path: Path) -> None:
    ticket = await bought(chat, tmp_path)
    await chat.log_in(STAFF_A)
    [done] = await chat.send_photo(camera_shot(qr.png(ticket.token)))
    assert done.text.startswith("核销成功") and ticket.no in done.text
    assert await status_of(chat, ticket.no) == "verified"
    assert await audited(chat, "verify_qr") == ["verified"]
    assert len(chat.fake.called("getFile")) == 1


async def test_the_qr_of_another_merchants_voucher_is_refused(chat: Chat, tmp_path: Path) -> None:
    ticket = await bought(chat, tmp_path)
    await chat.log_in(STAFF_B)  # staff of M2; the coffee voucher is M1's
    [refused] = await chat.send_photo(qr.png(ticket.token))
    assert "核销成功" not in refused.text
    assert await status_of(chat, ticket.no) == "issued"
    assert await audited(chat, "verify_qr") == ["NotYourVoucher"]


async def test_a_photo_without_a_qr_code_asks_for_a_better_one(chat: Chat, tmp_path: Path) -> None:
    ticket = await bought(chat, tmp_path)
    await chat.log_in(STAFF_A)
    [hint] = await chat.send_photo(card("Holiday snap", "no code here"))
    assert "没有识别出二维码" in hint.text
    assert await status_of(chat, ticket.no) == "issued"
    assert await audited(chat, "verify_qr") == []


async def test_customers_and_guests_cannot_verify_by_photo(chat: Chat, tmp_path: Path) -> None:
    ticket = await bought(chat, tmp_path)
    [guest] = await chat.send_photo(qr.png(ticket.token))
    assert "只有商家核销员" in guest.text
    await chat.log_in(ALICE)
    [customer] = await chat.send_photo(qr.png(ticket.token))
    assert "只有商家核销员" in customer.text
    [typed] = await chat.say("YZ")
    assert "不是登记的商家核销员" in typed.text
    assert chat.fake.called("getFile") == []  # nobody downloaded a customer's photo
    assert await status_of(chat, ticket.no) == "issued"


async def test_the_same_photo_update_50_times_verifies_once(chat: Chat, tmp_path: Path) -> None:
    ticket = await bought(chat, tmp_path)
    await chat.log_in(STAFF_A)
    file_id = chat.fake.upload(qr.png(ticket.token))
    update = photo_update(9_100, chat.chat_id, file_id)
    before = len(chat.fake.shown_to(chat.chat_id))
    assert set(await asyncio.gather(*(chat.post(update) for _ in range(50)))) == {200}
    replies = chat.fake.shown_to(chat.chat_id)[before:]
    assert [r.text.startswith("核销成功") for r in replies] == [True]
    assert await audited(chat, "verify_qr") == ["verified"]

    def verified(conn: Connection) -> int:
        return int(
            conn.execute(
                select(func.count()).select_from(voucher).where(voucher.c.status == "verified")
            ).scalar_one()
        )

    assert await chat.services.db.read(verified) == 1
