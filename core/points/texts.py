"""What the hall texts about points on its own: the expiry notice (zh/en)."""

from __future__ import annotations

from core.messaging.texts import Notices

notice = Notices(
    {
        "zh": {
            "expiry": "温馨提示:您有{points:,}积分将于{date}到期,回复SP兑换商品。",
        },
        "en": {
            "expiry": "{points:,} of your points expire after {date}. Reply SP to redeem them.",
        },
    }
)
