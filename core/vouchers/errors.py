"""Domain errors of vouchers: each carries the data a channel needs to word it."""

from __future__ import annotations

from core.platform.errors import DomainError


class NoVoucherToResend(DomainError):
    reason_code = "no_voucher"

    def __init__(self, no: str) -> None:
        super().__init__(f"order {no} has no voucher that can be resent")
        self.no = no


class VoucherError(DomainError):
    """A voucher cannot be verified; ``no`` is its order number ('' when unknown)."""

    reason_code = "voucher_refused"

    def __init__(self, no: str, message: str) -> None:
        super().__init__(message)
        self.no = no


class UnknownVoucher(VoucherError):
    reason_code = "voucher_unknown"

    def __init__(self, no: str) -> None:
        super().__init__(no, f"no voucher {no!r}")


class NotYourVoucher(VoucherError):
    reason_code = "voucher_not_yours"

    def __init__(self, no: str) -> None:
        super().__init__(no, f"voucher {no} belongs to another merchant")


class VoucherAlreadyUsed(VoucherError):
    reason_code = "voucher_used"

    def __init__(self, no: str, verified_at: int) -> None:
        super().__init__(no, f"voucher {no} was used at {verified_at}")
        self.verified_at = verified_at


class VoucherExpired(VoucherError):
    reason_code = "voucher_expired"

    def __init__(self, no: str, expires_at: int) -> None:
        super().__init__(no, f"voucher {no} expired at {expires_at}")
        self.expires_at = expires_at


class VoucherRefunded(VoucherError):
    reason_code = "voucher_refunded"

    def __init__(self, no: str) -> None:
        super().__init__(no, f"voucher {no} was refunded")


class VoucherLocked(VoucherError):
    reason_code = "voucher_locked"

    def __init__(self, no: str) -> None:
        super().__init__(no, f"voucher {no} is locked after too many wrong passwords")


class WrongVoucherPassword(VoucherError):
    reason_code = "voucher_wrong_password"

    def __init__(self, no: str, tries_left: int) -> None:
        super().__init__(no, f"wrong password for voucher {no}; {tries_left} tries left")
        self.tries_left = tries_left


class VoucherNotLocked(VoucherError):
    reason_code = "voucher_not_locked"

    def __init__(self, no: str, status: str) -> None:
        super().__init__(no, f"voucher {no} is {status}, not locked")
        self.status = status
