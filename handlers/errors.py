"""Domain errors → reply text for the text channels (SMS and chat): one table.

Looked up along the exception's MRO, so a subclass without its own row gets its
parent's reply.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.catalogue.errors import ActivityNotOngoing, MethodNotOffered, UnknownItem
from core.feedback.errors import (
    AlreadyReviewed,
    BadMessage,
    BadScore,
    NotReviewable,
    UnknownMessage,
)
from core.merchants.errors import MerchantNotApproved, NotStaff
from core.orders.errors import (
    BadQuantity,
    CannotCancel,
    EmptyCart,
    IllegalTransition,
    LimitReached,
    NeedAddress,
    NothingToConfirm,
    OutOfStock,
    UnknownOrder,
)
from core.platform.errors import DomainError, InvalidPhoneNumber
from core.platform.schema import ORDER_STATUSES
from core.points.errors import InsufficientPoints, NoAccount
from core.subscribers.errors import BadAddress, NoPasswordSet, TooManyAddresses, UnknownAddress
from core.vouchers.errors import (
    NotYourVoucher,
    NoVoucherToResend,
    UnknownVoucher,
    VoucherAlreadyUsed,
    VoucherExpired,
    VoucherLocked,
    VoucherRefunded,
    WrongVoucherPassword,
)
from handlers.i18n import t
from handlers.pay_words import METHOD_WORD

Row = Callable[[Any, str], tuple[str, dict[str, Any]]]


def _status(lang: str, status: str) -> str:
    return t(lang, f"status_{status}") if status in ORDER_STATUSES else status


ERROR_REPLIES: dict[type[DomainError], Row] = {
    NoAccount: lambda e, lang: ("no_account", {}),
    InsufficientPoints: lambda e, lang: (
        "insufficient",
        {"needed": e.needed, "available": e.available},
    ),
    UnknownItem: lambda e, lang: ("unknown_item", {"code": e.code}),
    BadQuantity: lambda e, lang: ("bad_qty", {"most": e.most}),
    OutOfStock: lambda e, lang: ("out_of_stock", {"code": e.code, "left": e.left}),
    ActivityNotOngoing: lambda e, lang: (
        "activity_upcoming" if e.upcoming else "activity_past",
        {"title": e.title_en if lang == "en" else e.title_zh},
    ),
    LimitReached: lambda e, lang: (f"limit_{e.scope}", {"limit": e.limit}),
    NeedAddress: lambda e, lang: ("need_address", {}),
    UnknownOrder: lambda e, lang: ("unknown_order", {"no": e.no}),
    NothingToConfirm: lambda e, lang: ("nothing_to_confirm", {}),
    NoVoucherToResend: lambda e, lang: ("no_voucher", {"no": e.no}),
    CannotCancel: lambda e, lang: (
        "cannot_cancel",
        {"no": e.no, "status": _status(lang, e.status)},
    ),
    IllegalTransition: lambda e, lang: (
        "illegal",
        {"no": e.no, "status": _status(lang, e.current)},
    ),
    NotStaff: lambda e, lang: ("not_staff", {}),
    MethodNotOffered: lambda e, lang: (
        "method_not_offered",
        {
            "code": e.code,
            "methods": " ".join(f"{METHOD_WORD[m]}={t(lang, f'pm_{m}')}" for m in e.offered),
            "word": METHOD_WORD[next((m for m in e.offered if m != "points"), "points")],
        },
    ),
    UnknownVoucher: lambda e, lang: ("voucher_unknown", {"no": e.no}),
    NotYourVoucher: lambda e, lang: ("voucher_not_yours", {"no": e.no}),
    VoucherAlreadyUsed: lambda e, lang: ("voucher_used", {"no": e.no}),
    VoucherExpired: lambda e, lang: ("voucher_expired", {"no": e.no}),
    VoucherRefunded: lambda e, lang: ("voucher_refunded", {"no": e.no}),
    VoucherLocked: lambda e, lang: ("voucher_locked", {"no": e.no}),
    WrongVoucherPassword: lambda e, lang: (
        "voucher_wrong_password",
        {"no": e.no, "left": e.tries_left},
    ),
    MerchantNotApproved: lambda e, lang: ("merchant_not_approved", {}),
    NoPasswordSet: lambda e, lang: ("no_password", {}),
    InvalidPhoneNumber: lambda e, lang: ("bad_phone", {}),
    DomainError: lambda e, lang: ("error", {}),
}


SHOP_ERROR_REPLIES: dict[type[DomainError], Row] = {
    EmptyCart: lambda e, lang: ("empty_cart", {}),
    UnknownAddress: lambda e, lang: ("unknown_address", {}),
    BadAddress: lambda e, lang: ("bad_address", {}),
    TooManyAddresses: lambda e, lang: ("too_many_addresses", {"most": e.most}),
    NotReviewable: lambda e, lang: (
        "not_reviewable",
        {"no": e.no, "status": _status(lang, e.status)},
    ),
    AlreadyReviewed: lambda e, lang: ("already_reviewed", {"no": e.no}),
    BadScore: lambda e, lang: ("bad_score", {}),
    UnknownMessage: lambda e, lang: ("unknown_message", {"id": e.message_id}),
    BadMessage: lambda e, lang: ("bad_message", {"most": e.most}),
}
"""The chat mall's buying side (§2.2.10–20); merged into ``ERROR_REPLIES`` above."""
ERROR_REPLIES.update(SHOP_ERROR_REPLIES)


def reply_for(exc: DomainError, lang: str) -> str:
    for cls in type(exc).__mro__:
        row = ERROR_REPLIES.get(cls)
        if row is not None:
            key, args = row(exc, lang)
            return t(lang, key, **args)
    return t(lang, "error")
