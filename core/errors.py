"""Domain errors: a small, flat hierarchy that carries data.

Each channel maps these to replies in one table (``handlers.errors`` for SMS and
chat); nothing in ``core`` knows how an error is worded.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a subscriber, merchant or operator can cause."""


class InvalidPhoneNumber(DomainError):
    def __init__(self, raw: str) -> None:
        super().__init__(f"not a valid phone number: {raw!r}")
        self.raw = raw


class UnknownSubscriber(DomainError):
    def __init__(self, msisdn: str) -> None:
        super().__init__(f"no subscriber {msisdn}")
        self.msisdn = msisdn


class NoAccount(DomainError):
    """The number is known (it has texted us) but has no points account."""

    def __init__(self, msisdn: str) -> None:
        super().__init__(f"no points account for {msisdn}")
        self.msisdn = msisdn


class InsufficientPoints(DomainError):
    def __init__(self, available: int, needed: int) -> None:
        super().__init__(f"needs {needed} points, {available} available")
        self.available = available
        self.needed = needed


class DuplicateEntry(DomainError):
    """An idempotency key was reused for a different amount or account."""

    def __init__(self, key: str) -> None:
        super().__init__(f"idempotency key {key!r} already used differently")
        self.key = key


class FeedError(DomainError):
    """A billing feed that cannot be imported at all (bad header, --strict refusal)."""


class ConfigurationError(Exception):
    """A setting needed by the chosen configuration is missing or wrong."""


class UnknownItem(DomainError):
    def __init__(self, code: str) -> None:
        super().__init__(f"no item {code!r}")
        self.code = code


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


class ActivityNotOngoing(DomainError):
    def __init__(
        self, title_zh: str, title_en: str, starts_at: int, ends_at: int, now: int
    ) -> None:
        super().__init__(f"activity {title_en!r} is not running")
        self.title_zh = title_zh
        self.title_en = title_en
        self.starts_at = starts_at
        self.ends_at = ends_at
        self.upcoming = now < starts_at


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


class NoVoucherToResend(DomainError):
    def __init__(self, no: str) -> None:
        super().__init__(f"order {no} has no voucher that can be resent")
        self.no = no
