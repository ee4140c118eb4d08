"""Messages the hall sends on its own about merchant vouchers and admission (zh/en).

Like ``core.notices`` they are queued in the same transaction as the change.
"""

from __future__ import annotations

from typing import Any

NOTICES: dict[str, dict[str, str]] = {
    "zh": {
        "voucher_used": "您的订单{no}「{item}」电子券已于{time}在{merchant}使用。",
        "voucher_locked_customer": (
            "订单{no}电子券密码错误次数过多,已锁定。如非本人操作请联系客服,商家核实后可解锁。"
        ),
        "voucher_locked_merchant": "订单{no}电子券密码错误次数过多,已锁定,请联系运营解锁。",
        "voucher_unlocked": "订单{no}电子券已解锁,可凭原密码使用。",
        "application_submitted": "您的商家入驻申请({code})已提交,编号{app},请等待审核。",
        "application_first_review": "您的商家入驻申请{app}正在初审。",
        "application_final_review": "您的商家入驻申请{app}已通过初审,进入终审。",
        "application_approved": "恭喜!您的商家入驻申请{app}已通过,商家编号{code}。",
        "application_rejected": "很抱歉,您的商家入驻申请{app}未通过:{reason}",
        "pos_paid": (
            "您在{merchant}用积分支付{points:,}分,余额{balance:,}分。非本人操作请联系客服。"
        ),
        "staff_added": "您已成为{merchant}的核销员,回复YZ 订单号 券密码即可核销电子券。",
        "password_otp": "您正在设置积分密码,验证码{code},5分钟内有效。如非本人操作请忽略。",
        "goods_submitted": "商品{code}「{item}」已提交审核,审核通过后上架。",
        "goods_approved": "商品{code}「{item}」已通过审核并上架。",
        "goods_rejected": "商品{code}「{item}」未通过审核:{reason}",
    },
    "en": {
        "voucher_used": "Your voucher of order {no} ({item}) was used at {merchant} on {time}.",
        "voucher_locked_customer": (
            "The voucher of order {no} is locked after too many wrong passwords. If this was "
            "not you, call us; the merchant can have it unlocked."
        ),
        "voucher_locked_merchant": (
            "The voucher of order {no} is locked after too many wrong passwords; ask the "
            "operator to unlock it."
        ),
        "voucher_unlocked": "The voucher of order {no} is unlocked; its password works again.",
        "application_submitted": (
            "Your merchant application ({code}) is in, number {app}. We will review it."
        ),
        "application_first_review": "Your merchant application {app} is in first review.",
        "application_final_review": (
            "Your merchant application {app} passed first review and is in final review."
        ),
        "application_approved": (
            "Your merchant application {app} is approved; your merchant code is {code}."
        ),
        "application_rejected": "Sorry, your merchant application {app} was rejected: {reason}",
        "pos_paid": (
            "You paid {points:,} points at {merchant}; {balance:,} left. If this was not you, "
            "call us."
        ),
        "staff_added": (
            "You can now verify vouchers of {merchant}: text YZ order-number password."
        ),
        "password_otp": (
            "Code {code} to set your points passwords, valid 5 minutes. Ignore it if you did "
            "not ask."
        ),
        "goods_submitted": "Item {code} ({item}) is submitted; it is listed once reviewed.",
        "goods_approved": "Item {code} ({item}) passed review and is now listed.",
        "goods_rejected": "Item {code} ({item}) was not accepted: {reason}",
    },
}


def notice(lang: str, key: str, **args: Any) -> str:
    return NOTICES.get(lang, NOTICES["zh"])[key].format(**args)
