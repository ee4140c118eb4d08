"""What the hall texts a subscriber to prove their number: the points-password code and
the Telegram login code (zh/en)."""

from __future__ import annotations

from core.messaging.texts import Notices

notice = Notices(
    {
        "zh": {
            "password_otp": "您正在设置积分密码,验证码{code},5分钟内有效。如非本人操作请忽略。",
            "login_code": (
                "您正在登录积分商城Telegram机器人,验证码{code},5分钟内有效。如非本人操作请忽略。"
            ),
            "chat_bound": (
                "您的号码刚刚在Telegram登录了积分商城。如非本人操作,有人拿到了您的验证码:"
                "请勿向任何人透露验证码,并联系客服。"
            ),
        },
        "en": {
            "password_otp": (
                "Code {code} to set your points passwords, valid 5 minutes. Ignore it if you did "
                "not ask."
            ),
            "login_code": (
                "Your points mall Telegram login code is {code}, valid 5 minutes. If you did not "
                "ask for it, ignore this message."
            ),
            "chat_bound": (
                "Your number just logged in to the points mall on Telegram. If it was not you, "
                "someone has your code: never share codes, and call customer service."
            ),
        },
    }
)
