"""Mall content (§2.2.1, §2.2.3–5): announcements, banners and ads, and the pictures of
banners, ads and items, all kept in ``core.catalogue.photos`` (the store the chat shows from)."""

from __future__ import annotations

import base64
import binascii

from api.admin.fields import BadInput, body, code, flag, integer, text
from api.admin.registry import ADMIN, BUSINESS_ADMIN, EVERYONE, Call, Download, Route
from core.catalogue import management as ca
from core.catalogue import photos
from core.catalogue.management import Ad, Announcement, Banner
from core.catalogue.photos import PhotoInfo
from core.platform.errors import NotFound

WRITE = frozenset({BUSINESS_ADMIN, ADMIN})
READ = EVERYONE
ID = (integer("id", 1, 2**53 - 1),)
SORT = integer("sort", -1000, 1000, required=False)
ANNOUNCEMENT = body(
    text("title_zh", 64),
    text("title_en", 64),
    text("body_zh", 4000),
    text("body_en", 4000),
    flag("pinned", required=False),
)
BANNER = body(code("activity"), SORT, flag("active", required=False))
AD = body(
    text("title_zh", 64),
    text("title_en", 64),
    text("target_kind", 12, enum=("item", "activity", "category", "announcement", "url")),
    text("target", 255),
    SORT,
    flag("active", required=False),
)
CODE = (code(),)
SUBJECT = (text("subject", 24, pattern=photos.SUBJECT),)
PICTURE = body(
    text(
        "data_base64",
        photos.UPLOAD_BYTES * 4 // 3 + 4,
        description="the PNG or JPEG image, base64",
    )
)


def _decode(call: Call) -> bytes:
    try:
        return base64.b64decode(call.body["data_base64"], validate=True)
    except (binascii.Error, ValueError):
        raise BadInput("data_base64", "is not base64") from None


async def list_announcements(call: Call) -> list[Announcement]:
    """List announcements, pinned first."""
    return await call.read(ca.announcements)


async def get_announcement(call: Call) -> Announcement:
    """Show one announcement."""
    return await call.read(ca.get_announcement, ann_id=call.path["id"])


async def create_announcement(call: Call) -> Announcement:
    """Publish an announcement now."""
    return await call.write(
        ca.create_announcement, fields=call.body, by=call.staff.name, now=call.now
    )


async def update_announcement(call: Call) -> Announcement:
    """Change an announcement."""
    return await call.write(
        ca.update_announcement,
        ann_id=call.path["id"],
        fields=call.body,
        by=call.staff.name,
        now=call.now,
    )


async def delete_announcement(call: Call) -> None:
    """Remove an announcement."""
    await call.write(
        ca.delete_announcement, ann_id=call.path["id"], by=call.staff.name, now=call.now
    )


async def list_banners(call: Call) -> list[Banner]:
    """List banners in display order."""
    return await call.read(ca.banners)


async def get_banner(call: Call) -> Banner:
    """Show one banner."""
    return await call.read(ca.get_banner, banner_id=call.path["id"])


async def save_banner(call: Call) -> Banner:
    """Create (POST) or update (PUT) a banner for an activity."""
    return await call.write(
        ca.save_banner,
        banner_id=call.path.get("id"),
        activity_code=call.body["activity"],
        sort=call.body.get("sort", 0),
        active=call.body.get("active", True),
        by=call.staff.name,
        now=call.now,
    )


async def deactivate_banner(call: Call) -> Banner:
    """Stop showing a banner."""
    return await call.write(
        ca.set_banner, banner_id=call.path["id"], by=call.staff.name, now=call.now, active=False
    )


async def banner_picture(call: Call) -> Banner:
    """Upload the banner's picture (PNG or JPEG, base64); the chat shows it."""
    return await call.write(
        ca.banner_picture,
        banner_id=call.path["id"],
        data=_decode(call),
        by=call.staff.name,
        now=call.now,
    )


async def list_ads(call: Call) -> list[Ad]:
    """List ads in display order."""
    return await call.read(ca.ads)


async def get_ad(call: Call) -> Ad:
    """Show one ad."""
    return await call.read(ca.get_ad, ad_id=call.path["id"])


async def save_ad(call: Call) -> Ad:
    """Create (POST) or update (PUT) an ad."""
    fields = {"sort": 0, "active": True, **call.body}
    return await call.write(
        ca.save_ad, ad_id=call.path.get("id"), fields=fields, by=call.staff.name, now=call.now
    )


async def deactivate_ad(call: Call) -> Ad:
    """Stop showing an ad."""
    return await call.write(
        ca.deactivate_ad, ad_id=call.path["id"], by=call.staff.name, now=call.now
    )


async def ad_picture(call: Call) -> Ad:
    """Upload the ad's picture (PNG or JPEG, base64)."""
    return await call.write(
        ca.ad_picture, ad_id=call.path["id"], data=_decode(call), by=call.staff.name, now=call.now
    )


async def item_picture(call: Call) -> PhotoInfo:
    """Upload the item's picture (PNG or JPEG, base64); the chat shows it with the item."""
    return await call.write(
        ca.item_picture,
        code=call.path["code"].upper(),
        data=_decode(call),
        by=call.staff.name,
        now=call.now,
    )


async def get_photo(call: Call) -> Download:
    """Download the picture of an item, banner or ad (the subject as in ``image``)."""
    found = await call.read(photos.get, subject=call.path["subject"])
    if found is None:
        raise NotFound("photo", call.path["subject"])
    return Download(found.data, found.content_type)


TAG = "content"
IMAGES = ("image/png", "image/jpeg")
ROUTES = (
    Route(
        "GET",
        "/announcements",
        list_announcements,
        READ,
        "list announcements",
        TAG,
        list[Announcement],
    ),
    Route(
        "POST",
        "/announcements",
        create_announcement,
        WRITE,
        "publish an announcement",
        TAG,
        Announcement,
        body=ANNOUNCEMENT,
        status=201,
    ),
    Route(
        "GET",
        "/announcements/{id}",
        get_announcement,
        READ,
        "show an announcement",
        TAG,
        Announcement,
        ID,
    ),
    Route(
        "PUT",
        "/announcements/{id}",
        update_announcement,
        WRITE,
        "change an announcement",
        TAG,
        Announcement,
        ID,
        body=ANNOUNCEMENT,
    ),
    Route(
        "DELETE",
        "/announcements/{id}",
        delete_announcement,
        WRITE,
        "remove an announcement",
        TAG,
        None,
        ID,
    ),
    Route("GET", "/banners", list_banners, READ, "list banners", TAG, list[Banner]),
    Route(
        "POST",
        "/banners",
        save_banner,
        WRITE,
        "create a banner",
        TAG,
        Banner,
        body=BANNER,
        status=201,
    ),
    Route("GET", "/banners/{id}", get_banner, READ, "show a banner", TAG, Banner, ID),
    Route(
        "PUT", "/banners/{id}", save_banner, WRITE, "update a banner", TAG, Banner, ID, body=BANNER
    ),
    Route(
        "DELETE", "/banners/{id}", deactivate_banner, WRITE, "deactivate a banner", TAG, Banner, ID
    ),
    Route(
        "PUT",
        "/banners/{id}/picture",
        banner_picture,
        WRITE,
        "upload a banner picture",
        TAG,
        Banner,
        ID,
        body=PICTURE,
    ),
    Route("GET", "/ads", list_ads, READ, "list ads", TAG, list[Ad]),
    Route("POST", "/ads", save_ad, WRITE, "create an ad", TAG, Ad, body=AD, status=201),
    Route("GET", "/ads/{id}", get_ad, READ, "show an ad", TAG, Ad, ID),
    Route("PUT", "/ads/{id}", save_ad, WRITE, "update an ad", TAG, Ad, ID, body=AD),
    Route("DELETE", "/ads/{id}", deactivate_ad, WRITE, "deactivate an ad", TAG, Ad, ID),
    Route(
        "PUT",
        "/ads/{id}/picture",
        ad_picture,
        WRITE,
        "upload an ad picture",
        TAG,
        Ad,
        ID,
        body=PICTURE,
    ),
    Route(
        "PUT",
        "/items/{code}/picture",
        item_picture,
        WRITE,
        "upload an item picture",
        TAG,
        PhotoInfo,
        CODE,
        body=PICTURE,
    ),
    Route(
        "GET",
        "/photos/{subject}",
        get_photo,
        READ,
        "download the picture of an item, banner or ad",
        TAG,
        {"type": "string", "format": "binary"},
        SUBJECT,
        produces=IMAGES,
    ),
)
