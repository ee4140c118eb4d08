"""What the mall's home shows besides goods (§2.2.1–2.2.5): banners, announcements, ads, brands."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, and_, func, select

from core.catalogue.catalogue import Named
from core.platform.schema import activity, ad, announcement, banner, brand

AD_TARGETS = ("item", "activity", "category", "announcement", "url")


@dataclass(frozen=True)
class BannerView:
    id: int
    activity_id: int
    title_zh: str
    title_en: str

    def title(self, lang: str) -> str:
        return self.title_en if lang == "en" else self.title_zh


@dataclass(frozen=True)
class AnnouncementView:
    id: int
    title_zh: str
    title_en: str
    body_zh: str
    body_en: str
    published_at: int

    def title(self, lang: str) -> str:
        return self.title_en if lang == "en" else self.title_zh

    def body(self, lang: str) -> str:
        return self.body_en if lang == "en" else self.body_zh


@dataclass(frozen=True)
class AdView:
    id: int
    title_zh: str
    title_en: str
    target_kind: str
    target: str

    def title(self, lang: str) -> str:
        return self.title_en if lang == "en" else self.title_zh


def banners(conn: Connection, now: int) -> list[BannerView]:
    """Active banners of the activities running now (§2.2.3), in their order."""
    rows = conn.execute(
        select(banner.c.id, banner.c.activity_id, activity.c.title_zh, activity.c.title_en)
        .join(activity, activity.c.id == banner.c.activity_id)
        .where(
            and_(
                banner.c.active.is_(True),
                activity.c.starts_at <= now,
                activity.c.ends_at > now,
            )
        )
        .order_by(banner.c.sort, banner.c.id)
    ).all()
    return [BannerView(*r) for r in rows]


def find_banner(conn: Connection, banner_id: int) -> BannerView | None:
    row = conn.execute(
        select(banner.c.id, banner.c.activity_id, activity.c.title_zh, activity.c.title_en)
        .join(activity, activity.c.id == banner.c.activity_id)
        .where(and_(banner.c.id == banner_id, banner.c.active.is_(True)))
    ).first()
    return None if row is None else BannerView(*row)


_ANNOUNCEMENT = (
    announcement.c.id,
    announcement.c.title_zh,
    announcement.c.title_en,
    announcement.c.body_zh,
    announcement.c.body_en,
    announcement.c.published_at,
)


def announcements(conn: Connection, now: int, limit: int = 5) -> list[AnnouncementView]:
    """Published announcements, pinned first, then the newest (§2.2.4)."""
    rows = conn.execute(
        select(*_ANNOUNCEMENT)
        .where(announcement.c.published_at <= now)
        .order_by(announcement.c.pinned.desc(), announcement.c.published_at.desc())
        .limit(limit)
    ).all()
    return [AnnouncementView(*r) for r in rows]


def announcements_page(
    conn: Connection, now: int, offset: int, limit: int
) -> tuple[list[AnnouncementView], int]:
    """One page of the published announcements, pinned first, then the newest, and how
    many there are in all (§2.2.4; ``now`` UTC epoch)."""
    total = conn.execute(
        select(func.count()).select_from(announcement).where(announcement.c.published_at <= now)
    ).scalar_one()
    rows = conn.execute(
        select(*_ANNOUNCEMENT)
        .where(announcement.c.published_at <= now)
        .order_by(announcement.c.pinned.desc(), announcement.c.published_at.desc())
        .offset(offset)
        .limit(limit)
    ).all()
    return [AnnouncementView(*r) for r in rows], int(total)


def find_announcement(conn: Connection, announcement_id: int) -> AnnouncementView | None:
    row = conn.execute(select(*_ANNOUNCEMENT).where(announcement.c.id == announcement_id)).first()
    return None if row is None else AnnouncementView(*row)


def ads(conn: Connection) -> list[AdView]:
    """Active ads in their order (§2.2.5)."""
    rows = conn.execute(
        select(ad.c.id, ad.c.title_zh, ad.c.title_en, ad.c.target_kind, ad.c.target)
        .where(ad.c.active.is_(True))
        .order_by(ad.c.sort, ad.c.id)
    ).all()
    return [AdView(*r) for r in rows]


def brands(conn: Connection) -> list[Named]:
    rows = conn.execute(
        select(brand.c.id, brand.c.code, brand.c.name_zh, brand.c.name_en).order_by(brand.c.code)
    ).all()
    return [Named(*r) for r in rows]
