"""Conversations as dialog tables (DESIGN.md §6, seed §1): what a subscriber texts and reads."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import Connection, select

from core.catalogue import editing
from core.feedback import messages
from core.messaging.segments import fits
from core.platform.clock import epoch
from core.platform.schema import inbound, subscriber
from handlers.i18n import t
from pointshall.bootstrap import Services
from tests.support.helpers import accrue, seed_catalog, send, write_feed

RICH = "+8613800138000"
NO_ACCOUNT = "+8613900139999"


@pytest.fixture
async def hall(services: Services, tmp_path: Path) -> Services:
    for month in ("07", "08", "09", "10"):
        period = f"2026-{month}"
        feed = write_feed(
            tmp_path / f"{period}.csv", [("13800138000", period, 100000, 70, 5, "mobile", "")]
        )
        await accrue(services, feed, period)
    return services


async def dialog(services: Services, sender: str, script: list[tuple[str, str]]) -> None:
    for text, expected in script:
        outcome = await send(services, sender, text)
        assert outcome.reply == expected, f"{text!r} answered {outcome.reply!r}"


HELP_ZH = "\n".join(
    [
        "积分营业厅指令(1/4):",
        "JF 查积分",
        "MX 积分明细",
        "HD 活动 HD Y预告",
        "FL 商品分类",
        "SP 分类码 商品",
        "SS 关键词 搜索",
        "XQ 编号 商品详情",
        "回复MORE看下一页",
    ]
)
UNKNOWN_ZH = "未识别的指令,回复BZ查看帮助。"
BALANCE_ZH = "您的积分:可用8,020分,冻结0分。其中8,020分将于2027-12-31到期。"
MORE_ZH = "回复MORE看下一页"
LINE = "11-20 +2,005 2026-{m}月度积分:消费1000元×2.0+奖励5"


async def test_chinese_dialog(hall: Services) -> None:
    await dialog(
        hall,
        RICH,
        [
            ("BZ", HELP_ZH),
            ("帮助", HELP_ZH),
            ("？", HELP_ZH),
            ("", UNKNOWN_ZH),
            ("hello", UNKNOWN_ZH),
            ("JF", BALANCE_ZH),
            ("ｊｆ", BALANCE_ZH),
            ("积分", BALANCE_ZH),
            ("JF 5", "查积分请直接回复JF。"),
            (
                "MX",
                "\n".join(["积分明细第1页:", LINE.format(m="10"), LINE.format(m="09"), MORE_ZH]),
            ),
            ("MORE", "\n".join(["积分明细第2页:", LINE.format(m="08"), LINE.format(m="07")])),
            ("MORE", "没有更多内容了。"),
            ("明细2", "\n".join(["积分明细第2页:", LINE.format(m="08"), LINE.format(m="07")])),
            ("MX 3", "没有第3页,共2页。"),
            ("MX x", "格式:MX 页码,例如MX 2"),
        ],
    )


async def test_english_dialog_and_language_is_remembered(hall: Services) -> None:
    await dialog(
        hall,
        RICH,
        [
            ("EN", "Replies will now be in English."),
            ("JF", "Points: 8,020 available, 0 held. 8,020 expire after 2027-12-31."),
            (
                "mx#2",
                "Points history, page 2:\n"
                "11-20 +2,005 2026-07 monthly points: spend 1000 yuan x2.0 + reward 5",
            ),
            ("nonsense", "Sorry, we did not understand that. Reply BZ for help."),
            ("中文", "已切换为中文回复。"),
            ("JF", BALANCE_ZH),
        ],
    )


async def test_help_and_opt_out_win_over_a_pending_page(hall: Services) -> None:
    await send(hall, RICH, "MX")
    await dialog(hall, RICH, [("BZ", HELP_ZH)])
    more = (await send(hall, RICH, "MORE")).reply  # BZ's own next page, not MX's
    assert more.startswith("积分营业厅指令(2/4):"), more
    await send(hall, RICH, "MX")
    await dialog(
        hall,
        RICH,
        [
            ("TD", "已退订营销短信,服务通知仍会发送。回复START恢复订阅。"),
            ("MORE", "没有更多内容了。"),
        ],
    )


async def test_a_number_without_an_account_is_told_so(hall: Services) -> None:
    reply = "您的号码暂无积分账户,积分每月按账单生成。回复BZ查看帮助。"
    await dialog(hall, NO_ACCOUNT, [("JF", reply), ("MX", reply), ("BZ", HELP_ZH)])


async def test_numbers_in_any_form_reach_the_same_subscriber(hall: Services) -> None:
    for form in ("13800138000", "+86 138 0013 8000", "008613800138000", "8613800138000"):
        assert (await send(hall, form, "JF")).reply == BALANCE_ZH


async def test_a_sender_that_is_not_a_phone_number_is_recorded_and_refused(hall: Services) -> None:
    outcome = await send(hall, "10086", "JF")
    assert outcome.reply == "无法识别您的号码,暂不能提供服务。"

    def rows(conn: Connection) -> list[tuple[str, str, str]]:
        return [
            tuple(r)
            for r in conn.execute(select(inbound.c.sender, inbound.c.text, inbound.c.status))
        ]

    assert await hall.db.read(rows) == [("10086", "JF", "refused")]


async def test_foreign_numbers_default_to_english(hall: Services) -> None:
    reply = (await send(hall, "+14155550100", "BZ")).reply
    assert reply.startswith("Points hall commands (1/4):\nJF points balance")


OPTED_OUT_ZH = "已退订营销短信,服务通知仍会发送。回复START恢复订阅。"
OPTED_IN_ZH = "已恢复订阅营销短信。回复TD退订。"


async def _opted_out(services: Services, msisdn: str) -> bool:
    def q(conn: Connection) -> bool:
        return bool(
            conn.execute(
                select(subscriber.c.opted_out).where(subscriber.c.msisdn == msisdn)
            ).scalar_one()
        )

    return await services.db.read(q)


@pytest.mark.parametrize("word", ["REVOKE", "OPTOUT", "optout", "T", "0000", "取消订阅"])
async def test_every_carrier_opt_out_word_opts_out(hall: Services, word: str) -> None:
    """Issue 14 item 1: Twilio already blocked the number on REVOKE and OPTOUT; so do we."""
    await dialog(hall, RICH, [(word, OPTED_OUT_ZH)])
    assert await _opted_out(hall, RICH)
    await dialog(hall, RICH, [("YES", OPTED_IN_ZH)])
    assert not await _opted_out(hall, RICH)


COMMANDS = ("JF", "MX", "HD", "FL", "SP", "SS", "XQ", "DH", "DD", "QX", "CF", "DZ", "GG")
COMMANDS += ("LY", "WDLY", "MM", "YZ", "TD", "START", "MORE", "QR", "YG")
COMMANDS += ("XJ", "QK", "HF", "WY")  # the pay words after DH (§3.5.6)


@pytest.mark.parametrize(("lang", "language"), [("ZH", "ZH"), ("EN", "EN")])
async def test_bz_pages_through_every_command_within_the_budget(
    hall: Services, lang: str, language: str
) -> None:
    """Issue 14 item 4: BZ lists LY, START, FL… a page at a time, each page two segments."""
    await send(hall, RICH, language)
    pages = [(await send(hall, RICH, "BZ")).reply]
    while pages[-1].splitlines()[-1] in (t("zh", "more_hint"), t("en", "more_hint")):
        pages.append((await send(hall, RICH, "MORE")).reply)
    assert len(pages) >= 2
    assert all(fits(page, 2) for page in pages), pages
    words = {w for page in pages for w in re.findall(r"\b[A-Z]{2,}\b", page)}
    expected = {*COMMANDS, "EN" if lang == "ZH" else "ZH"}  # the other language's word
    assert expected <= words, expected - words
    assert (await send(hall, RICH, f"BZ {len(pages)}")).reply == pages[-1]


async def test_fl_lists_the_category_codes_sp_takes(hall: Services) -> None:
    await seed_catalog(hall)
    reply = (await send(hall, RICH, "FL")).reply
    assert reply == "商品分类(1/1):\nHF 话费\nLP 礼品\nSJ 商家券\n回复SP 分类码看商品"
    assert (await send(hall, RICH, "分类")).reply == reply
    assert (await send(hall, RICH, "SP SJ")).reply.startswith("商品(1/")


async def test_gg_lists_the_announcements_and_reads_one(hall: Services) -> None:
    now = epoch(hall.clock.now())

    def publish(conn: Connection) -> int:
        editing.add_announcement(conn, "旧闻", "Old news", "去年的事。", "Last year.", now - 99)
        return editing.add_announcement(
            conn, "春节安排", "Spring holiday", "春节期间正常兑换,物流顺延。", "Open as usual.", now
        )

    news = await hall.db.write(publish)
    listed = (await send(hall, RICH, "GG")).reply.splitlines()
    assert listed[0] == "商城公告(1/1):"
    assert listed[1:3] == [f"{news} 春节安排", f"{news - 1} 旧闻"]
    assert listed[-1] == "回复GG 编号看全文"
    one = (await send(hall, RICH, f"GG {news}")).reply
    assert one == "春节安排(2026-11-20):春节期间正常兑换,物流顺延。"
    assert (await send(hall, RICH, "GG 999")).reply == "没有编号为999的公告,回复GG看公告列表。"
    await send(hall, RICH, "EN")
    assert (await send(hall, RICH, f"NEWS {news}")).reply == (
        "Spring holiday (2026-11-20): Open as usual."
    )


async def test_wdly_lists_my_messages_with_the_replies(hall: Services) -> None:
    await send(hall, RICH, "LY 话费什么时候到账?")
    await send(hall, RICH, "LY 谢谢")
    now = epoch(hall.clock.now())

    def answer(conn: Connection) -> None:
        first = messages.mine(conn, 1, 10)[-1]
        messages.reply(conn, message_id=first.id, staff="alice", text="今天到账。", now=now)

    await hall.db.write(answer)
    lines = (await send(hall, RICH, "WDLY")).reply.splitlines()
    assert lines[0] == "我的留言(1/1):"
    assert lines[1].endswith("谢谢 (待回复)")
    assert lines[2].endswith("话费什么时候到账? 回复:今天到账。")
    assert (await send(hall, NO_ACCOUNT, "我的留言")).reply == (
        "您还没有留言。回复LY 内容给客服留言。"
    )


async def test_more_after_the_last_page_and_any_list_past_its_end_say_so(hall: Services) -> None:
    """Issue 14: MORE after BZ's last page said the last page again; SP 99 answered an empty
    list, FL 9 the first page. Every list now answers past its end the same way."""
    await seed_catalog(hall)
    pages = [(await send(hall, RICH, "BZ")).reply]
    while pages[-1].endswith(t("zh", "more_hint")):
        pages.append((await send(hall, RICH, "MORE")).reply)
    assert (await send(hall, RICH, "MORE")).reply == "没有更多内容了。"
    await dialog(
        hall,
        RICH,
        [
            ("BZ 9", f"没有第9页,共{len(pages)}页。"),
            ("FL 9", "没有第9页,共1页。"),
            ("SP ALL 99", "没有第99页,共2页。"),
            ("MX 9", "没有第9页,共2页。"),
            ("SS 保温杯 5", "没有第5页,共1页。"),
            ("HD A 4", "没有第4页,共1页。"),
            ("DD 9", "您还没有订单。回复SP查看商品。"),
        ],
    )
