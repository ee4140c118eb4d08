"""Every word the back-office pages show exists in Chinese and English (issue 16 §1): the
tables have the same keys, every literal key in the ``ops_*`` templates is in a table,
and every status, kind, method, role and capability a page words by prefix has its words."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from console import ops
from console import texts as console_texts
from console.backoffice import words
from console.backoffice.access import CAN, NAV, menu
from console.backoffice.content import TARGETS
from console.backoffice.refusals import refusal
from core.feedback.messages import OPEN, REPLIED
from core.orders.errors import CannotCancel
from core.platform.errors import AlreadyExists, DomainError
from core.platform.schema import (
    ADJUSTMENT_STATUSES,
    APPLICATION_STATUSES,
    ITEM_KINDS,
    OPERATOR_ROLES,
    ORDER_STATUSES,
    PAY_METHODS,
    REVIEW_STATUSES,
    STAFF_ROLES,
    STATEMENT_STATUSES,
    TOPUP_STATUSES,
)
from core.vouchers.listing import VOUCHER_STATUSES

TEMPLATES = Path(ops.__file__).parent / "templates"
LITERAL = re.compile(r"\bt\('([a-z_0-9.]+)'(?!\s*~)")
FIELD = re.compile(r"m\.field\(t, '([a-z_]+)'")
ENTRY_KINDS = ("earn", "redeem", "expire", "refund", "adjust")
PREFIXED = {
    "o_": ORDER_STATUSES,
    "kind_": ITEM_KINDS,
    "pm_": PAY_METHODS,
    "adj_": ADJUSTMENT_STATUSES,
    "rv_": REVIEW_STATUSES,
    "msg_": (OPEN, REPLIED),
    "target_": TARGETS,
    "cap_": tuple(CAN),
    "ops_role_": OPERATOR_ROLES,
    "role_": STAFF_ROLES,
    "entry_": ENTRY_KINDS,
    "v_": VOUCHER_STATUSES,
    "s_": STATEMENT_STATUSES,
    "a_": APPLICATION_STATUSES,
    "act_": ("upcoming", "ongoing", "past"),
    "topup_": TOPUP_STATUSES,
}


def known(lang: str) -> set[str]:
    return {*words.TEXTS[lang], *ops.TEXTS[lang], *console_texts.TEXTS[lang]}


def test_both_languages_have_the_same_words() -> None:
    assert set(words.ZH) == set(words.EN)
    assert set(ops.TEXTS["zh"]) == set(ops.TEXTS["en"])


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_key_the_templates_name_has_words(lang: str) -> None:
    named = {
        key
        for page in TEMPLATES.glob("ops_*.html")
        for key in LITERAL.findall(page.read_text(encoding="utf-8"))
    }
    assert len(named) > 100
    assert named - known(lang) == set()
    fields = {
        f"f_{name}"
        for page in TEMPLATES.glob("ops_*.html")
        for name in FIELD.findall(page.read_text(encoding="utf-8"))
    }
    assert len(fields) > 30
    assert fields - known(lang) == set()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_value_worded_by_prefix_has_words(lang: str) -> None:
    missing = [
        prefix + value
        for prefix, values in PREFIXED.items()
        for value in values
        if prefix + value not in known(lang)
    ]
    assert missing == []
    assert [key for key, _, _ in NAV if key not in known(lang)] == []


def test_each_role_has_a_menu_and_admins_have_all_of_it() -> None:
    assert all(menu(role) for role in OPERATOR_ROLES)
    assert len(menu("admin")) == len(NAV)


def test_a_refusal_is_worded_by_its_reason_code_or_plainly() -> None:
    taken = refusal(AlreadyExists("category", "HF"), words.KNOWN)
    assert (taken.status, taken.key, taken.args["key"]) == (409, "err_already_exists", "HF")
    money = refusal(CannotCancel("261120000001", "paid", "money"), words.KNOWN)
    assert (money.status, money.key) == (409, "err_cannot_cancel_money")

    class Unworded(DomainError):
        reason_code = "something_new"

    plain = refusal(Unworded("a diagnostic"), words.KNOWN)
    assert (plain.status, plain.key, plain.args["detail"]) == (422, "err_error", "a diagnostic")
