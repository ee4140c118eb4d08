"""What the hall texts merchants and applicants on its own: admission, new staff, the
console login code (zh/en)."""

from __future__ import annotations

from core.messaging.texts import Notices

notice = Notices(
    {
        "zh": {
            "application_submitted": "您的商家入驻申请({code})已提交,编号{app},请等待审核。",
            "application_first_review": "您的商家入驻申请{app}正在初审。",
            "application_final_review": "您的商家入驻申请{app}已通过初审,进入终审。",
            "application_approved": "恭喜!您的商家入驻申请{app}已通过,商家编号{code}。",
            "application_rejected": "很抱歉,您的商家入驻申请{app}未通过:{reason}",
            "staff_added": "您已成为{merchant}的核销员,回复YZ 订单号 券密码即可核销电子券。",
            "console_code": "您正在登录商户自助平台,验证码{code},5分钟内有效。如非本人操作请忽略。",
        },
        "en": {
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
            "staff_added": (
                "You can now verify vouchers of {merchant}: text YZ order-number password."
            ),
            "console_code": (
                "Your merchant console login code is {code}, valid 5 minutes. If you did not ask "
                "for it, ignore this message."
            ),
        },
    }
)
