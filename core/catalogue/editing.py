"""Managing the catalogue: categories, brands, merchants, items, activities and content.

Every function is an idempotent upsert keyed by a code (or a title for content),
so importing the same definitions again changes nothing and never resets an
item's sales or views.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import Connection, select, update

from core.catalogue import pay_methods
from core.merchants.errors import MerchantNotApproved
from core.platform import naming
from core.platform.schema import activity, ad, announcement, banner, brand, category, item, merchant
from core.platform.sql import insert_ignoring


def _id_of(conn: Connection, table: object, code: str) -> int | None:
    col = table.c  # type: ignore[attr-defined]
    found = conn.execute(select(col.id).where(col.code == code)).scalar_one_or_none()
    return int(found) if found is not None else None


def upsert_category(conn: Connection, code: str, name_zh: str, name_en: str, sort: int = 0) -> int:
    """Create or rename category ``code``; ``ValueError`` for a bad code or a blank name."""
    code = naming.code(code, "category code")
    name_zh, name_en = naming.name(name_zh, "name_zh"), naming.name(name_en, "name_en")
    conn.execute(
        insert_ignoring(conn, category, "code").values(
            code=code, name_zh=name_zh, name_en=name_en, sort=sort
        )
    )
    conn.execute(
        update(category)
        .where(category.c.code == code)
        .values(name_zh=name_zh, name_en=name_en, sort=sort)
    )
    found = _id_of(conn, category, code)
    assert found is not None
    return found


def upsert_brand(conn: Connection, code: str, name_zh: str, name_en: str) -> int:
    """Create or rename brand ``code``; ``ValueError`` for a bad code or a blank name."""
    code = naming.code(code, "brand code")
    name_zh, name_en = naming.name(name_zh, "name_zh"), naming.name(name_en, "name_en")
    conn.execute(
        insert_ignoring(conn, brand, "code").values(code=code, name_zh=name_zh, name_en=name_en)
    )
    conn.execute(update(brand).where(brand.c.code == code).values(name_zh=name_zh, name_en=name_en))
    found = _id_of(conn, brand, code)
    assert found is not None
    return found


@dataclass(frozen=True)
class ItemSpec:
    code: str
    name_zh: str
    name_en: str
    category: str
    kind: str
    points: int
    brand: str | None = None
    merchant: str | None = None
    activity: str | None = None
    cash_cents: int | None = None
    face_value_cents: int | None = None
    stock: int | None = None
    per_account_limit: int | None = None
    voucher_days: int = 30
    description_zh: str = ""
    description_en: str = ""
    listed_at: int | None = None
    active: bool = True
    pay_methods: str | None = None
    """Comma-separated (§3.5.6); None: ``points_cash`` when ``cash_cents``, else ``points``."""
    price_cents: int | None = None
    """The full money price, for ``cash``, ``phone_bill`` and ``online_bank``."""


class UnknownReference(ValueError):
    """An item names a category, brand, merchant or activity that does not exist."""


def upsert_item(conn: Connection, spec: ItemSpec, now: int) -> int:
    """Create or update the item ``spec.code``; sales and views are never touched."""
    spec = replace(
        spec,
        code=naming.code(spec.code, "item code"),
        name_zh=naming.name(spec.name_zh, "name_zh"),
        name_en=naming.name(spec.name_en, "name_en"),
        category=spec.category.upper(),
        brand=spec.brand.upper() if spec.brand else None,
        merchant=spec.merchant.upper() if spec.merchant else None,
        activity=spec.activity.upper() if spec.activity else None,
    )
    category_id = _id_of(conn, category, spec.category)
    if category_id is None:
        raise UnknownReference(f"category {spec.category!r} does not exist")
    refs: dict[str, int | None] = {}
    for name, table, code in (
        ("brand_id", brand, spec.brand),
        ("merchant_id", merchant, spec.merchant),
        ("activity_id", activity, spec.activity),
    ):
        refs[name] = None
        if code:
            refs[name] = _id_of(conn, table, code)
            if refs[name] is None:
                raise UnknownReference(f"{name.removesuffix('_id')} {code!r} does not exist")
    if spec.kind == "voucher" and refs["merchant_id"] is None:
        raise UnknownReference("a voucher needs a merchant")
    if spec.kind == "credit" and not spec.face_value_cents:
        raise ValueError("phone credit needs a face value in cents")
    if refs["merchant_id"] is not None:
        status = conn.execute(
            select(merchant.c.status).where(merchant.c.id == refs["merchant_id"])
        ).scalar_one()
        if status != "approved":  # only approved merchants publish items (§3.5.5)
            raise MerchantNotApproved(str(spec.merchant), str(status))
    methods = pay_methods.parse(
        spec.pay_methods
        if spec.pay_methods is not None
        else ("points_cash" if spec.cash_cents else "points")
    )
    why = pay_methods.check(methods, spec.cash_cents, spec.price_cents)
    if why is not None:
        raise ValueError(why)
    values = {
        "pay_methods": ",".join(methods),
        "price_cents": spec.price_cents,
        "name_zh": spec.name_zh,
        "name_en": spec.name_en,
        "description_zh": spec.description_zh,
        "description_en": spec.description_en,
        "category_id": category_id,
        "kind": spec.kind,
        "points": spec.points,
        "cash_cents": spec.cash_cents,
        "face_value_cents": spec.face_value_cents,
        "stock": spec.stock,
        "per_account_limit": spec.per_account_limit,
        "voucher_days": spec.voucher_days,
        "active": spec.active,
        **refs,
    }
    listed = spec.listed_at if spec.listed_at is not None else now
    conn.execute(
        insert_ignoring(conn, item, "code").values(code=spec.code, listed_at=listed, **values)
    )
    conn.execute(update(item).where(item.c.code == spec.code).values(**values))
    found = _id_of(conn, item, spec.code)
    assert found is not None
    return found


def upsert_activity(
    conn: Connection,
    code: str,
    title_zh: str,
    title_en: str,
    starts_at: int,
    ends_at: int,
    *,
    body_zh: str = "",
    body_en: str = "",
    per_account_limit: int | None = None,
) -> int:
    """Create or change activity ``code``; ``ValueError`` for a bad code, a blank title or
    an end not after the start (UTC epoch seconds)."""
    code = naming.code(code, "activity code")
    title_zh, title_en = naming.name(title_zh, "title_zh"), naming.name(title_en, "title_en")
    if ends_at <= starts_at:
        raise ValueError("an activity must end after it starts")
    values = {
        "title_zh": title_zh,
        "title_en": title_en,
        "body_zh": body_zh,
        "body_en": body_en,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "per_account_limit": per_account_limit,
    }
    conn.execute(insert_ignoring(conn, activity, "code").values(code=code, **values))
    conn.execute(update(activity).where(activity.c.code == code).values(**values))
    found = _id_of(conn, activity, code)
    assert found is not None
    return found


def add_announcement(
    conn: Connection, title_zh: str, title_en: str, body_zh: str, body_en: str, now: int
) -> int:
    """Publish an announcement (§2.2.4) once per Chinese title; ``ValueError`` when a title
    or a body is blank."""
    title_zh, title_en = naming.name(title_zh, "title_zh"), naming.name(title_en, "title_en")
    body_zh, body_en = naming.body(body_zh, "body_zh"), naming.body(body_en, "body_en")
    found = conn.execute(
        select(announcement.c.id).where(announcement.c.title_zh == title_zh)
    ).scalar_one_or_none()
    if found is not None:
        return int(found)
    return int(
        conn.execute(
            announcement.insert()
            .values(
                title_zh=title_zh,
                title_en=title_en,
                body_zh=body_zh,
                body_en=body_en,
                published_at=now,
            )
            .returning(announcement.c.id)
        ).scalar_one()
    )


def add_banner(
    conn: Connection, activity_code: str, image: str | None = None, sort: int = 0
) -> int:
    activity_id = _id_of(conn, activity, activity_code)
    if activity_id is None:
        raise UnknownReference(f"activity {activity_code!r} does not exist")
    found = conn.execute(
        select(banner.c.id).where(banner.c.activity_id == activity_id)
    ).scalar_one_or_none()
    if found is not None:
        return int(found)
    return int(
        conn.execute(
            banner.insert()
            .values(activity_id=activity_id, image=image, sort=sort)
            .returning(banner.c.id)
        ).scalar_one()
    )


def add_ad(
    conn: Connection, title_zh: str, title_en: str, target_kind: str, target: str, sort: int = 0
) -> int:
    found = conn.execute(select(ad.c.id).where(ad.c.title_zh == title_zh)).scalar_one_or_none()
    if found is not None:
        return int(found)
    return int(
        conn.execute(
            ad.insert()
            .values(
                title_zh=title_zh,
                title_en=title_en,
                target_kind=target_kind,
                target=target,
                sort=sort,
            )
            .returning(ad.c.id)
        ).scalar_one()
    )
