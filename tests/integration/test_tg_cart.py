"""§2.2.10 cart and §2.2.11 confirm order in the Telegram chat, through the real PTB
Application and the fake Bot API, on both databases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from core.platform.clock import ManualClock
from core.platform.schema import address, cart_line, favourite, item, orders
from tests.support.helpers import fund, seed_catalog
from tests.support.tg import PHONE, Chat, balance_held, labels, ledger_ok, open_chat, rows


@pytest.fixture
async def chat(database_url: str, clock: ManualClock, tmp_path: Path) -> AsyncIterator[Chat]:
    async with open_chat(database_url, clock) as opened:
        await seed_catalog(opened.services)
        await fund(opened.services, tmp_path, {PHONE: 20_000})
        await opened.log_in()
        yield opened


async def test_cart_add_change_move_to_favourites_remove(chat: Chat) -> None:
    """§2.2.10: the detail screen's `a CODE`, +/−, to favourites, remove, continue shopping."""
    added = await chat.tap("a 3001")
    assert "已加入购物车:咖啡券(共1件)" in added.text
    await chat.tap("a 3001", on=added)
    cart = await chat.tap("k", on=added)
    assert "咖啡券 ×2 = 1,600分" in cart.text and "合计:1,600分" in cart.text
    assert "✅ 去结算" in labels(cart) and "🛍 继续购物" in labels(cart)
    cart = await chat.tap("k + 3001", on=cart)
    assert "×3" in cart.text
    cart = await chat.tap("k - 3001", on=cart)
    assert "×2" in cart.text
    await chat.tap("a 2001")
    cart = await chat.tap("k")
    assert "保温杯 ×1 = 3,000分" in cart.text and "合计:4,600分" in cart.text
    cart = await chat.tap("k f 2001", on=cart)
    assert "已移入收藏:保温杯" in cart.text and "保温杯 ×" not in cart.text
    favs = await rows(chat.services, select(favourite.c.item_id))
    flask = await rows(chat.services, select(item.c.id).where(item.c.code == "2001"))
    assert favs == flask
    cart = await chat.tap("k d 3001", on=cart)
    assert "购物车是空的" in cart.text
    assert await rows(chat.services, select(cart_line.c.id)) == []
    home = await chat.tap("h", on=cart)  # continue shopping: the home screen
    assert "积分商城首页" in home.text and "🛒 购物车" in labels(home)


async def test_a_guest_cannot_use_the_cart(database_url: str, clock: ManualClock) -> None:
    async with open_chat(database_url, clock) as guest:
        await seed_catalog(guest.services)
        await guest.say("/start")
        shown = await guest.tap("a 3001")
        assert "需要登录" in shown.text
        assert await rows(guest.services, select(cart_line.c.id)) == []


async def test_quantity_is_bounded(chat: Chat) -> None:
    shown = await chat.tap("a 3001")
    for _ in range(9):
        shown = await chat.tap("k + 3001", on=shown)
    assert "×10" in shown.text
    refused = await chat.tap("k + 3001", on=shown)
    assert "10" in refused.text
    assert [r.qty for r in await rows(chat.services, select(cart_line.c.qty))] == [10]


async def test_confirm_order_with_address_and_note(chat: Chat) -> None:
    """§2.2.11: items, choose a saved address (physical goods), a note, submit → points held,
    one code by SMS."""
    await chat.tap("a 2001")
    await chat.tap("a 3001")
    cart = await chat.tap("k")
    picked = await chat.tap("co", on=cart)
    assert "新增一个地址" in picked.text  # no saved address yet
    prompt = await chat.tap("z c", on=picked)
    assert "请输入收货地址" in prompt.text
    await chat.say("张三 13800138000 上海市浦东新区世纪大道100号")
    summary = chat.last
    assert summary is not None and "确认订单" in summary.text
    assert "收货地址:张三 13800138000 上海市浦东新区世纪大道100号" in summary.text
    assert "合计:3,800分" in summary.text
    await chat.tap("co n", on=summary)
    await chat.say("请工作日送货")
    summary = chat.last
    assert summary is not None and "备注:请工作日送货" in summary.text
    placed = await chat.tap("co s", on=summary)
    assert "冻结3,800积分" in placed.text and "+86138****8000" in placed.text
    assert await balance_held(chat.services) == (20_000, 3_800)
    found = await rows(
        chat.services,
        select(orders.c.status, orders.c.note, orders.c.address, orders.c.checkout_no).order_by(
            orders.c.id
        ),
    )
    assert [r.status for r in found] == ["awaiting_otp", "awaiting_otp"]
    assert {r.note for r in found} == {"请工作日送货"}
    assert found[0].address is not None and found[1].address is None  # the voucher ships nothing
    assert found[0].checkout_no == found[1].checkout_no
    assert await rows(chat.services, select(cart_line.c.id)) == []
    assert len(await rows(chat.services, select(address.c.id))) == 1
    await ledger_ok(chat.services)


async def test_not_enough_points_or_stock_holds_nothing(chat: Chat, tmp_path: Path) -> None:
    for code in ("3002", "3001"):  # 10 × 1,500 + 10 × 800 > 20,000: the second line fails
        shown = await chat.tap(f"a {code}")
        for _ in range(9):
            shown = await chat.tap(f"k + {code}", on=shown)
    summary = await chat.tap("co", on=shown)
    refused = await chat.tap("co s", on=summary)
    assert "积分不足" in refused.text
    assert await balance_held(chat.services) == (20_000, 0)
    assert await rows(chat.services, select(orders.c.id)) == []
    await chat.tap("k d 3002")
    await chat.tap("k d 3001")
    shown = await chat.tap("a 2001")  # five in stock
    for _ in range(5):
        shown = await chat.tap("k + 2001", on=shown)
    await chat.tap("z n")
    await chat.say("李四 上海市徐汇区漕溪北路1号")
    summary = await chat.tap("co")
    ids = await rows(chat.services, select(address.c.id))
    summary = await chat.tap(f"co {ids[0].id}", on=summary)
    refused = await chat.tap("co s", on=summary)
    assert "库存不足" in refused.text
    assert await balance_held(chat.services) == (20_000, 0)
    assert await rows(chat.services, select(orders.c.id)) == []
    assert [r.qty for r in await rows(chat.services, select(cart_line.c.qty))] == [6]
