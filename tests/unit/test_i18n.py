"""Reply catalogues (DESIGN §6): zh and en in step, English in GSM-7, every reply within budget.

The default budget is 2 segments (DESIGN §6): 306 GSM-7 septets or 134 UCS-2 units.
"""

from __future__ import annotations

import string
from zoneinfo import ZoneInfo

import pytest

from core.messaging.segments import count, encoding, fits
from core.platform.schema import PAY_METHODS
from handlers.commands import BadArguments
from handlers.grammar import KEYWORDS, parse
from handlers.i18n import CATALOG, LANGS, local_date, short_date, t, yuan

BUDGET = 2
SHANGHAI = ZoneInfo("Asia/Shanghai")


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def test_languages() -> None:
    assert LANGS == ("zh", "en")
    assert set(CATALOG) == set(LANGS)


def test_every_key_exists_in_both_languages() -> None:
    assert set(CATALOG["zh"]) == set(CATALOG["en"])


@pytest.mark.parametrize("key", sorted(CATALOG["en"]))
def test_placeholders_agree_between_languages(key: str) -> None:
    assert placeholders(CATALOG["zh"][key]) == placeholders(CATALOG["en"][key])


@pytest.mark.parametrize("key", sorted(CATALOG["en"]))
def test_english_templates_are_gsm7(key: str) -> None:
    """An English reply must cost GSM-7 segments, not UCS-2 ones."""
    assert encoding(CATALOG["en"][key]) == "GSM-7", CATALOG["en"][key]


@pytest.mark.parametrize("key", sorted(CATALOG["zh"]))
def test_templates_are_non_empty(key: str) -> None:
    assert CATALOG["zh"][key].strip()
    assert CATALOG["en"][key].strip()


def test_usage_reply_exists_for_every_bad_arguments_keyword() -> None:
    """handlers.profile answers BadArguments(k) with ``usage_{k}``; it must exist."""
    produced = set()
    for keyword in KEYWORDS:
        for text in (keyword, f"{keyword} x y", f"{keyword} 0", f"{keyword} 1 2 3"):
            result = parse(text)
            if isinstance(result, BadArguments):
                produced.add(result.keyword)
    assert {"BZ", "JF", "MX", "TD", "START", "EN", "ZH", "MORE", "DH", "SS", "DZ"} <= produced
    for keyword in produced:
        for lang in LANGS:
            assert f"usage_{keyword}" in CATALOG[lang]


# ---------------------------------------------------------------- worst cases

BIG = 999_999_999  # 9-digit points, rendered "999,999,999"
MAX_CENTS = 10**12 - 1  # just under the feed ceiling: "9999999999.99" yuan


def worst_args(lang: str) -> dict[str, object]:
    reason = t(
        lang,
        "reason_accrual",
        period="2026-10",
        spend=yuan(MAX_CENTS),
        rate="10.125",
        reward=10**9,
    )
    return {
        "available": BIG,
        "held": BIG,
        "points": BIG,
        "needed": BIG,
        "amount": -BIG,
        "date": local_date(4_102_444_799, SHANGHAI),  # "2100-01-01", longest date we print
        "page": 99_999,
        "pages": 99_999,
        "period": "2026-10",
        "spend": yuan(MAX_CENTS),
        "rate": "10.125",
        "reward": 10**9,
        "reason": reason,
        "expiry": t(lang, "balance_expiry", points=BIG, date="2099-12-31"),
        # Catalogue and order values at realistic maxima; longer free text (names,
        # descriptions, addresses) is shortened by handlers.paging.fit, tested in the
        # dialog and whole-hall property tests.
        "code": "A" * 16,
        "no": "9" * 12,
        "qty": 10,
        "most": 10,
        "limit": 99,
        "taken": 99,
        "nos": " ".join(["9" * 12] * 3),
        "average": "4.5",
        "count": 99_999,
        "left": 99_999,
        "name": "名" * 12 if lang == "zh" else "N" * 24,
        "title": "题" * 12 if lang == "zh" else "T" * 24,
        "keyword": "K" * 12,
        "start": "12-31",
        "end": "12-31",
        "stock": t(lang, "sp_stock", left=10),
        "cash": t(lang, "xq_cash", yuan=yuan(MAX_CENTS)),
        "yuan": yuan(MAX_CENTS),
        "merchant": "商" * 10 if lang == "zh" else "M" * 20,
        "description": "",
        "address": "地" * 20 if lang == "zh" else "A" * 40,
        "status": t(lang, "status_voucher_issued"),
        "carrier": "C" * 10,
        "tracking": "9" * 20,
        "logistics": t(lang, "dd_logistics", carrier="C" * 10, tracking="9" * 20),
        "phone": "+" + "9" * 15,
        "phones": " ".join(["+" + "9" * 13] * 4) + " ...",  # handlers.staff lists what fits
        # payments (§3.5.6)
        "price": t(lang, "price_points_cash", points=BIG, yuan=yuan(MAX_CENTS)),
        "minutes": 60,
        "link": "https://hall.example.com/pay/" + "9" * 12 + "?k=" + "f" * 16,
        "method": t(lang, "pm_online_bank"),
        "methods": " ".join(f"XX={t(lang, 'pm_' + m)}" for m in PAY_METHODS),
        "word": "XJ",
        "id": 9_999_999_999,  # a message's number (LY)
        # refusals that rarely reach a subscriber (every DomainError has its reply)
        "message_id": 9_999_999_999,
        "question_id": 9_999_999_999,
        "statement_id": 9_999_999_999,
        "application_id": 9_999_999_999,
        "adjustment_id": 9_999_999_999,
        "change_id": 9_999_999_999,
        "tries_left": 4,
        "least": 2,
        "msisdn": "+" + "9" * 15,
        "key": "K" * 16,
        # phone credit delivered (issue 16 §2), merchant goods (§5)
        "state": t(lang, "topup_stalled"),
        "actor": "+" + "9" * 15,
        # free text the handlers cut to fit (handlers.paging.clip and fit), tested in the
        # dialog tests: an announcement's body, a message and its reply
        "body": "",
        "text": "",
    }


def test_worst_args_cover_every_placeholder() -> None:
    used = set().union(*(placeholders(v) for lang in LANGS for v in CATALOG[lang].values()))
    assert used <= set(worst_args("en"))


LISTS = {"help_lines"}
"""Not replies: lists a handler pages through (``BZ``); each page is tested in the dialogs."""


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("key", sorted(set(CATALOG["en"]) - LISTS))
def test_every_template_fits_two_segments_at_worst(lang: str, key: str) -> None:
    args = worst_args(lang)
    needed = {name: args[name] for name in placeholders(CATALOG[lang][key])}
    text = t(lang, key, **needed)
    assert "{" not in text and "}" not in text  # fully rendered
    assert fits(text, BUDGET), (key, count(text), text)
    if lang == "en":
        assert encoding(text) == "GSM-7", text


def test_rendered_examples() -> None:
    assert t("en", "balance", available=1234567, held=0, expiry="") == (
        "Points: 1,234,567 available, 0 held."
    )
    assert t("zh", "balance", available=1234567, held=89, expiry="") == (
        "您的积分:可用1,234,567分,冻结89分。"
    )
    assert t("en", "history_line", date="10-05", amount=1200, reason="x") == "10-05 +1,200 x"
    assert t("en", "history_line", date="10-05", amount=-50, reason="x") == "10-05 -50 x"
    assert t("en", "past_end", page=7, pages=3) == "There is no page 7; there are 3 page(s)."


def test_worst_balance_with_expiry_is_gsm7_and_fits_one_segment_in_english() -> None:
    text = t("en", "balance", available=BIG, held=BIG, expiry=worst_args("en")["expiry"])
    assert text == (
        "Points: 999,999,999 available, 999,999,999 held. 999,999,999 expire after 2099-12-31."
    )
    assert count(text) == 1


def test_unknown_language_falls_back_to_chinese() -> None:
    assert t("fr", "unknown") == CATALOG["zh"]["unknown"]


def test_unknown_key_raises_key_error() -> None:
    with pytest.raises(KeyError):
        t("en", "no_such_key")


@pytest.mark.parametrize(
    ("cents", "text"),
    [
        (0, "0"),
        (5, "0.05"),
        (100, "1"),
        (12345, "123.45"),
        (10**12, "10000000000"),
        (1010, "10.10"),
    ],
)
def test_yuan(cents: int, text: str) -> None:
    assert yuan(cents) == text


def test_dates_are_local() -> None:
    # 2026-12-31 16:30 UTC is already 2027-01-01 in Shanghai.
    moment = 1_798_734_600
    assert local_date(moment, SHANGHAI) == "2027-01-01"
    assert short_date(moment, SHANGHAI) == "01-01"
    assert local_date(moment, ZoneInfo("UTC")) == "2026-12-31"


def test_every_help_line_fits_its_width_unclipped() -> None:
    """A clipped help line hides its command (issue 14): each fits BZ's line width."""
    from handlers.profile import HELP_WIDTH

    for lang in ("zh", "en"):
        for line in t(lang, "help_lines").split("\n"):
            assert len(line) <= HELP_WIDTH[lang], (lang, line)
