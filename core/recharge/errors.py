"""Domain errors of phone-credit delivery: each carries the data a channel needs to word it."""

from __future__ import annotations

from core.platform.errors import DomainError


class RechargeError(DomainError):
    """Base of the recharge errors."""

    reason_code = "recharge_error"


class RechargeNoAnswer(RechargeError):
    """The provider gave no usable answer; the same request (same key) may be tried again."""

    reason_code = "recharge_unavailable"

    def __init__(self, reason: str) -> None:
        super().__init__(f"recharge provider: {reason}")
        self.reason = reason


class RechargeUnavailable(RechargeNoAnswer):
    """The provider did not take the request (no connection, 503, 429, our key refused):
    nothing was done there."""


class RechargeOutcomeUnknown(RechargeNoAnswer):
    """The request may have reached the provider but its answer was lost (a time-out, a
    dropped connection, a 502/504): ask the provider before anything else."""


class RechargeRefused(RechargeError):
    """The provider understood the request and will not credit it (a definite failure),
    e.g. ``number_not_rechargeable``; ``code`` is the provider's."""

    reason_code = "recharge_refused"

    def __init__(self, code: str) -> None:
        super().__init__(f"recharge refused by the provider: {code}")
        self.code = code


class UnknownTopup(RechargeError):
    """Order ``no`` has no top-up (no such order, or not phone credit)."""

    reason_code = "unknown_topup"

    def __init__(self, no: str) -> None:
        super().__init__(f"no top-up for order {no!r}")
        self.no = no


class TopupFinished(RechargeError):
    """The top-up of order ``no`` is already ``succeeded`` or ``failed`` (refunded): nothing
    to retry."""

    reason_code = "topup_finished"

    def __init__(self, no: str, status: str) -> None:
        super().__init__(f"the top-up of order {no} is {status}; nothing to retry")
        self.no = no
        self.status = status
