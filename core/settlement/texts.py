"""SMS texts about statements (zh/en), each within two segments."""

from __future__ import annotations

from typing import Protocol

from core.messaging import segments
from core.messaging.texts import short

SEGMENT_BUDGET = 2

TEXTS: dict[str, dict[str, str]] = {
    "zh": {
        "statement_draft": (
            "{merchant}{period}结算单{id}:{lines}笔,积分{points:,},结算金额{yuan}元。"
            "请核对后确认,如有异议请联系运营。"
        ),
        "statement_updated": (
            "{merchant}{period}结算单{id}已加入新核销:现{lines}笔,积分{points:,},"
            "结算金额{yuan}元。请核对后确认。"
        ),
    },
    "en": {
        "statement_draft": (
            "Statement {id} of {merchant} for {period}: {lines} items, {points:,} points, "
            "{yuan} yuan. Please check and confirm, or tell us what is wrong."
        ),
        "statement_updated": (
            "Statement {id} of {merchant} for {period} took new items: now {lines} items, "
            "{points:,} points, {yuan} yuan. Please check and confirm."
        ),
    },
}


class _Summary(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def period(self) -> str: ...
    @property
    def lines(self) -> int: ...
    @property
    def points(self) -> int: ...
    @property
    def amount_cents(self) -> int: ...

    def merchant_name(self, lang: str) -> str: ...


def yuan(cents: int) -> str:
    """``12345`` → ``123.45`` (integers only)."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole:,}.{part:02d}"


def statement_summary(lang: str, made: _Summary, *, updated: bool = False) -> str:
    """The SMS to a merchant's staff about a new draft, or a draft that took more lines."""
    table = TEXTS.get(lang, TEXTS["zh"])
    text = table["statement_updated" if updated else "statement_draft"].format(
        merchant=short(made.merchant_name(lang), lang),
        period=made.period,
        id=made.id,
        lines=made.lines,
        points=made.points,
        yuan=yuan(made.amount_cents),
    )
    return segments.truncate(text, SEGMENT_BUDGET)
