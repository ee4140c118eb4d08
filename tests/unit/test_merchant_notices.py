"""Merchant notices (voucher used/locked, admission, POS receipts): zh/en in step, GSM-7
English, within two segments at worst."""

from __future__ import annotations

import pytest

from core.merchant_notices import NOTICES, notice
from core.segments import encoding, fits
from tests.unit.test_i18n import placeholders

WORST = {
    "no": "9" * 12,
    "item": "名" * 20,
    "merchant": "商" * 20,
    "time": "2100-01-01 23:59",
    "code": "A" * 16,
    "app": "9" * 9,
    "reason": "理" * 60,
    "points": 999_999_999,
    "balance": 999_999_999,
}
WORST_EN = {**WORST, "item": "I" * 20, "merchant": "M" * 20, "reason": "R" * 60}


def test_both_languages_have_the_same_notices() -> None:
    assert set(NOTICES["zh"]) == set(NOTICES["en"])
    for key in NOTICES["zh"]:
        assert placeholders(NOTICES["zh"][key]) == placeholders(NOTICES["en"][key])


@pytest.mark.parametrize("key", sorted(NOTICES["en"]))
def test_every_notice_fits_two_segments_at_worst(key: str) -> None:
    for lang, args in (("zh", WORST), ("en", WORST_EN)):
        text = notice(lang, key, **{k: args[k] for k in placeholders(NOTICES[lang][key])})
        assert fits(text, 2), (lang, key, text)
        if lang == "en":
            assert encoding(text) == "GSM-7", text
