"""The root of every domain error, and the errors no single context owns.

Each channel maps errors to replies in one table, looked up along the MRO;
nothing in ``core`` knows how an error is worded.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a subscriber, merchant or operator can cause."""


class InvalidPhoneNumber(DomainError):
    def __init__(self, raw: str) -> None:
        super().__init__(f"not a valid phone number: {raw!r}")
        self.raw = raw


class DuplicateEntry(DomainError):
    """An idempotency key was reused for a different amount or account."""

    def __init__(self, key: str) -> None:
        super().__init__(f"idempotency key {key!r} already used differently")
        self.key = key


class FeedError(DomainError):
    """A billing feed that cannot be imported at all (bad header, --strict refusal)."""


class ConfigurationError(Exception):
    """A setting needed by the chosen configuration is missing or wrong."""


class NotFound(DomainError):
    """No ``kind`` with this key (someone else's object answers the same)."""

    def __init__(self, kind: str, key: str) -> None:
        super().__init__(f"no {kind} {key!r}")
        self.kind = kind
        self.key = key


class AlreadyExists(DomainError):
    def __init__(self, kind: str, key: str) -> None:
        super().__init__(f"{kind} {key!r} already exists")
        self.kind = kind
        self.key = key


class Invalid(DomainError):
    """A value the domain refuses (an activity ending before it starts, a bad picture…)."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem
