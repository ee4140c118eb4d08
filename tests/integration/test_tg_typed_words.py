"""Typed words in the chat that must keep their meaning (§2.2.12, issue 14).

While a prompt waits for free text, the help and opt-out words still ask for help or
stop marketing rather than becoming the message; a confirm code typed in the chat
pays the order it was sent for, whether a chat checkout or an SMS ``DH``.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, select

from core.orders import cart, checkout
from core.platform.clock import ManualClock, epoch
from core.platform.schema import message, orders
from core.subscribers.subscribers import get_or_create
from tests.support.helpers import fund, seed_catalog, send
from tests.support.tg import PHONE, Chat, open_chat, rows


@pytest.fixture
async def chat(database_url: str, clock: ManualClock) -> AsyncIterator[Chat]:
    async with open_chat(database_url, clock) as opened:
        await opened.log_in()
        yield opened


async def test_help_word_wins_over_a_waiting_prompt(chat: Chat) -> None:
    empty = await chat.tap("m")
    prompt = await chat.tap("m n", on=empty)
    assert "请输入您要留给客服的话" in prompt.text
    shown = await chat.say("bz")
    assert "积分营业厅指令(1/" in shown[0].text
    assert await rows(chat.services, select(message.c.id)) == []
    after = await chat.say("你好")  # the prompt is over: not taken as a message
    assert "留言已收到" not in after[0].text
    assert await rows(chat.services, select(message.c.id)) == []


async def test_a_dh_code_typed_in_the_chat_pays_that_order_not_the_checkout(
    chat: Chat, tmp_path: Path
) -> None:
    services = chat.services
    await seed_catalog(services)
    await fund(services, tmp_path, {PHONE: 50_000})

    def submit_cart(conn: Connection) -> str:
        now = epoch(services.clock.now())
        who = get_or_create(conn, PHONE, now)
        cart.add(conn, who.id, "1001", now, 5)
        return checkout.submit(
            conn,
            subscriber=who,
            address_id=None,
            note="",
            channel="telegram",
            key="chat:checkout-typed",
            now=now,
            policy=services.hall.policy.orders,
            keyring=services.keyring,
        ).checkout_no

    checkout_no = await services.db.write(submit_cart)
    reply = (await send(services, PHONE, "DH 1001")).reply
    match = re.fullmatch(r"订单(\d+):.*5分钟内回复(\d{6})确认兑换。", reply)
    assert match, reply
    sms_order, sms_code = match.groups()

    shown = await chat.say(sms_code)
    assert f"兑换成功!订单{sms_order}:" in shown[0].text, shown[0].text
    state = await rows(services, select(orders.c.status).where(orders.c.no == checkout_no))
    assert [r.status for r in state] == ["awaiting_otp"]  # the checkout still waits, no try lost
