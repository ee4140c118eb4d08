"""Domain errors of points: each carries the data a channel needs to word it."""

from __future__ import annotations

from core.platform.errors import DomainError


class NoAccount(DomainError):
    """The number is known (it has texted us) but has no points account."""

    reason_code = "no_account"

    def __init__(self, msisdn: str) -> None:
        super().__init__(f"no points account for {msisdn}")
        self.msisdn = msisdn


class InsufficientPoints(DomainError):
    reason_code = "insufficient"

    def __init__(self, available: int, needed: int) -> None:
        super().__init__(f"needs {needed} points, {available} available")
        self.available = available
        self.needed = needed


class AdjustmentNotPending(DomainError):
    reason_code = "adjustment_not_pending"

    def __init__(self, adjustment_id: int, status: str) -> None:
        super().__init__(f"adjustment {adjustment_id} is {status}, not proposed")
        self.adjustment_id = adjustment_id
        self.status = status


class SameStaff(DomainError):
    """Two-person rule: whoever proposed an adjustment cannot also approve it."""

    reason_code = "same_staff"

    def __init__(self, adjustment_id: int, name: str) -> None:
        super().__init__(f"{name} proposed adjustment {adjustment_id} and cannot approve it")
        self.adjustment_id = adjustment_id
        self.name = name
