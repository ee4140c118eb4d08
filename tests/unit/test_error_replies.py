"""Every refusal reaches the subscriber in their language (issue 14 item 3): every
``DomainError`` subclass in ``core``, in every language, goes through the text channels'
reply table to its own translated reply (not the generic apology) within two SMS
segments, with no English phrase inside a Chinese reply."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from typing import Any

import pytest

import core
from core.messaging.segments import encoding, fits
from core.orders.errors import CannotCancel, LimitReached
from core.payments.errors import PaymentRefused
from core.platform.errors import DomainError
from handlers.errors import reply_for
from handlers.i18n import LANGS, t

BUDGET = 2
LOWER_LATIN = re.compile(r"[a-z]{3,}")
"""An English word: command words in Chinese replies are upper case (BZ, SP, DH…)."""

for found in pkgutil.walk_packages(core.__path__, "core."):
    importlib.import_module(found.name)


def _subclasses(cls: type[DomainError]) -> list[type[DomainError]]:
    out: list[type[DomainError]] = []
    for sub in cls.__subclasses__():
        out += [sub, *_subclasses(sub)]
    return out


ERRORS = sorted(set(_subclasses(DomainError)), key=lambda c: c.__qualname__)

SAMPLES: dict[str, Any] = {
    "status": "paid",
    "current": "voucher_issued",
    "wanted": "refunded",
    "title_zh": "冬日暖心兑",
    "title_en": "Winter warm-up",
    "offered": ("points", "cash"),
    "method": "cash",
    "scope": "day",
    "role": "审计",
    "action": "approve",
    "reason": "wrong_second_password",
}


def _sample(name: str, annotation: Any) -> Any:
    if name in SAMPLES:
        return SAMPLES[name]
    text = str(annotation)
    if "int" in text and "str" not in text:
        return 7
    return "2001"


def instance(cls: type[DomainError]) -> DomainError:
    """``cls`` made with plausible data: digits for names and numbers, real statuses."""
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    args = [
        _sample(p.name, p.annotation)
        for p in params
        if p.default is inspect.Parameter.empty
        and p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    ]
    return cls(*args)


CASES: list[DomainError] = [instance(cls) for cls in ERRORS]
CASES += [LimitReached(1, "activity"), CannotCancel("2611301", "paid", "money")]
CASES += [CannotCancel("2611301", "voucher_issued", "voucher")]
CASES += [
    PaymentRefused(reason, 2)
    for reason in ("bad_amount", "password_locked", "wrong_points_password")
]


def test_the_walk_finds_every_context() -> None:
    modules = {cls.__module__.split(".")[1] for cls in ERRORS}
    assert modules >= {
        "platform",
        "subscribers",
        "points",
        "merchants",
        "catalogue",
        "settlement",
        "orders",
        "vouchers",
        "payments",
        "feedback",
        "backoffice",
        "recharge",
    }
    assert len(ERRORS) >= 60


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("error", CASES, ids=lambda e: f"{type(e).__name__}:{e.reason_code}")
def test_every_domain_error_has_its_own_reply(error: DomainError, lang: str) -> None:
    reply = reply_for(error, lang)
    if error.reason_code != "error":
        assert reply != t(lang, "error"), f"{type(error).__name__} falls back to the apology"
    assert fits(reply, BUDGET), reply
    if lang == "zh":
        assert not LOWER_LATIN.search(reply), f"English inside a Chinese reply: {reply}"
    else:
        assert encoding(reply) == "GSM-7", reply


def test_a_locked_voucher_refusal_is_worded_not_labelled() -> None:
    """The field report: QX on a voucher locked after wrong passwords."""
    error = CannotCancel("261130116288", "voucher_issued", "voucher")
    assert "voucher" not in reply_for(error, "zh")
    assert "is voucher" not in reply_for(error, "en")
    assert "261130116288" in reply_for(error, "zh")
