"""Every notice the hall texts on its own (each context's ``texts.py``): zh/en in step, GSM-7
English, within two segments at worst."""

from __future__ import annotations

import pytest

from core.catalogue import texts as catalogue_texts
from core.merchants import texts as merchant_texts
from core.messaging.segments import encoding, fits
from core.messaging.texts import Notices
from core.orders import texts as order_texts
from core.payments import texts as payment_texts
from core.points import texts as points_texts
from core.recharge import texts as recharge_texts
from core.subscribers import texts as subscriber_texts
from core.vouchers import texts as voucher_texts
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
    "password": "9" * 8,
    "date": "2100-12-31",
    "count": 99,
    "minutes": 5,
    "yuan": "99999999.99",
    "cash": "99999999.99",
    "name": "n" * 20,  # a billing file's name (feed inbox alerts cut longer ones to fit)
    "terminal": "T" * 16,
    "tries": 5,
}
TABLES: dict[str, Notices] = {
    "catalogue": catalogue_texts.notice,
    "merchants": merchant_texts.notice,
    "orders": order_texts.notice,
    "payments": payment_texts.notice,
    "points": points_texts.notice,
    "recharge": recharge_texts.notice,
    "subscribers": subscriber_texts.notice,
    "vouchers": voucher_texts.notice,
}
NOTICES = [(name, key) for name, table in TABLES.items() for key in sorted(table.table["en"])]
WORST_EN = {**WORST, "item": "I" * 20, "merchant": "M" * 20, "reason": "R" * 60}


@pytest.mark.parametrize("name", sorted(TABLES))
def test_both_languages_have_the_same_notices(name: str) -> None:
    table = TABLES[name].table
    assert set(table["zh"]) == set(table["en"])
    for key in table["zh"]:
        assert placeholders(table["zh"][key]) == placeholders(table["en"][key])


@pytest.mark.parametrize(("name", "key"), NOTICES)
def test_every_notice_fits_two_segments_at_worst(name: str, key: str) -> None:
    notice = TABLES[name]
    for lang, args in (("zh", WORST), ("en", WORST_EN)):
        text = notice(lang, key, **{k: args[k] for k in placeholders(notice.table[lang][key])})
        assert fits(text, 2), (lang, key, text)
        if lang == "en":
            assert encoding(text) == "GSM-7", text
