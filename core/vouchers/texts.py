"""What the hall texts about vouchers being verified: used, locked, unlocked (zh/en)."""

from __future__ import annotations

from core.messaging.texts import Notices

notice = Notices(
    {
        "zh": {
            "voucher_used": "您的订单{no}「{item}」电子券已于{time}在{merchant}使用。",
            "voucher_locked_customer": (
                "订单{no}电子券密码错误次数过多,已锁定。回复CF {no}可获取新密码并解锁。"
            ),
            "voucher_locked_merchant": (
                "订单{no}电子券密码错误次数过多,已锁定。顾客回复CF可获取新密码,或联系运营解锁。"
            ),
            "voucher_unlocked": "订单{no}电子券已解锁,可凭原密码使用。",
        },
        "en": {
            "voucher_used": "Your voucher of order {no} ({item}) was used at {merchant} on {time}.",
            "voucher_locked_customer": (
                "The voucher of order {no} is locked after too many wrong passwords. Reply "
                "CF {no} for a new password, which unlocks it."
            ),
            "voucher_locked_merchant": (
                "The voucher of order {no} is locked after too many wrong passwords; the "
                "customer can reply CF for a new password, or ask the operator to unlock it."
            ),
            "voucher_unlocked": "The voucher of order {no} is unlocked; its password works again.",
        },
    }
)
