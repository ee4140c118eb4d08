"""Domain errors of orders: each carries the data a channel needs to word it."""

from __future__ import annotations

from core.platform.errors import DomainError


class BadQuantity(DomainError):
    reason_code = "bad_qty"

    def __init__(self, qty: int, most: int) -> None:
        super().__init__(f"quantity {qty} is not between 1 and {most}")
        self.qty = qty
        self.most = most


class OutOfStock(DomainError):
    reason_code = "out_of_stock"

    def __init__(self, code: str, left: int) -> None:
        super().__init__(f"item {code} has {left} left")
        self.code = code
        self.left = left


class LimitReached(DomainError):
    reason_code = "limit_day"

    def __init__(self, limit: int, scope: str, taken: int = 0, qty: int = 1) -> None:
        super().__init__(f"limit of {limit} per {scope}: {taken} taken, {qty} more asked")
        self.limit = limit
        self.scope = scope
        self.taken = taken
        """How many the account has redeemed already in the scope (today, the activity)."""
        self.qty = qty
        """How many were asked for now."""
        self.reason_code = f"limit_{scope}"


class NeedAddress(DomainError):
    """Physical goods need a delivery address before they can be redeemed."""

    reason_code = "need_address"


class UnknownOrder(DomainError):
    """No such order for this subscriber (someone else's order looks the same)."""

    reason_code = "unknown_order"

    def __init__(self, no: str) -> None:
        super().__init__(f"no order {no!r}")
        self.no = no


class NothingToConfirm(DomainError):
    """A confirm code arrived but no order is waiting for one."""

    reason_code = "nothing_to_confirm"


class IllegalTransition(DomainError):
    reason_code = "illegal"

    def __init__(self, no: str, current: str, wanted: str) -> None:
        super().__init__(f"order {no} is {current}; cannot become {wanted}")
        self.no = no
        self.current = current
        self.wanted = wanted


class CannotCancel(DomainError):
    reason_code = "cannot_cancel"

    def __init__(self, no: str, status: str, reason: str = "status") -> None:
        super().__init__(f"order {no} is {status} and cannot be cancelled ({reason})")
        self.no = no
        self.status = status
        self.reason = reason
        """``status``: not in a status that can be cancelled; ``money``: paid with money,
        which goes back through the operator; ``voucher``: its voucher is used or locked."""
        if reason != "status":
            self.reason_code = f"cannot_cancel_{reason}"


class EmptyCart(DomainError):
    reason_code = "empty_cart"

    def __init__(self) -> None:
        super().__init__("the cart is empty")
