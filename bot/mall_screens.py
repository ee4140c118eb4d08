"""The browsing screens of the mall in the chat (§2.2.1–2.2.9, §2.2.14, §2.2.16, §2.2.18).

Each builder reads ``core`` and returns a ``Screen``; the buttons carry short
payloads (signed by ``bot.callbacks``), always ids or codes, never names:

``l CAT BRAND SORT PAGE`` goods list (ids in base 36, 0 for any; SORT one of ``SORTS``),
``B CAT SORT`` brand filter, ``s PAGE KW`` search results, ``S`` ask for a keyword,
``x CODE`` detail, ``F CODE`` favourite on/off, ``f PAGE`` my favourites,
``u CODE PAGE`` remove a favourite, ``q CODE`` ask a question, ``Q CODE`` an item's
questions, ``y PAGE`` my questions, ``p TAB PAGE`` promotions, ``v ID`` an activity,
``b ID`` a banner, ``n ID`` an announcement. ``a CODE`` and ``r CODE`` (cart,
reviews) are shown here and answered by the shop side.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select

from bot import limits
from bot.callbacks import MAX_BYTES, SIGNATURE_CHARS
from bot.screens import Button, Screen
from bot.texts import ct
from core.catalogue import catalogue, favourites, photos
from core.catalogue import content as mall_content
from core.catalogue.catalogue import ItemView, Sort, When
from core.feedback import questions, reviews
from core.platform.schema import activity, category
from handlers.i18n import local_date, yuan

PER_PAGE = 6
BANNERS = 3
ADS = 5
NEWS = 3
BRANDS_PER_ROW = 3
STAMP_CHARS = 8
"""Room for the hour stamp in ``callback_data`` (hex, 5 digits until the year 2089)."""
PAYLOAD_BYTES = MAX_BYTES - SIGNATURE_CHARS - STAMP_CHARS - 2
"""What is left of 64 bytes for a payload; a longer search keyword is cut to fit."""
SORTS: dict[str, Sort] = {
    "s": "sales",
    "v": "views",
    "n": "newest",
    "p": "points",
    "P": "points_desc",
}
TABS: dict[str, When] = {"o": "ongoing", "u": "upcoming", "p": "past", "a": "all"}


_DIGITS36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def b36(n: int) -> str:
    """A category or brand id in base 36: two of them fit in a goods-list payload even at
    2**63 (13 characters each)."""
    out = ""
    while True:
        n, digit = divmod(n, 36)
        out = _DIGITS36[digit] + out
        if n == 0:
            return out


def from_b36(word: str) -> int | None:
    if not 0 < len(word) <= 13 or any(c not in _DIGITS36 for c in word):
        return None
    return int(word, 36)


def _pages(total: int) -> int:
    return max(1, -(-total // PER_PAGE))


def _paging(lang: str, page: int, pages: int, payload: str) -> list[list[Button]]:
    nav = []
    if page > 1:
        nav.append(Button(ct(lang, "prev"), payload.format(page - 1)))
    if page < pages:
        nav.append(Button(ct(lang, "next"), payload.format(page + 1)))
    return [nav] if nav else []


def _home_row(lang: str) -> list[Button]:
    return [Button(ct(lang, "back_home"), "h")]


def _item_row(lang: str, it: ItemView) -> list[Button]:
    return [Button(ct(lang, "goods_item", name=it.name(lang), points=it.points), f"x {it.code}")]


def fits(payload: str) -> bool:
    return len(payload.encode()) <= PAYLOAD_BYTES


def cut_keyword(keyword: str, page_digits: int = 5) -> str:
    """The longest prefix of ``keyword`` that fits in ``s PAGE KW``."""
    room = PAYLOAD_BYTES - len("s  ") - page_digits
    raw = " ".join(keyword.split()).encode()[:room]
    return raw.decode(errors="ignore").strip()


# ------------------------------------------------------------------ home (§2.2.1)


def home_top(conn: Connection, lang: str, now: int) -> list[list[Button]]:
    """Banners of the running activities and the ads, above the categories."""
    rows = [
        [Button(ct(lang, "mb_banner", title=b.title(lang)), f"b {b.id}")]
        for b in mall_content.banners(conn, now)[:BANNERS]
    ]
    for ad in mall_content.ads(conn)[:ADS]:
        button = _ad_button(conn, lang, ad)
        if button is not None:
            rows.append([button])
    return rows


def _ad_button(conn: Connection, lang: str, ad: mall_content.AdView) -> Button | None:
    """The ad as a button leading to its target (§2.2.5); None when the target is gone."""
    label = ct(lang, "mb_ad", title=ad.title(lang))
    target = ad.target.strip()
    payload: str | None = None
    if ad.target_kind == "url":
        return Button(label, "", url=target) if target.startswith("https://") else None
    if ad.target_kind == "item":
        payload = f"x {target.upper()}"
    elif ad.target_kind == "activity":
        found = conn.execute(
            select(activity.c.id).where(activity.c.code == target.upper())
        ).scalar_one_or_none()
        payload = None if found is None else f"v {found}"
    elif ad.target_kind == "category":
        found = conn.execute(
            select(category.c.id).where(category.c.code == target.upper())
        ).scalar_one_or_none()
        payload = None if found is None else f"l {b36(int(found))} 0 s 1"
    elif ad.target_kind == "announcement" and target.isdigit():
        payload = f"n {int(target)}"
    return Button(label, payload) if payload and fits(payload) else None


def home_bottom(conn: Connection, lang: str, now: int) -> list[list[Button]]:
    """Brands, announcements and the tools, below the best sellers."""
    brands = [
        Button(ct(lang, "mb_brand", name=b.name(lang)), f"l 0 {b36(b.id)} s 1")
        for b in mall_content.brands(conn)
    ]
    rows = [brands[i : i + BRANDS_PER_ROW] for i in range(0, len(brands), BRANDS_PER_ROW)]
    rows.extend(
        [Button(ct(lang, "mb_news", title=a.title(lang)), f"n {a.id}")]
        for a in mall_content.announcements(conn, now, NEWS)
    )
    rows.append([Button(ct(lang, "mb_search"), "S"), Button(ct(lang, "mb_promos"), "p o 1")])
    rows.append([Button(ct(lang, "mb_favs"), "f 1"), Button(ct(lang, "mb_myq"), "y 1")])
    return rows


# ------------------------------------------------------------- goods list (§2.2.7)


def category_id(conn: Connection, code: str) -> int | None:
    found = conn.execute(
        select(category.c.id).where(category.c.code == code.upper())
    ).scalar_one_or_none()
    return None if found is None else int(found)


def goods(
    conn: Connection, lang: str, now: int, cat: int, brand: int, sort: str, page: int
) -> Screen | None:
    """One page of goods, filtered by category and brand, sorted; None for a bad payload."""
    if sort not in SORTS:
        return None
    cats = {c.id: c for c in catalogue.categories(conn)}
    brands = {b.id: b for b in mall_content.brands(conn)}
    if (cat and cat not in cats) or (brand and brand not in brands):
        return None
    found, total = catalogue.list_items(
        conn,
        now=now,
        category_code=cats[cat].code if cat else None,
        brand_code=brands[brand].code if brand else None,
        sort=SORTS[sort],
        offset=(page - 1) * PER_PAGE,
        limit=PER_PAGE,
    )
    title = cats[cat].name(lang) if cat else ct(lang, "all_goods")
    if brand:
        title = f"{title}·{brands[brand].name(lang)}"
    sort_row = [
        Button(
            ("✓" if key == sort else "") + ct(lang, f"mb_sort_{name}"),
            f"l {b36(cat)} {b36(brand)} {key} 1",
        )
        for key, name in SORTS.items()
    ]
    brand_label = brands[brand].name(lang) if brand else ct(lang, "mb_brand_all")
    filters = [Button(f"{ct(lang, 'mb_brand_pick')}: {brand_label}", f"B {b36(cat)} {sort}")]
    if total == 0:
        return Screen(ct(lang, "goods_empty"), [sort_row, filters, _home_row(lang)])
    pages = _pages(total)
    rows = [_item_row(lang, it) for it in found]
    rows.extend(_paging(lang, page, pages, f"l {b36(cat)} {b36(brand)} {sort} {{}}"))
    rows.extend([sort_row, filters, _home_row(lang)])
    return Screen(ct(lang, "goods_head", category=title, page=page, pages=pages), rows)


def brand_filter(conn: Connection, lang: str, cat: int, sort: str) -> Screen | None:
    if sort not in SORTS:
        return None
    buttons = [Button(ct(lang, "mb_brand_all"), f"l {b36(cat)} 0 {sort} 1")] + [
        Button(b.name(lang), f"l {b36(cat)} {b36(b.id)} {sort} 1")
        for b in mall_content.brands(conn)
    ]
    rows = [buttons[i : i + BRANDS_PER_ROW] for i in range(0, len(buttons), BRANDS_PER_ROW)]
    rows.append(_home_row(lang))
    return Screen(ct(lang, "mb_brand_head"), rows)


# ------------------------------------------------------------------ search (§2.2.6)


def search(conn: Connection, lang: str, now: int, keyword: str, page: int) -> Screen:
    keyword = cut_keyword(keyword)
    found, total = catalogue.search(
        conn, keyword, now=now, offset=(page - 1) * PER_PAGE, limit=PER_PAGE
    )
    if total and not found:  # a page past the end (typed, or the catalogue shrank)
        page = _pages(total)
        found, total = catalogue.search(
            conn, keyword, now=now, offset=(page - 1) * PER_PAGE, limit=PER_PAGE
        )
    again = [Button(ct(lang, "mb_search"), "S"), *_home_row(lang)]
    if total == 0 or not keyword:
        return Screen(ct(lang, "mb_search_none", kw=keyword), [again])
    pages = _pages(total)
    rows = [_item_row(lang, it) for it in found]
    rows.extend(_paging(lang, page, pages, f"s {{}} {keyword}"))
    rows.append(again)
    lines = [ct(lang, "mb_search_head", kw=keyword, page=page, pages=pages)]
    lines.extend(f"{it.code} {it.name(lang)}" for it in found)
    return Screen("\n".join(lines), rows)


# ------------------------------------------------------------------ detail (§2.2.9)


def detail_rows(
    conn: Connection, lang: str, it: ItemView, subscriber_id: int | None
) -> list[list[Button]]:
    kept = subscriber_id is not None and favourites.has(conn, subscriber_id, it.id)
    _, answered = questions.for_item(conn, it.id, limit=0)
    return [
        [
            Button(ct(lang, "mb_fav_on" if kept else "mb_fav_add"), f"F {it.code}"),
            Button(ct(lang, "mb_ask"), f"q {it.code}"),
            Button(ct(lang, "mb_questions", n=answered), f"Q {it.code}"),
        ],
        [
            Button(ct(lang, "mb_cart"), f"a {it.code}"),
            Button(ct(lang, "mb_reviews"), f"r {it.code}"),
        ],
        _home_row(lang),
    ]


def detail(
    conn: Connection, lang: str, it: ItemView, subscriber_id: int | None, tz: ZoneInfo
) -> Screen:
    """Photo, full description, price, stock, merchant, promotion, and what to do next."""
    price = (
        ct(lang, "mb_price_cash", points=it.points, yuan=yuan(it.cash_cents))
        if it.cash_cents
        else ct(lang, "mb_price", points=it.points)
    )
    merchant_name = it.merchant_name(lang)
    act = catalogue.find_activity(conn, it.activity_id) if it.activity_id else None
    subject = photos.item_subject(it.id)
    has_photo = photos.has(conn, subject)
    rated = reviews.rating(conn, it.id)
    text = ct(
        lang,
        "mb_detail",
        name=it.name(lang),
        code=it.code,
        price=price,
        stock=ct(lang, "mb_stock", left=it.stock) if it.stock is not None else "",
        merchant=ct(lang, "mb_merchant", name=merchant_name) if merchant_name else "",
        activity=ct(
            lang, "mb_activity", title=f"{act.title(lang)} ~{local_date(act.ends_at - 1, tz)}"
        )
        if act
        else "",
        rating=ct(lang, "mb_rating", average=rated.average(), count=rated.count)
        if rated.count
        else "",
        description=it.description(lang),
    )
    text = limits.caption(text) if has_photo else limits.text(text)
    rows = detail_rows(conn, lang, it, subscriber_id)
    return Screen(text, rows, subject if has_photo else None)


def item_questions(conn: Connection, lang: str, it: ItemView) -> Screen:
    found, _total = questions.for_item(conn, it.id, limit=PER_PAGE)
    lines = [ct(lang, "mb_q_head", name=it.name(lang))]
    lines.extend(ct(lang, "mb_q_line", q=q.text, a=q.answer) for q in found)
    if not found:
        lines.append(ct(lang, "mb_q_none"))
    rows = [
        [Button(ct(lang, "mb_ask"), f"q {it.code}"), Button(it.name(lang), f"x {it.code}")],
        _home_row(lang),
    ]
    return Screen(_clip("\n\n".join(lines)), rows)


def _clip(text: str) -> str:
    return limits.text(text)


# -------------------------------------------------------------- favourites (§2.2.16)


def favourite_list(conn: Connection, lang: str, subscriber_id: int, page: int) -> Screen:
    found, total = favourites.listing(
        conn, subscriber_id, offset=(page - 1) * PER_PAGE, limit=PER_PAGE
    )
    if total == 0:
        return Screen(ct(lang, "mb_favs_empty"), [_home_row(lang)])
    pages = _pages(total)
    page = min(page, pages)
    rows = [
        [
            *_item_row(lang, it),
            Button(ct(lang, "mb_unfav", name=it.name(lang)[:8]), f"u {it.code} {page}"),
        ]
        for it in found
    ]
    rows.extend(_paging(lang, page, pages, "f {}"))
    rows.append(_home_row(lang))
    return Screen(ct(lang, "mb_favs_head", page=page, pages=pages), rows)


# ---------------------------------------------------------------- questions (§2.2.18)


def my_questions(conn: Connection, lang: str, subscriber_id: int, page: int) -> Screen:
    found, total = questions.mine(conn, subscriber_id, offset=(page - 1) * PER_PAGE, limit=PER_PAGE)
    if total == 0:
        return Screen(ct(lang, "mb_myq_none"), [_home_row(lang)])
    lines = [ct(lang, "mb_myq_head")]
    lines.extend(
        ct(
            lang,
            "mb_myq_line",
            item=q.item_name(lang),
            q=q.text,
            a=q.answer or ct(lang, "mb_unanswered"),
        )
        for q in found
    )
    rows = _paging(lang, page, _pages(total), "y {}")
    rows.append(_home_row(lang))
    return Screen(_clip("\n\n".join(lines)), rows)


# -------------------------------------------------------------- promotions (§2.2.14)


def promotions(
    conn: Connection, lang: str, now: int, tab: str, page: int, tz: ZoneInfo
) -> Screen | None:
    if tab not in TABS:
        return None
    found, total = catalogue.activities(
        conn, TABS[tab], now=now, offset=(page - 1) * PER_PAGE, limit=PER_PAGE
    )
    tabs = [
        Button(("✓" if key == tab else "") + ct(lang, f"mb_tab_{when}"), f"p {key} 1")
        for key, when in TABS.items()
    ]
    name = ct(lang, f"mb_tab_{TABS[tab]}")
    if total == 0:
        return Screen(ct(lang, "mb_promos_none", tab=name), [tabs, _home_row(lang)])
    pages = _pages(total)
    rows = [
        [
            Button(
                ct(
                    lang,
                    "mb_promo",
                    title=a.title(lang),
                    start=local_date(a.starts_at, tz),
                    end=local_date(a.ends_at - 1, tz),
                ),
                f"v {a.id}",
            )
        ]
        for a in found
    ]
    rows.extend(_paging(lang, page, pages, f"p {tab} {{}}"))
    rows.extend([tabs, _home_row(lang)])
    return Screen(ct(lang, "mb_promos_head", tab=name, page=page, pages=pages), rows)


def activity_screen(
    conn: Connection, lang: str, now: int, activity_id: int, tz: ZoneInfo, photo: str | None = None
) -> Screen | None:
    """A promotion in full with its goods on sale (opened from a banner, an ad or the list)."""
    act = catalogue.find_activity(conn, activity_id)
    if act is None:
        return None
    body = act.body_en if lang == "en" else act.body_zh
    text = ct(
        lang,
        "mb_activity_head",
        title=act.title(lang),
        start=local_date(act.starts_at, tz),
        end=local_date(act.ends_at - 1, tz),
        body=body,
    ).strip()
    found, _ = catalogue.list_items(conn, now=now, activity_id=act.id, limit=PER_PAGE)
    rows = [_item_row(lang, it) for it in found]
    rows.append([Button(ct(lang, "mb_promos"), "p o 1"), *_home_row(lang)])
    return Screen(limits.caption(text) if photo else limits.text(text), rows, photo)


def banner_screen(
    conn: Connection, lang: str, now: int, banner_id: int, tz: ZoneInfo
) -> Screen | None:
    """§2.2.3: the banner's picture, its activity and the activity's goods."""
    found = mall_content.find_banner(conn, banner_id)
    if found is None:
        return None
    subject = photos.banner_subject(found.id)
    return activity_screen(
        conn, lang, now, found.activity_id, tz, subject if photos.has(conn, subject) else None
    )


def announcement(conn: Connection, lang: str, announcement_id: int) -> Screen | None:
    """§2.2.4: one announcement in full."""
    found = mall_content.find_announcement(conn, announcement_id)
    if found is None:
        return None
    text = ct(lang, "mb_news_full", title=found.title(lang), body=found.body(lang))
    return Screen(_clip(text), [_home_row(lang)])
