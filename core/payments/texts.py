"""What the hall texts a subscriber who paid with points at a merchant's terminal (zh/en)."""

from __future__ import annotations

from core.messaging.texts import Notices

notice = Notices(
    {
        "zh": {
            "pos_paid": (
                "您在{merchant}用积分支付{points:,}分,余额{balance:,}分。非本人操作请联系客服。"
            ),
        },
        "en": {
            "pos_paid": (
                "You paid {points:,} points at {merchant}; {balance:,} left. If this was not you, "
                "call us."
            ),
        },
    }
)
