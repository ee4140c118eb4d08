"""What the hall texts about a phone top-up on its own: credited, or failed and refunded
(zh/en)."""

from __future__ import annotations

from core.messaging.texts import Notices

notice = Notices(
    {
        "zh": {
            "succeeded": "订单{no}:话费{yuan}元已充值到本机号码,请查收。",
            "failed": "很抱歉,订单{no}的话费{yuan}元未能充值到本机号码。",
            "failed_points": "{points:,}积分已退回您的账户。",
            "failed_cash": "已付的{cash}元将原路退回。",
        },
        "en": {
            "succeeded": "Order {no}: {yuan} yuan of phone credit has been added to this number.",
            "failed": "Sorry, order {no}: {yuan} yuan of phone credit could not be added to "
            "this number.",
            "failed_points": " {points:,} points are back in your account.",
            "failed_cash": " The {cash} yuan you paid will be refunded.",
        },
    }
)
