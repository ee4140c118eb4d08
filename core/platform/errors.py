"""The root of every domain error, and the errors no single context owns.

Each channel maps errors to replies in one table, looked up along the MRO;
nothing in ``core`` knows how an error is worded.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a subscriber, merchant or operator can cause.

    ``reason_code`` names the reason: a key every channel's reply table has a text for, in
    every language (``handlers.errors`` for SMS and chat; the HTTP APIs' problem types).
    The data a reply needs is in the error's attributes, never a phrase in a language;
    ``str(error)`` is an English diagnostic for logs and operators only.
    """

    reason_code = "error"


class InvalidPhoneNumber(DomainError):
    reason_code = "bad_phone"

    def __init__(self, raw: str) -> None:
        super().__init__(f"not a valid phone number: {raw!r}")
        self.raw = raw


class DuplicateEntry(DomainError):
    """An idempotency key was reused for a different amount or account."""

    reason_code = "duplicate_request"

    def __init__(self, key: str) -> None:
        super().__init__(f"idempotency key {key!r} already used differently")
        self.key = key


class FeedError(DomainError):
    """A billing feed that cannot be imported at all (bad header, --strict refusal)."""

    reason_code = "bad_file"


class ConfigurationError(Exception):
    """A setting needed by the chosen configuration is missing or wrong."""


class NotFound(DomainError):
    """No ``kind`` with this key (someone else's object answers the same)."""

    reason_code = "not_found"

    def __init__(self, kind: str, key: str) -> None:
        super().__init__(f"no {kind} {key!r}")
        self.kind = kind
        self.key = key


class AlreadyExists(DomainError):
    reason_code = "already_exists"

    def __init__(self, kind: str, key: str) -> None:
        super().__init__(f"{kind} {key!r} already exists")
        self.kind = kind
        self.key = key


class Invalid(DomainError):
    """A value the domain refuses (an activity ending before it starts, a bad picture…)."""

    reason_code = "invalid"

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem
