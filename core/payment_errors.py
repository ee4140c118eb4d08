"""Domain errors of payments (§3.5.6): methods an item does not take, a gateway away."""

from __future__ import annotations

from core.errors import DomainError


class PaymentError(DomainError):
    """Base of the payment errors."""


class MethodNotOffered(PaymentError):
    def __init__(self, code: str, method: str, offered: tuple[str, ...]) -> None:
        super().__init__(f"item {code} is not sold for {method} (only {', '.join(offered)})")
        self.code = code
        self.method = method
        self.offered = offered


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
