"""What the hall texts about points on its own: the expiry notice (zh/en), and the alert to
operators when a billing feed file is refused (issue 16 §4)."""

from __future__ import annotations

from core.messaging.texts import Notices

notice = Notices(
    {
        "zh": {
            "expiry": "温馨提示:您有{points:,}积分将于{date}到期,回复SP兑换商品。",
            "feed_rejected": "积分账单文件{name}未导入,已移至rejected目录:{reason}",
        },
        "en": {
            "expiry": "{points:,} of your points expire after {date}. Reply SP to redeem them.",
            "feed_rejected": "Billing feed {name} was not imported (moved to rejected/): {reason}",
        },
    }
)
