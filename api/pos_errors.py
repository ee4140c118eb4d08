"""Domain errors → HTTP status and reason code for POS terminals: one table.

Looked up along the exception's MRO, like ``handlers.errors`` for the text channels.
"""

from __future__ import annotations

from typing import Any

from core.merchants.errors import NotStaff
from core.payments.errors import PaymentRefused
from core.platform.errors import DomainError, DuplicateEntry, InvalidPhoneNumber
from core.points.errors import InsufficientPoints, NoAccount
from core.subscribers.errors import NoPasswordSet, UnknownSubscriber
from core.vouchers.errors import (
    NotYourVoucher,
    UnknownVoucher,
    VoucherAlreadyUsed,
    VoucherError,
    VoucherExpired,
    VoucherLocked,
    VoucherRefunded,
    WrongVoucherPassword,
)

POS_ERRORS: dict[type[DomainError], tuple[int, str]] = {
    NotStaff: (403, "not_staff"),
    UnknownVoucher: (404, "unknown_voucher"),
    NotYourVoucher: (403, "not_your_voucher"),
    VoucherAlreadyUsed: (409, "already_used"),
    VoucherExpired: (409, "expired"),
    VoucherRefunded: (409, "refunded"),
    VoucherLocked: (423, "locked"),
    WrongVoucherPassword: (422, "wrong_password"),
    VoucherError: (409, "voucher_refused"),
    InvalidPhoneNumber: (400, "bad_phone"),
    UnknownSubscriber: (404, "unknown_account"),
    NoAccount: (404, "unknown_account"),
    NoPasswordSet: (422, "no_password"),
    InsufficientPoints: (409, "insufficient_points"),
    DuplicateEntry: (409, "idempotency_key_reused"),
    PaymentRefused: (422, "payment_refused"),
    DomainError: (422, "refused"),
}


def error_body(exc: DomainError) -> tuple[int, dict[str, Any]]:
    status, reason = 422, "refused"
    for cls in type(exc).__mro__:
        if cls in POS_ERRORS:
            status, reason = POS_ERRORS[cls]
            break
    body: dict[str, Any] = {"ok": False, "reason": reason}
    if isinstance(exc, PaymentRefused):
        body["reason"] = exc.reason
    if isinstance(exc, VoucherError) and exc.no:
        body["order_no"] = exc.no
    if isinstance(exc, WrongVoucherPassword | PaymentRefused) and exc.tries_left is not None:
        body["tries_left"] = exc.tries_left
    if isinstance(exc, PaymentRefused) and exc.retry_after is not None:
        body["retry_after"] = exc.retry_after
    if isinstance(exc, InsufficientPoints):
        body["available"] = exc.available
    return status, body
