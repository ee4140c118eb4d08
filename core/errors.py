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
