"""Domain errors of orders: each carries the data a channel needs to word it."""

from __future__ import annotations

from core.platform.errors import DomainError


class BadQuantity(DomainError):
    def __init__(self, qty: int, most: int) -> None:
        super().__init__(f"quantity {qty} is not between 1 and {most}")
        self.qty = qty
        self.most = most


class OutOfStock(DomainError):
    def __init__(self, code: str, left: int) -> None:
        super().__init__(f"item {code} has {left} left")
        self.code = code
        self.left = left


class LimitReached(DomainError):
    def __init__(self, limit: int, scope: str) -> None:
        super().__init__(f"limit of {limit} per {scope} reached")
        self.limit = limit
        self.scope = scope


class NeedAddress(DomainError):
    """Physical goods need a delivery address before they can be redeemed."""


class UnknownOrder(DomainError):
    """No such order for this subscriber (someone else's order looks the same)."""

    def __init__(self, no: str) -> None:
        super().__init__(f"no order {no!r}")
        self.no = no


class NothingToConfirm(DomainError):
    """A confirm code arrived but no order is waiting for one."""


class IllegalTransition(DomainError):
    def __init__(self, no: str, current: str, wanted: str) -> None:
        super().__init__(f"order {no} is {current}; cannot become {wanted}")
        self.no = no
        self.current = current
        self.wanted = wanted


class CannotCancel(DomainError):
    def __init__(self, no: str, status: str) -> None:
        super().__init__(f"order {no} is {status} and cannot be cancelled")
        self.no = no
        self.status = status


class EmptyCart(DomainError):
    def __init__(self) -> None:
        super().__init__("the cart is empty")
