"""The mall screens as data: text plus rows of buttons, each button a payload to sign.

Payloads (kept short, they travel in ``callback_data``): ``h`` home, ``g CAT PAGE``
the goods of a category (``*`` for all), ``x CODE`` an item's detail, ``c TEXT``
a browsing command (the next page of a guest's paged answer).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection

from core import catalog
from handlers.chat_texts import ct

BEST_SELLERS = 5
GOODS_PER_PAGE = 6
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
    """The subject of a picture (``core.photos``) to show with the text as its caption."""


def home(conn: Connection, lang: str, now: int) -> Screen:
    """§2.2.1: categories, all goods, and the best sellers."""
    cats = [Button(c.name(lang), f"g {c.code} 1") for c in catalog.categories(conn)]
    rows = [cats[i : i + CATEGORIES_PER_ROW] for i in range(0, len(cats), CATEGORIES_PER_ROW)]
    rows.append([Button(ct(lang, "all_goods"), f"g {ALL} 1")])
    best, _ = catalog.list_items(conn, now=now, sort="sales", limit=BEST_SELLERS)
    rows.extend(
        [Button(ct(lang, "home_best", name=it.name(lang), points=it.points), f"x {it.code}")]
        for it in best
    )
    return Screen(ct(lang, "home"), rows)


def goods(conn: Connection, lang: str, now: int, category_code: str, page: int) -> Screen:
    """§2.2.7: one page of a category's goods, best selling first, with paging."""
    code = None if category_code == ALL else category_code
    found, total = catalog.list_items(
        conn,
        now=now,
        category_code=code,
        sort="sales",
        offset=(page - 1) * GOODS_PER_PAGE,
        limit=GOODS_PER_PAGE,
    )
    home_row = [Button(ct(lang, "back_home"), "h")]
    if total == 0:
        return Screen(ct(lang, "goods_empty"), [home_row])
    pages = max(1, -(-total // GOODS_PER_PAGE))
    names = {c.code: c.name(lang) for c in catalog.categories(conn)}
    title = names.get(category_code, ct(lang, "all_goods"))
    rows = [
        [Button(ct(lang, "goods_item", name=it.name(lang), points=it.points), f"x {it.code}")]
        for it in found
    ]
    nav = []
    if page > 1:
        nav.append(Button(ct(lang, "prev"), f"g {category_code} {page - 1}"))
    if page < pages:
        nav.append(Button(ct(lang, "next"), f"g {category_code} {page + 1}"))
    if nav:
        rows.append(nav)
    rows.append(home_row)
    return Screen(ct(lang, "goods_head", category=title, page=page, pages=pages), rows)
