"""Conversations as dialog tables (DESIGN.md §6, seed §1): what a subscriber texts and reads."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Connection, select

from core.platform.schema import inbound
from pointshall.bootstrap import Services
from tests.support.helpers import accrue, send, write_feed

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


HELP_ZH = (
    "积分营业厅:JF积分 MX明细 HD活动 SP商品 SS搜索 XQ详情 DH兑换 DD订单 "
    "QX取消 CF重发券码 DZ地址 MM支付密码 TD退订 EN English"
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
            ("MX 3", "没有第3页,明细共2页。"),
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
    await dialog(hall, RICH, [("BZ", HELP_ZH), ("MORE", "没有更多内容了。")])
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
    assert (await send(hall, "+14155550100", "BZ")).reply.startswith("Points hall: JF balance")
