"""Domain errors of catalogue: each carries the data a channel needs to word it."""

from __future__ import annotations

from core.platform.errors import DomainError


class UnknownItem(DomainError):
    reason_code = "unknown_item"

    def __init__(self, code: str) -> None:
        super().__init__(f"no item {code!r}")
        self.code = code


class ActivityNotOngoing(DomainError):
    reason_code = "activity_past"

    def __init__(
        self, title_zh: str, title_en: str, starts_at: int, ends_at: int, now: int
    ) -> None:
        super().__init__(f"activity {title_en!r} is not running")
        self.title_zh = title_zh
        self.title_en = title_en
        self.starts_at = starts_at
        self.ends_at = ends_at
        self.upcoming = now < starts_at
        self.reason_code = "activity_upcoming" if self.upcoming else "activity_past"


class ItemCodeTaken(DomainError):
    """The item code is used by another merchant's item or by the operator's catalogue."""

    reason_code = "item_code_taken"

    def __init__(self, code: str) -> None:
        super().__init__(f"item code {code} is taken")
        self.code = code


class MethodNotOffered(DomainError):
    reason_code = "method_not_offered"

    def __init__(self, code: str, method: str, offered: tuple[str, ...]) -> None:
        super().__init__(f"item {code} is not sold for {method} (only {', '.join(offered)})")
        self.code = code
        self.method = method
        self.offered = offered
