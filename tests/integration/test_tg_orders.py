"""§2.2.15 my orders (logistics, cancel), §2.2.17 reviews and §2.2.20 addresses in the
Telegram chat, through the real PTB Application and the fake Bot API, on both databases."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy import select

from core.feedback import reviews
from core.orders import logistics
from core.platform.clock import ManualClock
from core.platform.schema import address, goods_review, orders
from tests.support.helpers import fund, seed_catalog, send
from tests.support.tg import (
    PHONE,
    Chat,
    balance_held,
    labels,
    last_sms_code,
    ledger_ok,
    open_chat,
    rows,
    settled,
)

HOME = "王五 13800138000 北京市朝阳区建国路88号"


@pytest.fixture
async def chat(database_url: str, clock: ManualClock, tmp_path: Path) -> AsyncIterator[Chat]:
    async with open_chat(database_url, clock) as opened:
        await seed_catalog(opened.services)
        await fund(opened.services, tmp_path, {PHONE: 20_000})
        await opened.log_in()
        yield opened


async def buy(chat: Chat, code: str, *, with_address: bool = False) -> str:
    """Put ``code`` in the cart, check out and pay; the order number."""
    await chat.tap(f"a {code}")
    shown = await chat.tap("co")
    if with_address:
        await chat.tap("z c", on=shown)
        await chat.say(HOME)
        shown = chat.last  # type: ignore[assignment]
    await chat.tap("co s", on=shown)
    await chat.say(await last_sms_code(chat.services, PHONE))
    paid = await chat.wait_for(lambda m: "支付成功" in m.text)
    found = re.search(r"订单号:(\d+)", paid.text)
    assert found, paid.text
    if code.startswith("3"):  # a voucher: let its photo arrive before pressing on
        await chat.wait_for(lambda m: m.photo)
        await settled(chat.services)
    return found.group(1)


async def staff(chat: Chat, fn: partial[object]) -> None:
    await chat.services.db.write(lambda conn: fn(conn))


async def test_my_orders_with_logistics_then_review(chat: Chat) -> None:
    no = await buy(chat, "2001", with_address=True)
    listed = await chat.tap("o 1")
    assert any(no in label and "已支付" in label for label in labels(listed))
    detail = await chat.tap(f"o d {no}", on=listed)
    assert "状态:已支付" in detail.text and f"收货地址:{HOME}" in detail.text
    refused = await chat.tap(f"r w {no}", on=detail)
    assert "收货或核销后才能评价" in refused.text
    await staff(
        chat,
        partial(logistics.ship, no=no, carrier="顺丰", tracking_no="SF123", by="ops", now=1),
    )
    detail = await chat.tap(f"o d {no}", on=detail)
    assert "物流:顺丰 SF123" in detail.text and "已发货 顺丰 SF123" in detail.text
    assert "❌ 取消订单" not in labels(detail)  # a shipped parcel cannot be refunded
    await staff(chat, partial(logistics.deliver, no=no, by="ops", now=2))
    detail = await chat.tap(f"o d {no}", on=detail)
    assert "状态:已完成" in detail.text and "⭐ 评价" in labels(detail)
    scores = await chat.tap(f"r w {no}", on=detail)
    assert labels(scores)[:5] == ["★", "★★", "★★★", "★★★★", "★★★★★"]
    prompt = await chat.tap(f"r s {no} 5", on=scores)
    assert "请输入评价内容" in prompt.text
    await chat.say("很保温,好用")
    assert chat.last is not None and "感谢评价" in chat.last.text
    assert "⭐ 评价" not in labels(chat.last)
    listed = await chat.tap("r 2001")
    assert "保温杯:1条评价,平均5.0分" in listed.text and "★★★★★ 很保温,好用" in listed.text
    again = await chat.tap(f"r s {no} 3")
    await chat.say("再评一次")
    assert chat.last is not None and "已评价过" in chat.last.text, again.text
    review = await rows(chat.services, select(goods_review.c.id, goods_review.c.score))
    assert [r.score for r in review] == [5]
    hide = partial(
        reviews.set_visibility, review_id=review[0].id, status="hidden", staff="mod", now=3
    )
    await staff(chat, hide)
    hidden = await chat.tap("r 2001")
    assert "暂无评价" in hidden.text


async def test_a_guest_reads_reviews(database_url: str, clock: ManualClock) -> None:
    async with open_chat(database_url, clock) as guest:
        await seed_catalog(guest.services)
        await guest.say("/start")
        shown = await guest.tap("r 3001")
        assert "咖啡券:暂无评价" in shown.text


async def test_cancel_a_paid_voucher_and_an_unpaid_order(chat: Chat) -> None:
    no = await buy(chat, "3001")
    assert await balance_held(chat.services) == (19_200, 0)
    detail = await chat.tap(f"o d {no}")
    assert "状态:券已发送" in detail.text
    done = await chat.tap(f"o x {no}", on=detail)
    assert f"订单{no}:已退款" in done.text and "❌ 取消订单" not in labels(done)
    assert await balance_held(chat.services) == (20_000, 0)
    await chat.tap("a 3002")
    summary = await chat.tap("co")
    await chat.tap("co s", on=summary)
    assert await balance_held(chat.services) == (20_000, 1_500)
    waiting = await rows(
        chat.services, select(orders.c.no).where(orders.c.status == "awaiting_otp")
    )
    done = await chat.tap(f"o x {waiting[0].no}")
    assert "已取消" in done.text
    assert await balance_held(chat.services) == (20_000, 0)
    await ledger_ok(chat.services)


async def test_addresses_add_default_delete_and_sms_dz(chat: Chat) -> None:
    shown = await chat.tap("z")
    assert "还没有收货地址" in shown.text
    await chat.tap("z n", on=shown)
    short = await chat.say("北京")
    assert "地址需5到200个字" in short[0].text
    await chat.say(HOME)
    assert (
        chat.last is not None and "地址已保存" in chat.last.text and f"★ {HOME}" in chat.last.text
    )
    await chat.tap("z n")
    await chat.say("上海市静安区南京西路1号 赵六")
    listed = chat.last
    assert listed is not None and "· 上海市静安区南京西路1号 赵六" in listed.text
    ids = {r.text: r.id for r in await rows(chat.services, select(address.c.id, address.c.text))}
    shown = await chat.tap(f"z s {ids['上海市静安区南京西路1号 赵六']}", on=listed)
    assert "★ 上海市静安区南京西路1号 赵六" in shown.text and f"· {HOME}" in shown.text
    shown = await chat.tap(f"z d {ids['上海市静安区南京西路1号 赵六']}", on=shown)
    assert "地址已删除" in shown.text and f"★ {HOME}" in shown.text
    await send(chat.services, PHONE, "DZ 广州市天河区体育西路2号")
    shown = await chat.tap("z")
    assert "★ 广州市天河区体育西路2号" in shown.text and f"· {HOME}" in shown.text
    picked = await chat.tap("a 2001")
    picked = await chat.tap("co", on=picked)
    assert labels(picked)[0].startswith("★ 广州市天河区体育西路2号")


async def test_a_phone_credit_order_shows_its_top_up(chat: Chat) -> None:
    """Issue 16 §2: the chat's order screen says how the top-up is going, like ``DD``."""
    no = await buy(chat, "1001")
    detail = await chat.tap(f"o d {no}", on=await chat.tap("o 1"))
    assert "话费50元:充值中。" in detail.text
