"""Messages the system sends on its own (not replies): vouchers, expiry notices.

They are part of the domain events they report and are queued in the same
transaction, so their wording lives here, in both languages, beside them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

NOTICES: dict[str, dict[str, str]] = {
    "zh": {
        "voucher": (
            "订单{no}「{item}」电子券密码{password},{date}前到{merchant}出示订单号和密码使用。"
        ),
        "voucher_resent": (
            "订单{no}「{item}」新券码{password}(旧码已作废),{date}前到{merchant}使用。"
        ),
        "expiry": "温馨提示:您有{points:,}积分将于{date}到期,回复SP兑换商品。",
    },
    "en": {
        "voucher": (
            "Order {no} ({item}): voucher password {password}, valid until {date}. "
            "Show the order number and password at {merchant}."
        ),
        "voucher_resent": (
            "Order {no} ({item}): new voucher password {password} (the old one no longer "
            "works), valid until {date} at {merchant}."
        ),
        "expiry": "{points:,} of your points expire after {date}. Reply SP to redeem them.",
    },
}

MAX_NAME = 20


def notice(lang: str, key: str, **args: Any) -> str:
    return NOTICES.get(lang, NOTICES["zh"])[key].format(**args)


def short(name: str, lang: str) -> str:
    if len(name) <= MAX_NAME:
        return name
    mark = "..." if lang == "en" else "…"
    return name[: MAX_NAME - len(mark)] + mark


def day(epoch_seconds: int, tz: ZoneInfo) -> str:
    return datetime.fromtimestamp(epoch_seconds, tz).strftime("%Y-%m-%d")
