"""What the hall texts about orders on its own: the voucher password, the checkout's payment
code (zh/en)."""

from __future__ import annotations

from core.messaging.texts import Notices

notice = Notices(
    {
        "zh": {
            "voucher": (
                "订单{no}「{item}」电子券密码{password},{date}前到{merchant}出示订单号和密码使用。"
            ),
            "voucher_resent": (
                "订单{no}「{item}」新券码{password}(旧码已作废),{date}前到{merchant}使用。"
            ),
            "checkout_code": (
                "您正在积分商城下单{count}件商品,共{points:,}积分,支付验证码{code},"
                "{minutes}分钟内有效。请在聊天中输入验证码完成支付,切勿告诉他人。"
            ),
        },
        "en": {
            "voucher": (
                "Order {no} ({item}): voucher password {password}, valid until {date}. Show the "
                "order number and password at {merchant}."
            ),
            "voucher_resent": (
                "Order {no} ({item}): new voucher password {password} (the old one no longer "
                "works), valid until {date} at {merchant}."
            ),
            "checkout_code": (
                "Your points mall order of {count} item(s), {points:,} points: payment code "
                "{code}, valid {minutes} minutes. Type it in the chat to pay; never share it."
            ),
        },
    }
)
