"""Pictures for the demo catalogue: a coloured card per item and one per banner, drawn with Pillow.

Drawn the same way every time (same bytes), so seeding again changes nothing.
"""

from __future__ import annotations

import hashlib
import io

from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import Connection, select

from core.catalogue import photos
from core.platform.schema import activity, banner, item

SIZE = (480, 320)
BANNER_SIZE = (640, 240)
FONT_SIZE = 28


def card(title: str, subtitle: str, size: tuple[int, int] = SIZE) -> bytes:
    """A PNG card: a colour derived from the title, the title and a subtitle in white."""
    shade = hashlib.sha256(title.encode()).digest()
    colour = (40 + shade[0] % 150, 40 + shade[1] % 150, 40 + shade[2] % 150)
    picture = Image.new("RGB", size, colour)
    draw = ImageDraw.Draw(picture)
    font = ImageFont.load_default(FONT_SIZE)
    small = ImageFont.load_default(FONT_SIZE * 2 // 3)
    draw.rectangle((12, 12, size[0] - 12, size[1] - 12), outline=(255, 255, 255), width=3)
    draw.text((32, size[1] // 2 - FONT_SIZE), title, fill=(255, 255, 255), font=font)
    draw.text((32, size[1] // 2 + 12), subtitle, fill=(235, 235, 235), font=small)
    out = io.BytesIO()
    picture.save(out, format="PNG", optimize=False)
    return out.getvalue()


def seed_pictures(conn: Connection, now: int) -> None:
    """A picture for every item and banner that has none."""
    for item_id, code, name_en in conn.execute(select(item.c.id, item.c.code, item.c.name_en)):
        subject = photos.item_subject(int(item_id))
        if not photos.has(conn, subject):
            photos.put(conn, subject, card(name_en, f"No. {code}"), now)
    rows = conn.execute(
        select(banner.c.id, activity.c.title_en).join(
            activity, activity.c.id == banner.c.activity_id
        )
    )
    for banner_id, title in rows:
        subject = photos.banner_subject(int(banner_id))
        if not photos.has(conn, subject):
            photos.put(conn, subject, card(title, "Points mall", BANNER_SIZE), now)
