"""Domain errors of the operator's back office: staff, adjustments, content, pictures.

Same style as ``core.errors`` (each carries its data); ``api.admin.errors`` maps them
to HTTP statuses in one table.
"""

from __future__ import annotations

from core.errors import DomainError


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


class UnknownRole(Invalid):
    def __init__(self, role: str) -> None:
        super().__init__("role", f"unknown role {role!r}")
        self.role = role


class AdjustmentNotPending(DomainError):
    def __init__(self, adjustment_id: int, status: str) -> None:
        super().__init__(f"adjustment {adjustment_id} is {status}, not proposed")
        self.adjustment_id = adjustment_id
        self.status = status


class SameStaff(DomainError):
    """Two-person rule: whoever proposed an adjustment cannot also approve it."""

    def __init__(self, adjustment_id: int, name: str) -> None:
        super().__init__(f"{name} proposed adjustment {adjustment_id} and cannot approve it")
        self.adjustment_id = adjustment_id
        self.name = name
