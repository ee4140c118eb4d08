"""One picture store (issue 8 item 2; §2.2.1, §2.2.3, §2.2.9): pictures uploaded through the
admin API are the ``core.catalogue.photos`` pictures the chat sends; item pictures; migration 0013m
moves the old ``picture``/``ad_image`` rows into ``photo``."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from aiohttp.test_utils import TestClient, TestServer
from alembic import command
from sqlalchemy import Connection, select

from core.catalogue import editing, photos
from core.catalogue import management as ca
from core.platform.schema import item
from pointshall import demo_pictures, migrate
from pointshall.app import build_app
from pointshall.bootstrap import Services
from tests.support.admin_helpers import Admin, audit_actions, make_staff
from tests.support.helpers import seed_catalog
from tests.support.merchant_helpers import merchant_mall
from tests.support.tg import Chat, home, mall

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 60
OLD_PICTURE = sa.table(
    "picture",
    sa.column("id", sa.Integer),
    sa.column("content_type", sa.String),
    sa.column("sha256", sa.String),
    sa.column("size", sa.Integer),
    sa.column("data", sa.LargeBinary),
    sa.column("created_by", sa.String),
    sa.column("created_at", sa.Integer),
)
OLD_AD_IMAGE = sa.table("ad_image", sa.column("ad_id", sa.Integer), sa.column("image", sa.String))
GIF = b"GIF89a" + b"\x00" * 60


def b64(data: bytes) -> dict[str, str]:
    return {"data_base64": base64.b64encode(data).decode()}


@pytest.fixture
async def admin(services: Services, tmp_path: Path) -> AsyncIterator[Admin]:
    await merchant_mall(services, tmp_path)
    tokens = await make_staff(services)
    async with TestClient(TestServer(build_app(services, drain=False))) as client:
        yield Admin(client, tokens)


async def test_item_picture_is_stored_as_the_items_photo(admin: Admin, services: Services) -> None:
    status, info = await admin.call("PUT", "/items/2001/picture", "business_admin", b64(JPEG))
    item_id = await services.db.read(
        lambda conn: conn.execute(select(item.c.id).where(item.c.code == "2001")).scalar_one()
    )
    assert status == 200
    assert info["subject"] == f"item:{item_id}"
    assert (info["content_type"], info["size"]) == ("image/jpeg", len(JPEG))
    stored = await services.db.read(lambda conn: photos.get(conn, f"item:{item_id}"))
    assert stored is not None and stored.data == JPEG and stored.telegram_file_id is None
    status, data = await admin.call("GET", f"/photos/item:{item_id}", "support")
    assert (status, data) == (200, JPEG)
    assert ("business_admin", "photo_put") in await audit_actions(services, f"item:{item_id}")

    refused = await admin.call("PUT", "/items/2001/picture", "admin", b64(GIF))
    assert refused[0] == 422 and "PNG or JPEG" in refused[1]["detail"]
    assert (await admin.call("PUT", "/items/NOPE1/picture", "admin", b64(JPEG)))[0] == 404
    assert (await admin.call("PUT", "/items/2001/picture", "finance", b64(JPEG)))[0] == 403
    assert (await admin.call("PUT", "/items/2001/picture", "support", b64(JPEG)))[0] == 403


async def test_a_banner_picture_uploaded_by_staff_is_the_photo_the_bot_sends(chat: Chat) -> None:
    ids = await mall(chat)
    tokens = await make_staff(chat.services)
    staff = Admin(chat.client, tokens)
    screen = await home(chat)
    [first] = await chat.press(screen, "🎞 双十一特惠")
    assert first.photo and len(chat.fake.uploads) == 1  # the picture the mall seeded

    new = demo_pictures.card("Staff upload", "banner")
    assert new != chat.fake.uploads[0]
    status, banner = await staff.call(
        "PUT", f"/banners/{ids['banner']}/picture", "business_admin", b64(new)
    )
    assert status == 200 and banner["image"] == f"banner:{ids['banner']}"

    [again] = await chat.press(screen, "🎞 双十一特惠")
    assert again.photo and again.photo_file != first.photo_file
    assert chat.fake.uploads[-1] == new  # the new bytes travelled to Telegram
    stored = await chat.services.db.read(
        lambda conn: photos.get(conn, photos.banner_subject(ids["banner"]))
    )
    assert stored is not None and stored.data == new
    assert stored.telegram_file_id == again.photo_file


def _at(conn: Connection, revision: str, down: bool) -> None:
    cfg = migrate.alembic_config()
    cfg.attributes["connection"] = conn
    (command.downgrade if down else command.upgrade)(cfg, revision)


async def test_migration_moves_old_pictures_into_photo(services: Services) -> None:
    """0013m: a banner's ``picture:{id}`` and an ad's ``ad_image`` become their photos
    (PNG and JPEG only), then ``picture`` and ``ad_image`` are dropped."""
    await seed_catalog(services)
    png = demo_pictures.card("Old", "picture")
    engine = services.db.async_engine
    async with engine.begin() as conn:
        await conn.run_sync(_at, "0009c", True)
    try:

        def old_rows(conn: Connection) -> tuple[int, int, int]:
            ids = [
                int(
                    conn.execute(
                        OLD_PICTURE.insert()
                        .values(
                            content_type=kind,
                            sha256="x",
                            size=len(data),
                            data=data,
                            created_by="t",
                            created_at=1,
                        )
                        .returning(OLD_PICTURE.c.id)
                    ).scalar_one()
                )
                for kind, data in (("image/png", png), ("image/gif", GIF))
            ]
            moved = editing.add_banner(conn, "A1", image=f"picture:{ids[0]}")
            gif_banner = editing.add_banner(conn, "A2", image=f"picture:{ids[1]}")
            fields = {"title_zh": "广告", "title_en": "Ad", "target_kind": "url"}
            ad_id = ca.save_ad(conn, None, {**fields, "target": "https://x.test"}, by="t", now=1).id
            conn.execute(OLD_AD_IMAGE.insert().values(ad_id=ad_id, image=f"picture:{ids[0]}"))
            return moved, gif_banner, ad_id

        moved, gif_banner, ad_id = await services.db.write(old_rows)
    finally:
        async with engine.begin() as conn:
            await conn.run_sync(_at, "head", False)

    def after(conn: Connection) -> tuple[object, ...]:
        return (
            photos.get(conn, f"banner:{moved}"),
            photos.has(conn, f"banner:{gif_banner}"),
            photos.get(conn, f"ad:{ad_id}"),
            ca.get_banner(conn, moved).image,
            ca.get_ad(conn, ad_id).image,
            set(sa.inspect(conn).get_table_names()) & {"picture", "ad_image"},
        )

    banner_photo, gif_kept, ad_photo, banner_image, ad_image, old_tables = await services.db.read(
        after
    )
    assert isinstance(banner_photo, photos.Photo) and banner_photo.data == png
    assert isinstance(ad_photo, photos.Photo) and ad_photo.content_type == "image/png"
    assert gif_kept is False
    assert (banner_image, ad_image) == (f"banner:{moved}", f"ad:{ad_id}")
    assert old_tables == set()
