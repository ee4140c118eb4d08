"""The SMS words for payment methods (§3.5.6): ``DH 5001 1 XJ`` pays with points + cash."""

from __future__ import annotations

WORD_METHOD: dict[str, str] = {
    "JF": "points",
    "积分": "points",
    "XJ": "points_cash",
    "PC": "points_cash",
    "CASH": "cash",
    "QK": "cash",
    "现金": "cash",
    "HF": "phone_bill",
    "BILL": "phone_bill",
    "话费": "phone_bill",
    "WY": "online_bank",
    "BANK": "online_bank",
    "网银": "online_bank",
}
METHOD_WORD: dict[str, str] = {
    "points": "JF",
    "points_cash": "XJ",
    "cash": "QK",
    "phone_bill": "HF",
    "online_bank": "WY",
}
