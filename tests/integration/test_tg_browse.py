"""Browsing the mall in Telegram (§2.2.1–2.2.9, §2.2.14, §2.2.16, §2.2.18): scripted
conversations through the real webhook and Application against the fake Bot API, asserting
what the user sees and what the database holds, on both databases."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, select

from bot import mall_screens as ms
from bot.callbacks import CallbackCodec
from bot.screens import Screen
from bot.texts import ct
from core.catalogue import catalogue, favourites
from core.catalogue import content as mall_content
from core.catalogue import editing as admin
from core.catalogue.editing import ItemSpec
from core.feedback import questions
from core.platform.clock import ManualClock, epoch
from core.platform.schema import cart_line, chat_prompt, favourite, inbound, item, photo, question
from core.subscribers.subscribers import get_or_create
from pointshall import demo
from pointshall.bootstrap import Services
from tests.support.helpers import count, seed_catalog
from tests.support.telegram_fake import Shown, callback_update, text_update
from tests.support.tg import Chat, find, home, labels, mall, payloads


def goods(shown: Shown) -> list[str]:
    return [x for x in labels(shown) if x.endswith("分")]


def now_of(chat: Chat, message_id: int) -> Shown:
    return chat.fake.messages[message_id]


def last_answer(chat: Chat) -> dict[str, Any]:
    return chat.fake.called("answerCallbackQuery")[-1]


async def scalar(chat: Chat, query: Any) -> Any:
    def q(conn: Connection) -> Any:
        return conn.execute(query).scalar()

    return await chat.services.db.read(q)


async def more_items(chat: Chat, prefix: str, name: str, category: str, n: int) -> None:
    now = epoch(chat.services.clock.now())

    def unit(conn: Connection) -> None:
        for i in range(n):
            spec = ItemSpec(
                f"{prefix}{i:02d}", f"{name}{i}", f"{name} {i}", category, "physical", 50 + i
            )
            admin.upsert_item(conn, spec, now)

    await chat.services.db.write(unit)


# --------------------------------------------------------------------------- §2.2.1


async def test_home_shows_banners_ads_news_categories_brands_and_tools(chat: Chat) -> None:
    await mall(chat)
    screen = await home(chat)
    shown = labels(screen)
    for label in (
        "🎞 双十一特惠",
        "📣 咖啡特惠",
        "📣 礼品专区",
        "📢 春节安排",
        "📢 积分规则",
        "话费",
        "礼品",
        "商家券",
        "全部商品",
        "🏷 膳魔师",
        "🔍 搜索",
        "🎉 促销活动",
        "❤ 我的收藏",
        "❓ 我的咨询",
    ):
        assert label in shown, label
    assert any(label.startswith("🔥") for label in shown)  # best sellers
    rows = (screen.reply_markup or {})["inline_keyboard"]
    link = [b for row in rows for b in row if "url" in b]
    assert link == [{"text": "📣 官网", "url": "https://example.com/mall"}]
    assert all(len(data.encode()) <= 64 for data in payloads(screen))


# ------------------------------------------------------------------ §2.2.2, §2.2.7


async def test_goods_list_by_category_sorts_filters_by_brand_and_pages(chat: Chat) -> None:
    await mall(chat)
    screen = await home(chat)
    await chat.press(screen, "商家券")
    page = now_of(chat, screen.message_id)
    assert page.text == "商家券(1/1):"
    assert goods(page)[:3] == [
        "咖啡券 800分",
        "电影票 1,500分",
        "特惠咖啡券 100分",
    ]
    await chat.press(page, "积分↑")
    page = now_of(chat, screen.message_id)
    assert goods(page)[:3] == [
        "特惠咖啡券 100分",
        "咖啡券 800分",
        "电影票 1,500分",
    ]
    assert "✓积分↑" in labels(page)
    await chat.press(page, "积分↓")
    assert labels(now_of(chat, screen.message_id))[0] == "电影票 1,500分"
    await chat.press(now_of(chat, screen.message_id), "首页")
    await chat.press(now_of(chat, screen.message_id), "全部商品")
    page = now_of(chat, screen.message_id)
    assert page.text == "全部商品(1/1):"
    await chat.press(page, "🏷 品牌")
    brands = now_of(chat, screen.message_id)
    assert brands.text == "按品牌筛选:"
    await chat.press(brands, "膳魔师")
    page = now_of(chat, screen.message_id)
    assert page.text == "全部商品·膳魔师(1/1):"
    assert goods(page) == ["保温杯 3,000分"]
    await more_items(chat, "25", "礼品", "LP", 7)
    await chat.press(page, "首页")
    await chat.press(now_of(chat, screen.message_id), "礼品")
    page = now_of(chat, screen.message_id)
    assert page.text == "礼品(1/2):"
    await chat.press(page, "下一页")
    page = now_of(chat, screen.message_id)
    assert page.text == "礼品(2/2):" and "◀ 上一页" in labels(page)
    # the list was edited in place: no new message for any of it
    assert len(chat.fake.shown_to(chat.chat_id)) == 2


async def test_sort_by_views_follows_the_details_opened(chat: Chat) -> None:
    await mall(chat)
    screen = await home(chat)
    await chat.press(screen, "商家券")
    page = now_of(chat, screen.message_id)
    for _ in range(2):
        await chat.press(page, "电影票")
    assert await scalar(chat, select(item.c.views).where(item.c.code == "3002")) == 2
    await chat.press(page, "人气")
    assert labels(now_of(chat, screen.message_id))[0] == "电影票 1,500分"


# --------------------------------------------------------------------------- §2.2.3


async def test_a_banner_opens_as_a_photo_with_its_activity_and_goods(chat: Chat) -> None:
    ids = await mall(chat)
    screen = await home(chat)
    [sent] = await chat.press(screen, "🎞 双十一特惠")
    assert sent.photo
    assert sent.text.startswith("🎉 双十一特惠")
    assert "特惠咖啡券 100分" in labels(sent)
    assert len(chat.fake.uploads) == 1

    def stored(conn: Connection) -> tuple[bytes, str | None]:
        row = conn.execute(
            select(photo.c.data, photo.c.telegram_file_id).where(
                photo.c.subject == f"banner:{ids['banner']}"
            )
        ).one()
        return bytes(row[0]), row[1]

    data, file_id = await chat.services.db.read(stored)
    assert chat.fake.uploads[0] == data
    assert file_id == sent.photo_file
    [again] = await chat.press(screen, "🎞 双十一特惠")
    assert again.photo_file == file_id
    assert len(chat.fake.uploads) == 1  # the second time by Telegram's file id
    detail = await chat.press(again, "特惠咖啡券")
    assert "4001" in detail[0].text


# --------------------------------------------------------------------------- §2.2.4


async def test_an_announcement_opens_in_full(chat: Chat) -> None:
    await mall(chat)
    screen = await home(chat)
    await chat.press(screen, "📢 春节安排")
    full = now_of(chat, screen.message_id)
    assert full.text == "📢 春节安排\n\n春节期间正常兑换,物流顺延。"
    assert labels(full) == ["🏠 首页"]


# --------------------------------------------------------------------------- §2.2.5


async def test_ads_lead_to_item_category_activity_and_announcement(chat: Chat) -> None:
    await mall(chat)
    screen = await home(chat)
    [detail] = await chat.press(screen, "📣 咖啡特惠")
    assert "咖啡券" in detail.text and "3001" in detail.text
    await chat.press(screen, "📣 礼品专区")
    assert now_of(chat, screen.message_id).text == "礼品(1/1):"
    await chat.press(now_of(chat, screen.message_id), "首页")
    await chat.press(now_of(chat, screen.message_id), "📣 双十一来了")
    assert now_of(chat, screen.message_id).text.startswith("🎉 双十一特惠")
    await chat.press(now_of(chat, screen.message_id), "首页")
    await chat.press(now_of(chat, screen.message_id), "📣 看公告")
    assert now_of(chat, screen.message_id).text.startswith("📢 春节安排")


# --------------------------------------------------------------------------- §2.2.6


async def test_search_asks_for_a_keyword_then_lists_and_pages(chat: Chat) -> None:
    await mall(chat)
    screen = await home(chat)
    [ask] = await chat.press(screen, "🔍 搜索")
    assert ask.text == "请输入要搜索的商品名称或关键词:"
    assert chat.fake.called("sendMessage")[-1]["reply_markup"]["force_reply"] is True
    assert await count(chat.services, chat_prompt) == 1
    [found] = await chat.say("咖啡")
    assert found.text.splitlines() == ["🔍 “咖啡”(1/1):", "3001 咖啡券", "4001 特惠咖啡券"]
    assert "咖啡券 800分" in labels(found)
    assert await count(chat.services, chat_prompt) == 0
    [typed] = await chat.say("SS 咖啡")
    assert typed.text == found.text
    not_a_search = await chat.say("咖啡")  # no prompt pending: not taken as a keyword
    assert "🔍" not in not_a_search[0].text
    await more_items(chat, "26", "咖啡杯", "LP", 7)
    [many] = await chat.say("SS 咖啡")
    assert many.text.startswith("🔍 “咖啡”(1/2):")
    await chat.press(many, "下一页")
    assert now_of(chat, many.message_id).text.startswith("🔍 “咖啡”(2/2):")
    [late] = await chat.say("SS 咖啡 9")
    assert late.text.startswith("🔍 “咖啡”(2/2):")
    [none] = await chat.say("SS 不存在的东西")
    assert none.text == "没有找到与“不存在的东西”相关的商品。"


# --------------------------------------------------------------------------- §2.2.9


async def test_detail_shows_photo_price_stock_merchant_and_counts_the_view(chat: Chat) -> None:
    await mall(chat)
    screen = await home(chat)
    await chat.press(screen, "全部商品")
    page = now_of(chat, screen.message_id)
    [flask] = await chat.press(page, "保温杯")
    assert flask.photo
    for part in ("保温杯", "编号:2001", "3,000分", "库存:5", "不锈钢真空保温杯,500毫升。"):
        assert part in flask.text, part
    assert labels(flask) == [
        "🤍 收藏",
        "❓ 提问",
        "💬 问答(0)",
        "🛒 加入购物车",
        "⭐ 评价",
        "🏠 首页",
    ]
    assert find(flask, "加入购物车").endswith(".a 2001")
    assert find(flask, "评价").endswith(".r 2001")
    assert await scalar(chat, select(item.c.views).where(item.c.code == "2001")) == 1
    [ask] = await chat.press(flask, "加入购物车")  # a guest: the cart needs a login (§2.2.8)
    assert ask.text == ct("zh", "login_first")
    assert await scalar(chat, select(func.count()).select_from(cart_line)) == 0
    [coffee] = await chat.press(page, "咖啡券 800")
    assert not coffee.photo
    assert "商家:咖啡时光" in coffee.text and "库存:50" in coffee.text
    [deal] = await chat.press(page, "特惠咖啡券")
    assert "活动:双十一特惠" in deal.text


# -------------------------------------------------------------------------- §2.2.14


async def test_promotions_ongoing_upcoming_past_and_all(chat: Chat) -> None:
    await mall(chat)
    screen = await home(chat)
    await chat.press(screen, "🎉 促销活动")
    tab = now_of(chat, screen.message_id)
    assert tab.text == "🎉 进行中的活动(1/1):"
    assert any(x.startswith("双十一特惠") for x in labels(tab))
    await chat.press(tab, "即将开始")
    tab = now_of(chat, screen.message_id)
    assert tab.text == "🎉 即将开始的活动(1/1):"
    assert any(x.startswith("元旦预告") for x in labels(tab))
    await chat.press(tab, "已结束")
    tab = now_of(chat, screen.message_id)
    assert any(x.startswith("国庆特惠") for x in labels(tab))
    await chat.press(tab, "全部")
    tab = now_of(chat, screen.message_id)
    assert {"双十一特惠", "元旦预告", "国庆特惠"} <= {x.split(" ")[0] for x in labels(tab)}
    await chat.press(tab, "双十一特惠")
    act = now_of(chat, screen.message_id)
    assert act.text.startswith("🎉 双十一特惠")
    assert "特惠咖啡券 100分" in labels(act)


# -------------------------------------------------------------------------- §2.2.16


async def test_favourites_need_a_login_then_add_list_and_remove(chat: Chat) -> None:
    await mall(chat)
    screen = await home(chat)
    [flask] = await chat.press(screen, "🔥 保温杯")
    await chat.press(flask, "🤍 收藏")
    answer = last_answer(chat)
    assert answer["show_alert"] in (True, "true") and "登录" in answer["text"]
    assert await count(chat.services, favourite) == 0
    await chat.press(screen, "❤ 我的收藏")
    assert "登录" in last_answer(chat)["text"]
    await chat.log_in()
    screen = chat.fake.shown_to(chat.chat_id)[-1]
    [flask] = await chat.press(screen, "🔥 保温杯")
    await chat.press(flask, "🤍 收藏")
    assert last_answer(chat)["text"] == "已加入收藏"
    assert "❤ 已收藏" in labels(now_of(chat, flask.message_id))
    assert await count(chat.services, favourite) == 1
    await chat.press(screen, "❤ 我的收藏")
    kept = now_of(chat, screen.message_id)
    assert kept.text == "❤ 我的收藏(1/1):"
    assert labels(kept)[:2] == ["保温杯 3,000分", "✖ 保温杯"]
    await chat.press(kept, "✖ 保温杯")
    assert now_of(chat, screen.message_id).text == "收藏夹是空的。"
    assert await count(chat.services, favourite) == 0
    await chat.press(now_of(chat, flask.message_id), "❤ 已收藏")  # toggles back on
    assert await count(chat.services, favourite) == 1


# -------------------------------------------------------------------------- §2.2.18


async def test_questions_asked_in_the_chat_show_with_their_answers(chat: Chat) -> None:
    await mall(chat)
    screen = await home(chat)
    [flask] = await chat.press(screen, "🔥 保温杯")
    await chat.press(flask, "❓ 提问")
    assert "登录" in last_answer(chat)["text"]  # guests do not ask
    await chat.log_in()
    screen = chat.fake.shown_to(chat.chat_id)[-1]
    [flask] = await chat.press(screen, "🔥 保温杯")
    [prompt] = await chat.press(flask, "❓ 提问")
    assert prompt.text == "请输入您对“保温杯”的问题:"
    [asked] = await chat.say("能装热水吗?")
    assert asked.text.startswith("问题已提交")
    rows = await chat.services.db.read(
        lambda conn: conn.execute(select(question.c.id, question.c.text)).all()
    )
    assert [r[1] for r in rows] == ["能装热水吗?"]
    await chat.press(screen, "❓ 我的咨询")
    mine = now_of(chat, screen.message_id)
    assert "【保温杯】问:能装热水吗?\n答:(待回复)" in mine.text
    now = epoch(chat.services.clock.now())
    await chat.services.db.write(
        lambda conn: questions.answer(conn, rows[0][0], "可以,保温12小时。", "ops-li", now)
    )
    await chat.press(now_of(chat, screen.message_id), "首页")
    await chat.press(now_of(chat, screen.message_id), "❓ 我的咨询")
    assert "答:可以,保温12小时。" in now_of(chat, screen.message_id).text
    await chat.press(now_of(chat, screen.message_id), "首页")
    [flask] = await chat.press(now_of(chat, screen.message_id), "🔥 保温杯")
    assert "💬 问答(1)" in labels(flask)
    [qa] = await chat.press(flask, "💬 问答(1)")  # from a photo: a new message
    assert qa.text == "💬 “保温杯”的问答:\n\n问:能装热水吗?\n答:可以,保温12小时。"


# ------------------------------------------------------------------ robustness (issue 5)


async def test_a_forged_favourite_button_has_no_effect(chat: Chat) -> None:
    await mall(chat)
    await chat.log_in()
    screen = chat.fake.shown_to(chat.chat_id)[-1]
    [flask] = await chat.press(screen, "🔥 保温杯")
    data = find(flask, "🤍 收藏")
    sig, stamp, _payload = data.split(".", 2)
    before = await count(chat.services, inbound)
    for forged in (f"{sig}.{stamp}.F 3001", f"{'0' * 16}.{stamp}.F 2001", "F 2001"):
        assert await chat.post(callback_update(chat.uid(), chat.chat_id, flask, forged)) == 200
        assert "过期" in last_answer(chat)["text"]
    assert await count(chat.services, favourite) == 0
    assert await count(chat.services, inbound) == before


async def test_the_same_button_update_50_times_has_one_effect(chat: Chat) -> None:
    await mall(chat)
    await chat.log_in()
    screen = chat.fake.shown_to(chat.chat_id)[-1]
    [flask] = await chat.press(screen, "🔥 保温杯")
    views = await scalar(chat, select(item.c.views).where(item.c.code == "2001"))
    fav = callback_update(8_001, chat.chat_id, flask, find(flask, "🤍 收藏"))
    detail = callback_update(8_002, chat.chat_id, screen, find(screen, "🔥 保温杯"))
    sent_before = len(chat.fake.called("sendPhoto"))
    statuses = await asyncio.gather(
        *(chat.post(fav) for _ in range(50)), *(chat.post(detail) for _ in range(50))
    )
    assert set(statuses) == {200}
    assert await count(chat.services, favourite) == 1  # toggled once, not 50 times
    assert len(chat.fake.called("editMessageReplyMarkup")) == 1
    assert await scalar(chat, select(item.c.views).where(item.c.code == "2001")) == views + 1
    assert len(chat.fake.called("sendPhoto")) == sent_before + 1
    claimed = await scalar(
        chat, select(func.count()).where(inbound.c.external_id.in_(["8001", "8002"]))
    )
    assert claimed == 2


async def test_every_payload_of_every_screen_fits_64_bytes(services: Services) -> None:
    """Walk every screen over the demo catalogue, the test catalogue and codes of the
    longest length the schema allows, and sign every button as late as 2089."""
    await demo.seed(services)
    await seed_catalog(services)
    now = epoch(services.clock.now())
    tz = services.hall.policy.timezone

    def longest(conn: Connection) -> None:
        admin.upsert_category(conn, "C" * 16, "长分类", "Long category", 9)
        admin.upsert_brand(conn, "B" * 16, "长品牌", "Long brand")
        admin.upsert_activity(conn, "A" * 16, "长活动", "Long", now - 10, now + 10**6)
        spec = ItemSpec(
            "9" * 16, "长编号商品", "Long code", "C" * 16, "physical", 9, brand="B" * 16
        )
        admin.upsert_item(conn, spec, now)
        admin.add_banner(conn, "A" * 16)

    await services.db.write(longest)
    sub = await services.db.write(lambda conn: get_or_create(conn, "+8613800138000", now).id)

    def walk(conn: Connection) -> list[str]:
        found: list[Screen | None] = []
        items, _ = catalogue.list_items(conn, now=now, limit=1000)
        cats = [0] + [c.id for c in catalogue.categories(conn)]
        brands = [0] + [b.id for b in mall_content.brands(conn)]
        for lang in ("zh", "en"):
            found.append(Screen("", ms.home_top(conn, lang, now) + ms.home_bottom(conn, lang, now)))
            for cat in cats:
                for brand in brands:
                    for sort in ms.SORTS:
                        found.append(ms.goods(conn, lang, now, cat, brand, sort, 2))
                found.append(ms.brand_filter(conn, lang, cat, "P"))
            for it in items:
                favourites.add(conn, sub, it.id, now)
                found.append(ms.detail(conn, lang, it, sub, tz))
                found.append(ms.item_questions(conn, lang, it))
                found.append(ms.search(conn, lang, now, it.name(lang) * 9, 10_000))
            found.append(ms.favourite_list(conn, lang, sub, 10_000))
            for tab in ms.TABS:
                found.append(ms.promotions(conn, lang, now, tab, 1, tz))
            for b in mall_content.banners(conn, now):
                found.append(ms.banner_screen(conn, lang, now, b.id, tz))
        return [b.payload for s in found if s for row in s.rows for b in row if not b.url]

    payloads = await services.db.write(walk)
    assert len(payloads) > 500
    codec = CallbackCodec(services.keyring, ManualClock(datetime(2089, 1, 1, tzinfo=UTC)))
    too_long = [p for p in payloads if len(codec.encode(p).encode()) > 64]
    assert too_long == []
    assert any(p == f"x {'9' * 16}" for p in payloads)


async def test_a_photo_telegram_forgot_is_uploaded_again(chat: Chat) -> None:
    await mall(chat)
    screen = await home(chat)
    [first] = await chat.press(screen, "🎞 双十一特惠")
    assert first.photo_file is not None
    del chat.fake.files[first.photo_file]  # e.g. the bot's token was changed
    [second] = await chat.press(screen, "🎞 双十一特惠")
    assert second.photo and second.photo_file != first.photo_file
    assert len(chat.fake.uploads) == 2
    stored = await scalar(
        chat, select(photo.c.telegram_file_id).where(photo.c.subject.like("banner:%"))
    )
    assert stored == second.photo_file


async def test_help_wins_over_a_pending_search_prompt(chat: Chat) -> None:
    await mall(chat)
    screen = await home(chat)
    await chat.press(screen, "🔍 搜索")
    [help_text] = await chat.say("BZ")
    assert "JF" in help_text.text and "🔍" not in help_text.text
    assert await count(chat.services, chat_prompt) == 1  # still waiting for the keyword
    [found] = await chat.say("保温")
    assert found.text.startswith("🔍 “保温”")


async def test_a_question_too_short_is_refused(chat: Chat) -> None:
    await mall(chat)
    await chat.log_in()
    screen = chat.fake.shown_to(chat.chat_id)[-1]
    [flask] = await chat.press(screen, "🔥 保温杯")
    await chat.press(flask, "❓ 提问")
    [refused] = await chat.say("好")
    assert refused.text == "问题需要2到500个字,请重新点“提问”。"
    assert await count(chat.services, question) == 0


async def test_the_screens_speak_english_to_an_english_client(chat: Chat) -> None:
    await mall(chat)
    assert await chat.post(text_update(chat.uid(), chat.chat_id, "/start", lang="en")) == 200
    screen = chat.fake.shown_to(chat.chat_id)[-1]
    for label in ("🔍 Search", "🎉 Promotions", "❤ Favourites", "❓ My questions", "🎞 Singles Day"):
        assert label in labels(screen), label
    data = find(screen, "🎉 Promotions")
    update = callback_update(chat.uid(), chat.chat_id, screen, data)
    update["callback_query"]["from"]["language_code"] = "en"
    assert await chat.post(update) == 200
    assert now_of(chat, screen.message_id).text == "🎉 Running promotions (1/1):"


async def test_a_prompt_left_unanswered_expires(chat: Chat) -> None:
    await mall(chat)
    screen = await home(chat)
    await chat.press(screen, "🔍 搜索")
    assert isinstance(chat.services.clock, ManualClock)
    chat.services.clock.advance(timedelta(minutes=11))
    [late] = await chat.say("保温")
    assert "🔍" not in late.text
    assert await count(chat.services, chat_prompt) == 0
