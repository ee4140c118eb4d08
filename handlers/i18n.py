"""Reply catalogues, Chinese and English. Every template fits the SMS budget (tested).

English templates stay inside the GSM-7 alphabet (no ×, no curly quotes) so an
English reply costs GSM-7 segments, not UCS-2 ones.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

LANGS = ("zh", "en")

CATALOG: dict[str, dict[str, str]] = {
    "zh": {
        "help": (
            "积分营业厅:JF查积分,MX积分明细,MORE下一页,TD退订营销短信,START恢复订阅,EN English。"
        ),
        "unknown": "未识别的指令,回复BZ查看帮助。",
        "balance": "您的积分:可用{available:,}分,冻结{held:,}分。{expiry}",
        "balance_expiry": "其中{points:,}分将于{date}到期。",
        "no_account": "您的号码暂无积分账户,积分每月按账单生成。回复BZ查看帮助。",
        "history_head": "积分明细第{page}页:",
        "history_line": "{date} {amount:+,} {reason}",
        "history_empty": "暂无积分明细。",
        "history_past_end": "没有第{page}页,明细共{pages}页。",
        "more_hint": "回复MORE看下一页",
        "nothing_more": "没有更多内容了。",
        "opted_out": "已退订营销短信,服务通知仍会发送。回复START恢复订阅。",
        "opted_in": "已恢复订阅营销短信。回复TD退订。",
        "lang_set": "已切换为中文回复。",
        "throttled": "您发送过于频繁,请一分钟后再试。",
        "error": "系统繁忙,请稍后再试。",
        "bad_sender": "无法识别您的号码,暂不能提供服务。",
        "usage_MX": "格式:MX 页码,例如MX 2",
        "usage_BZ": "回复BZ查看帮助。",
        "usage_JF": "查积分请直接回复JF。",
        "usage_TD": "退订请直接回复TD。",
        "usage_START": "恢复订阅请直接回复START。",
        "usage_EN": "切换英文请直接回复EN。",
        "usage_ZH": "切换中文请直接回复ZH。",
        "usage_MORE": "看下一页请直接回复MORE。",
        "insufficient": "积分不足:需要{needed:,}分,可用{available:,}分。",
        "reason_accrual": "{period}月度积分:消费{spend}元×{rate}+奖励{reward}",
        "reason_expire": "积分到期",
        "reason_other": "积分变动",
    },
    "en": {
        "help": (
            "Points hall: JF balance, MX history, MORE next page, TD stop marketing texts, "
            "START resume, ZH Chinese replies."
        ),
        "unknown": "Sorry, we did not understand that. Reply BZ for help.",
        "balance": "Points: {available:,} available, {held:,} held.{expiry}",
        "balance_expiry": " {points:,} expire after {date}.",
        "no_account": (
            "This number has no points account yet; points are earned monthly from your bill. "
            "Reply BZ for help."
        ),
        "history_head": "Points history, page {page}:",
        "history_line": "{date} {amount:+,} {reason}",
        "history_empty": "No points history yet.",
        "history_past_end": "There is no page {page}; the history has {pages} page(s).",
        "more_hint": "Reply MORE for the next page",
        "nothing_more": "Nothing more to show.",
        "opted_out": (
            "You will get no more marketing texts; service messages still arrive. "
            "Reply START to resume."
        ),
        "opted_in": "Marketing texts resumed. Reply TD to stop.",
        "lang_set": "Replies will now be in English.",
        "throttled": "Too many messages. Please wait a minute and try again.",
        "error": "Sorry, something went wrong. Please try again later.",
        "bad_sender": "Sorry, we cannot serve this number.",
        "usage_MX": "Usage: MX [page], e.g. MX 2",
        "usage_BZ": "Reply BZ for help.",
        "usage_JF": "For your balance just reply JF.",
        "usage_TD": "To stop marketing texts just reply TD.",
        "usage_START": "To resume just reply START.",
        "usage_EN": "For English replies just reply EN.",
        "usage_ZH": "For Chinese replies just reply ZH.",
        "usage_MORE": "For the next page just reply MORE.",
        "insufficient": "Not enough points: {needed:,} needed, {available:,} available.",
        "reason_accrual": "{period} monthly points: spend {spend} yuan x{rate} + reward {reward}",
        "reason_expire": "points expired",
        "reason_other": "points change",
    },
}


def t(lang: str, key: str, **args: Any) -> str:
    catalog = CATALOG.get(lang, CATALOG["zh"])
    return catalog[key].format(**args)


def yuan(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(cents), 100)
    return f"{sign}{whole}" if frac == 0 else f"{sign}{whole}.{frac:02d}"


def local_date(epoch_seconds: int, tz: ZoneInfo) -> str:
    return datetime.fromtimestamp(epoch_seconds, tz).strftime("%Y-%m-%d")


def short_date(epoch_seconds: int, tz: ZoneInfo) -> str:
    return datetime.fromtimestamp(epoch_seconds, tz).strftime("%m-%d")
