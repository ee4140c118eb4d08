"""What the hall texts a subscriber who paid with points at a merchant's terminal (zh/en)."""

from __future__ import annotations

from core.messaging.texts import Notices

notice = Notices(
    {
        "zh": {
            "pos_paid": (
                "您在{merchant}用积分支付{points:,}分,余额{balance:,}分。非本人操作请联系客服。"
            ),
            "pos_paused": (
                "{merchant}的终端{terminal}连续{tries}次输错您的积分密码,已暂停该终端"
                "{minutes}分钟,其他商户不受影响。如非本人操作,请回复MM重设密码,重设后立即恢复。"
            ),
        },
        "en": {
            "pos_paid": (
                "You paid {points:,} points at {merchant}; {balance:,} left. If this was not you, "
                "call us."
            ),
            "pos_paused": (
                "{tries} wrong points passwords at terminal {terminal} of {merchant}: it takes "
                "none of your payments for {minutes} minutes; other shops still do. If this was "
                "not you, reply MM to set new passwords, which lifts it at once."
            ),
        },
    }
)
