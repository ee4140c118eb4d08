"""Domain errors of merchants: admission, staff, vouchers being verified, POS payments.

Kept beside ``core.errors`` (same base class, same style: each carries its data);
``handlers.errors`` words them for SMS, ``api.pos_errors`` gives them reason codes.
"""

from __future__ import annotations

from core.errors import DomainError


class NotStaff(DomainError):
    """The number (or terminal) is not registered with any active merchant."""

    def __init__(self, actor: str) -> None:
        super().__init__(f"{actor} is not merchant staff")
        self.actor = actor


class ItemCodeTaken(DomainError):
    """The item code is used by another merchant's item or by the operator's catalogue."""

    def __init__(self, code: str) -> None:
        super().__init__(f"item code {code} is taken")
        self.code = code


class VoucherError(DomainError):
    """A voucher cannot be verified; ``no`` is its order number ('' when unknown)."""

    def __init__(self, no: str, message: str) -> None:
        super().__init__(message)
        self.no = no


class UnknownVoucher(VoucherError):
    def __init__(self, no: str) -> None:
        super().__init__(no, f"no voucher {no!r}")


class NotYourVoucher(VoucherError):
    def __init__(self, no: str) -> None:
        super().__init__(no, f"voucher {no} belongs to another merchant")


class VoucherAlreadyUsed(VoucherError):
    def __init__(self, no: str, verified_at: int) -> None:
        super().__init__(no, f"voucher {no} was used at {verified_at}")
        self.verified_at = verified_at


class VoucherExpired(VoucherError):
    def __init__(self, no: str, expires_at: int) -> None:
        super().__init__(no, f"voucher {no} expired at {expires_at}")
        self.expires_at = expires_at


class VoucherRefunded(VoucherError):
    def __init__(self, no: str) -> None:
        super().__init__(no, f"voucher {no} was refunded")


class VoucherLocked(VoucherError):
    def __init__(self, no: str) -> None:
        super().__init__(no, f"voucher {no} is locked after too many wrong passwords")


class WrongVoucherPassword(VoucherError):
    def __init__(self, no: str, tries_left: int) -> None:
        super().__init__(no, f"wrong password for voucher {no}; {tries_left} tries left")
        self.tries_left = tries_left


class VoucherNotLocked(VoucherError):
    def __init__(self, no: str, status: str) -> None:
        super().__init__(no, f"voucher {no} is {status}, not locked")
        self.status = status


class UnknownMerchant(DomainError):
    def __init__(self, code: str) -> None:
        super().__init__(f"no merchant {code!r}")
        self.code = code


class MerchantNotApproved(DomainError):
    """Only an approved merchant may publish items or verify vouchers (§3.5.5)."""

    def __init__(self, code: str, status: str) -> None:
        super().__init__(f"merchant {code} is {status}, not approved")
        self.code = code
        self.status = status


class UnknownApplication(DomainError):
    def __init__(self, application_id: int) -> None:
        super().__init__(f"no merchant application {application_id}")
        self.application_id = application_id


class ApplicationNotPending(DomainError):
    def __init__(self, application_id: int, status: str, wanted: str) -> None:
        super().__init__(f"application {application_id} is {status}; cannot become {wanted}")
        self.application_id = application_id
        self.status = status
        self.wanted = wanted


class PaymentRefused(DomainError):
    """A POS payment refused before any deduction; ``reason`` is a stable code."""

    def __init__(self, reason: str, tries_left: int | None = None) -> None:
        super().__init__(f"payment refused: {reason}")
        self.reason = reason
        self.tries_left = tries_left


class NoPasswordSet(DomainError):
    """The subscriber has not set a points password yet (SMS ``MM``)."""

    def __init__(self, msisdn: str) -> None:
        super().__init__(f"{msisdn} has no points password")
        self.msisdn = msisdn
