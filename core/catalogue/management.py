"""The catalogue and mall content as staff edit them through the admin API (issue 8, §2.2).

Creation refuses a code that exists (``AlreadyExists``), updates refuse one that
does not (``NotFound``); both go through ``core.catalogue.editing``'s upserts so the
rules there (sales and views never reset, approved merchants only…) hold. Items,
banners and ads are deactivated rather than deleted (orders and statistics refer
to them); announcements may be deleted. Every change is audited.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection, String, cast, delete, literal, select, update

from core.catalogue import editing, photos
from core.catalogue.editing import ItemSpec, UnknownReference
from core.catalogue.listing import ActivityLine, ItemLine
from core.catalogue.listing import activities as all_activities
from core.catalogue.listing import items as all_items
from core.catalogue.photos import PhotoInfo
from core.platform import audit
from core.platform.errors import AlreadyExists, Invalid, NotFound
from core.platform.schema import activity, ad, announcement, banner, brand, category, item, photo


@dataclass(frozen=True)
class Named:
    code: str
    name_zh: str
    name_en: str
    sort: int = 0


@dataclass(frozen=True)
class Announcement:
    id: int
    title_zh: str
    title_en: str
    body_zh: str
    body_en: str
    published_at: int
    pinned: bool


@dataclass(frozen=True)
class Banner:
    id: int
    activity: str
    image: str | None
    sort: int
    active: bool


@dataclass(frozen=True)
class Ad:
    id: int
    title_zh: str
    title_en: str
    target_kind: str
    target: str
    sort: int
    active: bool
    image: str | None


def _audit(conn: Connection, by: str, action: str, subject: str, now: int, **details: Any) -> None:
    audit.record(
        conn,
        actor_kind="operator",
        actor=by,
        action=action,
        subject=subject,
        result="ok",
        now=now,
        details=details,
    )


# ----------------------------------------------------------- categories and brands


def categories(conn: Connection) -> list[Named]:
    rows = conn.execute(
        select(category.c.code, category.c.name_zh, category.c.name_en, category.c.sort).order_by(
            category.c.sort, category.c.code
        )
    )
    return [Named(r[0], r[1], r[2], int(r[3])) for r in rows]


def get_category(conn: Connection, code: str) -> Named:
    for found in categories(conn):
        if found.code == code.upper():
            return found
    raise NotFound("category", code)


def save_category(conn: Connection, value: Named, *, create: bool, by: str, now: int) -> Named:
    exists = any(c.code == value.code.upper() for c in categories(conn))
    if create and exists:
        raise AlreadyExists("category", value.code.upper())
    if not create and not exists:
        raise NotFound("category", value.code)
    editing.upsert_category(conn, value.code, value.name_zh, value.name_en, value.sort)
    _audit(conn, by, "category_save", f"category:{value.code.upper()}", now, create=create)
    return get_category(conn, value.code)


def brands(conn: Connection) -> list[Named]:
    rows = conn.execute(
        select(brand.c.code, brand.c.name_zh, brand.c.name_en).order_by(brand.c.code)
    )
    return [Named(r[0], r[1], r[2]) for r in rows]


def get_brand(conn: Connection, code: str) -> Named:
    for found in brands(conn):
        if found.code == code.upper():
            return found
    raise NotFound("brand", code)


def save_brand(conn: Connection, value: Named, *, create: bool, by: str, now: int) -> Named:
    exists = any(b.code == value.code.upper() for b in brands(conn))
    if create and exists:
        raise AlreadyExists("brand", value.code.upper())
    if not create and not exists:
        raise NotFound("brand", value.code)
    editing.upsert_brand(conn, value.code, value.name_zh, value.name_en)
    _audit(conn, by, "brand_save", f"brand:{value.code.upper()}", now, create=create)
    return get_brand(conn, value.code)


# -------------------------------------------------------------------------- items


def items(conn: Connection, *, category_code: str | None = None) -> list[ItemLine]:
    found = all_items(conn)
    if category_code is not None:
        found = [i for i in found if i.category == category_code.upper()]
    return found


def get_item(conn: Connection, code: str) -> ItemLine:
    row = conn.execute(select(item.c.id).where(item.c.code == code.upper())).first()
    if row is not None:
        for line in all_items(conn):
            if line.code == code.upper():
                return line
    raise NotFound("item", code)


def save_item(conn: Connection, spec: ItemSpec, *, create: bool, by: str, now: int) -> ItemLine:
    code = spec.code.upper()
    exists = conn.execute(select(item.c.id).where(item.c.code == code)).first() is not None
    if create and exists:
        raise AlreadyExists("item", code)
    if not create and not exists:
        raise NotFound("item", code)
    try:
        editing.upsert_item(conn, replace(spec, code=code), now)
    except UnknownReference as exc:
        raise Invalid("reference", str(exc)) from None
    except ValueError as exc:
        raise Invalid("item", str(exc)) from None
    _audit(conn, by, "item_save", f"item {code}", now, create=create)
    return get_item(conn, code)


def deactivate_item(conn: Connection, code: str, *, by: str, now: int) -> ItemLine:
    return set_item_active(conn, code, False, by=by, now=now)


def set_item_active(conn: Connection, code: str, active: bool, *, by: str, now: int) -> ItemLine:
    """List (``active``) or unlist item ``code``; an unlisted item stays for its orders and
    statistics. Raises ``NotFound``; audited as ``item_activate`` / ``item_deactivate``."""
    get_item(conn, code)
    conn.execute(update(item).where(item.c.code == code.upper()).values(active=active))
    action = "item_activate" if active else "item_deactivate"
    _audit(conn, by, action, f"item {code.upper()}", now)
    return get_item(conn, code)


def item_spec(conn: Connection, code: str) -> ItemSpec:
    """Everything staff may edit of item ``code``, as ``save_item`` takes it (the list view
    ``ItemLine`` lacks the descriptions and the voucher days). Raises ``NotFound``."""
    row = conn.execute(
        select(item.c.description_zh, item.c.description_en, item.c.voucher_days).where(
            item.c.code == code.upper()
        )
    ).first()
    if row is None:
        raise NotFound("item", code)
    line = get_item(conn, code)
    return ItemSpec(
        code=line.code,
        name_zh=line.name_zh,
        name_en=line.name_en,
        category=line.category,
        kind=line.kind,
        points=line.points,
        brand=line.brand,
        merchant=line.merchant,
        activity=line.activity,
        cash_cents=line.cash_cents,
        face_value_cents=line.face_value_cents,
        stock=line.stock,
        per_account_limit=line.per_account_limit,
        voucher_days=int(row[2]),
        description_zh=row[0],
        description_en=row[1],
        active=line.active,
        pay_methods=line.pay_methods,
        price_cents=line.price_cents,
    )


def item_picture(conn: Connection, code: str, data: bytes, *, by: str, now: int) -> PhotoInfo:
    """Store the picture of item ``code`` (PNG or JPEG, at most ``photos.UPLOAD_BYTES``); the
    chat shows it with the item. Raises ``NotFound`` or ``NotAPicture``; audited."""
    found = conn.execute(select(item.c.id).where(item.c.code == code.upper())).scalar()
    if found is None:
        raise NotFound("item", code)
    return photos.upload(conn, photos.item_subject(int(found)), data, by=by, now=now)


def item_photo_subject(conn: Connection, code: str) -> str | None:
    """The subject of item ``code``'s picture in ``core.catalogue.photos``, or None."""
    found = conn.execute(select(item.c.id).where(item.c.code == code.upper())).scalar()
    if found is None:
        return None
    subject = photos.item_subject(int(found))
    return subject if photos.has(conn, subject) else None


# --------------------------------------------------------------------- activities


def activities(conn: Connection) -> list[ActivityLine]:
    return all_activities(conn)


def get_activity(conn: Connection, code: str) -> ActivityLine:
    for found in all_activities(conn):
        if found.code == code.upper():
            return found
    raise NotFound("activity", code)


def save_activity(
    conn: Connection, value: ActivityLine, *, create: bool, by: str, now: int
) -> ActivityLine:
    """Create (``create``) or change activity ``value.code``: titles, start, end and limit;
    a change keeps the activity's texts (``body_zh``/``body_en``, shown in the chat), which
    this form does not carry. Raises ``AlreadyExists``, ``NotFound`` or ``Invalid``."""
    code = value.code.upper()
    exists = conn.execute(
        select(activity.c.id, activity.c.body_zh, activity.c.body_en).where(activity.c.code == code)
    ).first()
    if create and exists is not None:
        raise AlreadyExists("activity", code)
    if not create and exists is None:
        raise NotFound("activity", code)
    if value.ends_at <= value.starts_at:
        raise Invalid("ends_at", "an activity must end after it starts")
    editing.upsert_activity(
        conn,
        code,
        value.title_zh,
        value.title_en,
        value.starts_at,
        value.ends_at,
        body_zh=exists[1] if exists is not None else "",
        body_en=exists[2] if exists is not None else "",
        per_account_limit=value.per_account_limit,
    )
    _audit(conn, by, "activity_save", f"activity:{code}", now, create=create)
    return get_activity(conn, code)


# ------------------------------------------------------------------ announcements

_ANN = select(
    announcement.c.id,
    announcement.c.title_zh,
    announcement.c.title_en,
    announcement.c.body_zh,
    announcement.c.body_en,
    announcement.c.published_at,
    announcement.c.pinned,
)


def _announcement(r: Any) -> Announcement:
    return Announcement(int(r[0]), r[1], r[2], r[3], r[4], int(r[5]), bool(r[6]))


def announcements(conn: Connection) -> list[Announcement]:
    rows = conn.execute(_ANN.order_by(announcement.c.pinned.desc(), announcement.c.id.desc()))
    return [_announcement(r) for r in rows]


def get_announcement(conn: Connection, ann_id: int) -> Announcement:
    row = conn.execute(_ANN.where(announcement.c.id == ann_id)).first()
    if row is None:
        raise NotFound("announcement", str(ann_id))
    return _announcement(row)


def create_announcement(
    conn: Connection, fields: dict[str, Any], *, by: str, now: int
) -> Announcement:
    new_id = conn.execute(
        announcement.insert().values(published_at=now, **fields).returning(announcement.c.id)
    ).scalar_one()
    _audit(conn, by, "announcement_create", f"announcement:{new_id}", now)
    return get_announcement(conn, int(new_id))


def update_announcement(
    conn: Connection, ann_id: int, fields: dict[str, Any], *, by: str, now: int
) -> Announcement:
    get_announcement(conn, ann_id)
    conn.execute(update(announcement).where(announcement.c.id == ann_id).values(**fields))
    _audit(conn, by, "announcement_update", f"announcement:{ann_id}", now)
    return get_announcement(conn, ann_id)


def delete_announcement(conn: Connection, ann_id: int, *, by: str, now: int) -> None:
    get_announcement(conn, ann_id)
    conn.execute(delete(announcement).where(announcement.c.id == ann_id))
    _audit(conn, by, "announcement_delete", f"announcement:{ann_id}", now)


# ------------------------------------------------------------------------ banners

# A banner's or ad's ``image`` is the subject of its picture in ``core.catalogue.photos`` (what the
# chat shows; ``GET /photos/{subject}``), or None.
_banner_photo = photo.alias("banner_photo")
_ad_photo = photo.alias("ad_photo")
_BANNER = select(
    banner.c.id, activity.c.code, _banner_photo.c.subject, banner.c.sort, banner.c.active
).select_from(
    banner.join(activity, activity.c.id == banner.c.activity_id).outerjoin(
        _banner_photo,
        _banner_photo.c.subject == literal("banner:", String) + cast(banner.c.id, String),
    )
)


def _banner(r: Any) -> Banner:
    return Banner(int(r[0]), r[1], r[2], int(r[3]), bool(r[4]))


def banners(conn: Connection) -> list[Banner]:
    return [_banner(r) for r in conn.execute(_BANNER.order_by(banner.c.sort, banner.c.id))]


def get_banner(conn: Connection, banner_id: int) -> Banner:
    row = conn.execute(_BANNER.where(banner.c.id == banner_id)).first()
    if row is None:
        raise NotFound("banner", str(banner_id))
    return _banner(row)


def _activity_id(conn: Connection, code: str) -> int:
    found = conn.execute(select(activity.c.id).where(activity.c.code == code.upper())).first()
    if found is None:
        raise Invalid("activity", f"no activity {code!r}")
    return int(found[0])


def save_banner(
    conn: Connection,
    banner_id: int | None,
    *,
    activity_code: str,
    sort: int,
    active: bool,
    by: str,
    now: int,
) -> Banner:
    values = {"activity_id": _activity_id(conn, activity_code), "sort": sort, "active": active}
    if banner_id is None:
        banner_id = int(
            conn.execute(banner.insert().values(**values).returning(banner.c.id)).scalar_one()
        )
    else:
        get_banner(conn, banner_id)
        conn.execute(update(banner).where(banner.c.id == banner_id).values(**values))
    _audit(conn, by, "banner_save", f"banner:{banner_id}", now)
    return get_banner(conn, banner_id)


def banner_picture(conn: Connection, banner_id: int, data: bytes, *, by: str, now: int) -> Banner:
    """Store banner ``banner_id``'s picture (PNG or JPEG, at most ``photos.UPLOAD_BYTES``); the
    chat shows it. Raises ``NotFound`` or ``NotAPicture``; audited."""
    get_banner(conn, banner_id)
    photos.upload(conn, photos.banner_subject(banner_id), data, by=by, now=now)
    return get_banner(conn, banner_id)


def set_banner(conn: Connection, banner_id: int, *, by: str, now: int, **values: object) -> Banner:
    """Set the banner's ``active`` flag."""
    get_banner(conn, banner_id)
    conn.execute(update(banner).where(banner.c.id == banner_id).values(**values))
    _audit(conn, by, "banner_set", f"banner:{banner_id}", now, **values)
    return get_banner(conn, banner_id)


# ---------------------------------------------------------------------------- ads

_AD = select(
    ad.c.id,
    ad.c.title_zh,
    ad.c.title_en,
    ad.c.target_kind,
    ad.c.target,
    ad.c.sort,
    ad.c.active,
    _ad_photo.c.subject,
).select_from(
    ad.outerjoin(_ad_photo, _ad_photo.c.subject == literal("ad:", String) + cast(ad.c.id, String))
)


def _ad(r: Any) -> Ad:
    return Ad(int(r[0]), r[1], r[2], r[3], r[4], int(r[5]), bool(r[6]), r[7])


def ads(conn: Connection) -> list[Ad]:
    return [_ad(r) for r in conn.execute(_AD.order_by(ad.c.sort, ad.c.id))]


def get_ad(conn: Connection, ad_id: int) -> Ad:
    row = conn.execute(_AD.where(ad.c.id == ad_id)).first()
    if row is None:
        raise NotFound("ad", str(ad_id))
    return _ad(row)


def save_ad(
    conn: Connection, ad_id: int | None, fields: dict[str, Any], *, by: str, now: int
) -> Ad:
    if ad_id is None:
        ad_id = int(conn.execute(ad.insert().values(**fields).returning(ad.c.id)).scalar_one())
    else:
        get_ad(conn, ad_id)
        conn.execute(update(ad).where(ad.c.id == ad_id).values(**fields))
    _audit(conn, by, "ad_save", f"ad:{ad_id}", now)
    return get_ad(conn, ad_id)


def ad_picture(conn: Connection, ad_id: int, data: bytes, *, by: str, now: int) -> Ad:
    """Store ad ``ad_id``'s picture (PNG or JPEG, at most ``photos.UPLOAD_BYTES``). Raises
    ``NotFound`` or ``NotAPicture``; audited."""
    get_ad(conn, ad_id)
    photos.upload(conn, photos.ad_subject(ad_id), data, by=by, now=now)
    return get_ad(conn, ad_id)


def deactivate_ad(conn: Connection, ad_id: int, *, by: str, now: int) -> Ad:
    get_ad(conn, ad_id)
    conn.execute(update(ad).where(ad.c.id == ad_id).values(active=False))
    _audit(conn, by, "ad_deactivate", f"ad:{ad_id}", now)
    return get_ad(conn, ad_id)
