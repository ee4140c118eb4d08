"""Headers and row labels of the finance reports, in Chinese and English (issue 16 §3).

The report's language is the requester's: ``--lang`` on the command line (default
``POINTSHALL_DEFAULT_LANG``), ``?lang=`` or ``Accept-Language`` on the admin API.
"""

from __future__ import annotations

from core.platform.languages import LANGS

RECONCILE_HEADER: dict[str, tuple[str, ...]] = {
    "zh": (
        "分类",
        "代码",
        "项目",
        "笔数",
        "积分",
        "收款(分)",
        "退款(分)",
        "商户结算(分)",
    ),
    "en": (
        "section",
        "code",
        "item",
        "count",
        "points",
        "captured (cents)",
        "refunded (cents)",
        "merchant amount (cents)",
    ),
}

SECTIONS: dict[str, dict[str, str]] = {
    "zh": {
        "points": "积分变动",
        "money": "资金(支付网关)",
        "total": "合计",
        "balance": "积分余额",
        "vouchers": "电子券负债",
        "settlement": "商户结算",
    },
    "en": {
        "points": "points movement",
        "money": "money (payment gateway)",
        "total": "total",
        "balance": "points balance",
        "vouchers": "voucher liability",
        "settlement": "merchant settlement",
    },
}

LABELS: dict[str, dict[str, str]] = {
    "zh": {
        "earned": "月度积分发放",
        "redeemed_credit": "兑换话费",
        "redeemed_goods": "兑换实物礼品",
        "redeemed_voucher_used": "兑换电子券:月末前已核销",
        "redeemed_voucher_unused": "兑换电子券:月末未使用(负债)",
        "redeemed_voucher_expired": "兑换电子券:已过期未使用",
        "redeemed_voucher_refunded": "兑换电子券:已退订",
        "redeemed_pos": "商户POS积分消费",
        "redeemed_other": "其他扣减",
        "refunded": "退还积分",
        "expired": "积分过期",
        "adjusted_up": "人工调增",
        "adjusted_down": "人工调减",
        "money_points_cash": "积分+现金:现金部分",
        "money_cash": "现金支付",
        "money_phone_bill": "话费账单支付",
        "money_online_bank": "网银支付",
        "total": "合计(= 本月积分净变动、网关收款、网关退款)",
        "balance_opening": "期初积分余额",
        "balance_closing": "期末积分余额",
        "vouchers_opening": "期初未使用电子券",
        "vouchers_issued": "本月发放电子券",
        "vouchers_used": "本月核销电子券",
        "vouchers_expired": "本月过期电子券",
        "vouchers_refunded": "本月退订电子券",
        "vouchers_closing": "期末未使用电子券(负债)",
        "settlement_voucher": "结算明细:电子券核销",
        "settlement_pos": "结算明细:POS消费",
    },
    "en": {
        "earned": "points earned (billing feed)",
        "redeemed_credit": "redeemed: phone credit",
        "redeemed_goods": "redeemed: goods",
        "redeemed_voucher_used": "redeemed: vouchers used by month end",
        "redeemed_voucher_unused": "redeemed: vouchers unused at month end (liability)",
        "redeemed_voucher_expired": "redeemed: vouchers expired unused",
        "redeemed_voucher_refunded": "redeemed: vouchers refunded",
        "redeemed_pos": "redeemed: merchant terminals (POS)",
        "redeemed_other": "redeemed: other",
        "refunded": "points refunded",
        "expired": "points expired",
        "adjusted_up": "adjustments up",
        "adjusted_down": "adjustments down",
        "money_points_cash": "points + cash: the cash",
        "money_cash": "cash",
        "money_phone_bill": "phone bill",
        "money_online_bank": "online banking",
        "total": "total (= net points movement, gateway captured, gateway refunded)",
        "balance_opening": "points balance at the start",
        "balance_closing": "points balance at the end",
        "vouchers_opening": "vouchers unused at the start",
        "vouchers_issued": "vouchers issued",
        "vouchers_used": "vouchers used",
        "vouchers_expired": "vouchers expired",
        "vouchers_refunded": "vouchers refunded",
        "vouchers_closing": "vouchers unused at the end (liability)",
        "settlement_voucher": "settlement lines: vouchers used",
        "settlement_pos": "settlement lines: POS payments",
    },
}

TITLES: dict[str, dict[str, str]] = {
    "zh": {
        "reconcile": "{period} 积分与资金对账表",
        "reconcile_sheet": "对账",
        "reconcile_chart": "{period} 积分变动",
        "points": "积分",
    },
    "en": {
        "reconcile": "Points and money reconciliation {period}",
        "reconcile_sheet": "reconcile",
        "reconcile_chart": "Points movement {period}",
        "points": "points",
    },
}


def lang_of(lang: str | None, default: str = "zh") -> str:
    """``lang`` if it is one of ours, else ``default``."""
    return lang if lang in LANGS else default


def label(lang: str, code: str) -> str:
    """The row label of ``code`` (a method the table does not know is shown as itself)."""
    return LABELS[lang].get(code, code)
