"""Answers that are lists: as many lines per page as the SMS budget holds, and MORE for the next."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from core.messaging import segments
from handlers.context import Context
from handlers.reply import Reply

T = TypeVar("T")

HEAD_ROOM = {"zh": 22, "en": 50}
"""Characters kept for a page's heading and its closing hint."""


MIN_WIDTH = 8
"""The shortest a listed line is clipped to: its code and a few characters of its name."""


def _encoding(lang: str) -> segments.Encoding:
    return "UCS-2" if lang == "zh" else "GSM-7"


def page_size(ctx: Context, width: dict[str, int]) -> int:
    """Lines of at most ``width[lang]`` characters that fit one answer."""
    line = width.get(ctx.lang, width["zh"])
    room = segments.capacity(_encoding(ctx.lang), ctx.policy.segment_budget)
    return max(1, (room - HEAD_ROOM.get(ctx.lang, HEAD_ROOM["zh"])) // (line + 1))


def clip(text: str, lang: str, width: int) -> str:
    if len(text) <= width:
        return text
    mark = "…" if lang == "zh" else "..."
    return text[: width - len(mark)] + mark


def counted(
    fetch: Callable[[int, int], tuple[list[T], int]], page: int, size: int
) -> tuple[list[T], int]:
    """``fetch(offset, limit)`` for ``page``, with the list's whole length even past its end
    (a windowed count reads 0 on an empty page; then page 1 is asked for the count)."""
    found, total = fetch((page - 1) * size, size)
    if total == 0 and page > 1:
        _, total = fetch(0, 1)
    return found, total


def pages_of(total: int, size: int) -> int:
    return max(1, -(-total // size))


def listing(
    ctx: Context,
    *,
    head: str,
    lines: list[str],
    width: dict[str, int],
    page: int,
    pages: int,
    more: str | None,
    hint: str | None = None,
) -> Reply:
    """Put a heading, the clipped lines and a MORE hint (or ``hint`` on the last page) together.

    Page sizes assume the language's usual encoding; a Chinese name in an English list
    turns the whole answer into UCS-2 (70 characters a segment, not 160), so the lines
    are clipped shorter until the answer fits the segment budget again.
    """
    if page > pages:  # one answer for every list asked past its end
        return Reply(ctx.t("past_end", page=page, pages=pages))
    closing = ctx.t("more_hint") if page < pages and more is not None else hint
    limit = width.get(ctx.lang, width["zh"])

    def page_text(line_width: int) -> str:
        body = [head, *(clip(line, ctx.lang, line_width) for line in lines)]
        return "\n".join([*body, closing] if closing else body)

    text = page_text(limit)
    budget = ctx.policy.segment_budget
    while not segments.fits(text, budget) and limit > MIN_WIDTH:
        limit -= 1
        text = page_text(limit)
    if not segments.fits(text, budget):
        text = segments.truncate(text, budget)
    if page < pages and more is not None:
        return Reply(text, more=more)
    return Reply(text)


def fit(make: Callable[[str], str], text: str, budget: int) -> str:
    """``make(text)``, with ``text`` cut short (and marked) as far as needed to fit ``budget``."""
    whole = make(text)
    if segments.fits(whole, budget):
        return whole
    mark = "..." if segments.encoding(whole) == "GSM-7" else "…"
    lo, hi = 0, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if segments.fits(make(text[:mid] + mark), budget):
            lo = mid
        else:
            hi = mid - 1
    return make(text[:lo] + mark if lo else "")
