"""Domain errors of payments: each carries the data a channel needs to word it."""

from __future__ import annotations

from core.platform.errors import DomainError


class PaymentRefused(DomainError):
    """A POS payment refused before any deduction; ``reason`` is a stable code."""

    def __init__(self, reason: str, tries_left: int | None = None) -> None:
        super().__init__(f"payment refused: {reason}")
        self.reason = reason
        self.tries_left = tries_left


class PaymentError(DomainError):
    """Base of the payment errors."""


class GatewayUnavailable(PaymentError):
    """The payment gateway did not answer, or answered with a server error; retry later."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"payment gateway unavailable: {reason}")
        self.reason = reason


class GatewayRefused(PaymentError):
    """The gateway understood and said no (e.g. cancelling a charge already paid)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"payment gateway refused ({status}): {reason}")
        self.status = status
        self.reason = reason
