"""Domain errors of payments: each carries the data a channel needs to word it."""

from __future__ import annotations

from core.platform.errors import DomainError


class PaymentRefused(DomainError):
    """A POS payment refused before any deduction; ``reason`` is a stable code."""

    reason_code = "payment_refused"

    def __init__(
        self, reason: str, tries_left: int | None = None, retry_after: int | None = None
    ) -> None:
        super().__init__(f"payment refused: {reason}")
        self.reason = reason
        self.tries_left = tries_left
        self.retry_after = retry_after
        """Seconds until this terminal may take the subscriber's password again."""
        self.reason_code = f"pos_{reason}"


class PaymentError(DomainError):
    """Base of the payment errors."""

    reason_code = "payment_error"


class GatewayUnavailable(PaymentError):
    """The payment gateway did not answer, or answered with a server error; retry later."""

    reason_code = "gateway_unavailable"

    def __init__(self, reason: str) -> None:
        super().__init__(f"payment gateway unavailable: {reason}")
        self.reason = reason


class GatewayRefused(PaymentError):
    """The gateway understood and said no (e.g. cancelling a charge already paid)."""

    reason_code = "gateway_refused"

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"payment gateway refused ({status}): {reason}")
        self.status = status
        self.reason = reason
