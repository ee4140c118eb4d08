"""Domain errors of backoffice: each carries the data a channel needs to word it."""

from __future__ import annotations

from core.platform.errors import Invalid


class UnknownRole(Invalid):
    reason_code = "unknown_role"

    def __init__(self, role: str) -> None:
        super().__init__("role", f"unknown role {role!r}")
        self.role = role
