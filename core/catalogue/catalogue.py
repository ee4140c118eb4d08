"""The catalogue (§2.2.1–2.2.9, §2.2.14): items, categories, brands, activities, content."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Connection, Select, and_, bindparam, func, or_, select, update

from core.platform.prepared import Prepared
from core.platform.schema import activity, brand, category, item, merchant

Sort = Literal["sales", "views", "newest", "points", "points_desc"]
When = Literal["ongoing", "upcoming", "past", "all"]


@dataclass(frozen=True)
class ItemView:
    id: int
    code: str
    name_zh: str
    name_en: str
    description_zh: str
    description_en: str
    kind: str
    points: int
    cash_cents: int | None
    face_value_cents: int | None
    stock: int | None
    sold: int
    views: int
    per_account_limit: int | None
    voucher_days: int
    merchant_id: int | None
    activity_id: int | None
    category_code: str
    brand_code: str | None
    merchant_zh: str | None
    merchant_en: str | None
    listed_at: int
    pay_methods: str | None
    """As stored (``core.catalogue.pay_methods.parse`` reads it)."""
    price_cents: int | None
    """The item's price in cash (cents), for the methods that pay in cash."""

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_zh

    def description(self, lang: str) -> str:
        return self.description_en if lang == "en" else self.description_zh

    def merchant_name(self, lang: str) -> str | None:
        return self.merchant_en if lang == "en" else self.merchant_zh


@dataclass(frozen=True)
class ActivityView:
    id: int
    code: str
    title_zh: str
    title_en: str
    body_zh: str
    body_en: str
    starts_at: int
    ends_at: int
    per_account_limit: int | None

    def title(self, lang: str) -> str:
        return self.title_en if lang == "en" else self.title_zh

    def state(self, now: int) -> When:
        if now < self.starts_at:
            return "upcoming"
        return "ongoing" if now < self.ends_at else "past"


@dataclass(frozen=True)
class Named:
    id: int
    code: str
    name_zh: str
    name_en: str

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_zh


_ITEM_COLUMNS = (
    item.c.id,
    item.c.code,
    item.c.name_zh,
    item.c.name_en,
    item.c.description_zh,
    item.c.description_en,
    item.c.kind,
    item.c.points,
    item.c.cash_cents,
    item.c.face_value_cents,
    item.c.stock,
    item.c.sold,
    item.c.views,
    item.c.per_account_limit,
    item.c.voucher_days,
    item.c.merchant_id,
    item.c.activity_id,
    category.c.code,
    brand.c.code,
    merchant.c.name_zh,
    merchant.c.name_en,
    item.c.listed_at,
    item.c.pay_methods,
    item.c.price_cents,
)


def _item_query() -> Select[Any]:
    return select(*_ITEM_COLUMNS).select_from(
        item.join(category, category.c.id == item.c.category_id)
        .outerjoin(brand, brand.c.id == item.c.brand_id)
        .outerjoin(merchant, merchant.c.id == item.c.merchant_id)
        .outerjoin(activity, activity.c.id == item.c.activity_id)
    )


def _on_sale(now: int) -> Any:
    """Active, and not tied to an activity that is not running now."""
    return and_(
        item.c.active.is_(True),
        or_(
            item.c.activity_id.is_(None),
            and_(activity.c.starts_at <= now, activity.c.ends_at > now),
        ),
    )


def _item(row: Any) -> ItemView:
    return ItemView(*row)


_FIND_ITEM = Prepared(
    _item_query().where(and_(item.c.code == bindparam("code"), item.c.active.is_(True)))
)


def find_item(conn: Connection, code: str) -> ItemView | None:
    row = _FIND_ITEM.first(conn, code=code)
    return _item(row) if row else None


def count_view(conn: Connection, item_id: int) -> None:
    conn.execute(update(item).where(item.c.id == item_id).values(views=item.c.views + 1))


_ORDER = {
    "sales": (item.c.sold.desc(), item.c.code),
    "views": (item.c.views.desc(), item.c.code),
    "newest": (item.c.listed_at.desc(), item.c.code),
    "points": (item.c.points, item.c.code),
    "points_desc": (item.c.points.desc(), item.c.code),
}


def _page(
    conn: Connection, query: Select[Any], sort: Sort, offset: int, limit: int
) -> tuple[list[ItemView], int]:
    total = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = conn.execute(query.order_by(*_ORDER[sort]).offset(offset).limit(limit)).all()
    return [_item(r) for r in rows], int(total)


def list_items(
    conn: Connection,
    *,
    now: int,
    category_code: str | None = None,
    brand_code: str | None = None,
    sort: Sort = "sales",
    offset: int = 0,
    limit: int = 5,
    activity_id: int | None = None,
) -> tuple[list[ItemView], int]:
    """Goods on sale now, filtered and sorted (§2.2.2, §2.2.7); also the total count."""
    query = _item_query().where(_on_sale(now))
    if activity_id is not None:
        query = query.where(item.c.activity_id == activity_id)
    if category_code:
        query = query.where(category.c.code == category_code)
    if brand_code:
        query = query.where(brand.c.code == brand_code)
    return _page(conn, query, sort, offset, limit)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search(
    conn: Connection, keyword: str, *, now: int, offset: int = 0, limit: int = 5
) -> tuple[list[ItemView], int]:
    """Goods whose name (either language) or brand contains ``keyword`` (§2.2.6)."""
    pattern = f"%{_escape_like(keyword.lower())}%"
    query = _item_query().where(
        and_(
            _on_sale(now),
            or_(
                func.lower(item.c.name_zh).like(pattern, escape="\\"),
                func.lower(item.c.name_en).like(pattern, escape="\\"),
                func.lower(func.coalesce(brand.c.name_zh, "")).like(pattern, escape="\\"),
                func.lower(func.coalesce(brand.c.name_en, "")).like(pattern, escape="\\"),
                item.c.code == keyword.upper(),
            ),
        )
    )
    return _page(conn, query, "sales", offset, limit)


_ACTIVITY_COLUMNS = (
    activity.c.id,
    activity.c.code,
    activity.c.title_zh,
    activity.c.title_en,
    activity.c.body_zh,
    activity.c.body_en,
    activity.c.starts_at,
    activity.c.ends_at,
    activity.c.per_account_limit,
)


def activities(
    conn: Connection, when: When, *, now: int, offset: int = 0, limit: int = 5
) -> tuple[list[ActivityView], int]:
    """Promotions running now, coming soon, past, or all (§2.2.14)."""
    query = select(*_ACTIVITY_COLUMNS)
    order: tuple[Any, ...] = (activity.c.starts_at.desc(), activity.c.id)
    if when == "ongoing":
        query = query.where(and_(activity.c.starts_at <= now, activity.c.ends_at > now))
        order = (activity.c.ends_at, activity.c.id)
    elif when == "upcoming":
        query = query.where(activity.c.starts_at > now)
        order = (activity.c.starts_at, activity.c.id)
    elif when == "past":
        query = query.where(activity.c.ends_at <= now)
        order = (activity.c.ends_at.desc(), activity.c.id)
    total = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = conn.execute(query.order_by(*order).offset(offset).limit(limit)).all()
    return [ActivityView(*r) for r in rows], int(total)


def find_activity(conn: Connection, activity_id: int) -> ActivityView | None:
    row = conn.execute(select(*_ACTIVITY_COLUMNS).where(activity.c.id == activity_id)).first()
    return ActivityView(*row) if row else None


def categories(conn: Connection) -> list[Named]:
    rows = conn.execute(
        select(category.c.id, category.c.code, category.c.name_zh, category.c.name_en).order_by(
            category.c.sort, category.c.code
        )
    ).all()
    return [Named(*r) for r in rows]


def active_of_kind(conn: Connection, kind: str) -> int:
    """How many active items are of ``kind`` (``credit``, ``physical``, ``voucher``)."""
    return int(
        conn.execute(
            select(func.count()).where(and_(item.c.active.is_(True), item.c.kind == kind))
        ).scalar_one()
    )


def items_by_ids(conn: Connection, ids: list[int]) -> list[ItemView]:
    """Active items by id (any order), for lists kept elsewhere (favourites, questions)."""
    if not ids:
        return []
    rows = conn.execute(_item_query().where(and_(item.c.id.in_(ids), item.c.active.is_(True))))
    return [_item(r) for r in rows]
