"""Pictures kept with the catalogue (§2.2.1, §2.2.3, §2.2.9): item photos and banner images.

The bytes live in the database (one row per subject, ``item:<id>`` or
``banner:<id>``), so every replica and backup has them. A chat channel that
uploads a picture remembers the id its platform gave the copy
(``telegram_file_id``), so the bytes travel once; replacing the picture forgets it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select, update

from core.schema import photo
from core.sql import insert_ignoring

MAX_BYTES = 5 * 1024 * 1024
"""Telegram's limit for a photo sent as a file is 10 MB; ours is smaller on purpose."""
PNG = b"\x89PNG\r\n\x1a\n"
JPEG = b"\xff\xd8\xff"


@dataclass(frozen=True)
class Photo:
    subject: str
    content_type: str
    data: bytes
    telegram_file_id: str | None


class NotAPicture(ValueError):
    """Only PNG and JPEG pictures up to ``MAX_BYTES`` are kept."""


def item_subject(item_id: int) -> str:
    return f"item:{item_id}"


def banner_subject(banner_id: int) -> str:
    return f"banner:{banner_id}"


def content_type(data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise NotAPicture(f"picture larger than {MAX_BYTES} bytes")
    if data.startswith(PNG):
        return "image/png"
    if data.startswith(JPEG):
        return "image/jpeg"
    raise NotAPicture("not a PNG or JPEG picture")


def put(conn: Connection, subject: str, data: bytes, now: int) -> None:
    """Store (or replace) the picture of ``subject``; the same bytes again change nothing."""
    kind = content_type(data)
    conn.execute(
        insert_ignoring(conn, photo, "subject").values(
            subject=subject, content_type=kind, data=data, updated_at=now
        )
    )
    conn.execute(
        update(photo)
        .where((photo.c.subject == subject) & (photo.c.data != data))
        .values(content_type=kind, data=data, telegram_file_id=None, updated_at=now)
    )


def get(conn: Connection, subject: str) -> Photo | None:
    row = conn.execute(
        select(photo.c.subject, photo.c.content_type, photo.c.data, photo.c.telegram_file_id).where(
            photo.c.subject == subject
        )
    ).first()
    return None if row is None else Photo(row[0], row[1], bytes(row[2]), row[3])


def has(conn: Connection, subject: str) -> bool:
    return conn.execute(select(photo.c.id).where(photo.c.subject == subject)).first() is not None


def remember_file_id(conn: Connection, subject: str, file_id: str) -> None:
    conn.execute(update(photo).where(photo.c.subject == subject).values(telegram_file_id=file_id))


def forget_file_id(conn: Connection, subject: str) -> None:
    """The platform no longer knows the copy: upload the bytes again next time."""
    conn.execute(update(photo).where(photo.c.subject == subject).values(telegram_file_id=None))
