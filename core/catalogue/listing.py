"""The whole catalogue as the operator sees it (on sale or not), for ``catalog list``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from core.platform.schema import activity, brand, category, item, merchant


@dataclass(frozen=True)
class ItemLine:
    code: str
    name_zh: str
    name_en: str
    category: str
    brand: str | None
    kind: str
    points: int
    cash_cents: int | None
    face_value_cents: int | None
    stock: int | None
    sold: int
    views: int
    merchant: str | None
    activity: str | None
    per_account_limit: int | None
    active: bool
    pay_methods: str
    """Comma-separated payment methods (§3.5.6), e.g. ``points,points_cash``."""
    price_cents: int | None
    """The full money price, for ``cash``, ``phone_bill`` and ``online_bank``."""


@dataclass(frozen=True)
class ActivityLine:
    code: str
    title_zh: str
    title_en: str
    starts_at: int
    ends_at: int
    per_account_limit: int | None


def items(conn: Connection) -> list[ItemLine]:
    rows: Any = conn.execute(
        select(
            item.c.code,
            item.c.name_zh,
            item.c.name_en,
            category.c.code,
            brand.c.code,
            item.c.kind,
            item.c.points,
            item.c.cash_cents,
            item.c.face_value_cents,
            item.c.stock,
            item.c.sold,
            item.c.views,
            merchant.c.code,
            activity.c.code,
            item.c.per_account_limit,
            item.c.active,
            item.c.pay_methods,
            item.c.price_cents,
        )
        .select_from(
            item.join(category, category.c.id == item.c.category_id)
            .outerjoin(brand, brand.c.id == item.c.brand_id)
            .outerjoin(merchant, merchant.c.id == item.c.merchant_id)
            .outerjoin(activity, activity.c.id == item.c.activity_id)
        )
        .order_by(category.c.sort, category.c.code, item.c.code)
    ).all()
    return [ItemLine(*r) for r in rows]


def activities(conn: Connection) -> list[ActivityLine]:
    rows = conn.execute(
        select(
            activity.c.code,
            activity.c.title_zh,
            activity.c.title_en,
            activity.c.starts_at,
            activity.c.ends_at,
            activity.c.per_account_limit,
        ).order_by(activity.c.starts_at, activity.c.code)
    ).all()
    return [ActivityLine(*r) for r in rows]
