"""Domain errors of settlement: each carries the data a channel needs to word it."""

from __future__ import annotations

from core.platform.errors import DomainError


class SettlementError(DomainError):
    """Base of the settlement errors."""

    reason_code = "settlement_error"


class BadRate(SettlementError):
    reason_code = "bad_rate"

    def __init__(self, cents: int, points: int) -> None:
        super().__init__(f"a rate is cents >= 0 per points > 0, not {cents}/{points}")
        self.cents = cents
        self.points = points


class BadPeriod(SettlementError):
    reason_code = "bad_period"

    def __init__(self, period: str) -> None:
        super().__init__(f"a period is YYYY-MM, not {period!r}")
        self.period = period


class UnknownStatement(SettlementError):
    reason_code = "unknown_statement"

    def __init__(self, statement_id: int) -> None:
        super().__init__(f"no statement {statement_id}")
        self.statement_id = statement_id


class IllegalStatementMove(SettlementError):
    """The statement's state does not allow ``action`` (e.g. paying a draft)."""

    reason_code = "illegal_statement_move"

    def __init__(self, statement_id: int, status: str, action: str) -> None:
        super().__init__(f"statement {statement_id} is {status}; cannot {action} it")
        self.statement_id = statement_id
        self.status = status
        self.action = action


class ReasonRequired(SettlementError):
    reason_code = "reason_required"

    def __init__(self, statement_id: int) -> None:
        super().__init__(f"disputing statement {statement_id} needs a reason")
        self.statement_id = statement_id


class PeriodNotOver(SettlementError):
    """A month is settled once it has ended; ``settle --now`` settles early."""

    reason_code = "period_not_over"

    def __init__(self, period: str) -> None:
        super().__init__(f"period {period} has not ended yet (settle early with --now)")
        self.period = period
