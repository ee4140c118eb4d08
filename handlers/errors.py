"""Domain errors → reply text for the text channels (SMS and chat): one table.

An error's ``reason_code`` is the key of its reply in ``handlers.i18n``; every code has a
Chinese and an English text that fits the SMS budget (``tests/unit/test_error_replies``
walks every ``DomainError`` subclass). The template is filled from the error's
attributes; where a reply needs words of the reader's language made from that data
(an order status, an activity's title, the payment-method words), ``WORDS`` holds
them, looked up along the error's MRO.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.catalogue.errors import ActivityNotOngoing, MethodNotOffered
from core.feedback.errors import NotReviewable
from core.orders.errors import CannotCancel, IllegalTransition
from core.platform.errors import DomainError
from core.platform.schema import ORDER_STATUSES, TOPUP_STATUSES
from core.recharge.errors import TopupFinished
from handlers.i18n import t
from handlers.pay_words import METHOD_WORD

Words = Callable[[Any, str], dict[str, Any]]


def _status(lang: str, status: str) -> str:
    return t(lang, f"status_{status}") if status in ORDER_STATUSES else status


def _topup(lang: str, status: str) -> str:
    return t(lang, f"topup_{status}") if status in TOPUP_STATUSES else _status(lang, status)


def _methods(e: MethodNotOffered, lang: str) -> dict[str, Any]:
    return {
        "methods": " ".join(f"{METHOD_WORD[m]}={t(lang, f'pm_{m}')}" for m in e.offered),
        "word": METHOD_WORD[next((m for m in e.offered if m != "points"), "points")],
    }


WORDS: dict[type[DomainError], Words] = {
    ActivityNotOngoing: lambda e, lang: {"title": e.title_en if lang == "en" else e.title_zh},
    CannotCancel: lambda e, lang: {"status": _status(lang, e.status)},
    IllegalTransition: lambda e, lang: {"status": _status(lang, e.current)},
    NotReviewable: lambda e, lang: {"status": _status(lang, e.status)},
    MethodNotOffered: _methods,
    TopupFinished: lambda e, lang: {"status": _topup(lang, e.status)},
}


def reply_for(exc: DomainError, lang: str) -> str:
    """The reply to ``exc`` in ``lang`` (``zh`` or ``en``)."""
    args = {k: v for k, v in vars(exc).items() if not k.startswith("_")}
    for cls in type(exc).__mro__:
        words = WORDS.get(cls)
        if words is not None:
            args.update(words(exc, lang))
            break
    return t(lang, exc.reason_code, **args)
