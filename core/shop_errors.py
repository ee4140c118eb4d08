"""Domain errors of the chat mall's buying side: cart, checkout, addresses, reviews, messages.

Kept beside ``core.errors`` (same base class, each carries its data); ``handlers.errors``
words them.
"""

from __future__ import annotations

from core.errors import DomainError


class EmptyCart(DomainError):
    def __init__(self) -> None:
        super().__init__("the cart is empty")


class UnknownAddress(DomainError):
    def __init__(self, address_id: int) -> None:
        super().__init__(f"no address {address_id}")
        self.address_id = address_id


class BadAddress(DomainError):
    """An address too short or too long to deliver to."""

    def __init__(self, text: str) -> None:
        super().__init__(f"not a usable address: {text!r}")
        self.text = text


class TooManyAddresses(DomainError):
    def __init__(self, most: int) -> None:
        super().__init__(f"at most {most} addresses")
        self.most = most


class NotReviewable(DomainError):
    """Only goods received (delivered parcel, verified voucher) can be reviewed."""

    def __init__(self, no: str, status: str) -> None:
        super().__init__(f"order {no} is {status}: nothing to review yet")
        self.no = no
        self.status = status


class AlreadyReviewed(DomainError):
    def __init__(self, no: str) -> None:
        super().__init__(f"order {no} was reviewed already")
        self.no = no


class BadScore(DomainError):
    def __init__(self, score: int) -> None:
        super().__init__(f"a score is 1 to 5, not {score}")
        self.score = score


class UnknownMessage(DomainError):
    def __init__(self, message_id: int) -> None:
        super().__init__(f"no message {message_id}")
        self.message_id = message_id


class BadMessage(DomainError):
    """A message that is empty or too long."""

    def __init__(self, length: int, most: int) -> None:
        super().__init__(f"a message is 1 to {most} characters, not {length}")
        self.length = length
        self.most = most
