"""The mall screens as data: text plus rows of buttons, each button a payload to sign.

Payloads (kept short, they travel in ``callback_data``): ``h`` home and ``c TEXT`` a
browsing command (the next page of a guest's paged answer) are answered by
``bot.adapter``; the mall's kinds (``g``, ``l``, ``x``…) by ``bot.browse``, the
shop's (``a``, ``k``, ``o``…) by ``bot.shop`` — each module lists its ``KINDS``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection

from bot.texts import ct
from core.catalogue import catalogue

BEST_SELLERS = 5
CATEGORIES_PER_ROW = 2
ALL = "*"


@dataclass(frozen=True)
class Button:
    label: str
    payload: str
    url: str | None = None
    """A link button (an ad leading to a web page) instead of a payload."""


@dataclass(frozen=True)
class Screen:
    text: str
    rows: list[list[Button]] = field(default_factory=list)
    photo: str | None = None
    """The subject of a picture (``core.catalogue.photos``) to show with the text as its caption."""


def home(conn: Connection, lang: str, now: int) -> Screen:
    """§2.2.1: categories, all goods, and the best sellers."""
    cats = [Button(c.name(lang), f"g {c.code} 1") for c in catalogue.categories(conn)]
    rows = [cats[i : i + CATEGORIES_PER_ROW] for i in range(0, len(cats), CATEGORIES_PER_ROW)]
    rows.append([Button(ct(lang, "all_goods"), f"g {ALL} 1")])
    best, _ = catalogue.list_items(conn, now=now, sort="sales", limit=BEST_SELLERS)
    rows.extend(
        [Button(ct(lang, "home_best", name=it.name(lang), points=it.points), f"x {it.code}")]
        for it in best
    )
    return Screen(ct(lang, "home"), rows)
