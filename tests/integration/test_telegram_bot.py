"""The Telegram bot end to end: the real Application behind ``POST /tg/{secret}``, speaking to
a fake Bot API, on both databases (issue 5, first slice)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Connection, select

from core.catalogue.editing import ItemSpec, upsert_item
from core.platform.clock import ManualClock, epoch
from core.platform.schema import chat_binding, inbound, outbox
from tests.support.helpers import count, fund, seed_catalog, send
from tests.support.settings import PUBLIC_URL
from tests.support.telegram_fake import (
    callback_update,
    contact_update,
    text_update,
)
from tests.support.tg import CHAT, PHONE, SECRET, Chat, button, buttons, last_sms_code


async def test_startup_registers_the_webhook_with_its_secret(chat: Chat) -> None:
    assert chat.fake.webhook is not None
    assert chat.fake.webhook["url"] == f"{PUBLIC_URL}/tg/{SECRET}"
    assert chat.fake.webhook["secret_token"] == SECRET


@pytest.mark.parametrize("where", ["header", "path", "missing"])
async def test_a_bad_secret_is_refused_with_no_effect(chat: Chat, where: str) -> None:
    update = text_update(1, CHAT, "/start")
    if where == "header":
        status = await chat.post(update, secret="wrong")
    elif where == "path":
        resp = await chat.client.post(
            "/tg/wrong", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
        )
        status = resp.status
    else:
        resp = await chat.client.post(f"/tg/{SECRET}", json=update)
        status = resp.status
    assert status == 403
    assert await count(chat.services, inbound) == 0
    assert chat.fake.called("sendMessage") == []


async def test_not_an_update_is_a_400(chat: Chat) -> None:
    resp = await chat.client.post(
        f"/tg/{SECRET}", data=b"nope", headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
    )
    assert resp.status == 400


async def test_start_asks_for_the_contact_and_shows_the_home_screen(chat: Chat) -> None:
    await seed_catalog(chat.services)
    ask, home = await chat.say("/start")
    assert "分享" in ask.text
    assert ask.reply_markup is not None
    assert ask.reply_markup["keyboard"][0][0]["request_contact"] is True
    labels = [text for text, _ in buttons(home)]
    assert {"话费", "礼品", "商家券", "全部商品"} <= set(labels)
    assert any("保温杯" in label or "50元话费" in label for label in labels)  # best sellers
    assert all(len(data.encode()) <= 64 for _, data in buttons(home))


async def test_login_by_contact_and_sms_code_binds_the_chat(chat: Chat) -> None:
    shown = await chat.share_contact("13800138000")
    assert "+86138****8000" in shown[0].text
    code = await last_sms_code(chat.services, PHONE)
    shown = await chat.say(code)
    assert "登录成功" in shown[0].text
    assert buttons(shown[1])  # the home screen follows

    def bound(conn: Connection) -> list[int]:
        return list(conn.execute(select(chat_binding.c.chat_id)).scalars())

    assert await chat.services.db.read(bound) == [CHAT]
    welcome, _home = await chat.say("/start")
    assert "欢迎回来" in welcome.text


async def test_login_by_typed_number_and_wrong_codes(chat: Chat) -> None:
    shown = await chat.say("138 0013 8000")
    assert "验证码已通过短信发送" in shown[0].text
    code = await last_sms_code(chat.services, PHONE)
    wrong = "000000" if code != "000000" else "111111"
    for left in (4, 3, 2, 1):
        assert f"{left}次" in (await chat.say(wrong))[0].text
    assert "过多" in (await chat.say(wrong))[0].text
    assert "需要登录" in (await chat.say(code))[0].text  # the code is dead: a guest's 6 digits
    assert await count(chat.services, chat_binding) == 0


async def test_a_second_code_waits_a_minute(chat: Chat) -> None:
    await chat.share_contact(PHONE)
    assert "稍候" in (await chat.share_contact(PHONE))[0].text
    assert await count(chat.services, outbox) == 1
    assert isinstance(chat.services.clock, ManualClock)
    chat.services.clock.advance(timedelta(seconds=61))
    await chat.share_contact(PHONE)
    assert await count(chat.services, outbox) == 2


async def test_jf_in_the_chat_answers_like_the_sms(chat: Chat, tmp_path: Path) -> None:
    await fund(chat.services, tmp_path, {PHONE: 4200})
    await chat.log_in()
    in_chat = (await chat.say("JF"))[0].text
    assert in_chat == (await send(chat.services, PHONE, "JF")).reply
    assert "4,200" in in_chat
    assert (await chat.say("/jf"))[0].text == in_chat


async def test_unbound_chats_browse_but_must_log_in_for_an_account(chat: Chat) -> None:
    await seed_catalog(chat.services)
    for text in ("JF", "MX", "DH 1001", "DD"):
        assert "/start" in (await chat.say(text))[0].text
    assert "保温杯" in (await chat.say("XQ 2001"))[0].text
    assert "活动" in (await chat.say("HD"))[0].text
    assert "2001" in (await chat.say("SS 保温"))[0].text
    assert "JF" in (await chat.say("BZ"))[0].text


async def test_the_same_update_50_times_has_one_effect(chat: Chat, tmp_path: Path) -> None:
    await fund(chat.services, tmp_path, {PHONE: 4200})
    contact = contact_update(77, CHAT, PHONE)
    statuses = await asyncio.gather(*(chat.post(contact) for _ in range(50)))
    assert set(statuses) == {200}
    assert await count(chat.services, outbox) == 1  # one code sent
    await chat.say(await last_sms_code(chat.services, PHONE))
    sent_before = len(chat.fake.called("sendMessage"))
    jf = text_update(78, CHAT, "JF")
    assert set(await asyncio.gather(*(chat.post(jf) for _ in range(50)))) == {200}
    assert len(chat.fake.called("sendMessage")) == sent_before + 1

    def rows(conn: Connection) -> int:
        return len(conn.execute(select(inbound.c.id).where(inbound.c.external_id == "78")).all())

    assert await chat.services.db.read(rows) == 1


async def test_goods_list_pages_with_signed_buttons(chat: Chat) -> None:
    await seed_catalog(chat.services)
    now = epoch(chat.services.clock.now())

    def more_gifts(conn: Connection) -> None:
        for n in range(7):
            spec = ItemSpec(f"25{n:02d}", f"礼品{n}", f"Gift {n}", "LP", "physical", 100 + n)
            upsert_item(conn, spec, now)

    await chat.services.db.write(more_gifts)
    _ask, home = await chat.say("/start")
    edits = len(chat.fake.called("editMessageText"))
    await chat.press(home, "礼品")
    page1 = chat.fake.messages[home.message_id]
    assert len(chat.fake.called("editMessageText")) == edits + 1
    assert page1.text == "礼品(1/2):"
    labels = [text for text, _ in buttons(page1)]
    assert "下一页 ▶" in labels and "◀ 上一页" not in labels
    await chat.press(page1, "下一页")
    page2 = chat.fake.messages[home.message_id]
    assert page2.text == "礼品(2/2):"
    assert "◀ 上一页" in [text for text, _ in buttons(page2)]
    await chat.press(page2, "首页")
    assert chat.fake.messages[home.message_id].text.startswith("积分商城首页")
    detail = await chat.press(chat.fake.messages[home.message_id], "保温杯")
    assert "2001" in detail[0].text and "保温杯" in detail[0].text


@pytest.mark.parametrize("forgery", ["signature", "payload", "stale", "garbage"])
async def test_a_forged_or_stale_callback_changes_nothing(chat: Chat, forgery: str) -> None:
    await seed_catalog(chat.services)
    _ask, home = await chat.say("/start")
    data = button(home, "礼品")
    sig, stamp, payload = data.split(".", 2)
    if forgery == "signature":
        data = f"{'0' * len(sig)}.{stamp}.{payload}"
    elif forgery == "payload":
        data = f"{sig}.{stamp}.g SJ 1"
    elif forgery == "garbage":
        data = "x 2001"
    else:
        assert isinstance(chat.services.clock, ManualClock)
        chat.services.clock.advance(timedelta(days=8))
    inbound_before = await count(chat.services, inbound)
    edits = len(chat.fake.called("editMessageText"))
    update = callback_update(9001, CHAT, home, data)
    assert await chat.post(update) == 200
    assert len(chat.fake.called("editMessageText")) == edits
    answers = chat.fake.called("answerCallbackQuery")
    assert answers and "过期" in answers[-1]["text"]
    assert await count(chat.services, inbound) == inbound_before
    assert chat.fake.messages[home.message_id].text == home.text


async def test_a_guest_pages_with_a_more_button(chat: Chat) -> None:
    await seed_catalog(chat.services)
    first = (await chat.say("SP"))[0]
    assert "MORE" not in first.text
    [(label, _data)] = buttons(first)
    assert label == "更多 ▶"
    second = (await chat.press(first, "更多"))[0]
    assert second.text.startswith("商品(2/")
    assert first.text.splitlines()[1] not in second.text


async def test_a_guest_may_read_categories_and_announcements(chat: Chat) -> None:
    """Issue 14: FL and GG only look, yet a guest was told to log in first."""
    await seed_catalog(chat.services)
    categories = (await chat.say("FL"))[0]
    assert categories.text.startswith("商品分类(1/1):\nHF 话费"), categories.text
    news = (await chat.say("GG"))[0]
    assert "需要登录" not in news.text and news.text, news.text
    assert "需要登录" in (await chat.say("JF"))[0].text  # an account is still closed


async def test_one_code_a_minute_per_number_across_chats(chat: Chat) -> None:
    await chat.share_contact(PHONE)
    other = Chat(chat.client, chat.fake, chat.services, chat_id=CHAT + 1, next_update=5000)
    assert "稍候" in (await other.share_contact(PHONE))[0].text
    assert await count(chat.services, outbox) == 1


async def test_a_failed_unit_of_work_asks_telegram_to_deliver_again(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.chat import ChatDesk

    real = ChatDesk.receive

    def broken(self: ChatDesk, conn: Connection, msg: object) -> object:
        raise RuntimeError("database went away")

    monkeypatch.setattr(ChatDesk, "receive", broken)
    update = contact_update(555, CHAT, PHONE)
    assert await chat.post(update) == 500
    assert await count(chat.services, outbox) == 0
    monkeypatch.setattr(ChatDesk, "receive", real)
    assert await chat.post(update) == 200
    assert await count(chat.services, outbox) == 1


async def test_group_chats_are_ignored(chat: Chat) -> None:
    update = text_update(1, -100123, "/start")
    update["message"]["chat"]["type"] = "group"
    assert await chat.post(update) == 200
    assert chat.fake.called("sendMessage") == []
    assert await count(chat.services, inbound) == 0
