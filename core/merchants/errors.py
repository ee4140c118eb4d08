"""Domain errors of merchants: each carries the data a channel needs to word it."""

from __future__ import annotations

from core.platform.errors import DomainError


class NotStaff(DomainError):
    """The number (or terminal) is not registered with any active merchant."""

    reason_code = "not_staff"

    def __init__(self, actor: str) -> None:
        super().__init__(f"{actor} is not merchant staff")
        self.actor = actor


class NotStaffOf(NotStaff):
    """The number is not an active staff phone of merchant ``code`` (it may be another's)."""

    reason_code = "not_staff_of"

    def __init__(self, actor: str, code: str) -> None:
        DomainError.__init__(self, f"{actor} is not staff of merchant {code}")
        self.actor = actor
        self.code = code


class UnknownMerchant(DomainError):
    reason_code = "unknown_merchant"

    def __init__(self, code: str) -> None:
        super().__init__(f"no merchant {code!r}")
        self.code = code


class MerchantNotApproved(DomainError):
    """Only an approved merchant may publish items or verify vouchers (§3.5.5)."""

    reason_code = "merchant_not_approved"

    def __init__(self, code: str, status: str) -> None:
        super().__init__(f"merchant {code} is {status}, not approved")
        self.code = code
        self.status = status


class UnknownApplication(DomainError):
    reason_code = "unknown_application"

    def __init__(self, application_id: int) -> None:
        super().__init__(f"no merchant application {application_id}")
        self.application_id = application_id


class ApplicationNotPending(DomainError):
    reason_code = "application_not_pending"

    def __init__(self, application_id: int, status: str, wanted: str) -> None:
        super().__init__(f"application {application_id} is {status}; cannot become {wanted}")
        self.application_id = application_id
        self.status = status
        self.wanted = wanted


class NotOwner(DomainError):
    """Only an owner of the merchant may do this (a statement's confirmation or dispute)."""

    reason_code = "not_merchant_owner"

    def __init__(self, actor: str, merchant: str) -> None:
        super().__init__(f"{actor} is not an owner of merchant {merchant}")
        self.actor = actor
        self.merchant = merchant
