"""§2.2.13 messages to the operator and §2.2.19 my messages: left from the chat (button or
LY) or by SMS (LY/留言/MSG), answered by staff, the reply delivered the way it came."""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial

import pytest
from sqlalchemy import select

from core.feedback import messages
from core.platform.clock import ManualClock
from core.platform.schema import message, outbox
from tests.support.helpers import send
from tests.support.tg import CHAT, PHONE, Chat, open_chat, rows, settled

OTHER = "+8613900139000"


@pytest.fixture
async def chat(database_url: str, clock: ManualClock) -> AsyncIterator[Chat]:
    async with open_chat(database_url, clock) as opened:
        await opened.log_in()
        yield opened


async def staff_reply(chat: Chat, message_id: int, text: str) -> None:
    reply = partial(messages.reply, message_id=message_id, staff="ops-li", text=text, now=0)
    await chat.services.db.write(lambda conn: reply(conn))


async def test_leave_a_message_in_the_chat_and_get_the_reply_there(chat: Chat) -> None:
    empty = await chat.tap("m")
    assert "还没有留言" in empty.text
    prompt = await chat.tap("m n", on=empty)
    assert "请输入您要留给客服的话" in prompt.text
    await chat.say("保温杯什么时候发货?")
    assert chat.last is not None and "留言已收到(#1)" in chat.last.text
    stored = await rows(chat.services, select(message.c.channel, message.c.reply_to))
    assert [(r.channel, r.reply_to) for r in stored] == [("telegram", str(CHAT))]
    await staff_reply(chat, 1, "明天发顺丰。")
    delivered = await chat.wait_for(lambda m: "您的留言#1有回复:明天发顺丰。" in m.text)
    assert not delivered.photo
    await settled(chat.services)
    mine = await chat.tap("m")
    assert "#1 保温杯什么时候发货?" in mine.text and "↳ 客服:明天发顺丰。" in mine.text
    status = await rows(chat.services, select(message.c.status))
    assert [r.status for r in status] == ["replied"]


async def test_ly_typed_in_the_chat_is_answered_in_the_chat(chat: Chat) -> None:
    shown = await chat.say("LY 积分什么时候到账")
    assert "留言已收到(#1)" in shown[0].text
    await staff_reply(chat, 1, "每月5日。")
    await chat.wait_for(lambda m: "每月5日" in m.text)
    sms = await rows(chat.services, select(outbox.c.id).where(outbox.c.text.like("%每月5日%")))
    tg = await rows(chat.services, select(outbox.c.recipient).where(outbox.c.channel == "telegram"))
    assert len(sms) == 1 and [r.recipient for r in tg] == [str(CHAT)]


@pytest.mark.parametrize("keyword", ["LY", "留言", "MSG"])
async def test_a_message_by_sms_is_answered_by_sms(chat: Chat, keyword: str) -> None:
    outcome = await send(chat.services, OTHER, f"{keyword} 我的积分不对")
    assert "留言已收到" in outcome.reply
    bare = await send(chat.services, OTHER, keyword)
    assert "LY" in bare.reply  # usage
    await staff_reply(chat, 1, "已为您核查。")
    replies = await rows(
        chat.services,
        select(outbox.c.channel, outbox.c.recipient).where(outbox.c.text.like("%已为您核查%")),
    )
    assert [(r.channel, r.recipient) for r in replies] == [("sms", OTHER)]


async def test_staff_list_and_a_reply_to_no_message(chat: Chat) -> None:
    await send(chat.services, OTHER, "LY 第一条")
    await send(chat.services, PHONE, "LY 第二条")
    found = await chat.services.db.read(lambda conn: messages.staff_list(conn, "open", 10))
    assert [m.text for m in found] == ["第二条", "第一条"]
    with pytest.raises(messages.UnknownMessage):
        await staff_reply(chat, 99, "?")
