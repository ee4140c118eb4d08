"""What the hall texts merchant staff about the items they submit for review (zh/en)."""

from __future__ import annotations

from core.messaging.texts import Notices

notice = Notices(
    {
        "zh": {
            "goods_submitted": "商品{code}「{item}」已提交审核,审核通过后上架。",
            "goods_approved": "商品{code}「{item}」已通过审核并上架。",
            "goods_rejected": "商品{code}「{item}」未通过审核:{reason}",
        },
        "en": {
            "goods_submitted": "Item {code} ({item}) is submitted; it is listed once reviewed.",
            "goods_approved": "Item {code} ({item}) passed review and is now listed.",
            "goods_rejected": "Item {code} ({item}) was not accepted: {reason}",
        },
    }
)
