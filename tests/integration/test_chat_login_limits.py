"""Telegram login guessing is bounded (issue 13 §4, §2.2.8), on both databases: codes are
capped per number and per chat an hour and a day, wrong codes too; the number's owner is
told by SMS when a chat is bound; a chat's wrong codes never spend another chat's code."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import Connection, select

from core.platform.clock import ManualClock
from core.platform.schema import chat_binding, outbox
from core.subscribers.chat_binding import (
    CODES_PER_CHAT,
    CODES_PER_NUMBER,
    TRIES_PER_CHAT,
    TRIES_PER_NUMBER,
)
from tests.support.helpers import received, texts_of
from tests.support.tg import CHAT, PHONE, Chat, last_sms, last_sms_code

OTHER = "+8613800138001"
THIRD = "+8613800138002"
CAPPED = "上限"


def clock_of(chat: Chat) -> ManualClock:
    assert isinstance(chat.services.clock, ManualClock)
    return chat.services.clock


async def codes_sent(chat: Chat, phone: str) -> int:
    """Login codes texted to ``phone``, read as the phone reads them (sealed until sent)."""
    query = texts_of(outbox.c.recipient == phone)
    texts = await chat.services.db.read(received(chat.services, query))
    return sum(1 for text in texts if re.search(r"验证码\d{6}", text))


def wrong_for(code: str) -> str:
    return "000000" if code != "000000" else "111111"


async def test_codes_per_number_are_capped_an_hour_and_a_day(chat: Chat) -> None:
    clock = clock_of(chat)
    hourly, daily = (c.count for c in CODES_PER_NUMBER.caps)
    chats = [
        Chat(chat.client, chat.fake, chat.services, CHAT + n, 100_000 * n) for n in range(1, 12)
    ]
    for n in range(hourly):
        shown = await chats[n].share_contact(PHONE)
        assert "已通过短信发送" in shown[0].text
        clock.advance(timedelta(seconds=61))
    assert CAPPED in (await chats[hourly].share_contact(PHONE))[0].text
    assert await codes_sent(chat, PHONE) == hourly
    clock.advance(timedelta(hours=1))
    sent = hourly
    for n in range(hourly, len(chats)):
        shown = await chats[n].share_contact(PHONE)
        if CAPPED in shown[0].text:
            clock.advance(timedelta(minutes=20))
            shown = await chats[n].share_contact(PHONE)
        if sent < daily:
            assert "已通过短信发送" in shown[0].text, (n, sent, shown[0].text)
            sent += 1
        else:
            assert CAPPED in shown[0].text
        clock.advance(timedelta(minutes=20))
    assert await codes_sent(chat, PHONE) == daily
    clock.advance(timedelta(days=1))
    assert "已通过短信发送" in (await chat.share_contact(PHONE))[0].text


async def test_codes_per_chat_are_capped(chat: Chat) -> None:
    hourly = CODES_PER_CHAT.caps[0].count
    phones = [f"+86138001380{10 + n}" for n in range(hourly + 1)]
    for phone in phones[:hourly]:
        assert "已通过短信发送" in (await chat.share_contact(phone))[0].text
        clock_of(chat).advance(timedelta(seconds=61))
    assert CAPPED in (await chat.share_contact(phones[hourly]))[0].text
    assert await codes_sent(chat, phones[hourly]) == 0


async def test_wrong_codes_per_chat_are_capped_even_the_right_one_waits(chat: Chat) -> None:
    hourly = TRIES_PER_CHAT.caps[0].count
    clock = clock_of(chat)
    tried = 0
    phones = [PHONE, OTHER, THIRD]
    while tried < hourly:
        await chat.share_contact(phones[tried // 5])
        code = await last_sms_code(chat.services, phones[tried // 5])
        for _ in range(5):
            await chat.say(wrong_for(code))
            tried += 1
        clock.advance(timedelta(seconds=61))
    await chat.share_contact(THIRD)
    code = await last_sms_code(chat.services, THIRD)
    assert CAPPED in (await chat.say(code))[0].text
    clock.advance(timedelta(hours=1))
    await chat.share_contact(THIRD)
    shown = await chat.say(await last_sms_code(chat.services, THIRD))
    assert "登录成功" in shown[0].text


async def test_wrong_codes_per_number_are_capped_across_chats(chat: Chat) -> None:
    hourly = TRIES_PER_NUMBER.caps[0].count
    clock = clock_of(chat)
    for n in range(hourly // 5):
        attacker = Chat(chat.client, chat.fake, chat.services, CHAT + 10 + n, 5000 + 100 * n)
        await attacker.share_contact(PHONE)
        code = await last_sms_code(chat.services, PHONE)
        for _ in range(5):
            await attacker.say(wrong_for(code))
        clock.advance(timedelta(seconds=61))
    await chat.share_contact(PHONE)
    assert CAPPED in (await chat.say(await last_sms_code(chat.services, PHONE)))[0].text


async def test_another_chats_wrong_codes_do_not_spend_the_owners_code(chat: Chat) -> None:
    attacker = Chat(chat.client, chat.fake, chat.services, CHAT + 99, 9000)
    await chat.share_contact(PHONE)
    mine = await last_sms_code(chat.services, PHONE)
    clock_of(chat).advance(timedelta(seconds=61))
    await attacker.share_contact(PHONE)
    theirs = await last_sms_code(chat.services, PHONE)
    for _ in range(5):
        await attacker.say(wrong_for(theirs if theirs != mine else "222222"))
    assert "登录成功" in (await chat.say(mine))[0].text


async def test_the_owner_is_told_by_sms_when_a_chat_is_bound(chat: Chat) -> None:
    await chat.log_in()
    assert "刚刚在Telegram登录" in await last_sms(chat.services, PHONE)

    def bound(conn: Connection) -> list[int]:
        return list(conn.execute(select(chat_binding.c.chat_id)).scalars())

    assert await chat.services.db.read(bound) == [CHAT]


async def test_codes_per_chat_are_capped_a_day(chat: Chat) -> None:
    hourly, daily = (c.count for c in CODES_PER_CHAT.caps)
    clock = clock_of(chat)
    phones = [f"+86138001381{10 + n}" for n in range(daily + 1)]
    for n, phone in enumerate(phones[:daily]):
        assert "已通过短信发送" in (await chat.share_contact(phone))[0].text, n
        clock.advance(timedelta(minutes=60 // hourly + 1))
    assert CAPPED in (await chat.share_contact(phones[daily]))[0].text
    clock.advance(timedelta(days=1))
    assert "已通过短信发送" in (await chat.share_contact(phones[daily]))[0].text


async def spend_tries(chat: Chat, phones: list[str], tries: int) -> None:
    """``tries`` wrong codes from ``chat``, five a code, asking a new code of the next phone
    (round robin) each time, a minute and more apart."""
    clock = clock_of(chat)
    for n in range(tries // 5):
        phone = phones[n % len(phones)]
        await chat.share_contact(phone)
        code = await last_sms_code(chat.services, phone)
        for _ in range(5):
            await chat.say(wrong_for(code))
        clock.advance(timedelta(minutes=21))


async def test_wrong_codes_per_chat_are_capped_a_day(chat: Chat) -> None:
    hourly, daily = (c.count for c in TRIES_PER_CHAT.caps)
    phones = [f"+86138001382{10 + n}" for n in range(daily // 5)]
    for _ in range(daily // hourly):
        await spend_tries(chat, phones, hourly)
        clock_of(chat).advance(timedelta(hours=1))
    await chat.share_contact(THIRD)
    assert CAPPED in (await chat.say(await last_sms_code(chat.services, THIRD)))[0].text
    clock_of(chat).advance(timedelta(days=1))
    await chat.share_contact(THIRD)
    assert "登录成功" in (await chat.say(await last_sms_code(chat.services, THIRD)))[0].text


async def test_wrong_codes_per_number_are_capped_a_day(chat: Chat) -> None:
    hourly, daily = (c.count for c in TRIES_PER_NUMBER.caps)
    for n in range(daily // 5):
        attacker = Chat(chat.client, chat.fake, chat.services, CHAT + 20 + n, 20_000 + 100 * n)
        await spend_tries(attacker, [PHONE], 5)
        if (n + 1) * 5 % hourly == 0:
            clock_of(chat).advance(timedelta(hours=1))
    await chat.share_contact(PHONE)
    assert CAPPED in (await chat.say(await last_sms_code(chat.services, PHONE)))[0].text
