"""Wording the messages the hall sends on its own (not replies), in zh and en.

Such a message is part of the domain event it reports and is queued in the same
transaction, so each bounded context keeps its words in its own ``texts.py``, as a
``Notices`` table; this module holds the table type and the shared formatting.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from core.messaging import segments

BUDGET = 2
"""SMS segments a notice the hall sends on its own may take (the hall's replies' default)."""
MAX_NAME = 20
"""Characters of an item or merchant name kept in an SMS before it is cut with an ellipsis."""


class Notices:
    """Message templates by language and key, formatted with ``str.format`` arguments.

    An unknown language falls back to Chinese, the operator's home language.
    """

    def __init__(self, table: dict[str, dict[str, str]]) -> None:
        self.table = table

    def __call__(self, lang: str, key: str, **args: Any) -> str:
        return self.table.get(lang, self.table["zh"])[key].format(**args)

    def fitted(
        self, lang: str, key: str, *, cut: tuple[str, ...], budget: int = BUDGET, **args: Any
    ) -> str:
        """The notice, with the names in ``cut`` shortened alike (and marked) only as far as
        needed for it to fit ``budget`` SMS segments; whole when it fits. A name is never
        clipped to a fixed length: "Lumiere popcorn combo" fits an English SMS whole."""
        whole = self(lang, key, **args)
        if segments.fits(whole, budget):
            return whole
        mark = "..." if segments.encoding(whole) == "GSM-7" else "…"

        def made(width: int) -> str:
            clipped = {name: _clip(str(args[name]), width, mark) for name in cut}
            return self(lang, key, **{**args, **clipped})

        lo, hi = 0, max(len(str(args[name])) for name in cut)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if segments.fits(made(mid), budget):
                lo = mid
            else:
                hi = mid - 1
        return made(lo)


def yuan(cents: int) -> str:
    """Cents as yuan the way a text says it: ``1000`` → ``10``, ``1050`` → ``10.50``,
    ``-150`` → ``-1.50`` (integers only; no decimals for whole yuan)."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole}" if part == 0 else f"{sign}{whole}.{part:02d}"


def _clip(name: str, width: int, mark: str) -> str:
    if len(name) <= width:
        return name
    return name[: max(0, width - len(mark))] + mark


def short(name: str, lang: str) -> str:
    """``name`` cut to ``MAX_NAME`` characters with an ellipsis of the language."""
    if len(name) <= MAX_NAME:
        return name
    mark = "..." if lang == "en" else "…"
    return name[: MAX_NAME - len(mark)] + mark


def day(epoch_seconds: int, tz: ZoneInfo) -> str:
    """The local date of a UTC epoch instant in ``tz``: ``2027-12-31``."""
    return datetime.fromtimestamp(epoch_seconds, tz).strftime("%Y-%m-%d")
